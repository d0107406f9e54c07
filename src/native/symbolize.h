/*
 * symbolize.h - names for native program counters: module, symbol (from
 * .symtab, else .dynsym, or a separate debug file libdwfl finds by
 * build-id or .gnu_debuglink), and file:line where DWARF line tables
 * exist. A pc inside code that is inlined into its function is given the
 * function's own line (the call site of the outermost inlined call).
 *
 * Results are cached per pc for the life of the symbolizer (reset after
 * the unwinder re-reports its modules). Never guesses: a pc beyond the
 * end of the nearest symbol has no name (stripped builds: static
 * functions and .cold parts), rather than that of an unrelated one.
 */
#ifndef FT_SYMBOLIZE_H
#define FT_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

struct ft_unwinder;

struct ft_native_sym {
    const char *name;        /* symbol, NULL when unknown */
    uint64_t offset;         /* pc - symbol start */
    const char *module;      /* path of the file mapped there, NULL: in no module */
    uint64_t module_addr;    /* the pc as an address of that file (for addr2line) */
    const char *file;        /* source file, NULL without line information */
    int line;                /* 0 when unknown */
};

struct ft_symbolizer;

struct ft_symbolizer *ft_symbolizer_new(struct ft_unwinder *u);
void ft_symbolizer_free(struct ft_symbolizer *s);
/* Whether the cache is full (answers are then no longer kept). */
int ft_symbolizer_full(const struct ft_symbolizer *s);
/* Forgets every cached answer (the modules changed). */
void ft_symbolizer_reset(struct ft_symbolizer *s);

/* Symbolizes pc (a return address unless activation: then it is exact).
 * Strings stay valid until reset or free. Returns 0; -1 on out of memory. */
int ft_symbolize(struct ft_symbolizer *s, uint64_t pc, int activation, struct ft_native_sym *out);

#endif
