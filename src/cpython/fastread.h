/*
 * fastread.h - stack reads for samplers, aiming at one syscall per stack.
 *
 * Between two samples most of a stack stays where it was. Per thread, this
 * remembers where the frames were last time and reads the thread state
 * together with that memory in one process_vm_readv: on 3.11+ the used part
 * of the data-stack chunk (plus slack), on 3.8-3.10 the last frames' heads.
 * The guess is then checked against the fresh thread state (same chunk, top
 * inside what was read; the same frame chain); a miss costs a full read.
 * The same syscall checks the code objects last seen and re-reads what the
 * stack was built from, so that a stack is written only once confirmed
 * (see evidence.h and fastread.c).
 */
#ifndef FT_FASTREAD_H
#define FT_FASTREAD_H

#include "walk.h"

struct ft_fastread;

struct ft_fastread *ft_fastread_new(void);
void ft_fastread_free(struct ft_fastread *f);

/* Reads t->tstate's stack into t (frames, or t->error for a torn read),
 * with up to `tries` reads (0: the default, 16). Returns -1 only when the
 * process can no longer be read. */
int ft_fastread_stack(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t, int tries);

/* The same for a thread held still (paused): one copy of the places and
 * the thread state, no comparison; places learnt or stretched as needed. */
int ft_fastread_paused(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t);

/* Forgets where the stack was: the next read finds it afresh (the full
 * path, for `--read full` and for checking the fast one). */
void ft_fastread_forget(struct ft_fastread *f);

/* Why copies of a running thread's frames cannot fully vouch for one
 * moment on this Python (one sentence, no final stop), or NULL where
 * they can (3.14+, which clears a frame's code when it returns). */
const char *ft_fastread_limit(const struct ft_layout *l);

/* Reads that needed more than the one speculative syscall. */
uint64_t ft_fastread_misses(const struct ft_fastread *f);

#endif
