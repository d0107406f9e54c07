/*
 * locals.h - the arguments and local variables of a frame found by the
 * stack walker, read from outside: names and kinds from its code object
 * (co_varnames, co_cellvars, co_freevars and co_cell2arg up to 3.10;
 * co_localsplusnames and co_localspluskinds from 3.11), values from the
 * frame's own slots (f_localsplus of the frame object up to 3.10, the
 * localsplus of the _PyInterpreterFrame from 3.11), cells and free
 * variables shown by their contents, each value rendered by render.h.
 *
 * What it must never do: run anything in the target, trust a count from
 * the target beyond FT_LOCALS_MAX, or show a value for a slot it could not
 * tie to a name of the frame's own code object. A frame read while its
 * thread runs may have changed since its stack was read: callers say so.
 */
#ifndef FT_LOCALS_H
#define FT_LOCALS_H

#include "render.h"
#include "walk.h"

#define FT_LOCALS_MAX 65536        /* slots of one frame read at most */

enum ft_local_kind {
    FT_LOCAL_POSITIONAL,          /* positional (or positional-only) argument */
    FT_LOCAL_KEYWORD_ONLY,
    FT_LOCAL_VAR_POSITIONAL,      /* *args */
    FT_LOCAL_VAR_KEYWORD,         /* **kwargs */
    FT_LOCAL_PLAIN,               /* a local variable */
    FT_LOCAL_CELL,                /* a local variable inner functions use */
    FT_LOCAL_FREE,                /* a variable of an enclosing function */
};

/* JSON / text names of the kinds: "positional", "keyword_only", ... */
extern const char *const ft_local_kind_names[];

struct ft_local {
    char *name;                   /* as the target has it: callers escape */
    enum ft_local_kind kind;
    int in_cell;                  /* the value lives in a cell (closures) */
    int set;                      /* 0: unset (not assigned yet, or deleted) */
    char *value;                  /* rendered text (NULL when unset) */
    struct ft_render_result info;
};

struct ft_frame_locals {
    struct ft_local *v;
    size_t n;
    char error[160];              /* set when the frame's locals could not be read */
};

/* Reads the locals of frame f (its code object and slots). Per-frame
 * problems go into out->error; returns -1 only when the process itself can
 * no longer be read. */
int ft_read_locals(struct ft_reader *r, struct ft_render_cache *cache,
                   const struct ft_render_limits *lim, const struct ft_frame *f,
                   struct ft_frame_locals *out);
void ft_frame_locals_free(struct ft_frame_locals *l);

/* The locals of every frame of a snapshot: [thread][frame]. */
struct ft_snapshot_locals {
    struct ft_frame_locals **threads;  /* NULL for a thread whose stack failed */
    size_t *nframes;
    size_t nthreads;
    int while_running;            /* read from a running process: may have changed */
};

int ft_snapshot_locals(struct ft_reader *r, const struct ft_snapshot *s,
                       const struct ft_render_limits *lim, int while_running,
                       struct ft_snapshot_locals *out);
void ft_snapshot_locals_free(struct ft_snapshot_locals *l);

#endif
