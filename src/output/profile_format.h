/*
 * profile_format.h - writers for aggregated profiles, one file per format,
 * and the helpers they share. Writers read struct ft_profile only; they know
 * nothing of the target, offsets or sampling. Every writer is linear in the
 * profile's size (distinct stacks and their frames, timeline spans), streams
 * its output to the file instead of building it in memory, and shows names
 * only through util/escape.h.
 */
#ifndef FT_PROFILE_FORMAT_H
#define FT_PROFILE_FORMAT_H

#include "../profile/aggregate.h"
#include "../util/hindex.h"
#include "../util/strbuf.h"
#include "progress.h"

#include <stdio.h>

enum ft_format { FT_FMT_SVG, FT_FMT_SPEEDSCOPE, FT_FMT_COLLAPSED, FT_FMT_PPROF, FT_FMT_CHROME };

struct ft_write_opts {
    int per_thread;          /* one root per thread */
    const char *title;       /* e.g. the command line or "pid 1234" */
    const char *mode;        /* cpu, wall or gil */
    uint64_t interval_ns;    /* sampling period */
};

/* Parses a format name (svg, speedscope, collapsed, pprof, chrome, and the
 * spellings flamegraph = svg, raw = collapsed); returns 0 or -1. */
int ft_format_parse(const char *name, enum ft_format *out);
/* Format from a file name's extension (.svg, .json/.speedscope.json,
 * .txt/.collapsed/.folded, .pb.gz/.pprof, .trace.json/.chrome.json); -1 if
 * none fits. */
int ft_format_from_path(const char *path, enum ft_format *out);
const char *ft_format_name(enum ft_format f);
/* "svg (flamegraph), speedscope, collapsed (raw), pprof, chrome": for
 * messages that list what --format takes. */
const char *ft_format_names(void);
/* ".svg .json .speedscope.json ...": the extensions ft_format_from_path knows. */
const char *ft_format_extensions(void);

/* Checks, before any sampling, that `path` can be written as a profile:
 * with have_format 0 its extension must name a format (an unknown or
 * missing extension is an error listing the known ones); the directory
 * must exist and be writable; path must not be a directory or a file we
 * may not write. Returns 0, or -1 with a one-line reason in why[n] (never
 * calls ft_fail, never creates or truncates anything). `frametap record`
 * calls it for every -o before it starts sampling. */
int ft_output_check(const char *path, int have_format, enum ft_format format, char *why, size_t n);

/* Writes p to path in format f. Returns 0, or -1 with ft_fail() set. Shows
 * progress on stderr when this takes longer than a second. */
int ft_write_profile(const char *path, enum ft_format f, const struct ft_profile *p,
                     const struct ft_write_opts *o);

/* The individual writers, into a string buffer (pprof writes its file).
 * pg (may be NULL) is told how far they are. */
void ft_write_collapsed(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o,
                        struct ft_progress *pg);
void ft_write_speedscope(struct strbuf *out, const struct ft_profile *p,
                         const struct ft_write_opts *o, struct ft_progress *pg);
void ft_write_svg(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o,
                  struct ft_progress *pg);
void ft_write_chrome(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o,
                     struct ft_progress *pg);
int ft_write_pprof(const char *path, const struct ft_profile *p, const struct ft_write_opts *o,
                   struct ft_progress *pg);

/* "qualname (file:line)", the label of a frame in flame graphs, raw (the
 * writer escapes it for its format); the truncation marker is its name only. */
void ft_frame_label(struct strbuf *out, const struct ft_profile *p, struct ft_loc loc);
/* "thread 1234 (name)", the label of a per-thread root, raw. */
void ft_thread_label(struct strbuf *out, const struct ft_profile *p, uint32_t thread);

/* The counts as writers list them: with per_thread, grouped by thread
 * (thread order, then first-seen); without, one row per distinct stack
 * summed over threads (first-seen order, thread UINT32_MAX). */
struct ft_rows {
    struct ft_count *v;
    size_t n;
    size_t *thread_start;    /* per_thread: rows of thread t are [start[t], start[t+1]) */
};

void ft_rows_build(struct ft_rows *r, const struct ft_profile *p, int per_thread);
void ft_rows_free(struct ft_rows *r);

/* A tree of stacks merged from the root down, for flame graphs. */
struct ft_tree_node {
    struct ft_loc loc;       /* func UINT32_MAX: a thread root or the all-root */
    uint32_t thread;         /* for thread roots */
    uint32_t parent;
    uint64_t total, self;
    uint32_t first_child, last_child, next_sibling; /* 0 = none (node 0 is the root) */
};

struct ft_tree {
    struct ft_tree_node *v;
    size_t n, cap;
    struct ft_hindex index;  /* (parent, loc, thread) -> node */
};

void ft_tree_build(struct ft_tree *t, const struct ft_profile *p, int per_thread,
                   struct ft_progress *pg);
void ft_tree_free(struct ft_tree *t);

#endif
