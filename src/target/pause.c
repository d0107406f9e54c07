/*
 * pause.c - ptrace-based stop and resume of all threads (see pause.h).
 * New threads can appear while stopping: the task list is re-read until a
 * pass finds none unstopped, a bounded number of times.
 */
#include "pause.h"

#include "../util/error.h"
#include "procfs.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FT_MAX_THREADS 65536

static int is_paused(const struct ft_proc *p, pid_t tid)
{
    for (size_t i = 0; i < p->npaused; i++)
        if (p->paused[i] == tid)
            return 1;
    return 0;
}

/* TracerPid from /proc/PID/status: who already holds the process, if anyone. */
static int tracer_of(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    char *s = ft_read_small_file(path, 16384);
    char *line = s ? strstr(s, "\nTracerPid:") : NULL;
    int tracer = line ? atoi(line + 11) : 0;
    free(s);
    return tracer;
}

static int stop_one(struct ft_proc *p, pid_t tid, int bounded);

int ft_thread_pause(struct ft_proc *p, pid_t tid)
{
    if (!p->paused && !(p->paused = malloc(FT_MAX_THREADS * sizeof *p->paused))) {
        ft_fail(FT_E_SYSTEM, "out of memory pausing process %d", (int)p->pid);
        return -1;
    }
    size_t before = p->npaused;
    if (stop_one(p, tid, 0) < 0) {
        ft_proc_resume(p);
        return -1;
    }
    return p->npaused > before;
}

void ft_thread_resume(struct ft_proc *p, pid_t tid)
{
    for (size_t i = 0; i < p->npaused; i++)
        if (p->paused[i] == tid) {
            ptrace(PTRACE_DETACH, tid, 0, 0);
            p->paused[i] = p->paused[--p->npaused];
            return;
        }
}

#define STOP_WAIT_NS 500000000ull /* a thread interrupted stops in microseconds */
#define STOP_SPIN_NS 2000000ull   /* polled without sleeping this long */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Waits for an interrupted thread's stop, never without bound: a thread
 * that exits instead (its process killed, a worker ending) may never
 * report one, and a blocking wait on it can wait for siblings that only
 * frametap, their tracer, would reap. 0: stopped or gone; -1: the process
 * is exiting (FT_E_EXITED) or the thread did not stop in time. */
static int wait_stopped(struct ft_proc *p, pid_t tid)
{
    uint64_t start = 0;
    for (;;) {
        int status;
        pid_t got = waitpid(tid, &status, __WALL | WNOHANG);
        if (got == tid)
            return 0;
        if (got < 0 && errno != EINTR)
            return errno == ECHILD ? 0 : -1;
        uint64_t now = mono_ns();
        if (!start)
            start = now;
        if (now - start < STOP_SPIN_NS) { /* the usual case: stopped within microseconds */
            sched_yield();
            continue;
        }
        if (ft_proc_is_exiting(p->pid)) {
            ft_fail(FT_E_EXITED, "process %d exited while it was being paused", (int)p->pid);
            return -1;
        }
        if (now - start > STOP_WAIT_NS) {
            ft_fail(FT_E_CORRUPT, "thread %d of process %d did not stop within %llu ms of "
                    "PTRACE_INTERRUPT", (int)tid, (int)p->pid,
                    (unsigned long long)(STOP_WAIT_NS / 1000000ull));
            return -1;
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

/* bounded: the whole process is being stopped (dump, --blocking, wasm
 * targets), where a thread that never stops must not hang frametap; a
 * single running thread held for one read (the sampler's hot path) keeps
 * the blocking wait, which wakes at once (polling cost 4x the rate). */
static int stop_one(struct ft_proc *p, pid_t tid, int bounded)
{
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) < 0) {
        int err = errno;
        if (err == ESRCH)
            return 0; /* thread ended meanwhile: nothing to stop */
        int tracer = tracer_of(p->pid);
        if (err == EPERM && tracer == (int)getpid())
            return 0; /* we hold its siblings: this one is exiting and cannot be held */
        if (err == EPERM && tracer > 0)
            ft_fail(FT_E_PERM, "process %d is already traced by process %d (a debugger or "
                    "another profiler): detach it, or use --nonblocking, which needs no ptrace "
                    "stop", (int)p->pid, tracer);
        else
            ft_proc_fail_errno(p->pid, err, "pause the threads (ptrace)");
        return -1;
    }
    p->paused[p->npaused++] = tid;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
        return errno == ESRCH ? 0 : -1;
    if (bounded)
        return wait_stopped(p, tid);
    int status;
    while (waitpid(tid, &status, __WALL) < 0) {
        if (errno != EINTR)
            return errno == ECHILD ? 0 : -1;
    }
    return 0;
}

int ft_proc_pause(struct ft_proc *p)
{
    pid_t *tids = malloc(FT_MAX_THREADS * sizeof *tids);
    if (!p->paused)
        p->paused = malloc(FT_MAX_THREADS * sizeof *p->paused);
    if (!tids || !p->paused) {
        free(tids);
        ft_fail(FT_E_SYSTEM, "out of memory pausing process %d", (int)p->pid);
        return -1;
    }
    p->npaused = 0;
    int rc = 0;
    for (int pass = 0; pass < 8 && rc == 0; pass++) {
        ssize_t n = ft_list_threads(p->pid, tids, FT_MAX_THREADS);
        if (n < 0) {
            rc = -1;
            break;
        }
        size_t fresh = 0;
        for (ssize_t i = 0; i < n && rc == 0; i++) {
            if (is_paused(p, tids[i]) || p->npaused >= FT_MAX_THREADS)
                continue;
            fresh++;
            rc = stop_one(p, tids[i], 1);
        }
        if (fresh == 0)
            break;
    }
    free(tids);
    if (rc < 0)
        ft_proc_resume(p);
    return rc;
}

void ft_proc_resume(struct ft_proc *p)
{
    for (size_t i = 0; i < p->npaused; i++)
        ptrace(PTRACE_DETACH, p->paused[i], 0, 0);
    p->npaused = 0;
}
