/*
 * binary.c - locating CPython among the target's mappings (see binary.h).
 * Opens files through /proc/PID/root so that a target in another mount
 * namespace (container) is read from its own filesystem.
 */
#include "binary.h"

#include "../util/error.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static int open_candidate(const struct ft_proc *p, const char *path, struct ft_pybinary *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->path, sizeof b->path, "%s", path);
    char rooted[PATH_MAX + 32];
    snprintf(rooted, sizeof rooted, "/proc/%d/root%s", (int)p->pid, path);
    b->elf = ft_elf_open(rooted);
    if (!b->elf) {
        ft_error_clear();
        b->elf = ft_elf_open(path);
    }
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

size_t ft_find_pybinaries(const struct ft_proc *p, struct ft_pybinary *out, size_t max)
{
    char exe[PATH_MAX] = "", link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)p->pid);
    ssize_t len = readlink(link, exe, sizeof exe - 1);
    exe[len > 0 ? len : 0] = '\0';
    size_t n = 0;
    for (int pass = 0; pass < 3; pass++) {
        for (size_t i = 0; i < p->maps.n && n < max; i++) {
            const char *path = p->maps.v[i].path;
            if (!path || !is_candidate(path, pass, exe) || already_listed(out, n, path))
                continue;
            if (open_candidate(p, path, &out[n]) < 0)
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
