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

static int stop_one(struct ft_proc *p, pid_t tid);
static void detach_one(struct ft_proc *p, pid_t tid);

int ft_thread_pause(struct ft_proc *p, pid_t tid)
{
    if (!p->paused && !(p->paused = malloc(FT_MAX_THREADS * sizeof *p->paused))) {
        ft_fail(FT_E_SYSTEM, "out of memory pausing process %d", (int)p->pid);
        return -1;
    }
    size_t before = p->npaused;
    if (stop_one(p, tid) < 0) {
        ft_proc_resume(p);
        return -1;
    }
    return p->npaused > before;
}

void ft_thread_resume(struct ft_proc *p, pid_t tid)
{
    for (size_t i = 0; i < p->npaused; i++)
        if (p->paused[i] == tid) {
            detach_one(p, tid);
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

#define DETACH_WAIT_NS 200000000ull /* a stop asked for arrives in microseconds */

/* Whether frametap is p's parent (a command it launched), asked once. */
static int launched_by_us(struct ft_proc *p)
{
    if (!p->our_child)
        p->our_child = ft_proc_parent(p->pid) == getpid() ? 1 : 2;
    return p->our_child == 1;
}

enum wait_event { EV_ERROR = -1, EV_NONE, EV_STOPPED, EV_GONE };

/* The next wait event of a seized thread, without waiting. The exit of a
 * command frametap launched is seen but left uncollected: launch.c
 * collects it, with the status frametap reports. Any other exit is
 * collected: only the tracer may, and until it does the kernel reports
 * the process's exit to no one. */
static enum wait_event next_event(struct ft_proc *p, pid_t tid)
{
    if (tid == p->pid && launched_by_us(p)) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WNOHANG | __WALL) < 0)
            return errno == EINTR ? EV_NONE : errno == ECHILD ? EV_GONE : EV_ERROR;
        if (si.si_pid == tid)
            return EV_STOPPED;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)tid, &si, WEXITED | WNOHANG | WNOWAIT | __WALL) == 0 && si.si_pid == tid)
            return EV_GONE;
        return EV_NONE;
    }
    int status;
    pid_t got = waitpid(tid, &status, __WALL | WNOHANG);
    if (got == tid)
        return WIFSTOPPED(status) ? EV_STOPPED : EV_GONE;
    if (got == 0 || (got < 0 && errno == EINTR))
        return EV_NONE;
    return errno == ECHILD ? EV_GONE : EV_ERROR;
}

/* A seized thread can be let go only from a ptrace-stop: one whose stop
 * was asked for but not yet seen (a pause abandoned half-way) is waited
 * for, then let go; left traced, it would stay stopped. One that exited
 * meanwhile is collected (next_event). Quiet: the error that abandoned
 * the pause is the one to say. */
static void detach_one(struct ft_proc *p, pid_t tid)
{
    if (ptrace(PTRACE_DETACH, tid, 0, 0) == 0 || errno != ESRCH)
        return;
    uint64_t start = mono_ns();
    do {
        enum wait_event ev = next_event(p, tid);
        if (ev == EV_STOPPED)
            ptrace(PTRACE_DETACH, tid, 0, 0);
        if (ev != EV_NONE)
            return;
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    } while (mono_ns() - start < DETACH_WAIT_NS);
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
        enum wait_event ev = next_event(p, tid);
        if (ev == EV_STOPPED || ev == EV_GONE)
            return 0;
        if (ev == EV_ERROR)
            return -1;
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

/* Seizes tid and asks it to stop. 1: it will report a stop to wait for;
 * 0: nothing to wait for (it ended meanwhile, or is exiting under us);
 * -1: it cannot be held (another tracer, permission). */
static int interrupt_one(struct ft_proc *p, pid_t tid)
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
    return 1;
}

/* The blocking wait for the stop of a command frametap launched, which
 * must not collect its exit (launch.c does, with its status): the event
 * is looked at first and collected only if it is the stop. Polling
 * instead would take milliseconds: the poller holds the CPU the thread
 * needs to reach its stop. */
static int wait_leader_stopped(pid_t tid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    while (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WEXITED | WNOWAIT | __WALL) < 0)
        if (errno != EINTR)
            return errno == ECHILD ? 0 : -1;
    if (si.si_code != CLD_TRAPPED && si.si_code != CLD_STOPPED)
        return 0; /* it exited instead */
    while (waitid(P_PID, (id_t)tid, &si, WSTOPPED | WNOHANG | __WALL) < 0)
        if (errno != EINTR)
            return -1;
    return 0;
}

/* A single running thread held for one read (the sampler's hot path)
 * keeps the blocking wait, which wakes at once (polling cost 4x the
 * rate). */
static int stop_one(struct ft_proc *p, pid_t tid)
{
    int rc = interrupt_one(p, tid);
    if (rc <= 0)
        return rc;
    if (tid == p->pid && launched_by_us(p))
        return wait_leader_stopped(tid);
    int status;
    while (waitpid(tid, &status, __WALL) < 0) {
        if (errno != EINTR)
            return errno == ECHILD ? 0 : -1;
    }
    return 0;
}

/* One pass over the task list: every thread not yet held is stopped, one
 * after the other. (Interrupting all of them first, then waiting, was
 * tried; in runs on a loaded machine a pyodide program split 30/70 by
 * time read as 37/63, and it was not kept without a cleaner measure.)
 * -1 on failure; else how many threads were new. */
static ssize_t pause_pass(struct ft_proc *p, pid_t *tids)
{
    ssize_t n = ft_list_threads(p->pid, tids, FT_MAX_THREADS);
    if (n < 0)
        return -1;
    size_t fresh = 0;
    for (ssize_t i = 0; i < n; i++) {
        if (is_paused(p, tids[i]) || p->npaused >= FT_MAX_THREADS)
            continue;
        fresh++;
        int rc = interrupt_one(p, tids[i]);
        if (rc < 0 || (rc > 0 && wait_stopped(p, tids[i]) < 0))
            return -1;
    }
    return (ssize_t)fresh;
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
    ssize_t fresh = 1;
    for (int pass = 0; pass < 8 && fresh > 0; pass++)
        fresh = pause_pass(p, tids);
    free(tids);
    if (fresh < 0)
        ft_proc_resume(p);
    return fresh < 0 ? -1 : 0;
}

void ft_proc_resume(struct ft_proc *p)
{
    for (size_t i = 0; i < p->npaused; i++)
        detach_one(p, p->paused[i]);
    p->npaused = 0;
}
