/*
 * discover.c - _PyRuntime discovery (see discover.h).
 *
 * The scan reads only the interpreter binary's own writable mappings (and
 * the anonymous .bss tail right after them), bounded in size, and never
 * accepts a candidate on one signal alone.
 */
#include "discover.h"

#include "../target/corefile.h"
#include "../util/error.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BINARIES 8
#define SCAN_CHUNK (1u << 20)
#define SCAN_LIMIT (256ull << 20)

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int in_writable_map(const struct ft_proc *p, uint64_t addr)
{
    const struct ft_map *m = ft_proc_map_at(p, addr);
    return m && m->perms[0] == 'r' && m->perms[1] == 'w' && (addr & 7) == 0;
}

/* Layout from the binary's name or Py_Version, for runtimes without
 * _Py_DebugOffsets (3.8-3.12) and for the scan. */
static int layout_from_binary(const struct ft_pybinary *b, struct ft_layout *out)
{
    int major = b->major, minor = b->minor;
    if (b->hexversion) {
        major = (int)(b->hexversion >> 24) & 0xFF;
        minor = (int)(b->hexversion >> 16) & 0xFF;
    }
    if (!major) {
        ft_fail(FT_E_VERSION, "cannot tell the CPython version of %s: its name has no "
                "version and it exports no Py_Version; nothing was guessed", b->path);
        return -1;
    }
    return ft_layout_for_version(major, minor, b->hexversion, out);
}

static int resolve_layout(struct ft_proc *p, const struct ft_pybinary *b, uint64_t addr,
                          struct ft_layout *out)
{
    char cookie[8];
    if (ft_proc_read(p, addr, cookie, sizeof cookie) < 0)
        return -1;
    if (memcmp(cookie, "xdebugpy", 8) == 0)
        return ft_layout_from_debug_offsets(p, addr, out);
    if (layout_from_binary(b, out) < 0)
        return -1;
    if (out->minor >= 13) {
        ft_fail(FT_E_CORRUPT, "%s looks like CPython 3.%d but its _PyRuntime at 0x%llx has "
                "no _Py_DebugOffsets; refusing to guess", b->path, out->minor,
                (unsigned long long)addr);
        return -1;
    }
    return 0;
}

/* A candidate is a runtime if its first interpreter's first thread state
 * points back at that interpreter, and (3.9+) the interpreter points back at
 * the candidate. */
static int validate_runtime(struct ft_proc *p, const struct ft_layout *l, uint64_t addr)
{
    uint64_t interp, tstate, back;
    if (ft_read_u64(p, addr + l->off.runtime_interpreters_head, &interp) < 0 || !interp)
        return 0;
    if (ft_read_u64(p, interp + l->off.interp_threads_head, &tstate) < 0 || !tstate)
        return 0;
    if (ft_read_u64(p, tstate + l->off.tstate_interp, &back) < 0 || back != interp)
        return 0;
    if (l->off.interp_runtime == FT_ABSENT)
        return 1;
    return ft_read_u64(p, interp + l->off.interp_runtime, &back) == 0 && back == addr;
}

static int scan_region(struct ft_proc *p, const struct ft_layout *l, uint64_t start,
                       uint64_t end, int want_cookie, uint64_t *found)
{
    unsigned char *buf = malloc(SCAN_CHUNK);
    if (!buf)
        return 0;
    uint64_t head = l->off.runtime_interpreters_head, mainp = l->off.runtime_interpreters_main;
    int hit = 0;
    for (uint64_t at = start; at < end && !hit; at += SCAN_CHUNK) {
        size_t len = end - at < SCAN_CHUNK ? (size_t)(end - at) : SCAN_CHUNK;
        if (ft_proc_read(p, at, buf, len) < 0) {
            ft_error_clear();
            continue;
        }
        for (size_t i = 0; i + 8 <= len && !hit; i += 8) {
            if (want_cookie) {
                hit = memcmp(buf + i, "xdebugpy", 8) == 0;
            } else if (i + mainp + 8 <= len) {
                uint64_t h = ft_u64_in(buf, len, i + head), m = ft_u64_in(buf, len, i + mainp);
                hit = h && h == m && in_writable_map(p, h) && validate_runtime(p, l, at + i);
                ft_error_clear();
            }
            if (hit)
                *found = at + i;
        }
    }
    free(buf);
    return hit;
}

static int scan_binary(struct ft_proc *p, const struct ft_pybinary *b, uint64_t *found)
{
    struct ft_layout l;
    int want_cookie = 0;
    if (layout_from_binary(b, &l) < 0) {
        ft_error_clear(); /* the scan is a last resort: no version, no scan */
        return 0;
    }
    want_cookie = l.minor >= 13;
    uint64_t scanned = 0;
    int prev_is_binary = 0;
    for (size_t i = 0; i < p->maps.n && scanned < SCAN_LIMIT; i++) {
        const struct ft_map *m = &p->maps.v[i];
        int is_binary = m->path && strcmp(m->path, b->path) == 0;
        int bss_tail = !m->path && prev_is_binary;
        prev_is_binary = is_binary;
        if (!(is_binary || bss_tail) || m->perms[0] != 'r' || m->perms[1] != 'w')
            continue;
        scanned += m->end - m->start;
        if (scan_region(p, &l, m->start, m->end, want_cookie, found))
            return 1;
    }
    return 0;
}

