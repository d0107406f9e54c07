/*
 * hindex.h - an open-addressing hash index of 32-bit ids for the interning
 * tables (functions, stacks, counts, frames, strings, tree nodes). Slots
 * hold id values the caller chose (never 0: 0 marks an empty slot); the
 * caller hashes and compares its own keys through callbacks. Kept at most
 * half full, so a probe always ends. Aborts on out-of-memory.
 */
#ifndef FT_HINDEX_H
#define FT_HINDEX_H

#include <stddef.h>
#include <stdint.h>

struct ft_hindex {
    uint32_t *slots;
    size_t cap;              /* a power of two, or 0 */
};

/* The hash of the key that stored id stands for. */
typedef uint64_t (*ft_hindex_hash)(const void *ctx, uint32_t id);
/* Whether stored id stands for key. */
typedef int (*ft_hindex_same)(const void *ctx, uint32_t id, const void *key);

/* Makes room for one more id when `used` are stored, re-placing them. */
void ft_hindex_reserve(struct ft_hindex *x, size_t used, ft_hindex_hash hash, const void *ctx);
/* The slot holding the id of key (hash h), or the empty slot where it goes. */
uint32_t *ft_hindex_slot(const struct ft_hindex *x, uint64_t h, ft_hindex_same same,
                         const void *ctx, const void *key);
void ft_hindex_free(struct ft_hindex *x);

#endif
