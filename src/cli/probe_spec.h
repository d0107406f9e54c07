/*
 * probe_spec.h - the probes of one `frametap probe` command line: each
 * --at begins a probe, the options after it (its action, --when, limits)
 * belong to it. Checked here, before anything starts: a bad expression,
 * duration or rate is one line naming the option. Also turns a probe into
 * the ADD message the agent takes (src/probe/wire.h).
 */
#ifndef FT_PROBE_SPEC_H
#define FT_PROBE_SPEC_H

#include "../probe/wire.h"

#include <stdio.h>

#define FT_MAX_PROBES 32
#define FT_MAX_REDACT 32

enum { FT_ACT_NONE, FT_ACT_LOG, FT_ACT_SNAPSHOT, FT_ACT_COUNT };

struct ft_probe_spec {
    const char *at;
    int action;
    const char *tmpl, *when;
    unsigned long long limit;
    double rate;              /* hits per second, 0: none */
    double expire;            /* seconds, 0: never */
    int frames;               /* --snapshot-frames */
    double budget;            /* share of one core */
};

struct ft_probe_set {
    struct ft_probe_spec p[FT_MAX_PROBES];
    int n;
    const char *redact[FT_MAX_REDACT];
    int nredact;
};

/* Options each probe takes (for getopt tables); values are the short
 * codes ft_probe_option() understands. */
enum {
    FT_POPT_AT = 0x2000, FT_POPT_LOG, FT_POPT_SNAPSHOT, FT_POPT_FRAMES, FT_POPT_COUNT,
    FT_POPT_WHEN, FT_POPT_LIMIT, FT_POPT_RATE, FT_POPT_EXPIRE, FT_POPT_BUDGET, FT_POPT_REDACT,
};

/* Applies one option to the set. 1: taken, 0: not a probe option, -1: bad
 * (message printed). */
int ft_probe_option(struct ft_probe_set *s, int c, const char *arg);
/* After the options: every probe has one action (and there is one, when
 * need_one). 0 or -1 (printed). */
int ft_probe_set_check(const struct ft_probe_set *s, int need_one);
/* The ADD message for probe i into b (whole message). */
size_t ft_probe_add_message(const struct ft_probe_set *s, int i, struct ftw_buf *b);
/* The --help lines of the probe options. */
void ft_probe_help(FILE *f);

#endif
