/*
 * probe.c - `frametap probe`: non-breaking breakpoints. Starts a program
 * with frametap's agent inside (-- PYTHON ...) or connects to a running
 * one's (PID; on CPython 3.14+ loading the agent through PEP 768), hands
 * it the probes, and writes what they report until the program ends, the
 * --duration is over or Ctrl-C; then the probes are removed.
 *
 * The program's argv, stdio and exit status are its own (launch); frametap
 * speaks on stderr and in -o FILE only. A bad probe is one line and no
 * program is started (or nothing is left in a running one).
 */
#include "../util/error.h"
#include "agent_client.h"
#include "commands.h"
#include "options.h"
#include "probe_out.h"
#include "probe_spec.h"
#include "pyrun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OPT_LIST = 0x3000, OPT_REMOVE };

struct probe_cmd {
    struct ft_probe_set set;
    struct ft_run_opts run;
    const char *output;
    int quiet, list;
    long remove;
    struct ft_probe_out out;
    unsigned long long totals[FT_MAX_PROBES];
    const char *ats[FT_MAX_PROBES];
    unsigned ids[FT_MAX_PROBES];      /* the agent's id for probe i */
    /* While a probe is being added: what the agent sends before its reply
     * (the probe's first hits, its limit), passed on after the reply, once
     * the probe's id, place and "armed" status are known. */
    int deferring;
    struct deferred { unsigned type; unsigned char *body; size_t len; } *later;
    size_t nlater, caplater;
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: frametap probe [OPTIONS] --at WHERE ACTION [--at WHERE ACTION ...] -- PYTHON\n"
        "                      [PYTHON-OPTIONS] (SCRIPT | -m MODULE | -c CODE) [ARGS]\n"
        "       frametap probe [OPTIONS] --at WHERE ACTION ... PID\n"
        "       frametap probe -- PYTHON ...  (no probe yet: 'frametap probe PID' adds them)\n"
        "       frametap probe --list PID | --remove ID PID\n\n"
        "Non-breaking breakpoints: at a line (or on entry to a function) log values,\n"
        "take a snapshot of the locals and the stack, or count hits, without stopping\n"
        "the program or changing what it does. Expressions are evaluated by frametap,\n"
        "never by calling the program's code; values are bounded and secret-looking\n"
        "names are redacted. A probe costs nothing where it is not (see README, Probes).\n"
        "A running program takes probes on CPython 3.14+, or when it was started by\n"
        "'frametap probe -- ...' or called frametap.agent.start().\n\n");
    ft_probe_help(f);
    fprintf(f,
        "\noutput and running:\n"
        "  -o, --output FILE      JSON lines, one object per hit (time, pid, thread,\n"
        "                         file, line, function, values or stack); default:\n"
        "                         readable lines on stderr\n"
        "  -q, --quiet            no status lines (armed, summary) on stderr\n");
    ft_opts_help(f, FT_OPTS_DURATION | FT_OPTS_PID);
    fprintf(f,
        "      --list             list the probes a running program has\n"
        "      --remove ID        remove probe ID from a running program\n\n"
        "examples:\n"
        "  frametap probe --at app.py:42 --log 'user={user.id} items={len(items)}' -- python app.py\n"
        "  frametap probe --at handle --snapshot --snapshot-frames 1 --limit 3 1234\n"
        "  frametap probe --at shop/cart.py:88 --count --when 'total > 100' -d 60 1234\n");
}

static int parse(int argc, char **argv, struct probe_cmd *c)
{
    static const struct option own[] = {
        { "output", required_argument, 0, 'o' }, { "quiet", no_argument, 0, 'q' },
        { "help", no_argument, 0, 'h' }, { "list", no_argument, 0, OPT_LIST },
        { "remove", required_argument, 0, OPT_REMOVE },
        { "at", required_argument, 0, FT_POPT_AT }, { "log", required_argument, 0, FT_POPT_LOG },
        { "snapshot", no_argument, 0, FT_POPT_SNAPSHOT },
        { "snapshot-frames", required_argument, 0, FT_POPT_FRAMES },
        { "count", no_argument, 0, FT_POPT_COUNT }, { "when", required_argument, 0, FT_POPT_WHEN },
        { "limit", required_argument, 0, FT_POPT_LIMIT }, { "rate", required_argument, 0, FT_POPT_RATE },
        { "expire", required_argument, 0, FT_POPT_EXPIRE },
        { "budget", required_argument, 0, FT_POPT_BUDGET },
        { "redact", required_argument, 0, FT_POPT_REDACT }, { 0, 0, 0, 0 },
    };
    struct ft_optparser p;
    ft_opts_init(&p, "probe", FT_OPTS_DURATION | FT_OPTS_PID, own, "o:qh");
    ft_opts_defaults(&c->run);
    int ch;
    while ((ch = ft_opts_next(&p, argc, argv)) != -1) {
        int r = ft_probe_option(&c->set, ch, optarg);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        r = ft_opts_shared(&p, ch, optarg, &c->run);
        if (r < 0)
            return -1;
        if (r > 0)
            continue;
        switch (ch) {
        case 'o': c->output = optarg; break;
        case 'q': c->quiet = 1; break;
        case 'h': usage(stdout); exit(0);
        case OPT_LIST: c->list = 1; break;
        case OPT_REMOVE: {
            char *end;
            c->remove = strtol(optarg, &end, 10);
            if (end == optarg || *end || c->remove <= 0) {
                fprintf(stderr, "frametap probe: --remove takes a probe id (see --list), not "
                        "'%s'\n", optarg);
                return -1;
            }
            break;
        }
        default:
            return ft_opts_unknown(&p, argv);
        }
    }
    if (ft_opts_target(&p, argc, argv, &c->run) < 0)
        return -1;
    if ((c->list || c->remove) && (c->run.command || c->set.n)) {
        fprintf(stderr, "frametap probe: --list and --remove take a PID only\n");
        return -1;
    }
    /* a program started with no probe still takes them later (probe PID) */
    if (!c->list && !c->remove && ft_probe_set_check(&c->set, !c->run.command) < 0)
        return -1;
    return 0;
}

