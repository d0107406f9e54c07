/*
 * procset.h - the processes one recording samples: the target, and with
 * --subprocesses every descendant that turns out to run Python (for
 * example multiprocessing workers), all folded into one profile. Children
 * are looked for every 250 ms through /proc/PID/task/TID/children.
 */
#ifndef FT_PROCSET_H
#define FT_PROCSET_H

#include "sampler.h"

#define FT_PROCSET_MAX 64

struct ft_target {
    struct ft_session session;
    struct ft_sampler sampler;
    int active;
};

struct ft_procset {
    struct ft_target *v[FT_PROCSET_MAX];
    size_t n;
    int follow;
    uint64_t next_scan;
    pid_t tried[1024];           /* descendants already looked at */
    size_t ntried;
    struct ft_profile *profile;
    struct ft_sample_opts opts;
};

/* Takes ownership of the opened session of the root target. */
int ft_procset_init(struct ft_procset *set, struct ft_session *root, struct ft_profile *profile,
                    const struct ft_sample_opts *opts, int follow);
/* One round over every live target. Returns 0, 1 when the root target has
 * exited, or -1 when it can no longer be read for another reason. */
int ft_procset_round(struct ft_procset *set, uint64_t now);
void ft_procset_free(struct ft_procset *set);

/* Sums over all targets. */
void ft_procset_totals(const struct ft_procset *set, uint64_t *samples, uint64_t *errors,
                       uint64_t *rounds);
/* Error samples of all targets by cause. */
void ft_procset_causes(const struct ft_procset *set, struct ft_err_tally *out);

#endif
