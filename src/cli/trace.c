/*
 * trace.c - `frametap trace`: run a Python program with the in-process
 * tracer (python/frametap) injected, then turn its raw trace into text,
 * Chrome trace or counts; or (--from) convert a raw trace written earlier.
 *
 * The program's argv, stdin, stdout, stderr and exit status are its own:
 * frametap speaks on stderr only after the program has exited (and not at
 * all with --quiet), and exits with the program's status.
 */
#include "../trace/trace_output.h"
#include "../util/error.h"
#include "commands.h"
#include "options.h"
#include "pyrun.h"
#include "trace_attach.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_OUTPUTS 8
#define MAX_GLOBS 32

struct trace_opts {
    const char *outputs[MAX_OUTPUTS];
    int noutputs;
    const char *format, *raw, *from, *within;
    unsigned events;
    const char *include[MAX_GLOBS], *exclude[MAX_GLOBS];
    int ninclude, nexclude;
    long max_depth, buffer_mb;
    double duration;
    int quiet;
};

static const struct { const char *name; unsigned bits; } event_names[] = {
    { "call", FT_EV_CALL }, { "c", FT_EV_C }, { "line", FT_EV_LINE },
    { "opcode", FT_EV_OPCODE }, { "exception", FT_EV_EXCEPTION }, { "gc", FT_EV_GC },
    { "import", FT_EV_IMPORT }, { "audit", FT_EV_AUDIT }, { "thread", FT_EV_THREAD },
    { "default", FT_EV_DEFAULT }, { "all", 0x1ff },
};

static void usage(FILE *f)
{
    size_t n;
    const struct ft_trace_format *fmts = ft_trace_formats(&n);
    fprintf(f,
        "usage: frametap trace [OPTIONS] -- PYTHON [PYTHON-OPTIONS] (SCRIPT | -m MODULE | -c CODE) [ARGS]\n"
        "       frametap trace [OPTIONS] PID\n"
        "       frametap trace --from RAW [-o FILE]...\n\n"
        "Runs the program with frametap's tracer inside (no change to its code, its\n"
        "output or its exit status) and writes what happened, in order. A running\n"
        "program (PID) is traced until Ctrl-C or --duration: on CPython 3.14+ any,\n"
        "before only one started by 'frametap probe --' or that called\n"
        "frametap.agent.start() (see README, Probes).\n\n"
        "  -o, --output FILE    write here; repeat for several formats (default\n"
        "                       frametap-trace-PID.txt, PID: the program's)\n"
        "  -f, --format NAME    format of every output instead of the file extension:\n");
    for (size_t i = 0; i < n; i++)
        fprintf(f, "                         %-7s (%s) %s\n", fmts[i].name, fmts[i].suffix, fmts[i].what);
    fprintf(f,
        "  -e, --events LIST    kinds to record, comma-separated (default: default):\n"
        "                       call, c, line, opcode, exception, gc, import, audit,\n"
        "                       thread; default = call,exception,gc,import,thread; all\n"
        "  -w, --within NAME    record only while a call to NAME (name or Class.name)\n"
        "                       is on the stack\n"
        "  -i, --include GLOB   only code whose file path or module matches (repeatable)\n"
        "  -x, --exclude GLOB   leave out code whose file path or module matches\n"
        "  -D, --max-depth N    leave out calls deeper than N (from --within's call)\n"
        "  -b, --buffer-mb N    memory for event buffers (default 64); when the writer\n"
        "                       falls behind, events are dropped and counted, the\n"
        "                       program is never made to wait\n"
        "      --raw FILE       keep the raw trace here (children write FILE.PID)\n"
        "      --from RAW       convert a raw trace instead of running a program\n"
        "  -d, --duration S     PID: stop after S seconds (default: Ctrl-C or its end)\n"
        "  -q, --quiet          no summary on stderr\n\n"
        "examples:\n"
        "  frametap trace -o calls.txt -- python app.py --port 8080\n"
        "  frametap trace -e call,line --within handle -o t.json -- python -m myserver\n"
        "  frametap trace -e opcode --within add -- python -c 'def add(a,b): return a+b; add(1,2)'\n");
}

