/*
 * dump.c - `frametap dump`: attach, take one snapshot, print it.
 * By default the target is paused (ptrace stop, no signal) for the instant
 * of the read so the stacks are consistent; --nonblocking reads it running
 * and relies on the walker's tear checks. With --locals the arguments and
 * locals of every frame are read in the same pause (with --nonblocking,
 * right after the stacks, and the output says they may have changed).
 */
#include "../cpython/fastread.h"
#include "../cpython/locals.h"
#include "../cpython/session.h"
#include "../cpython/walk.h"
#include "../output/dump_format.h"
#include "../target/pause.h"
#include "../target/procfs.h"
#include "../util/error.h"
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump_help(FILE *f)
{
    fprintf(f,
        "usage: frametap dump [--json] [--locals] [--nonblocking] [--runtime-discovery HOW] PID\n\n"
        "Prints every thread's Python stack in process PID, innermost frame first,\n"
        "with its OS thread id and name, whether it holds the GIL and whether it is\n"
        "on a CPU now. Reads the process from outside; never writes to it.\n\n"
        "options:\n"
        "  --json                 one JSON object instead of text\n"
        "  --locals               also the arguments and local variables of every frame,\n"
        "                         with their kind (argument, keyword-only, *args,\n"
        "                         **kwargs, local, cell, free) and value; values are read\n"
        "                         from outside, never by running code in the process:\n"
        "                         numbers, str, bytes, None, bool and containers of them\n"
        "                         like repr(), other objects as <Type at 0xADDR>\n"
        "  --locals-width N       characters per value (default 200; containers show 16\n"
        "                         items and 4 levels, 64 KiB read per value)\n"
        "  --nonblocking          do not pause the process while reading; a stack that\n"
        "                         changes under the read is retried, else reported\n"
        "  --runtime-discovery HOW  how to find _PyRuntime: auto (default), symbol,\n"
        "                         section or scan (for builds without either)\n"
        "  -h, --help             this text\n\n"
        "examples:\n"
        "  frametap dump 1234\n"
        "  frametap dump --json $(pgrep -f myservice.py) | jq '.threads[].frames[0]'\n"
        "  frametap dump --locals 1234\n"
        "  sudo frametap dump --nonblocking 1234   # latency-sensitive process\n\n"
        "needs: permission to ptrace PID (same user, root, or CAP_SYS_PTRACE).\n");
}

static int parse_discovery(const char *s, enum ft_discovery *out)
{
    static const struct { const char *name; enum ft_discovery v; } table[] = {
        {"auto", FT_DISC_AUTO}, {"symbol", FT_DISC_SYMBOL},
        {"section", FT_DISC_SECTION}, {"scan", FT_DISC_SCAN},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (!strcmp(s, table[i].name)) {
            *out = table[i].v;
            return 0;
        }
    fprintf(stderr, "frametap: --runtime-discovery takes auto, symbol, section or scan, not '%s'\n", s);
    return -1;
}

static int parse_width(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v < 8 || v > FT_RENDER_WIDTH_MAX) {
        fprintf(stderr, "frametap: --locals-width takes a number of characters from 8 to %d, not '%s'\n",
                FT_RENDER_WIDTH_MAX, s);
        return -1;
    }
    *out = (unsigned)v;
    return 0;
}

static int bad_option(const char *arg)
{
    if (arg[0] == '-' && arg[1] >= '0' && arg[1] <= '9')
        fprintf(stderr, "frametap: '%s' is not a process id: give a positive number\n", arg);
    else
        fprintf(stderr, "frametap: unknown option '%s' for dump (see 'frametap dump --help')\n", arg);
    return -1;
}

struct dump_opts {
    int json, nonblocking, locals;
    unsigned locals_width;
    enum ft_discovery discovery;
    int pid;
};

