/*
 * wasm_discover.c - finding CPython runtimes in wasm linear memories (see
 * wasm_discover.h). Reads only the candidates' first FT_WASM_SCAN_PREFIX
 * bytes, FT_WASM_SCAN_BUDGET in all, a chunk at a time; every candidate
 * runtime is validated by pointers that must agree before it is reported.
 */
#include "wasm_discover.h"

#include "../target/wasm_memories.h"
#include "../util/error.h"
#include "code.h"
#include "objects.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK (1u << 20)
#define OVERLAP (64u << 10)       /* bytes read past a chunk: a runtime's fields, its main
                                   * interpreter (within K_WINDOW + 31 KiB), from the buffer */
#define WASM_PTR 4
#define BASE_ALIGN 4096u          /* a linear memory starts on a host page */
#define K_WINDOW 8192u            /* how far _main_interpreter may sit from the generated offset */
#define COOKIE "xdebugpy"
#define NULL_BYTES 64              /* zero bytes a linear memory starts with */

/* A row to try: the wasm32 layout of one minor version. */
struct try_row {
    struct ft_layout l;
    int cookie;                   /* 3.13+: look for _Py_DebugOffsets */
};

static uint32_t u32_at(const unsigned char *b, size_t len, uint64_t at)
{
    uint32_t v = 0;
    if (at <= len && len - at >= 4)
        memcpy(&v, b + at, 4);
    return v;
}

/* A read-only view of host memory as the linear memory at base (never
 * refreshed, never closed: it shares host's maps and files). */
static void space_view(const struct ft_proc *host, uint64_t base, struct ft_proc *out)
{
    *out = *host;
    out->space = (struct ft_space){base, ft_maps_extent(&host->maps, base, FT_WASM32_LIMIT),
                                   FT_WASM32_LIMIT, UINT64_MAX};
}

static uint32_t host_u32(struct ft_proc *host, uint64_t addr, int *ok)
{
    uint32_t v = 0;
    if (*ok && ft_proc_read(host, addr, &v, 4) < 0) {
        ft_error_clear();
        *ok = 0;
    }
    return v;
}

/* The chunk of host memory in hand: reads inside it cost no syscall. */
struct window {
    uint64_t at, lo;              /* host address of b[0]; the candidate's start */
    const unsigned char *b;
    size_t len;
};

static uint32_t win_u32(struct ft_proc *host, const struct window *w, uint64_t addr, int *ok)
{
    if (addr >= w->at && addr - w->at <= w->len && w->len - (addr - w->at) >= 4)
        return u32_at(w->b, w->len, addr - w->at);
    return host_u32(host, addr, ok);
}

/* Every _PyRuntime field frametap reads (interpreters and after) moved by
 * d bytes: builds of one minor version can differ in the fields before
 * them (pyodide's 3.11 has 8 bytes more there than 3.11's headers give
 * for wasm32); the interpreter and thread states then still agree with
 * the generated row, and are what validates the runtime. */
#define MAX_SHIFT 32

static void shift_runtime(struct ft_layout *l, int64_t d)
{
    uint64_t *f[] = {&l->off.runtime_interpreters_head, &l->off.runtime_interpreters_main,
                     &l->off.runtime_tstate_current, &l->off.runtime_main_interpreter,
                     &l->off.runtime_gc_collecting};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (*f[i] != FT_ABSENT)
            *f[i] = (uint64_t)((int64_t)*f[i] + d);
}

/* The main interpreter at base + main points back at a runtime (its
 * `runtime` field, returned in *runtime) and its first thread state back at
 * it. */
static int pointers_agree(struct ft_proc *host, const struct window *w, const struct ft_layout *l,
                          uint64_t base, uint64_t main, uint64_t near, uint32_t *runtime)
{
    const struct ft_offsets *o = &l->off;
    int ok = 1;
    *runtime = win_u32(host, w, base + main + o->interp_runtime, &ok);
    if (!ok || !*runtime || *runtime >= main || *runtime + MAX_SHIFT < near || *runtime > near + MAX_SHIFT)
        return 0;
    uint32_t tstate = win_u32(host, w, base + main + o->interp_threads_head, &ok);
    if (!ok || !tstate || win_u32(host, w, base + tstate + o->tstate_interp, &ok) != (uint32_t)main)
        return 0;
    return ok;
}

/* Runtime at host address h, as the generated row places its fields: the
 * offset of _main_interpreter, within K_WINDOW of the generated one and
 * such that the base falls on a page, that makes the pointers agree. The
 * runtime the interpreter names must be h's linear address, or (found by
 * shape, before 3.13) at most MAX_SHIFT bytes from it: the row's runtime
 * fields are then moved by the difference (shift_runtime). */
