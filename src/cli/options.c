/*
 * options.c - shared options of record, top and trace (see options.h).
 * The shared options live in one table: spelling, argument, group, help.
 */
#include "options.h"

#include "commands.h"

#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

enum {
    OPT_NONBLOCKING = 0x1000,
    OPT_READ,
};

struct shared_opt {
    unsigned group;
    struct option opt;
    const char *help;
};

static const struct shared_opt shared[] = {
    {FT_OPTS_SAMPLING, {"rate", required_argument, 0, 'r'},
     "  -r, --rate HZ          samples per second (default 100)\n"},
    {FT_OPTS_DURATION, {"duration", required_argument, 0, 'd'},
     "  -d, --duration S       stop after S seconds (default: until the target ends or Ctrl-C)\n"},
    {FT_OPTS_SAMPLING, {"mode", required_argument, 0, 'm'},
     "  -m, --mode MODE        cpu: threads on a CPU (default); wall: all threads;\n"
     "                         gil: the thread holding the GIL\n"},
    {FT_OPTS_SAMPLING, {"blocking", no_argument, 0, 'b'},
     "  -b, --blocking         pause the whole process for each sample (interrupts\n"
     "                         its waiting system calls; see README, Pausing)\n"},
    {FT_OPTS_SAMPLING, {"nonblocking", no_argument, 0, OPT_NONBLOCKING},
     "      --nonblocking      never pause: a stack that keeps changing while it is\n"
     "                         read is counted as an error, never written. Default:\n"
     "                         read running threads without pausing, and hold one\n"
     "                         for the instant of a read only when its stack\n"
     "                         changed under every try (CPython 3.8-3.10: every\n"
     "                         running thread; see README, Pausing)\n"},
    {FT_OPTS_SAMPLING, {"read", required_argument, 0, OPT_READ},
     "      --read fast|full   fast (default): read where the frames were last time;\n"
     "                         full: find them afresh for every sample (slower)\n"},
    {FT_OPTS_PID, {"pid", required_argument, 0, 'p'},
     "  -p, --pid PID          the process (the same as giving PID last)\n"},
};

#define NSHARED (sizeof shared / sizeof shared[0])

void ft_opts_init(struct ft_optparser *p, const char *cmd, unsigned groups,
                  const struct option *own, const char *own_short)
{
    size_t n = 0;
    memset(p, 0, sizeof *p);
    p->cmd = cmd;
    p->groups = groups;
    snprintf(p->shortopts, sizeof p->shortopts, "+%s", own_short);
    for (; own && own[n].name && n < FT_OPTS_MAX; n++)
        p->longopts[n] = own[n];
    for (size_t i = 0; i < NSHARED && n < FT_OPTS_MAX; i++) {
        if (!(shared[i].group & groups))
            continue;
        p->longopts[n++] = shared[i].opt;
        int c = shared[i].opt.val;
        if (c < 0x100) {
            size_t len = strlen(p->shortopts);
            if (len + 3 < sizeof p->shortopts) {
                p->shortopts[len] = (char)c;
                p->shortopts[len + 1] = shared[i].opt.has_arg ? ':' : '\0';
                p->shortopts[len + 2] = '\0';
            }
        }
    }
    optind = 1;
    opterr = 0;
}

void ft_opts_defaults(struct ft_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->rate = 100;
    o->sample.mode = FT_MODE_CPU;
}

int ft_opts_next(struct ft_optparser *p, int argc, char **argv)
{
    return getopt_long(argc, argv, p->shortopts, p->longopts, NULL);
}

int ft_opts_number(const char *cmd, const char *opt, const char *s, double lo, double hi,
                   double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !(v >= lo && v <= hi)) {
        fprintf(stderr, "frametap %s: %s takes a number from %.15g to %.15g, not '%s'\n", cmd, opt,
                lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int accepted(const struct ft_optparser *p, int c)
{
    for (size_t i = 0; i < NSHARED; i++)
        if (shared[i].opt.val == c)
            return (shared[i].group & p->groups) != 0;
    return 0;
}

int ft_opts_shared(const struct ft_optparser *p, int c, const char *arg, struct ft_run_opts *o)
{
    double v = 0;
    if (!accepted(p, c))
        return 0;
    switch (c) {
    case 'r': return ft_opts_number(p->cmd, "--rate", arg, 1, 1000000, &o->rate) < 0 ? -1 : 1;
    case 'd': return ft_opts_number(p->cmd, "--duration", arg, 0.001, 1e7, &o->duration) < 0 ? -1 : 1;
    case 'b': o->sample.pause = FT_PAUSE_ALL; return 1;
    case OPT_NONBLOCKING: o->sample.pause = FT_PAUSE_NEVER; return 1;
    case 'm':
        if (ft_sample_mode_parse(arg, &o->sample.mode) == 0)
            return 1;
        fprintf(stderr, "frametap %s: --mode takes cpu, wall or gil, not '%s'\n", p->cmd, arg);
        return -1;
    case OPT_READ:
        if (!strcmp(arg, "fast") || !strcmp(arg, "full")) {
            o->sample.read_full = !strcmp(arg, "full");
            return 1;
        }
        fprintf(stderr, "frametap %s: --read takes fast or full, not '%s'\n", p->cmd, arg);
        return -1;
    case 'p':
        if (ft_opts_number(p->cmd, "--pid", arg, 1, 0x3fffffff, &v) < 0)
            return -1;
        if (v != (int)v) {
            fprintf(stderr, "frametap %s: --pid takes a process id, not '%s'\n", p->cmd, arg);
            return -1;
        }
        o->pid = (int)v;
        return 1;
    }
    return 0;
}

int ft_opts_unknown(const struct ft_optparser *p, char **argv)
{
    fprintf(stderr, "frametap %s: unknown or incomplete option '%s' (see 'frametap %s --help')\n",
            p->cmd, argv[optind - 1], p->cmd);
    return -1;
}

int ft_opts_target(const struct ft_optparser *p, int argc, char **argv, struct ft_run_opts *o)
{
    int given = o->pid;
    if (given && optind == argc)
        return 0;
    if (given) {
        fprintf(stderr, "frametap %s: give the process once: --pid %d or a PID or '-- COMMAND', "
                "not both\n", p->cmd, given);
        return -1;
    }
    return ft_parse_target(p->cmd, argc, argv, &o->pid, &o->command);
}

void ft_opts_help(FILE *f, unsigned groups)
{
    for (size_t i = 0; i < NSHARED; i++)
        if (shared[i].group & groups)
            fputs(shared[i].help, f);
}

static volatile sig_atomic_t *stop_flag;

static void on_stop(int sig)
{
    (void)sig;
    if (stop_flag)
        *stop_flag = 1;
}

void ft_stop_on_signals(volatile sig_atomic_t *flag)
{
    /* The default 50 us timer slack would cap sampling near 10 kHz. */
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
    stop_flag = flag;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int ft_opts_one_pid(const char *cmd, const char *pid_opt, int argc, char **argv, int first)
{
    int operands = argc - first;
    if (pid_opt && operands == 0)
        return ft_parse_pid(pid_opt);
    if (operands != 1 || pid_opt) {
        fprintf(stderr, "frametap: %s takes exactly one process: a PID or --pid PID (see "
                "'frametap %s --help')\n", cmd, cmd);
        return 0;
    }
    return ft_parse_pid(argv[first]);
}
