/*
 * dump_wasm.c - `frametap dump` of a process that runs CPython compiled to
 * WebAssembly (node with pyodide, ...): every runtime found in its linear
 * memories (cpython/wasm_discover.h), read while the whole process is
 * paused, printed one after the other, each labelled with its memory.
 *
 * What it must never do: show a runtime it could not read at that pause
 * (its error is printed instead), or offer what wasm targets lack (native
 * frames, locals, reads without the pause): those options are refused.
 */
#include "../cpython/session.h"
#include "../cpython/walk.h"
#include "../output/dump_format.h"
#include "../profile/sampler.h"
#include "../target/pause.h"
#include "../util/error.h"
#include "commands.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WASM FT_WASM_MAX_RUNTIMES

struct ft_dump_header ft_dump_header_of_wasm(const struct ft_session *s)
{
    struct ft_dump_header h = ft_dump_header_of(s, 1);
    if (s->wasm) {
        h.wasm = s->label;
        h.memory_base = s->wasm_rt.base;
        h.memory_size = s->proc.space.size;
        h.binary = "";
    }
    return h;
}

int ft_dump_wasm_refuses(int locals, int native, int nonblocking, int discovery)
{
    const char *what = locals ? "--locals" : native ? "--native" : nonblocking ? "--nonblocking"
                     : discovery ? "--runtime-discovery" : NULL;
    if (!what)
        return 0;
    ft_fail(FT_E_USAGE, "%s is not available for CPython in WebAssembly (its runtime is read only "
            "while the whole process is paused, from its linear memory)", what);
    return -1;
}

static void print_one(struct strbuf *out, struct ft_session *s, const struct ft_snapshot *snap,
                      int json)
{
    struct ft_dump_header h = ft_dump_header_of_wasm(s);
    (json ? ft_dump_json : ft_dump_text)(out, &h, snap);
}

/* One runtime's threads, or its error as a thread-less block. */
static int take_one(struct ft_session *s, struct ft_snapshot *snap)
{
    struct ft_walk_opts wo = {.paused = 1, .python_names = 1};
    memset(snap, 0, sizeof *snap);
    if (ft_session_recheck(s) < 0)
        return -1;
    return ft_snapshot_take(&s->reader, &s->rt, &wo, snap);
}

int ft_dump_wasm(int pid, int json)
{
    struct ft_session *ses = calloc(MAX_WASM, sizeof *ses);
    struct ft_snapshot *snaps = calloc(MAX_WASM, sizeof *snaps);
    int *ok = calloc(MAX_WASM, sizeof *ok);
    if (!ses || !snaps || !ok) {
        free(ses), free(snaps), free(ok);
        ft_fail(FT_E_SYSTEM, "out of memory");
        return ft_report_error();
    }
    int n = ft_sessions_open_wasm(ses, MAX_WASM, pid), rc = 0;
    if (n <= 0) {
        rc = ft_report_error_for(pid);
    } else if (ft_proc_pause(&ses[0].proc) < 0) {
        rc = ft_report_error_for(pid);
    } else {
        char errors[MAX_WASM][256];
        for (int i = 0; i < n; i++) {
            ft_error_clear();
            ok[i] = take_one(&ses[i], &snaps[i]) == 0;
            snprintf(errors[i], sizeof errors[i], "%s", ok[i] ? "" : ft_error_message());
        }
        ft_proc_resume(&ses[0].proc);
        struct strbuf out;
        sb_init(&out);
        if (json)
            sb_printf(&out, "{\"pid\":%d,\"command\":", pid), sb_json_string(&out, ses[0].proc.comm),
                sb_puts(&out, ",\"paused\":true,\"interpreters\":[");
        for (int i = 0; i < n; i++) {
            if (!ok[i]) {
                /* an empty snapshot with the reason as its one thread's error */
                struct ft_thread t;
                memset(&t, 0, sizeof t);
                t.native_id = -1;
                snprintf(t.error, sizeof t.error, "%s", errors[i]);
                snaps[i].threads = NULL;
                struct ft_snapshot one = {&t, 1};
                if (json && i)
                    sb_puts(&out, ",");
                print_one(&out, &ses[i], &one, json);
                continue;
            }
            if (json && i)
                sb_puts(&out, ",");
            else if (!json && i)
                sb_puts(&out, "\n");
            print_one(&out, &ses[i], &snaps[i], json);
        }
        if (json)
            sb_puts(&out, "]}\n");
        fwrite(out.data, 1, out.len, stdout);
        sb_free(&out);
    }
    for (int i = 0; i < n; i++) {
        ft_snapshot_free(&snaps[i]);
        ft_session_close(&ses[i]);
    }
    free(ses), free(snaps), free(ok);
    return rc;
}

/* The error standing when ft_maps_no_python() was called is left as it was:
 * it is the one to report when the process does map Python. */
int ft_maps_no_python(int pid)
{
    if (pid > 0 && ft_discover_found_no_binary() == (pid_t)pid)
        return 1;
    enum ft_errkind kind = ft_error_kind();
    char why[1024];
    snprintf(why, sizeof why, "%s", ft_error_message());
    struct ft_proc p;
    struct ft_pybinary bins[8];
    size_t n = 1;
    if (ft_proc_open(&p, pid) == 0) {
        n = ft_find_pybinaries(&p, bins, 8);
        for (size_t i = 0; i < n; i++)
            ft_pybinary_close(&bins[i]);
    }
    ft_proc_close(&p);
    ft_error_clear();
    if (kind)
        ft_fail(kind, "%s", why);
    return n == 0;
}

int ft_attach_wasm(int pid, const struct ft_sample_opts *opts, struct ft_session **out)
{
    *out = NULL;
    if (ft_error_kind() != FT_E_NOTPY)
        return 0;
    if (!ft_maps_no_python(pid))
        return 0;
    if (opts->native || opts->pause == FT_PAUSE_NEVER) {
        ft_fail(FT_E_USAGE, "%s is not available for CPython in WebAssembly (its runtime is read "
                "while the whole process is paused, from its linear memory)",
                opts->native ? "--native" : "--nonblocking");
        return -1;
    }
    struct ft_session *ses = calloc(MAX_WASM, sizeof *ses);
    if (!ses) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    ft_error_clear();
    int n = ft_sessions_open_wasm(ses, MAX_WASM, pid);
    if (n <= 0) {
        free(ses);
        return n;
    }
    *out = ses;
    return n;
}