static void on_message(void *arg, const struct ftw_msg *m)
{
    struct probe_cmd *c = arg;
    if (c->deferring) {
        if (c->nlater == c->caplater) {
            size_t cap = c->caplater ? 2 * c->caplater : 64;
            struct deferred *grown = realloc(c->later, cap * sizeof *grown);
            if (!grown)
                goto now;
            c->later = grown;
            c->caplater = cap;
        }
        unsigned char *body = malloc(m->len ? m->len : 1);
        if (!body)
            goto now;
        memcpy(body, m->body, m->len);
        c->later[c->nlater++] = (struct deferred){ m->type, body, m->len };
        return;
    }
now:
    ft_probe_out_message(&c->out, m);
}

static void pass_on_deferred(struct probe_cmd *c)
{
    c->deferring = 0;
    for (size_t i = 0; i < c->nlater; i++) {
        struct ftw_msg m = { c->later[i].type, c->later[i].body, c->later[i].len };
        ft_probe_out_message(&c->out, &m);
        free(c->later[i].body);
    }
    c->nlater = 0;
    free(c->later);
    c->later = NULL;
    c->caplater = 0;
}

/* Sends every probe; the first refusal is the error (one line). */
static int add_probes(struct probe_cmd *c, struct ft_agent *a)
{
    for (int i = 0; i < c->set.n; i++) {
        unsigned char mem[16384];
        struct ftw_buf b;
        ftw_init(&b, mem, sizeof mem);
        size_t n = ft_probe_add_message(&c->set, i, &b);
        char text[1024];
        unsigned id = 0;
        c->deferring = 1;
        int r = n ? ft_agent_request(a, mem, n, on_message, c, text, sizeof text, &id) : -1;
        if (r <= 0)
            pass_on_deferred(c);
        if (r < 0) {
            ft_fail(FT_E_SYSTEM, "the program's agent went away while probes were being set");
            return -1;
        }
        if (r == 0) {
            fprintf(stderr, "frametap probe: %s\n", text);
            return -2;
        }
        c->ids[i] = id;
        if (id >= 1 && id <= FT_MAX_PROBES) {
            c->ats[id - 1] = c->set.p[i].at;
            if ((int)id > c->out.nats)
                c->out.nats = (int)id;
        }
        ft_probe_out_note(&c->out, id, "armed", text);
        pass_on_deferred(c);
    }
    return 0;
}

