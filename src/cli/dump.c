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
#include "../native/native_stacks.h"
#include "../output/dump_format.h"
#include "../target/corefile.h"
#include "../target/pause.h"
#include "../target/procfs.h"
#include "../util/error.h"
#include "commands.h"
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump_help(FILE *f)
{
    fprintf(f,
        "usage: frametap dump [--json] [--locals] [--native] [--nonblocking]\n"
        "                     [--runtime-discovery HOW] PID | --pid PID\n"
        "       frametap dump [--json] [--locals] [--native] --core CORE\n"
        "                     [--executable PATH] [--lib-search-root DIR]\n\n"
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
        "  --native               C frames too, merged with the Python frames in one stack\n"
        "                         (names from symbol tables; file:line where debug info\n"
        "                         exists; text leaves out the interpreter's own call\n"
        "                         plumbing, --json keeps every frame). Needs the pause:\n"
        "                         not with --nonblocking\n"
        "  --core CORE            read a core file (kernel or gcore) instead of a process\n"
        "  --executable PATH      the core's executable, when it is not where the process\n"
        "                         ran it from (or was replaced since)\n"
        "  --lib-search-root DIR  find the core's files under DIR: as DIR/usr/lib/... or by\n"
        "                         name anywhere below (cores from containers or other\n"
        "                         machines); files whose build-id differs are not used\n"
        "  --nonblocking          do not pause the process while reading; a stack that\n"
        "                         changes under the read is retried, else reported\n"
        "  --runtime-discovery HOW  how to find _PyRuntime: auto (default), symbol,\n"
        "                         section or scan (for builds without either)\n"
        "  -p, --pid PID          the process (the same as giving PID last)\n"
        "  -h, --help             this text\n\n"
        "examples:\n"
        "  frametap dump 1234\n"
        "  frametap dump --json $(pgrep -f myservice.py) | jq '.threads[].frames[0]'\n"
        "  frametap dump --locals 1234\n"
        "  sudo frametap dump --nonblocking 1234   # latency-sensitive process\n"
        "  frametap dump --native 1234\n"
        "  frametap dump --core core.1234 --lib-search-root ./container-rootfs\n\n"
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
    int native;
    const char *core, *executable, *search_root, *pid_opt;
};

/* --core, --executable, --lib-search-root and --native against the rest. */
static int check_core_native(struct dump_opts *o, int argc, char **argv)
{
    if (!o->core && (o->executable || o->search_root)) {
        fprintf(stderr, "frametap: --executable and --lib-search-root go with --core CORE\n");
        return -1;
    }
    if (o->native && o->nonblocking) {
        fprintf(stderr, "frametap: --native needs the threads stopped for the instant of the "
                "unwind: drop --nonblocking\n");
        return -1;
    }
    if (o->core) {
        if (optind != argc || o->pid_opt) {
            fprintf(stderr, "frametap: dump takes a PID or --core CORE, not both (see "
                    "'frametap dump --help')\n");
            return -1;
        }
        if (o->nonblocking) {
            fprintf(stderr, "frametap: --nonblocking has no meaning for a core file\n");
            return -1;
        }
        return 0;
    }
    o->pid = ft_opts_one_pid("dump", o->pid_opt, argc, argv, optind);
    return o->pid ? 0 : -1;
}

static int parse_args(int argc, char **argv, struct dump_opts *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, 0, 'j'},
        {"nonblocking", no_argument, 0, 'n'},
        {"locals", no_argument, 0, 'l'},
        {"locals-width", required_argument, 0, 'w'},
        {"runtime-discovery", required_argument, 0, 'd'},
        {"native", no_argument, 0, 'N'},
        {"core", required_argument, 0, 'c'},
        {"executable", required_argument, 0, 'e'},
        {"lib-search-root", required_argument, 0, 'L'},
        {"pid", required_argument, 0, 'p'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    memset(o, 0, sizeof *o);
    o->locals_width = FT_RENDER_WIDTH;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "hp:", longopts, NULL)) != -1) {
        switch (c) {
        case 'j': o->json = 1; break;
        case 'n': o->nonblocking = 1; break;
        case 'p': o->pid_opt = optarg; break;
        case 'l': o->locals = 1; break;
        case 'w': if (parse_width(optarg, &o->locals_width) < 0) return -1; o->locals = 1; break;
        case 'd': if (parse_discovery(optarg, &o->discovery) < 0) return -1; break;
        case 'N': o->native = 1; break;
        case 'c': o->core = optarg; break;
        case 'e': o->executable = optarg; break;
        case 'L': o->search_root = optarg; break;
        case 'h': dump_help(stdout); return 1;
        default: return bad_option(argv[optind - 1]);
        }
    }
    if (o->core || o->executable || o->search_root || o->native)
        return check_core_native(o, argc, argv);
    o->pid = ft_opts_one_pid("dump", o->pid_opt, argc, argv, optind);
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

/* What --native and --core add to a dump: the core file, the native
 * session and its stacks. */
struct dump_extra {
    struct ft_core core;
    int have_core;
    struct ft_native *native;
    struct ft_native_set stacks;
    int have_stacks;
    struct ft_snapshot_locals locals; /* --locals */
};

