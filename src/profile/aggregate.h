/*
 * aggregate.h - samples folded into counts: function and stack interning.
 *
 * A sample is a list of (function, line) frames, innermost first. Functions
 * are interned by (qualname, file, first line), stacks by their frame list,
 * and each (thread, stack) pair keeps a count, so memory grows with the
 * number of distinct stacks, never with the number of samples. Strings are
 * copied in: nothing here points into the code cache or the target.
 *
 * A stack the reader cut short (deeper than it reads) is kept with one more
 * frame at its outer end, FT_TRUNCATED_FMT: every writer shows it as the
 * root side of that stack, and total_samples counts such samples apart in
 * truncated_samples. Nothing here ever drops frames.
 */
#ifndef FT_AGGREGATE_H
#define FT_AGGREGATE_H

#include <stddef.h>
#include <stdint.h>

struct ft_func {
    char *qualname, *file;
    int firstlineno;
};

struct ft_loc {
    uint32_t func;  /* index into functions */
    int32_t line;   /* -1 when unknown */
};

struct ft_stack {
    uint32_t first;     /* index of its innermost frame in the loc pool */
    uint32_t depth;     /* frames, the truncation marker included */
    uint32_t truncated; /* 1: its outermost frame is the truncation marker */
};

struct ft_thread_info {
    int64_t native_id;
    char name[64];
    uint64_t samples;
};

struct ft_count {
    uint32_t thread;  /* index into threads */
    uint32_t stack;   /* index into stacks */
    uint64_t count;
};

/* One change of what a thread was doing, kept only when a timeline is wanted
 * (Chrome trace): grows with stack changes, not with samples. */
struct ft_span {
    uint32_t thread, stack;
    uint64_t start_ns, end_ns;
    int stack_ends;          /* the thread went idle (not sampled) after it */
};

/* Name of the marker frame; %zu is the number of frames the reader kept.
 * Its function has no file and first line -1 (ft_func_is_marker). */
#define FT_TRUNCATED_FMT "<truncated at %zu frames>"

struct ft_profile {
    struct ft_func *funcs;
    size_t nfuncs, funcs_cap;
    struct ft_loc *locs;          /* all stacks' frames, stack after stack */
    size_t nlocs, locs_cap;
    struct ft_stack *stacks;
    size_t nstacks, stacks_cap;
    struct ft_thread_info *threads;
    size_t nthreads, threads_cap;
    struct ft_count *counts;
    size_t ncounts, counts_cap;
    struct ft_span *spans;
    size_t nspans, spans_cap;
    int keep_timeline;
    /* hash indexes (open addressing, power-of-two sizes) */
    uint32_t *func_index, *stack_index, *count_index;
    size_t func_index_cap, stack_index_cap, count_index_cap;
    uint32_t *last_span_of_thread; /* per thread, UINT32_MAX if none */
    struct ft_loc *scratch;       /* a truncated stack with its marker */
    size_t scratch_cap;
    uint32_t max_depth;           /* deepest stack, marker included */
    uint64_t total_samples, error_samples;
    uint64_t truncated_samples;   /* of total_samples, on truncated stacks */
    uint64_t start_ns, end_ns;
};

void ft_profile_init(struct ft_profile *p, int keep_timeline);
void ft_profile_free(struct ft_profile *p);

uint32_t ft_profile_func(struct ft_profile *p, const char *qualname, const char *file, int firstlineno);
uint32_t ft_profile_thread(struct ft_profile *p, int64_t native_id, const char *name);
/* Interns a stack of n locations (innermost first) and returns its id.
 * truncated: the reader kept only these innermost n frames of a deeper
 * stack; the stack then gets the marker frame as its outermost frame. */
uint32_t ft_profile_stack(struct ft_profile *p, const struct ft_loc *locs, size_t n, int truncated);
/* Counts one sample of stack on thread at time now_ns. */
void ft_profile_add(struct ft_profile *p, uint32_t thread, uint32_t stack, uint64_t now_ns);

/* Marks thread as not running its last stack from now (a --mode cpu or gil
 * round that skipped it): ends its current timeline span. */
void ft_profile_idle(struct ft_profile *p, uint32_t thread, uint64_t now_ns);

/* Whether f is a frame frametap made up (the truncation marker). */
static inline int ft_func_is_marker(const struct ft_func *f)
{
    return f->firstlineno < 0 && f->file[0] == '\0';
}

/* Frames of a stack, innermost first. */
static inline const struct ft_loc *ft_profile_locs(const struct ft_profile *p, uint32_t stack)
{
    return p->locs ? &p->locs[p->stacks[stack].first] : NULL;
}

#endif