static int simple(struct ft_agent *a, unsigned type, struct probe_cmd *c, char *text, size_t cap)
{
    unsigned char mem[64];
    struct ftw_buf b;
    ftw_init(&b, mem, sizeof mem);
    ftw_begin(&b, type);
    size_t n = ftw_end(&b);
    return ft_agent_request(a, mem, n, on_message, c, text, cap, NULL);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Passes the agent's messages on until the connection ends, *stop is set,
 * the duration is over or (attached: stop given) every probe has finished:
 * then 1. */
static int pump(struct probe_cmd *c, struct ft_agent *a, volatile sig_atomic_t *stop)
{
    uint64_t end = c->run.duration > 0 ? mono_ms() + (uint64_t)(c->run.duration * 1000) : 0;
    for (;;) {
        if (stop && (*stop || c->out.finished >= c->set.n))
            return 1;
        if (end && mono_ms() >= end)
            return 1;
        struct ftw_msg m;
        int r = ft_agent_recv(a, 200, &m);
        if (r < 0)
            return 0;
        if (r > 0)
            on_message(c, &m);
    }
}

static int launch(struct probe_cmd *c, const char *pkg)
{
    char **cmd = c->run.command;
    int n = 0;
    while (cmd[n])
        n++;
    struct pycmd p;
    if (ft_split_python_args("probe", cmd, n, &p) < 0)
        return FT_E_USAGE;
    if (ft_check_python(cmd[0], pkg, "_probe") < 0)
        return ft_report_error();
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        ft_fail(FT_E_SYSTEM, "cannot make a socket pair: %s", strerror(errno));
        return ft_report_error();
    }
    fcntl(sv[1], F_SETFD, 0);                 /* the program's end survives exec */
    char num[16];
    snprintf(num, sizeof num, "%d", sv[1]);
    setenv("FRAMETAP_PROBE_FD", num, 1);
    setenv("FRAMETAP_PROBE_LISTEN", "1", 1);
    pid_t child;
    int rc = ft_start_python(cmd, n, &p, pkg, &child);
    unsetenv("FRAMETAP_PROBE_FD");
    unsetenv("FRAMETAP_PROBE_LISTEN");
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        return ft_report_error();
    }
    struct ft_agent a;
    ft_agent_adopt(&a, sv[0]);
    int status = 0, result = -1;
    if (ft_agent_hello(&a) == 0) {
        int added = add_probes(c, &a);
        char text[256];
        if (added == 0 && simple(&a, FTW_RUN, c, text, sizeof text) == 1) {
            int timed_out = pump(c, &a, NULL);
            if (timed_out) {                  /* --duration: probes off, program on */
                simple(&a, FTW_BYE, c, text, sizeof text);
                pump(c, &a, NULL);
            }
            result = 0;
        } else if (added == -2) {
            result = FT_E_USAGE;
        }
    }
    ft_agent_close(&a);
    if (ft_wait_python(child, &status) < 0) {
        ft_fail(FT_E_SYSTEM, "lost the program: %s", strerror(errno));
        return ft_report_error();
    }
    if (result == FT_E_USAGE)
        return FT_E_USAGE;
    if (result < 0) {
        if (ft_error_kind() == FT_OK)
            ft_fail(FT_E_SYSTEM, "the program ended before frametap's agent started (its errors "
                    "are above)");
        int e = ft_report_error();
        return ft_exit_status_of(status) ? ft_exit_status_of(status) : e;
    }
    return ft_exit_status_of(status);
}

static int attach(struct probe_cmd *c, const char *pkg)
{
    struct ft_agent a;
    if (ft_agent_attach(&a, c->run.pid, pkg) < 0)
        return ft_report_error_for(c->run.pid);
    char text[65536];
    int rc = 0;
    if (c->list || c->remove) {
        int r;
        if (c->list) {
            r = simple(&a, FTW_LIST, c, text, sizeof text);
        } else {
            unsigned char mem[64];
            struct ftw_buf b;
            ftw_init(&b, mem, sizeof mem);
            ftw_begin(&b, FTW_REMOVE);
            ftw_field_u64(&b, FTW_ID, (uint64_t)c->remove);
            size_t n = ftw_end(&b);
            r = ft_agent_request(&a, mem, n, on_message, c, text, sizeof text, NULL);
        }
        if (r < 0) {
            ft_agent_close(&a);
            ft_fail(FT_E_EXITED, "process %d went away", (int)c->run.pid);
            return ft_report_error();
        }
        if (c->list)
            printf("%s%s", text, text[0] ? "\n" : "no probes\n");
        else
            fprintf(stderr, "frametap: %s\n", text);
        rc = r == 1 ? 0 : 1;
    } else {
        int added = add_probes(c, &a);
        if (added == 0) {
            static volatile sig_atomic_t stop;
            ft_stop_on_signals(&stop);
            if (!pump(c, &a, &stop))
                ft_probe_out_note(&c->out, 0, "exited", "the program ended");
        }
        rc = added == -2 ? FT_E_USAGE : added < 0 ? ft_report_error() : 0;
    }
    simple(&a, FTW_BYE, c, text, sizeof text);    /* removes this session's probes */
    ft_agent_close(&a);
    return rc;
}

int ft_cmd_probe(int argc, char **argv)
{
    static struct probe_cmd c;
    memset(&c, 0, sizeof c);
    if (parse(argc, argv, &c) < 0)
        return FT_E_USAGE;
    c.out.text = 1;
    c.out.quiet = c.quiet;
    c.out.ats = c.ats;
    c.out.totals = c.totals;
    if (c.output) {
        c.out.json = fopen(c.output, "w");
        if (!c.out.json) {
            ft_fail(FT_E_SYSTEM, "cannot write %s: %s (choose another --output)", c.output,
                    strerror(errno));
            return ft_report_error();
        }
        c.out.text = 0;
    }
    char pkg[PATH_MAX];
    int have_pkg = ft_package_dir(pkg, sizeof pkg) == 0;
    int rc;
    if (c.run.command) {
        rc = have_pkg ? launch(&c, pkg) : ft_report_error();
    } else {
        ft_error_clear();
        rc = attach(&c, have_pkg ? pkg : NULL);
    }
    if (c.out.json && fclose(c.out.json) != 0) {
        ft_fail(FT_E_SYSTEM, "writing %s failed: %s", c.output, strerror(errno));
        return ft_report_error();
    }
    return rc;
}
