/*
 * loc_index.c - see loc_index.h. The table is kept at most half full.
 */
#include "loc_index.h"

#include "../util/grow.h"

#include <stdlib.h>
#include <string.h>

void ft_loc_index_init(struct ft_loc_index *x) { memset(x, 0, sizeof *x); }

void ft_loc_index_free(struct ft_loc_index *x)
{
    free(x->locs);
    free(x->slots);
    memset(x, 0, sizeof *x);
}

static size_t slot_for(const struct ft_loc_index *x, struct ft_loc loc)
{
    uint64_t h = (((uint64_t)loc.func << 32) | (uint32_t)loc.line) * 0x9E3779B97F4A7C15ull;
    size_t i = (size_t)(h >> 17) & (x->nslots - 1);
    while (x->slots[i]) {
        struct ft_loc o = x->locs[x->slots[i] - 1];
        if (o.func == loc.func && o.line == loc.line)
            break;
        i = (i + 1) & (x->nslots - 1);
    }
    return i;
}

static void grow(struct ft_loc_index *x)
{
    size_t n = x->nslots ? x->nslots * 2 : 256;
    uint32_t *old = x->slots;
    size_t oldn = x->nslots;
    x->slots = calloc(n, sizeof *x->slots);
    if (!x->slots)
        abort();
    x->nslots = n;
    for (size_t i = 0; i < oldn; i++)
        if (old[i])
            x->slots[slot_for(x, x->locs[old[i] - 1])] = old[i];
    free(old);
}

uint32_t ft_loc_index_of(struct ft_loc_index *x, struct ft_loc loc)
{
    if ((x->n + 1) * 2 > x->nslots)
        grow(x);
    size_t i = slot_for(x, loc);
    if (x->slots[i])
        return x->slots[i] - 1;
    FT_GROW(x->locs, x->cap, x->n + 1);
    x->locs[x->n] = loc;
    x->slots[i] = (uint32_t)++x->n;
    return (uint32_t)(x->n - 1);
}
