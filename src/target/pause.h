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

#endif
