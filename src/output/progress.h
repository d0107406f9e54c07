/*
 * progress.h - "frametap: writing FILE: 42%" on stderr while a writer runs
 * for longer than a second. Writers call ft_progress_step() in their loops;
 * it looks at the clock once every 256 calls, so it costs nothing on the
 * common fast write. Never prints anything for a write under the threshold.
 */
#ifndef FT_PROGRESS_H
#define FT_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

struct ft_progress {
    const char *what;        /* the file being written */
    FILE *out;               /* where messages go (stderr) */
    uint64_t start_ns, next_ns, threshold_ns;
    unsigned calls;
    int shown, tty;
};

/* Starts timing; the first message comes after threshold_ns (1 s). */
void ft_progress_begin(struct ft_progress *pg, const char *what, FILE *out);
/* done of total units of work are finished. pg may be NULL. */
void ft_progress_step(struct ft_progress *pg, uint64_t done, uint64_t total);
/* Ends the line a terminal shows (if anything was shown). */
void ft_progress_end(struct ft_progress *pg);

#endif
