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
    pid_t root;                  /* the process asked for; it may not run Python */
    uint64_t root_start;         /* its start time: a reused pid is another process */
    int root_is_target;          /* v[0] samples the root itself */
    int follow;
    uint64_t next_scan, next_root_check;
    pid_t tried[1024];           /* descendants already looked at */
    size_t ntried;
    struct ft_profile *profile;
    struct ft_sample_opts opts;
};

/* root is the process asked for. root_session (owned from here on) is its
 * opened session, or NULL when it does not run Python: then only its
 * Python descendants are sampled (follow must be set). */
int ft_procset_init(struct ft_procset *set, pid_t root, struct ft_session *root_session,
                    struct ft_profile *profile, const struct ft_sample_opts *opts, int follow);
/* One round over every live target. Returns 0; 1 when the root process has
 * ended (exited, or its pid now names another process) and, if it was not
 * Python itself, no descendant is sampled any more; -1 when the root can
 * no longer be read for another reason (ft_fail set). */
/* One more target, sampled into the same profile (another wasm runtime of
 * the same process); the set owns the session from then on. */
int ft_procset_add(struct ft_procset *set, struct ft_session *ses);
int ft_procset_round(struct ft_procset *set, uint64_t now);
/* The first sampled target (the root when it runs Python), or NULL. */
struct ft_target *ft_procset_first(const struct ft_procset *set);
void ft_procset_free(struct ft_procset *set);

/* Sums over all targets. */
void ft_procset_totals(const struct ft_procset *set, uint64_t *samples, uint64_t *errors,
                       uint64_t *rounds);
/* Error samples of all targets by cause. */
void ft_procset_causes(const struct ft_procset *set, struct ft_err_tally *out);

#endif
