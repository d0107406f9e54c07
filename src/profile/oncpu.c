/*
 * oncpu.c - whether a thread is on a CPU now, cheaply (see oncpu.h).
 * Whether wchan can be trusted is learnt once per run from a child that
 * sleeps: a kernel that does not fill wchan in shows "0" for every
 * thread, which would make every thread look busy.
 */
#include "oncpu.h"

#include "../target/procfs.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TRUST_WAIT_NS 200000000L /* a child reaches pause() in well under this */
#define TRUST_POLL_NS 1000000L

static ssize_t read_fd(int fd, char *buf, size_t size)
{
    ssize_t n = fd >= 0 ? pread(fd, buf, size - 1, 0) : -1;
    buf[n > 0 ? n : 0] = '\0';
    return n;
}

/* A sleeping child's wchan names where it sleeps, on a kernel that fills
 * it in. */
static int wchan_filled_in(void)
{
    pid_t child = fork();
    if (child < 0)
        return 0;
    if (child == 0) {
        for (;;)
            pause();
    }
    int fd = ft_open_task_file(child, child, "wchan"), filled = 0;
    for (long waited = 0; fd >= 0 && !filled && waited < TRUST_WAIT_NS; waited += TRUST_POLL_NS) {
        char buf[128];
        filled = read_fd(fd, buf, sizeof buf) > 0 && strcmp(buf, "0") != 0;
        struct timespec ts = {0, TRUST_POLL_NS};
        if (!filled)
            nanosleep(&ts, NULL);
    }
    if (fd >= 0)
        close(fd);
    kill(child, SIGKILL);
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    return filled;
}

static int wchan_trusted(void)
{
    static int trusted = -1;
    if (trusted < 0)
        trusted = getenv("FRAMETAP_NO_WCHAN") ? 0 : wchan_filled_in();
    return trusted;
}

void ft_oncpu_none(struct ft_oncpu *c)
{
    c->state_fd = -1;
    c->state_is_wchan = 0;
    c->sched_fd = -1;
    c->idle_runs = -1;
}

void ft_oncpu_open(struct ft_oncpu *c, pid_t pid, int64_t tid)
{
    ft_oncpu_close(c);
    c->state_is_wchan = wchan_trusted();
    c->state_fd = ft_open_task_file(pid, tid, c->state_is_wchan ? "wchan" : "stat");
    c->sched_fd = ft_open_task_file(pid, tid, "schedstat");
}

void ft_oncpu_close(struct ft_oncpu *c)
{
    if (c->state_fd >= 0)
        close(c->state_fd);
    if (c->sched_fd >= 0)
        close(c->sched_fd);
    ft_oncpu_none(c);
}

int ft_oncpu_is_open(const struct ft_oncpu *c)
{
    return c->state_fd >= 0;
}

int ft_stat_running(int fd)
{
    char buf[512];
    if (read_fd(fd, buf, sizeof buf) <= 0)
        return 0;
    char *close = strrchr(buf, ')'); /* the name may hold spaces and ')' */
    return close && close[1] == ' ' && close[2] == 'R';
}

/* The state read itself: wchan is "0" exactly while the thread is in
 * state R (a thread that ended reads as an error: not running). */
static int state_running(const struct ft_oncpu *c)
{
    if (!c->state_is_wchan)
        return ft_stat_running(c->state_fd);
    char buf[128];
    return read_fd(c->state_fd, buf, sizeof buf) > 0 && strcmp(buf, "0") == 0;
}

long long ft_oncpu_runs(const struct ft_oncpu *c)
{
    char buf[128];
    if (read_fd(c->sched_fd, buf, sizeof buf) <= 0)
        return -1;
    unsigned long long ran, waited, runs;
    if (sscanf(buf, "%llu %llu %llu", &ran, &waited, &runs) != 3 || ran == 0)
        return -1; /* "0 0 0": the kernel keeps no counts */
    return (long long)runs;
}

/* A thread seen idle costs one short read while its count of runs stands
 * still: it was not put on a CPU since. One seen running is asked its
 * state; when it turns idle, its count is learnt before a second look
 * confirms, so that a wake-up between the two cannot be missed. */
int ft_oncpu_now(struct ft_oncpu *c)
{
    if (c->idle_runs >= 0) {
        long long runs = ft_oncpu_runs(c);
        if (runs == c->idle_runs)
            return 0;
        c->idle_runs = -1;
        if (state_running(c))
            return 1;
        c->idle_runs = runs;
        return 0;
    }
    if (state_running(c))
        return 1;
    long long runs = ft_oncpu_runs(c);
    if (runs >= 0 && !state_running(c))
        c->idle_runs = runs;
    return 0;
}
