/*
 * grow.h - growing a heap array to hold at least `need` elements, doubling.
 * Aborts on out-of-memory: callers build profiles and tables whose silent
 * truncation would mislead more than a crash with a message.
 */
#ifndef FT_GROW_H
#define FT_GROW_H

#include <stddef.h>

/* Returns the (possibly moved) array with room for need elements of size
 * elem; *cap is updated. min is the first capacity. */
void *ft_grow(void *array, size_t *cap, size_t need, size_t elem, size_t min);

#define FT_GROW(array, cap, need) \
    ((array) = ft_grow((array), &(cap), (need), sizeof *(array), 64))

#endif
