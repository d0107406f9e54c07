/*
 * coro.h - a coroutine's await chain, read from outside: the coroutine's
 * own frame, then the coroutine it awaits, and so on, as long as what is
 * awaited is a coroutine of the same type (what `await inner()` makes);
 * where the chain meets anything else (a Future, a Task's iterator, a
 * generator) it ends and that object is handed back.
 *
 * Frames live in the coroutine: gi_frame (a frame object) up to 3.10, the
 * _PyInterpreterFrame embedded at gi_iframe from 3.11. A coroutine waiting
 * in an await keeps what it awaits on top of its value stack (up to 3.10
 * f_stacktop[-1] or f_valuestack[f_stackdepth - 1]; 3.11-3.13
 * localsplus[stacktop - 1]; 3.14+ the topmost non-NULL slot below
 * stackpointer: 3.15 leaves a NULL above it).
 *
 * What it must never do: follow more than FT_CORO_MAX links, loop on a
 * chain that comes back to itself, run anything in the target, or show a
 * frame whose code object does not check out (code.h).
 */
#ifndef FT_CORO_H
#define FT_CORO_H

#include "code.h"

#define FT_CORO_MAX 256           /* coroutines followed in one chain */

struct ft_coro_frame {
    const struct ft_code *code;
    int line;                     /* -1: unknown */
    uint64_t frame;               /* the frame's address (its locals are there) */
};

struct ft_coro_chain {
    struct ft_coro_frame v[FT_CORO_MAX];
    size_t n;                     /* outermost (the task's coroutine) first */
    int truncated;                /* longer than FT_CORO_MAX */
    uint64_t awaited;             /* what the last coroutine awaits (0: none) */
};

/* Reads the chain starting at coroutine coro. 0, or -1 with ft_fail()
 * set (a frame or code object that does not check out). */
int ft_coro_chain(struct ft_reader *r, uint64_t coro, struct ft_coro_chain *out);

#endif
