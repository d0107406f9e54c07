/*
 * pause.h - stopping every thread of a target for a consistent snapshot.
 *
 * Uses PTRACE_SEIZE + PTRACE_INTERRUPT, so the target gets no signal and, if
 * frametap dies, the kernel detaches and the target simply runs on. Stopping
 * is not writing: no register or memory of the target is changed.
 */
#ifndef FT_PAUSE_H
#define FT_PAUSE_H

#include "process.h"

/* Stops all threads. Returns 0, or -1 with ft_fail() set (all resumed). */
int ft_proc_pause(struct ft_proc *p);
/* Resumes whatever ft_proc_pause() stopped. Safe to call when not paused. */
void ft_proc_resume(struct ft_proc *p);

/* Stops one thread (the rest run on), for a sampler that needs a running
 * thread held still for the instant of one read. 1: stopped; 0: the thread
 * is gone or exiting (nothing to read); -1: ft_fail() set. */
int ft_thread_pause(struct ft_proc *p, pid_t tid);
/* Lets a thread stopped by ft_thread_pause() run on. */
void ft_thread_resume(struct ft_proc *p, pid_t tid);

#endif
