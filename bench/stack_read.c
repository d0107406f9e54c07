/*
 * stack_read.c - benchmark: CPU time and remote-read syscalls for one full
 * read of a thread's Python stack, the unit of work of every sampler.
 *
 *   build/bench/stack_read PID ITERATIONS
 *
 * Attaches without pausing, finds the deepest thread, and reads its stack
 * ITERATIONS times in each of two ways (after one warm-up read that fills
 * the code cache): the full read that dump uses (every code object checked
 * on every read) and the sampler's speculative read (fastread.h). Prints one
 * line of key=value figures. Never writes to the target.
 */
#include "cpython/fastread.h"
#include "cpython/session.h"
#include "cpython/walk.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The thread with the deepest stack: its state, interpreter and id. */
static void deepest_thread(struct ft_session *s, struct ft_thread *t)
{
    struct ft_snapshot snap;
    struct ft_walk_opts wo = {.paused = 0};
    size_t depth = 0;
    if (ft_snapshot_take(&s->reader, &s->rt, &wo, &snap) < 0)
        return;
    for (size_t i = 0; i < snap.nthreads; i++)
        if (snap.threads[i].nframes >= depth) {
            depth = snap.threads[i].nframes;
            t->tstate = snap.threads[i].tstate;
            t->interp = snap.threads[i].interp;
            t->thread_id = snap.threads[i].thread_id;
        }
    ft_snapshot_free(&snap);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PID ITERATIONS\n", argv[0]);
        return 2;
    }
    struct ft_session s;
    if (ft_session_open(&s, atoi(argv[1]), FT_DISC_AUTO) < 0) {
        fprintf(stderr, "stack_read: %s\n", ft_error_message());
        return 1;
    }
    long iterations = atol(argv[2]);
    struct ft_thread t;
    memset(&t, 0, sizeof t);
    deepest_thread(&s, &t);
    if (!t.tstate || ft_read_thread_stack(&s.reader, &t, 0) < 0) {
        fprintf(stderr, "stack_read: no stack: %s\n", ft_error_message());
        return 1;
    }
    size_t frames = t.nframes;
    free(t.frames);
    long errors = 0, fast_errors = 0;
    uint64_t sys0 = s.proc.syscalls;
    double c0 = cpu_seconds();
    for (long i = 0; i < iterations; i++) {
        t.frames = NULL;
        if (ft_read_thread_stack(&s.reader, &t, 0) < 0 || t.error[0])
            errors++;
        free(t.frames);
    }
    double full = cpu_seconds() - c0;
    uint64_t full_sys = s.proc.syscalls - sys0;
    struct ft_fastread *fast = ft_fastread_new();
    sys0 = s.proc.syscalls;
    c0 = cpu_seconds();
    for (long i = 0; i < iterations; i++) {
        t.frames = NULL;
        if (ft_fastread_stack(&s.reader, fast, &t, 0) < 0 || t.error[0])
            fast_errors++;
        free(t.frames);
    }
    double fastcpu = cpu_seconds() - c0;
    uint64_t fast_sys = s.proc.syscalls - sys0;
    printf("python=%s frames=%zu full_us=%.3f full_syscalls=%.2f fast_us=%.3f fast_syscalls=%.2f "
           "full_errors=%ld fast_errors=%ld fast_misses=%llu iterations=%ld\n",
           s.version, frames, full * 1e6 / (double)iterations, (double)full_sys / (double)iterations,
           fastcpu * 1e6 / (double)iterations, (double)fast_sys / (double)iterations, errors,
           fast_errors, (unsigned long long)ft_fastread_misses(fast), iterations);
    ft_fastread_free(fast);
    ft_session_close(&s);
    return 0;
}
