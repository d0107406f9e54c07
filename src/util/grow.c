/*
 * grow.c - see grow.h.
 */
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>

void *ft_grow(void *array, size_t *cap, size_t need, size_t elem, size_t min)
{
    if (need <= *cap)
        return array;
    size_t c = *cap ? *cap : min;
    while (c < need)
        c *= 2;
    void *p = realloc(array, c * elem);
    if (!p) {
        fprintf(stderr, "frametap: out of memory (%zu bytes)\n", c * elem);
        abort();
    }
    *cap = c;
    return p;
}