static void print_core_warnings(const struct ft_core *c)
{
    for (size_t i = 0; i < c->nwarnings; i++) {
        fputs("frametap: warning: ", stderr);
        ft_esc_text_file(stderr, c->warnings[i]);
        fputc('\n', stderr);
    }
}

/* The process, or the core; then the native session if asked for. */
static int open_target(struct ft_session *s, const struct dump_opts *o, struct dump_extra *x)
{
    memset(x, 0, sizeof *x);
    if (o->core) {
        if (ft_core_open(&x->core, o->core, o->executable, o->search_root) < 0)
            return -1;
        x->have_core = 1;
        print_core_warnings(&x->core);
        if (ft_session_open_core(s, &x->core, o->discovery) < 0)
            return -1;
    } else if (ft_session_open(s, o->pid, o->discovery) < 0) {
        return -1;
    }
    if (!o->native)
        return 0;
    x->native = ft_native_open(s, x->have_core ? &x->core : NULL);
    if (!x->native && x->have_core) {
        /* elfutils rejects some cores (gdb's among them): Python frames still */
        fprintf(stderr, "frametap: warning: no native frames: %s\n", ft_error_message());
        ft_error_clear();
        return 0;
    }
    if (!x->native)
        ft_session_close(s);
    return x->native ? 0 : -1;
}

static void close_target(struct ft_session *s, struct dump_extra *x, int session_open)
{
    if (x->have_stacks)
        ft_native_set_free(&x->stacks);
    ft_native_close(x->native);
    if (session_open)
        ft_session_close(s);
    if (x->have_core)
        ft_core_close(&x->core);
}

static int take(struct ft_session *s, const struct dump_opts *o, struct ft_snapshot *snap,
                struct dump_extra *x)
{
    static pid_t running[MAX_RUNNING];
    struct ft_walk_opts wo = {.paused = !o->nonblocking, .python_names = 1};
    if (wo.paused && !o->core) {
        wo.nrunning = running_threads(s->proc.pid, running, MAX_RUNNING);
        wo.running = running;
        if (ft_proc_pause(&s->proc) < 0)
            return -1;
    }
    int rc = ft_snapshot_take(&s->reader, &s->rt, &wo, snap);
    if (rc == 0)
        rc = read_locals(s, o, snap, &x->locals);
    /* native stacks while the threads are still stopped: the same instant */
    if (rc == 0 && x->native) {
        rc = ft_native_collect(x->native, s, snap, &x->stacks);
        x->have_stacks = rc == 0;
        if (rc < 0)
            ft_snapshot_free(snap);
    }
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

static void core_header(const struct dump_opts *o, const struct dump_extra *x,
                        struct ft_dump_header *h, struct ft_snapshot *snap)
{
    if (!x->have_core)
        return;
    /* a stack the core lost explains the thread's error better than the walk */
    for (size_t i = 0; i < snap->nthreads; i++) {
        struct ft_thread *t = &snap->threads[i];
        if (t->error[0] && ft_core_stack_lost(&x->core, t->native_id))
            snprintf(t->error, sizeof t->error, "the core lost this thread's C stack (it holds "
                     "zeros there), which its Python frames are found through");
    }
    h->pid = x->core.info.pid;
    h->core = o->core;
    h->core_signal = x->core.info.signal;
    h->core_by_gdb = x->core.info.by_gdb;
    h->core_have_fault = x->core.info.have_fault_addr;
    h->core_fault_address = x->core.info.fault_addr;
}

int ft_cmd_dump(int argc, char **argv)
{
    struct dump_opts o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc > 0 ? 0 : FT_E_USAGE;
    struct ft_session s;
    struct dump_extra x;
    ft_error_clear();
    if (open_target(&s, &o, &x) < 0) {
        if (!o.core && ft_error_kind() == FT_E_NOTPY && ft_maps_no_python(o.pid)) {
            close_target(&s, &x, 0);
            ft_error_clear();
            if (ft_dump_wasm_refuses(o.locals, o.native, o.nonblocking, o.discovery != FT_DISC_AUTO) < 0)
                return ft_report_error();
            return ft_dump_wasm(o.pid, o.json);
        }
        rc = o.core ? ft_report_error() : ft_report_error_for(o.pid);
        close_target(&s, &x, 0);
        return rc;
    }
    struct ft_snapshot snap;
    if (take(&s, &o, &snap, &x) < 0) {
        rc = o.core ? ft_report_error() : ft_report_error_for(o.pid);
        close_target(&s, &x, 1);
        return rc;
    }
    const char *limit = ft_fastread_limit(&s.rt.layout);
    if (o.nonblocking && limit)
        fprintf(stderr, "frametap: CPython %s: %s: with --nonblocking such a stack may be "
                "shown\n", s.version, limit);
    struct ft_dump_header h = ft_dump_header_of(&s, !o.nonblocking);
    h.locals = o.locals ? &x.locals : NULL;
    h.native = x.have_stacks ? &x.stacks : NULL;
    core_header(&o, &x, &h, &snap);
    struct strbuf out;
    sb_init(&out);
    (o.json ? ft_dump_json : ft_dump_text)(&out, &h, &snap);
    fwrite(out.data, 1, out.len, stdout);
    sb_free(&out);
    ft_snapshot_locals_free(&x.locals);
    ft_snapshot_free(&snap);
    close_target(&s, &x, 1);
    return 0;
}
