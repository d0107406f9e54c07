/*
 * binary.h - which mapped file of the target is CPython, and what it says
 * about itself on disk: version (from its name and the Py_Version symbol),
 * load bias, and the symbols and sections used to find _PyRuntime.
 */
#ifndef FT_BINARY_H
#define FT_BINARY_H

#include "../elf/elf_file.h"
#include "../target/process.h"

#include <limits.h>

struct ft_pybinary {
    char path[PATH_MAX];
    struct ft_elf *elf;
    uint64_t bias;       /* runtime address = link-time address + bias */
    int major, minor;    /* from the file name; 0 if it has none      */
    uint64_t hexversion; /* from Py_Version (3.11+), else 0           */
    char build_id[80];   /* GNU build-id in hex, "" if none             */
};

/* Finds the mapped interpreter binaries: libpython first, then python
 * executables, then the main executable whatever its name (embedders). Returns how many were found (<= max), 0 if none. */
size_t ft_find_pybinaries(const struct ft_proc *p, struct ft_pybinary *out, size_t max);
void ft_pybinary_close(struct ft_pybinary *b);

/* Section `section` of the first mapped file of the interpreter that has
 * it (the executable, libpython*, python*, or an extension module whose
 * name starts with module_prefix): its runtime address, size and the file.
 * 0 found, 1 in none of them. */
int ft_find_mapped_section(const struct ft_proc *p, const char *section, const char *module_prefix,
                           uint64_t *addr, uint64_t *size, char *path, size_t pathsize);

/* Parses "python3.12", "libpython3.8.so.1.0", "python3.14t" from a basename.
 * Returns 1 with major/minor set, else 0. */
int ft_parse_python_name(const char *basename, int *major, int *minor);

#endif
