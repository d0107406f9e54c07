/*
 * binary.c - locating CPython among the target's mappings (see binary.h).
 * Opens files through /proc/PID/root so that a target in another mount
 * namespace (container) is read from its own filesystem.
 */
#include "binary.h"

#include "../target/corefile.h"
#include "../util/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ft_parse_python_name(const char *base, int *major, int *minor)
{
    const char *s = strncmp(base, "lib", 3) == 0 ? base + 3 : base;
    if (strncmp(s, "python", 6) != 0)
        return 0;
    s += 6;
    if (!isdigit((unsigned char)s[0]) || s[1] != '.' || !isdigit((unsigned char)s[2]))
        return 0;
    char *end;
    long mi = strtol(s + 2, &end, 10);
    if (mi < 0 || mi > 99)
        return 0;
    *major = s[0] - '0';
    *minor = (int)mi;
    return 1;
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static int already_listed(const struct ft_pybinary *out, size_t n, const char *path)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i].path, path) == 0)
            return 1;
    return 0;
}

/* Bias from the mapping with the lowest file offset of this file. */
static int compute_bias(const struct ft_proc *p, struct ft_pybinary *b, const char *path)
{
    for (size_t i = 0; i < p->maps.n; i++) {
        const struct ft_map *m = &p->maps.v[i];
        if (!m->path || strcmp(m->path, path) != 0)
            continue;
        uint64_t vaddr;
        if (ft_elf_vaddr_of_offset(b->elf, m->offset, &vaddr) < 0)
            return -1;
        b->bias = m->start - vaddr;
        return 0;
    }
    return -1;
}

/* The first mapping of path (for its inode and its map_files entry). */
static const struct ft_map *first_map(const struct ft_proc *p, const char *path)
{
    for (size_t i = 0; i < p->maps.n; i++)
        if (p->maps.v[i].path && strcmp(p->maps.v[i].path, path) == 0)
            return &p->maps.v[i];
    return NULL;
}

/* Opens the file a mapping came from. The path as the process sees it
 * (through its root: containers) or as we do may name another file by
 * now (a package upgrade replaces it) or none (deleted): only a file with
 * the mapping's inode is taken; failing that, the mapping itself through
 * /proc/PID/map_files (root or CAP_CHECKPOINT_RESTORE), or /proc/PID/exe
 * for the executable. */
static struct ft_elf *open_mapped(const struct ft_proc *p, const struct ft_map *m, int is_exe)
{
    if (p->core) {
        const char *local = ft_core_local_path(p->core, m->path);
        if (local)
            return ft_elf_open(local);
        ft_fail(FT_E_NOTPY, "%s, mapped in the core's process, is not on this machine with the "
                "build-id it had: give --executable or --lib-search-root", m->path);
        return NULL;
    }
    char tries[4][PATH_MAX + 64];
    int n = 0;
    snprintf(tries[n++], sizeof tries[0], "/proc/%d/root%s", (int)p->pid, m->path);
    snprintf(tries[n++], sizeof tries[0], "%s", m->path);
    snprintf(tries[n++], sizeof tries[0], "/proc/%d/map_files/%llx-%llx", (int)p->pid,
             (unsigned long long)m->start, (unsigned long long)m->end);
    if (is_exe)
        snprintf(tries[n++], sizeof tries[0], "/proc/%d/exe", (int)p->pid);
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(tries[i], &st) < 0 || (m->inode && (uint64_t)st.st_ino != m->inode))
            continue;
        struct ft_elf *e = ft_elf_open(tries[i]);
        if (e)
            return e;
        ft_error_clear();
    }
    ft_fail(FT_E_NOTPY, "cannot open %s%s as the process maps it (deleted or replaced: run "
            "frametap as root to read it through /proc/%d/map_files)", m->path,
            m->deleted ? " (deleted)" : "", (int)p->pid);
    return NULL;
}

