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
    uint64_t pyv = ft_elf_symbol(b->elf, "Py_Version", NULL);
    uint32_t hex = 0;
    if (pyv && ft_elf_read(b->elf, pyv, &hex, sizeof hex) == 0)
        b->hexversion = hex;
    return 0;
}

size_t ft_find_pybinaries(const struct ft_proc *p, struct ft_pybinary *out, size_t max)
{
    size_t n = 0;
    /* Pass 0: libpython (holds the runtime when the executable links it);
     * pass 1: python executables. */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < p->maps.n && n < max; i++) {
            const char *path = p->maps.v[i].path;
            if (!path)
                continue;
            const char *base = basename_of(path);
            int is_lib = strncmp(base, "libpython", 9) == 0;
            int is_exe = strncmp(base, "python", 6) == 0;
            if ((pass == 0 && !is_lib) || (pass == 1 && !is_exe))
                continue;
            if (already_listed(out, n, path))
                continue;
            if (open_candidate(p, path, &out[n]) == 0)
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
