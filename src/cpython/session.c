/*
 * session.c - attaching to a target (see session.h).
 */
#include "session.h"

#include "walk.h"

#include "../target/corefile.h"
#include "../target/wasm_memories.h"
#include "../util/error.h"

#include <stdio.h>
#include <string.h>

#define CODE_CACHE_SIZE 4096

static int init_reader(struct ft_session *s)
{
    s->reader.proc = &s->proc;
    s->reader.layout = &s->rt.layout;
    s->reader.runtime = s->rt.addr;
    s->reader.codes = ft_code_cache_new(CODE_CACHE_SIZE);
    ft_reader_init(&s->reader);
    if (!s->reader.codes) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        ft_proc_close(&s->proc);
        return -1;
    }
    ft_version_string(&s->rt.layout, s->version, sizeof s->version);
    return 0;
}

static int finish_open(struct ft_session *s, enum ft_discovery method)
{
    if (ft_discover(&s->proc, method, &s->rt) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    return init_reader(s);
}

int ft_session_open_wasm(struct ft_session *s, pid_t pid, const struct ft_wasm_runtime *w)
{
    memset(s, 0, sizeof *s);
    s->proc.mem_fd = -1;
    if (ft_proc_open(&s->proc, pid) < 0 || ft_proc_set_space(&s->proc, w->base, FT_WASM32_LIMIT) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    s->wasm = 1;
    s->wasm_rt = *w;
    s->rt.addr = w->linear;
    s->rt.found_by = w->cookie ? "wasm-cookie" : "wasm-shape";
    s->rt.layout = w->layout;
    s->rt.pthread_tid_offset = FT_ABSENT;
    if (init_reader(s) < 0)
        return -1;
    snprintf(s->label, sizeof s->label, "wasm %s in %s", s->version, s->proc.comm);
    return 0;
}

int ft_sessions_open_wasm(struct ft_session *out, size_t max, pid_t pid)
{
    struct ft_wasm_runtime found[FT_WASM_MAX_RUNTIMES];
    struct ft_wasm_scan scan;
    int n = ft_wasm_find(pid, found, max < FT_WASM_MAX_RUNTIMES ? max : FT_WASM_MAX_RUNTIMES, &scan);
    if (n < 0)
        return -1;
    if (n == 0) {
        char who[96];
        struct ft_proc p;
        if (ft_proc_open(&p, pid) < 0) {
            ft_proc_close(&p);
            return -1;
        }
        ft_proc_describe(&p, who, sizeof who);
        ft_proc_close(&p);
        if (scan.refused[0])
            ft_fail(FT_E_VERSION, "%s runs CPython in WebAssembly, but: %s", who, scan.refused);
        else
            ft_fail(FT_E_NOTPY, "%s is not a Python process: no python or libpython binary is "
                    "mapped in it, and no CPython runtime is in its WebAssembly memories (scanned "
                    "%.1f MiB from the start of %zu of %zu mappings beside large reservations "
                    "that could be linear memories; %zu did not begin with a null page%s)", who,
                    (double)scan.scanned_bytes / (1 << 20), scan.scanned_memories, scan.candidates,
                    scan.not_null, scan.budget_spent ? "; stopped at the scan budget" : "");
        return 0;
    }
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (ft_session_open_wasm(&out[k], pid, &found[i]) == 0)
            out[k].wasm_slot = k, k++;
        else
            ft_error_clear();
    }
    if (!k)
        ft_fail(FT_E_EXITED, "process %d went away while its wasm memories were read", (int)pid);
    return k ? k : -1;
}

int ft_session_recheck(struct ft_session *s)
{
    if (!s->wasm || ft_wasm_still_there(&s->proc, &s->wasm_rt))
        return 0;
    ft_error_clear();
    struct ft_wasm_runtime found[FT_WASM_MAX_RUNTIMES];
    struct ft_wasm_scan scan;
    int n = ft_wasm_find(s->proc.pid, found, FT_WASM_MAX_RUNTIMES, &scan);
    for (int i = 0; i < n; i++) /* the same runtime, moved: same place in its memory */
        if (found[i].linear == s->wasm_rt.linear && found[i].layout.hexversion == s->rt.layout.hexversion &&
            found[i].base != s->wasm_rt.base && ft_proc_set_space(&s->proc, found[i].base, FT_WASM32_LIMIT) == 0) {
            s->wasm_rt.base = found[i].base;
            return 0;
        }
    if (n >= 0)
        ft_fail(FT_E_CORRUPT, "the wasm memory of %s moved or was freed, and was not found again",
                s->label);
    return -1;
}

int ft_session_open(struct ft_session *s, pid_t pid, enum ft_discovery method)
{
    memset(s, 0, sizeof *s);
    s->proc.mem_fd = -1;
    if (ft_proc_open(&s->proc, pid) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    return finish_open(s, method);
}

int ft_session_open_core(struct ft_session *s, const struct ft_core *core,
                         enum ft_discovery method)
{
    memset(s, 0, sizeof *s);
    if (ft_core_proc(core, &s->proc) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    return finish_open(s, method);
}

void ft_session_close(struct ft_session *s)
{
    ft_walk_scratch_free(&s->reader);
    ft_code_cache_free(s->reader.codes);
    s->reader.codes = NULL;
    ft_proc_close(&s->proc);
}
