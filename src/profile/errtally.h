/*
 * errtally.h - error samples counted by cause, for the summary of a run:
 * "why were these samples not written". Causes are the readers' one-line
 * messages with addresses and numbers blanked, so that the same cause at
 * different addresses counts once. Bounded: a few causes, the rest "other".
 */
#ifndef FT_ERRTALLY_H
#define FT_ERRTALLY_H

#include <stdint.h>
#include <stdio.h>

#define FT_TALLY_CAUSES 8
#define FT_TALLY_CAUSE_LEN 200

struct ft_err_tally {
    char cause[FT_TALLY_CAUSES][FT_TALLY_CAUSE_LEN];
    uint64_t count[FT_TALLY_CAUSES];
    size_t n;
    uint64_t other;
};

void ft_tally_add(struct ft_err_tally *t, const char *message);
void ft_tally_merge(struct ft_err_tally *into, const struct ft_err_tally *from);
/* Lines "  N  cause", most frequent first, each prefixed by `prefix`. */
void ft_tally_print(FILE *f, const char *prefix, const struct ft_err_tally *t);

#endif