static int place_runtime(struct ft_proc *host, const struct window *win, const struct ft_layout *l,
                         uint64_t h, uint32_t main, int cookie, struct ft_wasm_runtime *out)
{
    uint64_t k0 = l->off.runtime_main_interpreter;
    if (k0 == FT_ABSENT || k0 < K_WINDOW)
        return 0;
    uint64_t lo = k0 - K_WINDOW;
    uint64_t k = lo + (((uint64_t)main - h - lo) & (BASE_ALIGN - 1));
    for (; k <= k0 + K_WINDOW; k += BASE_ALIGN) {
        if (k > main)
            break;
        uint64_t at = main - k, base = h - at; /* at: h's linear address */
        uint32_t runtime;
        /* the memory begins in the candidate scanned, not before it */
        if (at == 0 || base > h || base < win->lo || !pointers_agree(host, win, l, base, main, at, &runtime))
            continue;
        int64_t d = (int64_t)at - (int64_t)runtime;
        if (cookie ? d != 0 : (d < -MAX_SHIFT || d > MAX_SHIFT || d % 4))
            continue;
        out->base = base;
        out->linear = runtime;
        out->main_interp = main;
        out->runtime_shift = (int)d;
        out->layout = *l;
        shift_runtime(&out->layout, d);
        return 1;
    }
    return 0;
}

/* sys.hexversion of the interpreter at main, read through sys.modules. */
static int read_hexversion(struct ft_proc *space, const struct ft_layout *l, uint64_t main,
                           uint64_t *hex)
{
    struct ft_reader r;
    memset(&r, 0, sizeof r);
    r.proc = space;
    r.layout = l;
    uint64_t sys, dict, v;
    if (ft_find_module(&r, main, "sys", &sys) != 0 || ft_module_dict(&r, sys, &dict) != 0 ||
        ft_dict_lookup_str(&r, dict, "hexversion", &v) != 0 || ft_obj_u64(&r, v, hex) < 0) {
        ft_error_clear();
        return -1;
    }
    return 0;
}

/* The version the target states, and its final layout: the debug offsets
 * (3.13+) or sys.hexversion. 0: usable; -1: refused (scan->refused says
 * why) or not a runtime after all. */
static int settle_version(struct ft_proc *host, struct ft_wasm_runtime *w, struct ft_wasm_scan *scan)
{
    struct ft_proc space;
    space_view(host, w->base, &space);
    int minor = w->layout.minor, rc;
    if (w->cookie) {
        rc = ft_layout_from_debug_offsets_abi(&space, w->linear, WASM_PTR, &w->layout);
    } else {
        /* sys.hexversion, which must name the minor version whose layout
         * the runtime's pointers agreed with: a shape alone is not enough
         * (a runtime still starting, before sys exists, is not shown) */
        uint64_t hex = 0;
        if (read_hexversion(&space, &w->layout, w->main_interp, &hex) < 0 ||
            (int)((hex >> 16) & 0xFF) != minor || (hex >> 24) != 3)
            return -1;
        rc = ft_layout_for_abi(3, minor, hex, WASM_PTR, &w->layout);
    }
    if (rc < 0 && ft_error_kind() == FT_E_VERSION)
        snprintf(scan->refused, sizeof scan->refused, "%s", ft_error_message());
    ft_error_clear();
    if (rc == 0 && w->layout.minor != minor)
        return -1;
    if (rc == 0)
        shift_runtime(&w->layout, w->runtime_shift);
    return rc;
}

static int known(const struct ft_wasm_runtime *v, size_t n, uint64_t base, uint64_t linear)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].base == base && v[i].linear == linear)
            return 1;
    return 0;
}

/* Hits in one chunk (host address at, len bytes) for every row. */
/* Hits in b[0..scan) of the window (its fields may lie up to win->len). */
static void scan_chunk(struct ft_proc *host, const struct try_row *rows, size_t nrows,
                       const struct window *win, size_t scan_len,
                       struct ft_wasm_runtime *out, size_t max, size_t *n, struct ft_wasm_scan *scan)
{
    const unsigned char *b = win->b;
    size_t len = win->len;
    uint64_t at = win->at;
    for (size_t i = 0; i + 8 <= scan_len && *n < max; i += 8) {
        int cookie = memcmp(b + i, COOKIE, 8) == 0;
        for (size_t r = 0; r < nrows && *n < max; r++) {
            const struct ft_offsets *o = &rows[r].l.off;
            if (rows[r].cookie != cookie)
                continue;
            uint32_t head = u32_at(b, len, i + o->runtime_interpreters_head);
            uint32_t main = u32_at(b, len, i + o->runtime_interpreters_main);
            /* before 3.13 only the shape: the one interpreter is head and main */
            if (!main || !head || (!cookie && head != main) || main - (at + i - win->lo) > 2 * K_WINDOW + o->runtime_main_interpreter)
                continue;
            struct ft_wasm_runtime w;
            memset(&w, 0, sizeof w);
            w.cookie = cookie;
            if (!place_runtime(host, win, &rows[r].l, at + i, main, cookie, &w) || known(out, *n, w.base, w.linear))
                continue;
            if (settle_version(host, &w, scan) == 0)
                out[(*n)++] = w;
        }
    }
}

