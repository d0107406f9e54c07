/*
 * walk.h - reading every interpreter's threads and their Python stacks.
 *
 * Produces plain values (struct ft_snapshot); knows offsets only through
 * struct ft_layout. A stack that fails validation while the target runs
 * (cycle, non-code object, instruction outside its code, unreadable frame)
 * is re-read a few times and, if it never validates, reported as an error
 * for that thread: it is never returned as if it were true.
 */
#ifndef FT_WALK_H
#define FT_WALK_H

#include "code.h"
#include "thread_names.h"

#define FT_MAX_DEPTH 8192
#define FT_MAX_THREADS_PER_INTERP 4096
#define FT_MAX_INTERPRETERS 256

struct ft_frame {
    const struct ft_code *code;
    int line;                     /* -1: the table has no line here */
    uint64_t addr;                /* where the frame lives in the target */
};

struct ft_thread {
    uint64_t tstate;
    uint64_t interp;              /* its interpreter state */
    uint64_t thread_id;           /* pthread_t, as threading.get_ident() */
    int64_t native_id;            /* OS thread id, -1 if unknown */
    int64_t interp_id;
    char name[64];                /* OS thread name (/proc comm) */
    char python_name[FT_PYTHREAD_NAME_MAX + 1]; /* threading's name for it ... */
    int has_python_name;          /* ... if threading knows the thread */
    int holds_gil;
    int on_cpu;
    struct ft_frame *frames;      /* innermost first */
    size_t nframes;
    int truncated;                /* deeper than FT_MAX_DEPTH */
    int gc_collecting;            /* its interpreter was collecting garbage */
    int gone;                     /* the thread ended: its state belongs to another now */
    uint64_t gc_frame;            /* 3.15+: the frame the collection began in, 0 unknown */
    char error[256];              /* set when the stack could not be read */
};

struct ft_snapshot {
    struct ft_thread *threads;
    size_t nthreads;
};

struct ft_walk_opts {
    int paused;                   /* target is stopped: a failed check is corruption */
    const pid_t *running;         /* threads seen on a CPU just before pausing; */
    size_t nrunning;              /* NULL: ask /proc during the walk            */
    int python_names;             /* read threading's names, once per interpreter */
};

/* Reads all threads of all interpreters. Returns 0, or -1 (ft_fail set) when
 * the process itself cannot be read; per-thread problems go in ->error. */
int ft_snapshot_take(struct ft_reader *r, const struct ft_runtime *rt,
                     const struct ft_walk_opts *opts, struct ft_snapshot *out);
void ft_snapshot_free(struct ft_snapshot *s);

/* Reads one thread's stack into t (t->tstate, t->interp and t->thread_id
 * set by the caller; thread_id 0: not checked). A running target's stack
 * is read as fastread.h says: consistent, or t->error. */
int ft_read_thread_stack(struct ft_reader *r, struct ft_thread *t, int paused);
/* Thread states without their stacks: what a sampler refreshes now and then. */
struct ft_tstate_ref {
    uint64_t tstate, interp, thread_id;
    int64_t interp_id, native_id;
};
int ft_list_tstates(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tstate_ref *out,
                    size_t max, size_t *count);
/* Whether interp is collecting garbage, and (3.15+) the frame the
 * collection began in (0: not published or no Python frame). */
int ft_gc_state(struct ft_reader *r, uint64_t interp, int *collecting, uint64_t *frame);
/* Where a <GC> frame goes in t's frames (innermost first): above the frame
 * the collection began in (3.15+), else on top when t is the collector
 * (holder: the GIL holder's thread state). -1: t is not collecting. */
long ft_gc_position(const struct ft_thread *t, uint64_t holder);

/* The thread state holding interp's GIL now (0: none or unknown). */
uint64_t ft_gil_holder(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp);

/* Frees the walker's scratch memory held by r. */
void ft_walk_scratch_free(struct ft_reader *r);

#endif
