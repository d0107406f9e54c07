/*
 * native_stacks.h - `dump --native` for a snapshot: each thread's native
 * stack unwound, symbolized and merged with its Python frames.
 *
 * One struct ft_native per target (live or core) holds the libdwfl
 * session and the symbol cache across snapshots. ft_native_collect must
 * run while the snapshot's threads are still stopped (or on a core): the
 * Python frames and the native stack then describe the same instant.
 * Never pauses, resumes or writes to the target itself.
 */
#ifndef FT_NATIVE_STACKS_H
#define FT_NATIVE_STACKS_H

#include "../cpython/session.h"
#include "merge.h"
#include "symbolize.h"
#include "unwind.h"

struct ft_native_thread {
    struct ft_native_stack stack;
    struct ft_native_sym *syms;      /* per native frame */
    unsigned char *in_interp;        /* per native frame: in the interpreter's binary */
    struct ft_merged merged;
    char error[256];                 /* the native stack could not be read: why */
};

struct ft_native_set {
    struct ft_native_thread *t;      /* one per snapshot thread, same order */
    size_t n;
};

struct ft_native;
struct ft_core;

/* For session s (a live process, whose threads the caller stops around
 * each collect, or the core it was opened on). NULL with ft_fail(). */
struct ft_native *ft_native_open(struct ft_session *s, const struct ft_core *core);
void ft_native_close(struct ft_native *n);

/* Unwinds, symbolizes and merges every thread of snap. Per-thread
 * failures go in ->error; -1 (ft_fail) only when nothing can be done. */
int ft_native_collect(struct ft_native *n, struct ft_session *s, const struct ft_snapshot *snap,
                      struct ft_native_set *out);
void ft_native_set_free(struct ft_native_set *set);

/* The same for one thread t (stopped by the caller) into out (zeroed
 * first by the caller; free with ft_native_thread_free): what a sampler
 * calls per sample. Strings of earlier calls may be freed by it. */
int ft_native_thread(struct ft_native *n, struct ft_session *s, const struct ft_thread *t,
                     struct ft_native_thread *out);
void ft_native_thread_free(struct ft_native_thread *nt);

/* Whether an item of a merged stack is the interpreter's own call
 * plumbing, which text and profiles leave out: an eval-loop frame (its
 * Python frames stand for it) or a _Py*, PyEval_*, *vectorcall* frame of
 * the interpreter's binary. Only in a merged stack. */
int ft_native_item_hidden(const struct ft_native_thread *nt, const struct ft_mitem *it);

/* Timings of the last collect, for benchmarks: unwinding only (µs). */
double ft_native_last_unwind_us(const struct ft_native *n);

#endif
