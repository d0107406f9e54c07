/*
 * tracefile.h - a raw trace (one file per traced process: the main file
 * and FILE.PID for each forked child), loaded and checked.
 *
 * Everything in the files is hostile: sizes, counts, ids, strings and
 * offsets are bounded and checked before use; a bad chunk stops the read of
 * that file with a one-line error (what was read before it is kept).
 * Events come out merged across threads and processes in time order.
 */
#ifndef FT_TRACEFILE_H
#define FT_TRACEFILE_H

#include <stddef.h>
#include <stdint.h>
#include "trace_format.h"

struct ft_tcode {
    uint32_t id;
    uint32_t firstline;
    const char *qualname, *file, *module;
    const unsigned char *ranges;      /* nranges x ft_trace_line_range, unaligned */
    uint32_t nranges;
};

struct ft_tfunc { uint32_t id; const char *name; };

struct ft_tthread {
    uint32_t proc;                    /* index into procs */
    uint32_t tid;
    uint64_t ident;
    const char *name;                 /* "" until the tracer learnt it */
    uint64_t dropped;
};

struct ft_tproc {
    uint32_t pid, parent_pid, python_hex, events_mask;
    uint64_t start_ns;                /* CLOCK_MONOTONIC */
    int complete;                     /* its closing record was read */
    uint64_t total_events, total_dropped;
    struct ft_tcode *codes;           /* sorted by id */
    size_t ncodes, codes_cap;
    struct ft_tfunc *funcs;           /* sorted by id */
    size_t nfuncs, funcs_cap;
    const char *opnames[256];
    char *error;                      /* why reading stopped early, or NULL */
};

/* An event kind the loader makes (never in a file): events of this thread
 * were dropped right before it (a = how many); what was open before it may
 * have closed in the gap. */
#define FT_TEV_GAP 250

struct ft_tevent {
    uint64_t ns;                      /* since the earliest process start */
    uint32_t thread;                  /* index into threads */
    uint32_t a, c;                    /* as in the record; c = payload length for blobs */
    uint16_t kind;
    uint64_t seq;                     /* order read: breaks ties in time */
    const unsigned char *payload;     /* blob kinds: c bytes, else NULL */
};

struct ft_trace {
    struct ft_tproc *procs;
    size_t nprocs, procs_cap;
    struct ft_tthread *threads;
    size_t nthreads, threads_cap;
    struct ft_tevent *events;
    size_t nevents, events_cap;
    unsigned char **files;            /* file contents, owned */
    size_t nfiles, files_cap;
};

/* Loads path and every path.PID beside it. 0, or -1 with ft_fail(). */
int ft_trace_load(struct ft_trace *t, const char *path);
/* fn(arg, file) for each file a child process or an exec'd program wrote
 * beside path (PATH.PID, PATH.PID.eN); stops at fn's first non-zero. */
int ft_trace_each_child(const char *path, int (*fn)(void *, const char *), void *arg);
/* Parses one file already in memory (taken over: freed by ft_trace_free). */
int ft_trace_add_buffer(struct ft_trace *t, unsigned char *data, size_t len);
/* Sorts events by time once all files are in. */
void ft_trace_finish(struct ft_trace *t);
void ft_trace_free(struct ft_trace *t);

const struct ft_tcode *ft_trace_code(const struct ft_trace *t, uint32_t proc, uint32_t id);
const char *ft_trace_func(const struct ft_trace *t, uint32_t proc, uint32_t id);
/* Line of an instruction offset in code (firstline when unknown). */
int ft_trace_line_at(const struct ft_tcode *c, uint32_t offset);
/* Splits a payload of NUL-terminated strings: the i-th, or "" if absent. */
const char *ft_trace_payload_str(const struct ft_tevent *e, size_t skip, unsigned i);

#endif
