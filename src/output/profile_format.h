/*
 * profile_format.h - writers for aggregated profiles, one file per format,
 * and the helpers they share. Writers read struct ft_profile only; they know
 * nothing of the target, offsets or sampling.
 */
#ifndef FT_PROFILE_FORMAT_H
#define FT_PROFILE_FORMAT_H

#include "../profile/aggregate.h"
#include "../util/strbuf.h"

#include <stdio.h>

enum ft_format { FT_FMT_SVG, FT_FMT_SPEEDSCOPE, FT_FMT_COLLAPSED, FT_FMT_PPROF, FT_FMT_CHROME };

struct ft_write_opts {
    int per_thread;          /* one root per thread */
    const char *title;       /* e.g. the command line or "pid 1234" */
    const char *mode;        /* cpu, wall or gil */
    uint64_t interval_ns;    /* sampling period */
};

/* Parses a format name; returns 0 or -1. */
int ft_format_parse(const char *name, enum ft_format *out);
/* Format from a file name's extension (.svg, .json/.speedscope, .txt/.collapsed,
 * .pb.gz/.pprof, .trace.json/.chrome.json); -1 if none fits. */
int ft_format_from_path(const char *path, enum ft_format *out);
const char *ft_format_name(enum ft_format f);

/* Writes p to path in format f. Returns 0, or -1 with ft_fail() set. */
int ft_write_profile(const char *path, enum ft_format f, const struct ft_profile *p,
                     const struct ft_write_opts *o);

/* The individual writers, into a string buffer (pprof writes its file). */
void ft_write_collapsed(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o);
void ft_write_speedscope(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o);
void ft_write_svg(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o);
void ft_write_chrome(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o);
int ft_write_pprof(const char *path, const struct ft_profile *p, const struct ft_write_opts *o);

/* "qualname (file:line)", the label of a frame in flame graphs. */
void ft_frame_label(struct strbuf *out, const struct ft_profile *p, struct ft_loc loc);
/* "thread 1234 (name)", the label of a per-thread root. */
void ft_thread_label(struct strbuf *out, const struct ft_profile *p, uint32_t thread);

/* A tree of stacks merged from the root down, for flame graphs. */
struct ft_tree_node {
    struct ft_loc loc;       /* func UINT32_MAX: a thread root or the all-root */
    uint32_t thread;         /* for thread roots */
    uint64_t total, self;
    uint32_t first_child, next_sibling; /* 0 = none (node 0 is the root) */
};

struct ft_tree {
    struct ft_tree_node *v;
    size_t n, cap;
};

void ft_tree_build(struct ft_tree *t, const struct ft_profile *p, int per_thread);
void ft_tree_free(struct ft_tree *t);

#endif
