/*
 * bsearch.h - the one binary search over arrays of structs sorted by a
 * uint64_t key (an address): how many elements have a key <= the one
 * asked for. Reads nothing outside the array.
 */
#ifndef FT_BSEARCH_H
#define FT_BSEARCH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Elements are stride bytes apart, their key key_offset bytes in. */
static inline size_t ft_upper_bound(const void *base, size_t n, size_t stride, size_t key_offset,
                                    uint64_t key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t k;
        memcpy(&k, (const char *)base + mid * stride + key_offset, sizeof k);
        if (key < k)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

#endif
