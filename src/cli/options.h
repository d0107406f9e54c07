/*
 * options.h - the options record, top and trace share: one spelling, one
 * range and one error message each, whichever command takes them.
 *
 * A command lists its own options and the shared groups it accepts; the
 * parser merges both into the getopt tables, applies shared options itself
 * and hands the rest back. Never exits: errors are printed once and
 * returned.
 */
#ifndef FT_OPTIONS_H
#define FT_OPTIONS_H

#include "../profile/sampler.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>

enum ft_opt_group {
    FT_OPTS_SAMPLING = 1,  /* --rate --mode --blocking --nonblocking --read */
    FT_OPTS_DURATION = 2,  /* --duration */
    FT_OPTS_PID = 4,       /* --pid */
};

struct ft_run_opts {
    double rate, duration;        /* duration 0: until the target ends or a signal */
    struct ft_sample_opts sample;
    int pid;                      /* --pid or the positional PID */
    char **command;               /* after "--" */
};

#define FT_OPTS_MAX 48

struct ft_optparser {
    const char *cmd;
    unsigned groups;
    struct option longopts[FT_OPTS_MAX + 1];
    char shortopts[2 * FT_OPTS_MAX + 2];
};

void ft_opts_init(struct ft_optparser *p, const char *cmd, unsigned groups,
                  const struct option *own, const char *own_short);
void ft_opts_defaults(struct ft_run_opts *o);
/* The next option as getopt_long gives it (call ft_opts_init first). */
int ft_opts_next(struct ft_optparser *p, int argc, char **argv);
/* 1: c was a shared option and is applied; 0: c is the command's own;
 * -1: a bad value (the message is printed). */
int ft_opts_shared(const struct ft_optparser *p, int c, const char *arg, struct ft_run_opts *o);
/* Prints the error for an unknown or incomplete option; returns -1. */
int ft_opts_unknown(const struct ft_optparser *p, char **argv);
/* After the options: the PID (or --pid) or "-- COMMAND ...". */
int ft_opts_target(const struct ft_optparser *p, int argc, char **argv, struct ft_run_opts *o);
/* The one process of a command that takes no COMMAND (dump, tasks): the
 * value of its --pid (NULL when not given) or the one operand left; the
 * pid, or 0 after a one-line error. */
int ft_opts_one_pid(const char *cmd, const char *pid_opt, int argc, char **argv, int first);
/* A number in [lo, hi] or a one-line error naming opt; 0 or -1. */
int ft_opts_number(const char *cmd, const char *opt, const char *s, double lo, double hi,
                   double *out);
/* The help lines of the shared groups. */
void ft_opts_help(FILE *f, unsigned groups);

/* Ctrl-C and SIGTERM set *flag (so that a run ends cleanly and writes what
 * it has); the timer slack is lowered so that high rates are reachable. */
void ft_stop_on_signals(volatile sig_atomic_t *flag);

#endif
