/*
 * loc_index.c - see loc_index.h. Numbers are found through a hash index
 * (util/hindex.h) whose values are number+1.
 */
#include "loc_index.h"

#include "../util/grow.h"

#include <stdlib.h>
#include <string.h>

void ft_loc_index_init(struct ft_loc_index *x) { memset(x, 0, sizeof *x); }

void ft_loc_index_free(struct ft_loc_index *x)
{
    free(x->locs);
    ft_hindex_free(&x->index);
    memset(x, 0, sizeof *x);
}

static uint64_t loc_hash(struct ft_loc loc)
{
    uint64_t h = (((uint64_t)loc.func << 32) | (uint32_t)loc.line) * 0x9E3779B97F4A7C15ull;
    return h >> 17;
}

static uint64_t entry_hash(const void *ctx, uint32_t id)
{
    return loc_hash(((const struct ft_loc_index *)ctx)->locs[id - 1]);
}

static int entry_same(const void *ctx, uint32_t id, const void *key)
{
    struct ft_loc a = ((const struct ft_loc_index *)ctx)->locs[id - 1];
    const struct ft_loc *b = key;
    return a.func == b->func && a.line == b->line;
}

uint32_t ft_loc_index_of(struct ft_loc_index *x, struct ft_loc loc)
{
    ft_hindex_reserve(&x->index, x->n, entry_hash, x);
    uint32_t *slot = ft_hindex_slot(&x->index, loc_hash(loc), entry_same, x, &loc);
    if (*slot)
        return *slot - 1;
    FT_GROW(x->locs, x->cap, x->n + 1);
    x->locs[x->n] = loc;
    *slot = (uint32_t)++x->n;
    return (uint32_t)(x->n - 1);
}
