/*
 * procfs.h - small helpers over /proc: whole-file reads with a size bound,
 * thread lists, and the errno-to-advice mapping shared by the target layer.
 */
#ifndef FT_PROCFS_H
#define FT_PROCFS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads a whole file (up to max bytes) into a NUL-terminated heap string,
 * or NULL with errno set. */
char *ft_read_small_file(const char *path, size_t max);

/* Fails with the advice that fits errno for "could not <what> of PID". */
void ft_proc_fail_errno(pid_t pid, int err, const char *what);

/* Lists thread ids of pid (bounded). Returns count or -1 (ft_fail set). */
ssize_t ft_list_threads(pid_t pid, pid_t *out, size_t max);

/* Thread name from /proc/PID/task/TID/comm into buf (empty if gone). */
void ft_thread_name(pid_t pid, pid_t tid, char *buf, size_t size);

/* Scheduler state letter of a thread ('R' running, 'S' sleeping...), or '?'. */
char ft_thread_state(pid_t pid, pid_t tid);

/* 1 if pid is gone, a zombie, or tearing down its memory. */
int ft_proc_is_exiting(pid_t pid);

/* The thread ids of pid as its own PID namespace numbers them (the last
 * NSpid of /proc/PID/task/TID/status) against ours: a process in a
 * container reports those in its thread states. Fills up to max pairs;
 * returns how many, 0 when pid lives in our namespace. */
struct ft_nspid {
    pid_t inner, host;
};
size_t ft_ns_tids(pid_t pid, struct ft_nspid *out, size_t max);

/* When pid started (clock ticks since boot, /proc/PID/stat field 22), 0 if
 * it is gone: with the pid, the identity of a process (pids are reused). */
uint64_t ft_proc_start_time(pid_t pid);

/* Parent of pid (/proc/PID/stat field 4), 0 if it is gone. */
pid_t ft_proc_parent(pid_t pid);

/* Opens /proc/PID/task/TID/NAME read-only (kept open and read with pread
 * by samplers); -1 with errno on failure. */
int ft_open_task_file(pid_t pid, int64_t tid, const char *name);

#endif
