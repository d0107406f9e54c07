/*
 * symbolize.c - pc -> module, symbol, file:line through libdwfl, cached
 * (see symbolize.h). Strings are copied into the cache's own storage, so
 * an answer outlives nothing it points into.
 */
#include "symbolize.h"

#include "unwind.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BITS 14
#define CACHE_SLOTS (1u << CACHE_BITS)

struct entry {
    uint64_t pc;                 /* adjusted pc + 1 (0: empty slot) */
    struct ft_native_sym sym;
};

struct ft_symbolizer {
    struct ft_unwinder *u;
    struct entry *slots;
    size_t used;
    char **strings;              /* every string handed out */
    size_t nstrings, cap;
};

struct ft_symbolizer *ft_symbolizer_new(struct ft_unwinder *u)
{
    struct ft_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->u = u;
    s->slots = calloc(CACHE_SLOTS, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return NULL;
    }
    return s;
}

static void drop_strings(struct ft_symbolizer *s)
{
    for (size_t i = 0; i < s->nstrings; i++)
        free(s->strings[i]);
    s->nstrings = 0;
}

int ft_symbolizer_full(const struct ft_symbolizer *s)
{
    return s->used >= CACHE_SLOTS / 2;
}

void ft_symbolizer_reset(struct ft_symbolizer *s)
{
    memset(s->slots, 0, CACHE_SLOTS * sizeof *s->slots);
    s->used = 0;
    drop_strings(s);
}

void ft_symbolizer_free(struct ft_symbolizer *s)
{
    if (!s)
        return;
    drop_strings(s);
    free(s->strings);
    free(s->slots);
    free(s);
}

static const char *keep(struct ft_symbolizer *s, const char *str)
{
    if (!str)
        return NULL;
    if (s->nstrings == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        char **v = realloc(s->strings, cap * sizeof *v);
        if (!v)
            return NULL;
        s->strings = v;
        s->cap = cap;
    }
    char *copy = strdup(str);
    if (copy)
        s->strings[s->nstrings++] = copy;
    return copy;
}

/* The line in the function itself for a pc inside inlined code: the call
 * site of the outermost inlined subroutine around pc. */
static int own_line(Dwfl_Module *mod, Dwarf_Addr pc, const char **file, int *line)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = dwfl_module_addrdie(mod, pc, &bias);
    Dwarf_Die *scopes = NULL;
    if (!cu)
        return -1;
    int n = dwarf_getscopes(cu, pc - bias, &scopes);
    int found = -1;
    for (int i = 0; i < n; i++) {
        if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
            break;
        if (dwarf_tag(&scopes[i]) == DW_TAG_inlined_subroutine)
            found = i;
    }
    int rc = -1;
    Dwarf_Files *files;
    size_t nfiles;
    Dwarf_Attribute a;
    Dwarf_Word fileno, lineno;
    if (found >= 0 && dwarf_formudata(dwarf_attr(&scopes[found], DW_AT_call_file, &a), &fileno) == 0 &&
        dwarf_formudata(dwarf_attr(&scopes[found], DW_AT_call_line, &a), &lineno) == 0 &&
        dwarf_getsrcfiles(cu, &files, &nfiles) == 0 && fileno < nfiles) {
        const char *f = dwarf_filesrc(files, fileno, NULL, NULL);
        if (f) {
            *file = f;
            *line = (int)lineno;
            rc = 0;
        }
    }
    free(scopes);
    return rc;
}

static void lookup(struct ft_symbolizer *s, uint64_t pc, struct ft_native_sym *out)
{
    Dwfl *dwfl = ft_unwinder_dwfl(s->u);
    memset(out, 0, sizeof *out);
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, pc);
    if (!mod)
        return;
    out->module = keep(s, ft_unwinder_module_path(s->u, mod));
    Dwarf_Addr rel = pc;
    if (dwfl_module_relocate_address(mod, &rel) >= 0)
        out->module_addr = rel;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *name = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
    if (name && (sym.st_size == 0 || off < sym.st_size)) {
        out->name = keep(s, name);
        out->offset = off;
    }
    const char *file = NULL;
    int line = 0;
    if (own_line(mod, pc, &file, &line) < 0) {
        Dwfl_Line *l = dwfl_module_getsrc(mod, pc);
        file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    }
    if (file && line > 0) {
        out->file = keep(s, file);
        out->line = line;
    }
}

int ft_symbolize(struct ft_symbolizer *s, uint64_t pc, int activation, struct ft_native_sym *out)
{
    uint64_t adj = activation || pc == 0 ? pc : pc - 1; /* inside the call, not after it */
    uint64_t key = adj + 1;
    size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> (64 - CACHE_BITS));
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++) {
        struct entry *e = &s->slots[(h + probe) & (CACHE_SLOTS - 1)];
        if (e->pc == key) {
            *out = e->sym;
            return 0;
        }
        if (e->pc == 0)
            break;
    }
    lookup(s, adj, out);
    if (ft_symbolizer_full(s)) /* answers are still right, just not kept */
        return 0;
    for (size_t probe = 0; probe < CACHE_SLOTS; probe++) {
        struct entry *e = &s->slots[(h + probe) & (CACHE_SLOTS - 1)];
        if (e->pc == 0) {
            e->pc = key;
            e->sym = *out;
            s->used++;
            break;
        }
    }
    return 0;
}
