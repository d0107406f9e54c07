/*
 * probe_out.h - what `frametap probe` writes: each hit, status and count
 * the agent sends, as readable lines on stderr and/or JSON lines (one
 * object per line) in -o FILE. Every name and value from the program goes
 * through util/escape (text rule or JSON); nothing here talks to the agent.
 */
#ifndef FT_PROBE_OUT_H
#define FT_PROBE_OUT_H

#include "../probe/wire.h"

#include <stdio.h>

struct ft_probe_out {
    FILE *json;              /* -o FILE, or NULL */
    int text;                /* readable lines on stderr */
    int quiet;               /* no status lines on stderr (errors still) */
    const char **ats;        /* --at of probe id i at ats[i - 1] */
    int nats;
    unsigned long long *totals;  /* --count totals per probe id */
    int finished;            /* probes that reached their limit or expired */
};

/* One message from the agent (HIT, STATUS, COUNTS); others are ignored. */
void ft_probe_out_message(struct ft_probe_out *o, const struct ftw_msg *m);
/* A line of frametap's own about probe id (0: none) on stderr and in JSON. */
void ft_probe_out_note(struct ft_probe_out *o, unsigned id, const char *kind, const char *text);

#endif
