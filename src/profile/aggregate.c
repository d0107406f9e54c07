/*
 * aggregate.c - interning tables for profiles (see aggregate.h). Hash
 * tables are open-addressed arrays of indexes (0 = empty, else index+1) that
 * double when half full; arrays grow with ft_grow(), which aborts on
 * out-of-memory, since a profile that silently drops data would mislead.
 */
#include "aggregate.h"

#include "../util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    return h * 0xFF51AFD7ED558CCDull;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
    while (*s)
        h = mix(h, (unsigned char)*s++);
    return mix(h, 0);
}

static char *dup_or_die(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        abort();
    return d;
}

void ft_profile_init(struct ft_profile *p, int keep_timeline)
{
    memset(p, 0, sizeof *p);
    p->keep_timeline = keep_timeline;
}

void ft_profile_free(struct ft_profile *p)
{
    for (size_t i = 0; i < p->nfuncs; i++) {
        free(p->funcs[i].qualname);
        free(p->funcs[i].file);
    }
    free(p->funcs);
    free(p->locs);
    free(p->stacks);
    free(p->threads);
    free(p->counts);
    free(p->spans);
    free(p->func_index);
    free(p->stack_index);
    free(p->count_index);
    free(p->last_span_of_thread);
    free(p->scratch);
    memset(p, 0, sizeof *p);
}

/* Generic probe: returns the slot for key hash h where `same(i)` holds or an
 * empty slot. Tables are kept at most half full, so this ends. */
typedef int (*same_fn)(const struct ft_profile *p, uint32_t index, const void *key);

static uint32_t *probe(uint32_t *table, size_t cap, uint64_t h, const struct ft_profile *p,
                       same_fn same, const void *key)
{
    for (size_t i = (size_t)h & (cap - 1);; i = (i + 1) & (cap - 1))
        if (table[i] == 0 || same(p, table[i] - 1, key))
            return &table[i];
}

typedef uint64_t (*hash_fn)(const struct ft_profile *p, uint32_t index);

static void rehash(uint32_t **table, size_t *cap, size_t used, const struct ft_profile *p,
                   hash_fn hash)
{
    if (*cap && used * 2 < *cap)
        return;
    size_t ncap = *cap ? *cap * 2 : 1024;
    uint32_t *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        abort();
    for (size_t i = 0; i < *cap; i++) {
        uint32_t v = (*table)[i];
        if (!v)
            continue;
        size_t j = (size_t)hash(p, v - 1) & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = v;
    }
    free(*table);
    *table = nt;
    *cap = ncap;
}

/* --- functions --- */

struct func_key {
    const char *qualname, *file;
    int firstlineno;
};

static uint64_t func_hash_key(const struct func_key *k)
{
    return mix(hash_str(hash_str(1, k->qualname), k->file), (uint64_t)k->firstlineno);
}

static uint64_t func_hash(const struct ft_profile *p, uint32_t i)
{
    struct func_key k = {p->funcs[i].qualname, p->funcs[i].file, p->funcs[i].firstlineno};
    return func_hash_key(&k);
}

static int func_same(const struct ft_profile *p, uint32_t i, const void *key)
{
    const struct func_key *k = key;
    const struct ft_func *f = &p->funcs[i];
    return f->firstlineno == k->firstlineno && !strcmp(f->qualname, k->qualname) &&
           !strcmp(f->file, k->file);
}

uint32_t ft_profile_func(struct ft_profile *p, const char *qualname, const char *file, int firstlineno)
{
    struct func_key k = {qualname ? qualname : "", file ? file : "", firstlineno};
    rehash(&p->func_index, &p->func_index_cap, p->nfuncs + 1, p, func_hash);
    uint32_t *slot = probe(p->func_index, p->func_index_cap, func_hash_key(&k), p, func_same, &k);
    if (*slot)
        return *slot - 1;
    FT_GROW(p->funcs, p->funcs_cap, p->nfuncs + 1);
    p->funcs[p->nfuncs] = (struct ft_func){dup_or_die(k.qualname), dup_or_die(k.file), firstlineno};
    *slot = (uint32_t)++p->nfuncs;
    return *slot - 1;
}

/* --- threads --- */

uint32_t ft_profile_thread(struct ft_profile *p, int64_t native_id, const char *name)
{
    for (size_t i = 0; i < p->nthreads; i++)
        if (p->threads[i].native_id == native_id) {
            if (name && name[0]) /* renamed since: the latest name labels it */
                strncpy(p->threads[i].name, name, sizeof p->threads[i].name - 1);
            return (uint32_t)i;
        }
    size_t span_cap = p->threads_cap;
    FT_GROW(p->threads, p->threads_cap, p->nthreads + 1);
    FT_GROW(p->last_span_of_thread, span_cap, p->nthreads + 1);
    struct ft_thread_info *t = &p->threads[p->nthreads];
    memset(t, 0, sizeof *t);
    t->native_id = native_id;
    strncpy(t->name, name ? name : "", sizeof t->name - 1);
    p->last_span_of_thread[p->nthreads] = UINT32_MAX;
    return (uint32_t)p->nthreads++;
}

/* --- stacks --- */

struct stack_key {
    const struct ft_loc *locs;
    size_t n;
};

