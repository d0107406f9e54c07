/*
 * topstats.h - own and total sample counts per function (or per line) from
 * a profile, for `frametap top`: own = the frame was innermost, total = the
 * frame was anywhere on the stack (counted once per sample even when it
 * recurses). Optionally restricted to one thread. Pure computation.
 */
#ifndef FT_TOPSTATS_H
#define FT_TOPSTATS_H

#include "aggregate.h"

struct ft_top_row {
    struct ft_loc key;      /* line -1 when aggregating by function */
    uint64_t own, total;
};

struct ft_top {
    struct ft_top_row *rows;
    size_t n, cap;
    uint64_t samples;       /* samples counted (of the chosen thread) */
};

enum ft_top_sort { FT_SORT_OWN_PCT, FT_SORT_TOTAL_PCT, FT_SORT_OWN_TIME, FT_SORT_TOTAL_TIME,
                   FT_SORT_NAME };

/* Recomputes t from p. thread: UINT32_MAX for all threads. */
void ft_top_compute(struct ft_top *t, const struct ft_profile *p, uint32_t thread, int by_line);
void ft_top_sort(struct ft_top *t, const struct ft_profile *p, enum ft_top_sort how);
void ft_top_free(struct ft_top *t);

#endif
