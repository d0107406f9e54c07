/*
 * topstats.c - own/total counts for `top` (see topstats.h). A row index is
 * kept in a hash table rebuilt per computation; "counted once per sample"
 * uses a per-row stamp of the last stack that touched it.
 */
#include "topstats.h"

#include "../util/grow.h"

#include <stdlib.h>
#include <string.h>

struct builder {
    struct ft_top *t;
    uint32_t *slots;        /* row index + 1, 0 empty */
    size_t nslots;
    uint64_t *stamp;        /* per row: last stack id + 1 that counted it */
    size_t stamp_cap;
};

static uint64_t key_hash(struct ft_loc k)
{
    return (((uint64_t)k.func << 32) | (uint32_t)k.line) * 0x9E3779B97F4A7C15ull;
}

static void grow_slots(struct builder *b)
{
    size_t n = b->nslots ? b->nslots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        abort();
    for (size_t i = 0; i < b->t->n; i++) {
        size_t j = (size_t)(key_hash(b->t->rows[i].key) >> 20) & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(b->slots);
    b->slots = slots;
    b->nslots = n;
}

static size_t row_for(struct builder *b, struct ft_loc k)
{
    if ((b->t->n + 1) * 2 > b->nslots)
        grow_slots(b);
    size_t j = (size_t)(key_hash(k) >> 20) & (b->nslots - 1);
    while (b->slots[j]) {
        struct ft_loc o = b->t->rows[b->slots[j] - 1].key;
        if (o.func == k.func && o.line == k.line)
            return b->slots[j] - 1;
        j = (j + 1) & (b->nslots - 1);
    }
    struct ft_top *t = b->t;
    size_t stamp_cap = t->cap;
    FT_GROW(t->rows, t->cap, t->n + 1);
    FT_GROW(b->stamp, stamp_cap, t->n + 1);
    t->rows[t->n] = (struct ft_top_row){k, 0, 0};
    b->stamp[t->n] = 0;
    b->slots[j] = (uint32_t)++t->n;
    return t->n - 1;
}

void ft_top_compute(struct ft_top *t, const struct ft_profile *p, uint32_t thread, int by_line)
{
    struct builder b = {t, NULL, 0, NULL, 0};
    t->n = 0;
    t->samples = 0;
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        if (thread != UINT32_MAX && c->thread != thread)
            continue;
        t->samples += c->count;
        uint32_t depth = p->stacks[c->stack].depth;
        const struct ft_loc *locs = ft_profile_locs(p, c->stack);
        for (uint32_t d = 0; d < depth; d++) {
            struct ft_loc k = {locs[d].func, by_line ? locs[d].line : -1};
            size_t r = row_for(&b, k);
            if (d == 0)
                t->rows[r].own += c->count;
            if (b.stamp[r] != i + 1) {
                b.stamp[r] = i + 1;
                t->rows[r].total += c->count;
            }
        }
    }
    free(b.slots);
    free(b.stamp);
}

static const struct ft_profile *sort_profile;
static enum ft_top_sort sort_how;

static int cmp_u64_desc(uint64_t a, uint64_t b) { return a < b ? 1 : a > b ? -1 : 0; }

static int compare_rows(const void *pa, const void *pb)
{
    const struct ft_top_row *a = pa, *b = pb;
    int c = 0;
    switch (sort_how) {
    case FT_SORT_OWN_PCT:
    case FT_SORT_OWN_TIME: c = cmp_u64_desc(a->own, b->own); break;
    case FT_SORT_TOTAL_PCT:
    case FT_SORT_TOTAL_TIME: c = cmp_u64_desc(a->total, b->total); break;
    case FT_SORT_NAME:
        c = strcmp(sort_profile->funcs[a->key.func].qualname, sort_profile->funcs[b->key.func].qualname);
        break;
    }
    if (!c)
        c = cmp_u64_desc(a->total, b->total);
    return c ? c : (a->key.func < b->key.func ? -1 : a->key.func > b->key.func);
}

void ft_top_sort(struct ft_top *t, const struct ft_profile *p, enum ft_top_sort how)
{
    sort_profile = p;
    sort_how = how;
    if (t->n)
        qsort(t->rows, t->n, sizeof *t->rows, compare_rows);
}

void ft_top_free(struct ft_top *t)
{
    free(t->rows);
    memset(t, 0, sizeof *t);
}
