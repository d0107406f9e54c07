/*
 * oncpu.h - is a thread on a CPU now (state R), asked once per thread per
 * sample, so it must cost little: a thread seen off CPU is known to stay
 * off while its count of runs (schedstat, a short file) does not move;
 * the state itself comes from wchan ("0" while running: a short file)
 * where this kernel fills it in, else from stat (fifty formatted fields,
 * about three times the cost). Never blocks; never calls a thread idle
 * that was put on a CPU since it was last seen idle.
 */
#ifndef FT_ONCPU_H
#define FT_ONCPU_H

#include <stdint.h>
#include <sys/types.h>

struct ft_oncpu {
    int state_fd;                /* /proc/PID/task/TID/wchan or .../stat, -1 if not open */
    int state_is_wchan;
    int sched_fd;                /* .../schedstat, -1 if not open */
    long long idle_runs;         /* its count of runs when last seen idle, or -1 */
};

/* Nothing open. */
void ft_oncpu_none(struct ft_oncpu *c);
/* Opens what ft_oncpu_now reads for thread tid of pid. */
void ft_oncpu_open(struct ft_oncpu *c, pid_t pid, int64_t tid);
void ft_oncpu_close(struct ft_oncpu *c);
int ft_oncpu_is_open(const struct ft_oncpu *c);
/* 1 if the thread is on a CPU (or waiting for one) now. */
int ft_oncpu_now(struct ft_oncpu *c);
/* How many times the thread was put on a CPU, or -1 if the kernel does
 * not say. */
long long ft_oncpu_runs(const struct ft_oncpu *c);
/* The state letter of an open stat file is R. */
int ft_stat_running(int fd);

#endif