static size_t wasm_rows(struct try_row *rows, size_t max)
{
    int oldest, newest;
    size_t n = 0;
    ft_layout_supported_abi(WASM_PTR, &oldest, &newest);
    for (int minor = oldest; minor && minor <= newest && n < max; minor++) {
        if (ft_layout_for_abi(3, minor, 0, WASM_PTR, &rows[n].l) < 0) {
            ft_error_clear();
            continue;
        }
        rows[n].cookie = rows[n].l.minor >= 13;
        n++;
    }
    return n;
}

static int scan_candidate(struct ft_proc *host, const struct ft_wasm_candidate *c,
                          const struct try_row *rows, size_t nrows, unsigned char *buf,
                          struct ft_wasm_runtime *out, size_t max, size_t *n, struct ft_wasm_scan *scan)
{
    uint64_t end = c->end - c->start > FT_WASM_SCAN_PREFIX ? c->start + FT_WASM_SCAN_PREFIX : c->end;
    /* a linear memory begins with its null page: C code never writes at
     * address 0 (Emscripten and wasm-ld place data from 1024 on); V8's own
     * heap pages, the usual other rw runs beside big reservations, begin
     * with a header. A memory image maps data pages, not address 0. */
    unsigned char null_page[NULL_BYTES];
    if (!c->image) {
        if (ft_proc_read(host, c->start, null_page, sizeof null_page) < 0) {
            if (ft_error_kind() != FT_E_CORRUPT)
                return -1;
            ft_error_clear();
            return 0;
        }
        for (size_t i = 0; i < sizeof null_page; i++)
            if (null_page[i]) {
                scan->not_null++;
                return 0;
            }
    }
    scan->scanned_memories++;
    for (uint64_t at = c->start; at < end && *n < max; at += CHUNK) {
        if (scan->scanned_bytes >= FT_WASM_SCAN_BUDGET) {
            scan->budget_spent = 1;
            return 0;
        }
        size_t len = end - at < CHUNK + OVERLAP ? (size_t)(end - at) : CHUNK + OVERLAP;
        if (ft_proc_read(host, at, buf, len) < 0) {
            if (ft_error_kind() != FT_E_CORRUPT)
                return -1;
            ft_error_clear();
            continue;
        }
        scan->scanned_bytes += len < CHUNK ? len : CHUNK;
        struct window win = {at, c->start, buf, len};
        scan_chunk(host, rows, nrows, &win, len < CHUNK ? len : CHUNK, out, max, n, scan);
    }
    return 0;
}

int ft_wasm_find_in(struct ft_proc *host, struct ft_wasm_runtime *out, size_t max,
                    struct ft_wasm_scan *scan)
{
    memset(scan, 0, sizeof *scan);
    struct try_row rows[16];
    size_t nrows = wasm_rows(rows, 16), n = 0;
    struct ft_wasm_candidate *cand = malloc(FT_WASM_MAX_CANDIDATES * sizeof *cand);
    unsigned char *buf = NULL;
    int rc = 0;
    if (cand) {
        /* a chunk, or the largest candidate when all are smaller */
        uint64_t need = 0;
        scan->candidates = ft_wasm_candidates(&host->maps, cand, FT_WASM_MAX_CANDIDATES);
        for (size_t i = 0; i < scan->candidates; i++)
            if (cand[i].end - cand[i].start > need)
                need = cand[i].end - cand[i].start;
        buf = malloc(need < CHUNK + OVERLAP ? (size_t)need + 1 : CHUNK + OVERLAP);
    }
    if (!cand || !buf) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        rc = -1;
    } else {
        for (size_t i = 0; i < scan->candidates && n < max && rc == 0 && !scan->budget_spent; i++)
            rc = scan_candidate(host, &cand[i], rows, nrows, buf, out, max, &n, scan);
    }
    free(cand);
    free(buf);
    return rc < 0 ? -1 : (int)n;
}

int ft_wasm_find(pid_t pid, struct ft_wasm_runtime *out, size_t max, struct ft_wasm_scan *scan)
{
    memset(scan, 0, sizeof *scan);
    struct ft_proc host;
    if (ft_proc_open(&host, pid) < 0) {
        ft_proc_close(&host);
        return -1;
    }
    int n = ft_wasm_find_in(&host, out, max, scan);
    ft_proc_close(&host);
    return n;
}

int ft_wasm_still_there(struct ft_proc *p, const struct ft_wasm_runtime *r)
{
    if (r->cookie) {
        unsigned char head[16];
        uint64_t hex;
        if (ft_proc_read(p, r->linear, head, sizeof head) < 0)
            return 0;
        memcpy(&hex, head + 8, 8);
        return memcmp(head, COOKIE, 8) == 0 && hex == r->layout.hexversion;
    }
    uint64_t main;
    return ft_read_word(p, &r->layout, r->linear + r->layout.off.runtime_interpreters_main, &main) == 0 &&
           main == r->main_interp;
}
