/*
 * hindex.c - see hindex.h. Linear probing over a power-of-two array that
 * doubles when half full; never holds a pointer to the caller's data.
 */
#include "hindex.h"

#include <stdlib.h>

void ft_hindex_reserve(struct ft_hindex *x, size_t used, ft_hindex_hash hash, const void *ctx)
{
    if (x->cap && (used + 1) * 2 <= x->cap)
        return;
    size_t ncap = x->cap ? x->cap * 2 : 1024;
    uint32_t *nt = calloc(ncap, sizeof *nt);
    if (!nt)
        abort();
    for (size_t i = 0; i < x->cap; i++) {
        uint32_t id = x->slots[i];
        if (!id)
            continue;
        size_t j = (size_t)hash(ctx, id) & (ncap - 1);
        while (nt[j])
            j = (j + 1) & (ncap - 1);
        nt[j] = id;
    }
    free(x->slots);
    x->slots = nt;
    x->cap = ncap;
}

uint32_t *ft_hindex_slot(const struct ft_hindex *x, uint64_t h, ft_hindex_same same,
                         const void *ctx, const void *key)
{
    size_t mask = x->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask)
        if (!x->slots[i] || same(ctx, x->slots[i], key))
            return &x->slots[i];
}

void ft_hindex_free(struct ft_hindex *x)
{
    free(x->slots);
    x->slots = NULL;
    x->cap = 0;
}
