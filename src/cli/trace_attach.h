/*
 * trace_attach.h - `frametap trace PID`: tracing a running program through
 * its probe agent (loaded by PEP 768 on CPython 3.14+, or started by the
 * program or by `frametap probe --`). The program writes the raw trace
 * itself, as `trace -- ...` does; frametap converts it afterwards.
 */
#ifndef FT_TRACE_ATTACH_H
#define FT_TRACE_ATTACH_H

#include <sys/types.h>

struct ft_trace_request {
    unsigned events;
    const char *within;
    const char *const *include, *const *exclude;
    int ninclude, nexclude;
    long max_depth, buffer_mb;
    double duration;          /* 0: until Ctrl-C or the program's end */
    int quiet;
};

/* Traces pid into raw (a file the program can write) until Ctrl-C, the
 * duration or the program's end. 0, or -1 with ft_fail set. */
int ft_trace_attach(pid_t pid, const struct ft_trace_request *r, const char *raw);

#endif