static int open_candidate(const struct ft_proc *p, const char *path, const char *exe,
                          struct ft_pybinary *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->path, sizeof b->path, "%s", path);
    const struct ft_map *m = first_map(p, path);
    b->elf = m ? open_mapped(p, m, strcmp(path, exe) == 0) : NULL;
    if (!b->elf || compute_bias(p, b, path) < 0) {
        ft_error_clear();
        ft_pybinary_close(b);
        return -1;
    }
    ft_parse_python_name(basename_of(path), &b->major, &b->minor);
    if (ft_elf_build_id(b->elf, b->build_id, sizeof b->build_id) < 0)
        b->build_id[0] = '\0';
    uint64_t pyv = ft_elf_symbol(b->elf, "Py_Version", NULL);
    uint32_t hex = 0;
    if (pyv && ft_elf_read(b->elf, pyv, &hex, sizeof hex) == 0)
        b->hexversion = hex;
    return 0;
}

/* An executable not named python* counts only if CPython is linked into it. */
static int embeds_runtime(struct ft_pybinary *b)
{
    return ft_elf_symbol(b->elf, "_PyRuntime", NULL) || ft_elf_section(b->elf, ".PyRuntime", NULL);
}

static int is_candidate(const char *path, int pass, const char *exe)
{
    const char *base = basename_of(path);
    switch (pass) {
    case 0: return strncmp(base, "libpython", 9) == 0;
    case 1: return strncmp(base, "python", 6) == 0;
    default: return strcmp(path, exe) == 0;
    }
}

/* The executable's path as the maps name it ("" if unknown). */
static void exe_path(const struct ft_proc *p, char *exe, size_t size)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)p->pid);
    ssize_t len = p->core ? -1 : readlink(link, exe, size - 1);
    exe[len > 0 ? len : 0] = '\0';
    if (p->core && p->core->exe)
        snprintf(exe, size, "%s", p->core->exe->path);
    size_t k = strlen(exe), d = strlen(" (deleted)");
    if (k > d && strcmp(exe + k - d, " (deleted)") == 0)
        exe[k - d] = '\0';
}

size_t ft_find_pybinaries(const struct ft_proc *p, struct ft_pybinary *out, size_t max)
{
    char exe[PATH_MAX];
    exe_path(p, exe, sizeof exe);
    size_t n = 0;
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < p->maps.n && n < max; i++) {
            const char *path = p->maps.v[i].path;
            if (!path || !is_candidate(path, pass, exe) || already_listed(out, n, path))
                continue;
            if (open_candidate(p, path, exe, &out[n]) < 0)
                continue;
            if (pass == 2 && !embeds_runtime(&out[n]))
                ft_pybinary_close(&out[n]);
            else
                n++;
        }
    }
    return n;
}

void ft_pybinary_close(struct ft_pybinary *b)
{
    ft_elf_close(b->elf);
    b->elf = NULL;
}

int ft_find_mapped_section(const struct ft_proc *p, const char *section, const char *module_prefix,
                           uint64_t *addr, uint64_t *size, char *path, size_t pathsize)
{
    char exe[PATH_MAX];
    exe_path(p, exe, sizeof exe);
    for (size_t i = 0; i < p->maps.n; i++) {
        const char *file = p->maps.v[i].path;
        if (!file || (first_map(p, file) != &p->maps.v[i]))
            continue; /* each file once */
        const char *base = basename_of(file);
        if (strcmp(file, exe) && strncmp(base, "libpython", 9) && strncmp(base, "python", 6) &&
            strncmp(base, module_prefix, strlen(module_prefix)))
            continue;
        struct ft_pybinary b;
        if (open_candidate(p, file, exe, &b) < 0)
            continue;
        uint64_t link = ft_elf_section(b.elf, section, size), bias = b.bias;
        ft_pybinary_close(&b);
        if (link) {
            *addr = link + bias;
            snprintf(path, pathsize, "%s", file);
            return 0;
        }
    }
    return 1;
}