static int parse_events(const char *list, unsigned *out)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", list);
    *out = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        size_t i = 0, n = sizeof event_names / sizeof event_names[0];
        while (i < n && strcmp(event_names[i].name, w) != 0)
            i++;
        if (i == n) {
            fprintf(stderr, "frametap trace: unknown event kind '%s': use call, c, line, opcode, "
                    "exception, gc, import, audit, thread, default or all\n", w);
            return -1;
        }
        *out |= event_names[i].bits;
    }
    return 0;
}

static int parse_long(const char *s, long lo, long hi, const char *what, long *out)
{
    double v;
    if (ft_opts_number("trace", what, s, (double)lo, (double)hi, &v) < 0)
        return -1;
    if (v != (double)(long)v) {
        fprintf(stderr, "frametap trace: %s takes a whole number, not '%s'\n", what, s);
        return -1;
    }
    *out = (long)v;
    return 0;
}

static int parse_options(int argc, char **argv, struct trace_opts *o)
{
    static const struct option longopts[] = {
        { "output", required_argument, 0, 'o' }, { "format", required_argument, 0, 'f' },
        { "events", required_argument, 0, 'e' }, { "within", required_argument, 0, 'w' },
        { "include", required_argument, 0, 'i' }, { "exclude", required_argument, 0, 'x' },
        { "max-depth", required_argument, 0, 'D' }, { "buffer-mb", required_argument, 0, 'b' },
        { "raw", required_argument, 0, 'R' }, { "from", required_argument, 0, 'F' },
        { "quiet", no_argument, 0, 'q' }, { "help", no_argument, 0, 'h' },
        { "duration", required_argument, 0, 'd' }, { 0, 0, 0, 0 },
    };
    *o = (struct trace_opts){ .events = FT_EV_DEFAULT, .buffer_mb = 64 };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+o:f:e:w:i:x:D:b:d:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            if (o->noutputs == MAX_OUTPUTS) {
                fprintf(stderr, "frametap trace: at most %d outputs\n", MAX_OUTPUTS);
                return -1;
            }
            o->outputs[o->noutputs++] = optarg;
            break;
        case 'f':
            if (!ft_trace_format_named(optarg)) {
                fprintf(stderr, "frametap trace: unknown format '%s': use text, chrome, counts "
                        "or raw\n", optarg);
                return -1;
            }
            o->format = optarg;
            break;
        case 'e': if (parse_events(optarg, &o->events) < 0) return -1; break;
        case 'w': o->within = optarg; break;
        case 'i': case 'x': {
            const char **list = c == 'i' ? o->include : o->exclude;
            int *n = c == 'i' ? &o->ninclude : &o->nexclude;
            if (*n == MAX_GLOBS || strchr(optarg, '\x1f')) {
                fprintf(stderr, "frametap trace: at most %d globs each for --include/--exclude\n",
                        MAX_GLOBS);
                return -1;
            }
            list[(*n)++] = optarg;
            break;
        }
        case 'D': if (parse_long(optarg, 0, 100000, "--max-depth", &o->max_depth) < 0) return -1; break;
        case 'b': if (parse_long(optarg, 1, 65536, "--buffer-mb", &o->buffer_mb) < 0) return -1; break;
        case 'R': o->raw = optarg; break;
        case 'F': o->from = optarg; break;
        case 'q': o->quiet = 1; break;
        case 'd':
            if (ft_opts_number("trace", "--duration", optarg, 0.001, 1e7, &o->duration) < 0)
                return -1;
            break;
        case 'h': usage(stdout); exit(0);
        default:
            fprintf(stderr, "frametap trace: unknown or incomplete option '%s' (see 'frametap "
                    "trace --help')\n", argv[optind - 1]);
            return -1;
        }
    }
    return optind;
}

/* ---- writing outputs ---- */

