/*
 * loc_index.h - numbering of distinct frames (function, line) for writers
 * whose formats keep a frame table (speedscope, pprof). Grows with distinct
 * frames; aborts on out-of-memory.
 */
#ifndef FT_LOC_INDEX_H
#define FT_LOC_INDEX_H

#include "../profile/aggregate.h"
#include "../util/hindex.h"

struct ft_loc_index {
    struct ft_loc *locs;     /* by number */
    size_t n, cap;
    struct ft_hindex index;  /* loc -> number+1 */
};

void ft_loc_index_init(struct ft_loc_index *x);
void ft_loc_index_free(struct ft_loc_index *x);
/* The number of loc, assigning the next one if new. */
uint32_t ft_loc_index_of(struct ft_loc_index *x, struct ft_loc loc);

#endif