static int locate(struct ft_proc *p, const struct ft_pybinary *b, enum ft_discovery how,
                  uint64_t *addr)
{
    uint64_t link = 0;
    switch (how) {
    case FT_DISC_SYMBOL: link = ft_elf_symbol(b->elf, "_PyRuntime", NULL); break;
    case FT_DISC_SECTION: link = ft_elf_section(b->elf, ".PyRuntime", NULL); break;
    case FT_DISC_SCAN: return scan_binary(p, b, addr);
    case FT_DISC_AUTO: break;
    }
    if (!link)
        return 0;
    *addr = link + b->bias;
    return 1;
}

static const char *method_name(enum ft_discovery how)
{
    static const char *names[] = {[FT_DISC_SYMBOL] = "symbol", [FT_DISC_SECTION] = "section",
                                  [FT_DISC_SCAN] = "scan"};
    return names[how];
}

/* Version problems are reported before "not found": a python2.7 process has
 * no _PyRuntime, but "too old" is the useful answer. */
static int check_named_versions(const struct ft_pybinary *bins, size_t n)
{
    struct ft_layout l;
    for (size_t i = 0; i < n; i++)
        if (bins[i].major && layout_from_binary(&bins[i], &l) < 0)
            return -1;
    return 0;
}

void ft_find_pthread_tid_offset(const struct ft_proc *p, struct ft_runtime *rt)
{
    rt->pthread_tid_offset = FT_ABSENT;
    for (size_t i = 0; i < p->maps.n; i++) {
        const char *path = p->maps.v[i].path;
        if (!path)
            continue;
        const char *base = basename_of(path);
        if (strncmp(base, "libc.so", 7) != 0 && strncmp(base, "libc-", 5) != 0)
            continue;
        char rooted[PATH_MAX + 32];
        snprintf(rooted, sizeof rooted, "/proc/%d/root%s", (int)p->pid, path);
        if (p->core) {
            const char *local = ft_core_local_path(p->core, path);
            if (!local)
                return;
            snprintf(rooted, sizeof rooted, "%s", local);
        }
        struct ft_elf *e = ft_elf_open(rooted);
        ft_error_clear();
        if (!e)
            return;
        uint32_t desc[3]; /* thread_db descriptor: bit size, count, offset */
        uint64_t at = ft_elf_symbol(e, "_thread_db_pthread_tid", NULL);
        if (at && ft_elf_read(e, at, desc, sizeof desc) == 0 && desc[0] == 32 && desc[2] < 4096)
            rt->pthread_tid_offset = desc[2];
        ft_elf_close(e);
        return;
    }
}

/* A core whose python or libpython file was not found here (or differs
 * from what the process had): that file's path, else NULL. */
static const char *core_interpreter_missing(const struct ft_proc *p)
{
    for (size_t i = 0; i < p->maps.n; i++) {
        const char *path = p->maps.v[i].path;
        int major, minor;
        const char *base = path ? basename_of(path) : NULL;
        if (base && (ft_parse_python_name(base, &major, &minor) ||
                     (p->core->exe && strcmp(path, p->core->exe->path) == 0)) &&
            !ft_core_local_path(p->core, path))
            return path;
    }
    return NULL;
}

static int try_method(struct ft_proc *p, struct ft_pybinary *bins, size_t n,
                      enum ft_discovery how, struct ft_runtime *rt)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t addr;
        if (!locate(p, &bins[i], how, &addr))
            continue;
        if (resolve_layout(p, &bins[i], addr, &rt->layout) < 0)
            return -1;
        rt->addr = addr;
        rt->found_by = method_name(how);
        snprintf(rt->binary, sizeof rt->binary, "%s", bins[i].path);
        snprintf(rt->build_id, sizeof rt->build_id, "%s", bins[i].build_id);
        return 1;
    }
    return 0;
}

static pid_t last_without_binary;

pid_t ft_discover_found_no_binary(void)
{
    return last_without_binary;
}

int ft_discover(struct ft_proc *p, enum ft_discovery method, struct ft_runtime *rt)
{
    last_without_binary = 0;
    memset(rt, 0, sizeof *rt);
    struct ft_pybinary bins[MAX_BINARIES];
    size_t n = ft_find_pybinaries(p, bins, MAX_BINARIES);
    int rc = 0;
    char who[PATH_MAX + 128];
    ft_proc_describe(p, who, sizeof who);
    if (n == 0) {
        const char *missing = p->core ? core_interpreter_missing(p) : NULL;
        if (missing)
            ft_fail(FT_E_NOTPY, "%s mapped %s, which is not on this machine with the build-id it "
                    "had, so its interpreter cannot be read: give the right file with "
                    "--executable or --lib-search-root", who, missing);
        else
            ft_fail(FT_E_NOTPY, "%s is not a Python process: no python or libpython binary is "
                    "mapped in it", who);
        if (!p->core)
            last_without_binary = p->pid;
        return -1;
    }
    if (check_named_versions(bins, n) == 0) {
        static const enum ft_discovery order[] = {FT_DISC_SYMBOL, FT_DISC_SECTION, FT_DISC_SCAN};
        for (size_t k = 0; k < 3 && rc == 0; k++)
            if (method == FT_DISC_AUTO || method == order[k])
                rc = try_method(p, bins, n, order[k], rt);
        if (rc == 0)
            ft_fail(FT_E_NOTPY, "%s maps %s but frametap found no _PyRuntime in it "
                    "(no symbol, no .PyRuntime section, no valid candidate in its data): "
                    "is it CPython, and has it finished starting?", who, bins[0].path);
    } else {
        rc = -1;
    }
    for (size_t i = 0; i < n; i++)
        ft_pybinary_close(&bins[i]);
    if (rc <= 0)
        return -1;
    ft_find_pthread_tid_offset(p, rt);
    rt->os_threads = 1;
    return 0;
}