static int parse_args(int argc, char **argv, struct dump_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'},
        {"nonblocking", no_argument, 0, 'n'},
        {"locals", no_argument, 0, 'l'},
        {"locals-width", required_argument, 0, 'w'},
        {"runtime-discovery", required_argument, 0, 'd'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->locals_width = FT_RENDER_WIDTH;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = 1; break;
        case 'n': o->nonblocking = 1; break;
        case 'l': o->locals = 1; break;
        case 'w': if (parse_width(optarg, &o->locals_width) < 0) return -1; o->locals = 1; break;
        case 'd': if (parse_discovery(optarg, &o->discovery) < 0) return -1; break;
        case 'h': dump_help(stdout); return 1;
        default: return bad_option(argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "frametap: dump takes exactly one PID (see 'frametap dump --help')\n");
        return -1;
    }
    o->pid = ft_parse_pid(argv[optind]);
    return o->pid ? 0 : -1;
}

#define MAX_RUNNING 4096

/* Threads on a CPU right now; read before pausing, which stops them all. */
static size_t running_threads(pid_t pid, pid_t *out, size_t max)
{
    pid_t tids[MAX_RUNNING];
    ssize_t n = ft_list_threads(pid, tids, MAX_RUNNING);
    size_t k = 0;
    for (ssize_t i = 0; i < n && k < max; i++)
        if (ft_thread_state(pid, tids[i]) == 'R')
            out[k++] = tids[i];
    ft_error_clear();
    return k;
}

/* Locals of the snapshot's frames, read before the process resumes. */
static int read_locals(struct ft_session *s, const struct dump_opts *o, const struct ft_snapshot *snap,
                       struct ft_snapshot_locals *locals)
{
    struct ft_render_limits lim = {o->locals_width, FT_RENDER_ITEMS, FT_RENDER_DEPTH, FT_RENDER_BYTES};
    if (!o->locals)
        return 0;
    if (ft_snapshot_locals(&s->reader, snap, &lim, o->nonblocking, locals) == 0)
        return 0;
    ft_snapshot_locals_free(locals);
    ft_snapshot_free((struct ft_snapshot *)snap);
    return -1;
}

static int take(struct ft_session *s, const struct dump_opts *o, struct ft_snapshot *snap,
                struct ft_snapshot_locals *locals)
{
    static pid_t running[MAX_RUNNING];
    struct ft_walk_opts wo = {.paused = !o->nonblocking, .python_names = 1};
    if (wo.paused) {
        wo.nrunning = running_threads(s->proc.pid, running, MAX_RUNNING);
        wo.running = running;
        if (ft_proc_pause(&s->proc) < 0)
            return -1;
    }
    int rc = ft_snapshot_take(&s->reader, &s->rt, &wo, snap);
    if (rc == 0)
        rc = read_locals(s, o, snap, locals);
    ft_proc_resume(&s->proc);
    return rc;
}

struct ft_dump_header ft_dump_header_of(const struct ft_session *s, int paused)
{
    return (struct ft_dump_header){
        .pid = s->proc.pid, .comm = s->proc.comm, .python_version = s->version, .binary = s->rt.binary,
        .build_id = s->rt.build_id, .found_by = s->rt.found_by, .runtime_address = s->rt.addr,
        .paused = paused,
    };
}

int ft_cmd_dump(int argc, char **argv)
{
    struct dump_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : FT_E_USAGE;
    struct ft_session s;
    ft_error_clear();
    if (ft_session_open(&s, o.pid, o.discovery) < 0)
        return ft_report_error_for(o.pid);
    struct ft_snapshot snap;
    struct ft_snapshot_locals locals = {0};
    if (take(&s, &o, &snap, &locals) < 0) {
        rc = ft_report_error_for(o.pid);
        ft_session_close(&s);
        return rc;
    }
    const char *limit = ft_fastread_limit(&s.rt.layout);
    if (o.nonblocking && limit)
        fprintf(stderr, "frametap: CPython %s: %s: with --nonblocking such a stack may be "
                "shown\n", s.version, limit);
    struct ft_dump_header h = ft_dump_header_of(&s, !o.nonblocking);
    h.locals = o.locals ? &locals : NULL;
    struct strbuf out;
    sb_init(&out);
    (o.json ? ft_dump_json : ft_dump_text)(&out, &h, &snap);
    fwrite(out.data, 1, out.len, stdout);
    sb_free(&out);
    ft_snapshot_locals_free(&locals);
    ft_snapshot_free(&snap);
    ft_session_close(&s);
    return 0;
}