static uint64_t locs_hash(const struct ft_loc *locs, size_t n)
{
    uint64_t h = mix(7, n);
    for (size_t i = 0; i < n; i++)
        h = mix(h, ((uint64_t)locs[i].func << 32) | (uint32_t)locs[i].line);
    return h;
}

static uint64_t stack_hash(const struct ft_profile *p, uint32_t i)
{
    uint32_t depth = p->stacks[i].depth;
    return depth ? locs_hash(ft_profile_locs(p, i), depth) : locs_hash(NULL, 0);
}

static int stack_same(const struct ft_profile *p, uint32_t i, const void *key)
{
    const struct stack_key *k = key;
    if (p->stacks[i].depth != k->n)
        return 0;
    return k->n == 0 || !memcmp(ft_profile_locs(p, i), k->locs, k->n * sizeof *k->locs);
}

/* The marker frame for a stack cut after its innermost `kept` frames. */
static struct ft_loc marker_loc(struct ft_profile *p, size_t kept)
{
    char name[64];
    snprintf(name, sizeof name, FT_TRUNCATED_FMT, kept);
    return (struct ft_loc){ft_profile_func(p, name, "", -1), -1};
}

static uint32_t intern_stack(struct ft_profile *p, const struct ft_loc *locs, size_t n, int truncated)
{
    struct stack_key k = {locs, n};
    rehash(&p->stack_index, &p->stack_index_cap, p->nstacks + 1, p, stack_hash);
    uint32_t *slot = probe(p->stack_index, p->stack_index_cap, locs_hash(locs, n), p, stack_same, &k);
    if (*slot)
        return *slot - 1;
    FT_GROW(p->locs, p->locs_cap, p->nlocs + n);
    if (n)
        memcpy(p->locs + p->nlocs, locs, n * sizeof *locs);
    FT_GROW(p->stacks, p->stacks_cap, p->nstacks + 1);
    p->stacks[p->nstacks] = (struct ft_stack){(uint32_t)p->nlocs, (uint32_t)n, truncated != 0};
    p->nlocs += n;
    if (n > p->max_depth)
        p->max_depth = (uint32_t)n;
    *slot = (uint32_t)++p->nstacks;
    return *slot - 1;
}

uint32_t ft_profile_stack(struct ft_profile *p, const struct ft_loc *locs, size_t n, int truncated)
{
    if (!truncated)
        return intern_stack(p, locs, n, 0);
    FT_GROW(p->scratch, p->scratch_cap, n + 1);
    if (n)
        memcpy(p->scratch, locs, n * sizeof *locs);
    p->scratch[n] = marker_loc(p, n);
    return intern_stack(p, p->scratch, n + 1, 1);
}

/* --- counts --- */

struct count_key {
    uint32_t thread, stack;
};

static uint64_t count_hash_key(uint32_t thread, uint32_t stack)
{
    return mix(mix(3, thread), stack);
}

static uint64_t count_hash(const struct ft_profile *p, uint32_t i)
{
    return count_hash_key(p->counts[i].thread, p->counts[i].stack);
}

static int count_same(const struct ft_profile *p, uint32_t i, const void *key)
{
    const struct count_key *k = key;
    return p->counts[i].thread == k->thread && p->counts[i].stack == k->stack;
}

static void extend_timeline(struct ft_profile *p, uint32_t thread, uint32_t stack, uint64_t now)
{
    uint32_t last = p->last_span_of_thread[thread];
    if (last != UINT32_MAX && p->spans[last].stack == stack) {
        p->spans[last].end_ns = now;
        return;
    }
    if (last != UINT32_MAX)
        p->spans[last].end_ns = now; /* the previous activity lasted until now */
    FT_GROW(p->spans, p->spans_cap, p->nspans + 1);
    p->spans[p->nspans] = (struct ft_span){thread, stack, now, now, 0};
    p->last_span_of_thread[thread] = (uint32_t)p->nspans++;
}

void ft_profile_add(struct ft_profile *p, uint32_t thread, uint32_t stack, uint64_t now_ns)
{
    struct count_key k = {thread, stack};
    rehash(&p->count_index, &p->count_index_cap, p->ncounts + 1, p, count_hash);
    uint32_t *slot = probe(p->count_index, p->count_index_cap, count_hash_key(thread, stack), p,
                           count_same, &k);
    if (!*slot) {
        FT_GROW(p->counts, p->counts_cap, p->ncounts + 1);
        p->counts[p->ncounts] = (struct ft_count){thread, stack, 0};
        *slot = (uint32_t)++p->ncounts;
    }
    p->counts[*slot - 1].count++;
    p->threads[thread].samples++;
    p->total_samples++;
    p->truncated_samples += p->stacks[stack].truncated;
    if (!p->start_ns)
        p->start_ns = now_ns;
    p->end_ns = now_ns;
    if (p->keep_timeline)
        extend_timeline(p, thread, stack, now_ns);
}

void ft_profile_idle(struct ft_profile *p, uint32_t thread, uint64_t now_ns)
{
    if (!p->keep_timeline || thread >= p->nthreads)
        return;
    uint32_t last = p->last_span_of_thread[thread];
    if (last == UINT32_MAX)
        return;
    p->spans[last].end_ns = now_ns;
    p->spans[last].stack_ends = 1;
    p->last_span_of_thread[thread] = UINT32_MAX;
}