static int write_one(const struct ft_trace *t, const char *path, const char *format,
                     const char *raw)
{
    const struct ft_trace_format *fmt = format ? ft_trace_format_named(format)
                                               : ft_trace_format_for(path);
    if (fmt->fmt == FT_TFMT_RAW) {
        FILE *in = fopen(raw, "rb"), *out = in ? fopen(path, "wb") : NULL;
        char buf[65536];
        size_t n;
        while (out && (n = fread(buf, 1, sizeof buf, in)) > 0)
            fwrite(buf, 1, n, out);
        int bad = !out || ferror(out);
        if (in) fclose(in);
        if (out && fclose(out) != 0) bad = 1;
        if (bad)
            ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(errno));
        return bad ? -1 : 0;
    }
    FILE *f = fopen(path, "w");
    if (!f) {
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s (choose another --output)", path, strerror(errno));
        return -1;
    }
    int rc = fmt->write(t, f);
    if (fclose(f) != 0 || rc < 0) {
        ft_fail(FT_E_SYSTEM, "writing %s failed: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static void summary(const struct ft_trace *t, const struct trace_opts *o)
{
    unsigned long long events = 0, dropped = 0;
    int incomplete = 0;
    for (size_t i = 0; i < t->nprocs; i++) {
        events += t->procs[i].complete ? t->procs[i].total_events : 0;
        dropped += t->procs[i].total_dropped;
        incomplete += !t->procs[i].complete;
        if (t->procs[i].error)
            fprintf(stderr, "frametap: trace of pid %u is damaged (%s); kept what came before\n",
                    t->procs[i].pid, t->procs[i].error);
    }
    if (!events)
        events = t->nevents;
    fprintf(stderr, "frametap: %llu events from %zu thread%s in %zu process%s", events,
            t->nthreads, t->nthreads == 1 ? "" : "s", t->nprocs, t->nprocs == 1 ? "" : "es");
    for (int i = 0; i < o->noutputs; i++)
        fprintf(stderr, "%s %s", i ? "," : " ->", o->outputs[i]);
    fputc('\n', stderr);
    if (dropped)
        fprintf(stderr, "frametap: %llu events were dropped because the writer fell behind: "
                "raise --buffer-mb or record fewer kinds (--events)\n", dropped);
    if (incomplete)
        fprintf(stderr, "frametap: %d process%s ended without closing the trace (killed by a "
                "signal?): their last events may be missing\n", incomplete,
                incomplete == 1 ? "" : "es");
}

static int unlink_one(void *arg, const char *path)
{
    (void)arg;
    unlink(path);
    return 0;
}

/* remove: the raw files were ours (a temporary), delete them after. */
static int convert(const struct trace_opts *o, const char *raw, int remove)
{
    struct ft_trace t = { 0 };
    if (ft_trace_load(&t, raw) < 0) {
        ft_trace_free(&t);
        return -1;
    }
    ft_trace_finish(&t);
    int rc = 0;
    for (int i = 0; i < o->noutputs && rc == 0; i++)
        rc = write_one(&t, o->outputs[i], o->format, raw);
    if (rc == 0 && !o->quiet)
        summary(&t, o);
    if (remove) {
        ft_trace_each_child(raw, unlink_one, NULL);
        unlink(raw);
    }
    ft_trace_free(&t);
    return rc;
}

/* ---- running the program ---- */

static void set_env_globs(const char *name, const char *const *globs, int n)
{
    char buf[8192];
    size_t used = 0;
    buf[0] = 0;
    for (int i = 0; i < n && used < sizeof buf - 2; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? "\x1f" : "", globs[i]);
    setenv(name, buf, 1);
}

static void set_env(const struct trace_opts *o, const char *raw)
{
    char num[32];
    setenv("FRAMETAP_TRACE_RAW", raw, 1);
    snprintf(num, sizeof num, "%u", o->events);
    setenv("FRAMETAP_TRACE_EVENTS", num, 1);
    snprintf(num, sizeof num, "%ld", o->max_depth);
    setenv("FRAMETAP_TRACE_MAX_DEPTH", num, 1);
    snprintf(num, sizeof num, "%ld", o->buffer_mb);
    setenv("FRAMETAP_TRACE_BUFFER_MB", num, 1);
    setenv("FRAMETAP_TRACE_WITHIN", o->within ? o->within : "", 1);
    set_env_globs("FRAMETAP_TRACE_INCLUDE", o->include, o->ninclude);
    set_env_globs("FRAMETAP_TRACE_EXCLUDE", o->exclude, o->nexclude);
}

/* A raw file for the program to write: ours, unless --raw gave one. */
static int make_raw(const struct trace_opts *o, char *raw, size_t cap)
{
    if (o->raw) {
        snprintf(raw, cap, "%s", o->raw);
        return 0;
    }
    const char *tmp = getenv("TMPDIR");
    snprintf(raw, cap, "%s/frametap-trace-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int fd = mkstemp(raw);
    if (fd < 0) {
        ft_fail(FT_E_SYSTEM, "cannot create a temporary file in %s: %s (set TMPDIR)",
                tmp && *tmp ? tmp : "/tmp", strerror(errno));
        return -1;
    }
    close(fd);
    return 0;
}

static void default_output(struct trace_opts *o, pid_t pid)
{
    static char name[64];
    if (o->noutputs == 0) {
        snprintf(name, sizeof name, "frametap-trace-%d.txt", (int)pid);
        o->outputs[o->noutputs++] = name;
    }
}

static int is_pid(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

/* frametap trace PID */
static int trace_running(struct trace_opts *o, pid_t pid)
{
    char raw[PATH_MAX];
    struct stat st;
    if (make_raw(o, raw, sizeof raw) < 0)
        return ft_report_error();
    /* the program writes it: give it to the program's user */
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/%d", (int)pid);
    if (stat(proc, &st) == 0 && st.st_uid != getuid() && chown(raw, st.st_uid, (gid_t)-1) < 0) {
        ft_fail(FT_E_SYSTEM, "cannot give %s to uid %u: %s", raw, (unsigned)st.st_uid,
                strerror(errno));
        return ft_report_error();
    }
    struct ft_trace_request r = { o->events, o->within, o->include, o->exclude, o->ninclude,
                                  o->nexclude, o->max_depth, o->buffer_mb, o->duration, o->quiet };
    default_output(o, pid);
    if (ft_trace_attach(pid, &r, raw) < 0) {
        if (!o->raw)
            unlink(raw);
        return ft_report_error_for(pid);
    }
    return convert(o, raw, !o->raw) < 0 ? ft_report_error() : 0;
}

int ft_cmd_trace(int argc, char **argv)
{
    struct trace_opts o;
    int first = parse_options(argc, argv, &o);
    if (first < 0)
        return FT_E_USAGE;
    if (o.from) {
        if (first < argc) {
            fprintf(stderr, "frametap trace: --from converts a trace; give no command with it\n");
            return FT_E_USAGE;
        }
        struct stat st;
        if (stat(o.from, &st) == 0 && S_ISDIR(st.st_mode)) {
            fprintf(stderr, "frametap trace: --from takes a raw trace file (written with --raw or "
                    "frametap.trace()), not the directory %s\n", o.from);
            return FT_E_USAGE;
        }
        default_output(&o, getpid());
        return convert(&o, o.from, 0) < 0 ? ft_report_error() : 0;
    }
    if (first >= argc) {
        usage(stderr);
        return FT_E_USAGE;
    }
    if (is_pid(argv[first]) && strcmp(argv[first - 1], "--") != 0) {
        if (first == argc - 1)
            return trace_running(&o, (pid_t)atoi(argv[first]));
        fprintf(stderr, "frametap trace: options go before the PID: frametap trace [OPTIONS] "
                "%s\n", argv[first]);
        return FT_E_USAGE;
    }
    char **cmd = argv + first;
    int n = argc - first;
    struct pycmd p;
    char pkg[PATH_MAX], raw[PATH_MAX];
    if (ft_split_python_args("trace", cmd, n, &p) < 0)
        return FT_E_USAGE;
    if (ft_package_dir(pkg, sizeof pkg) < 0 || ft_check_python(cmd[0], pkg, "_tracer") < 0)
        return ft_report_error();
    if (make_raw(&o, raw, sizeof raw) < 0)
        return ft_report_error();
    set_env(&o, raw);
    int status = 0;
    pid_t child;
    if (ft_start_python(cmd, n, &p, pkg, &child) < 0)
        return ft_report_error();
    default_output(&o, child);
    if (ft_wait_python(child, &status) < 0)
        return ft_report_error();
    struct stat st;
    if (stat(raw, &st) != 0 || st.st_size == 0) {
        if (!o.raw)
            unlink(raw);
        ft_fail(FT_E_NOTPY, "the program ended before tracing began (its errors are above): "
                "nothing was traced");
        int e = ft_report_error();
        return ft_exit_status_of(status) ? ft_exit_status_of(status) : e;
    }
    int rc = convert(&o, raw, !o.raw);
    if (rc < 0) {
        int e = ft_report_error();
        return ft_exit_status_of(status) ? ft_exit_status_of(status) : e;
    }
    return ft_exit_status_of(status);
}
