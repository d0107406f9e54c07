/*
 * native_cost.c - benchmark: what `dump --native` costs on a target, split
 * into the libdwfl session (modules reported, process attached), the
 * first collect (unwind + symbolize + merge with cold caches: CFI and
 * symbol tables loaded) and warm collects (what `record --native` pays per
 * sample once the session is kept), per thread.
 *
 *   build/bench/native_cost PID ITERATIONS
 *
 * Holds the target's threads stopped for the whole measurement (the stop
 * itself is not counted; see `record --native` for that). Prints one line
 * of key=value figures. Never writes to the target.
 */
#include "cpython/session.h"
#include "cpython/walk.h"
#include "native/native_stacks.h"
#include "target/pause.h"
#include "util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int fail(const char *what)
{
    fprintf(stderr, "native_cost: %s: %s\n", what, ft_error_message());
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PID ITERATIONS\n", argv[0]);
        return 2;
    }
    long iterations = atol(argv[2]);
    struct ft_session s;
    if (ft_session_open(&s, atoi(argv[1]), FT_DISC_AUTO) < 0)
        return fail("attach");
    double t0 = now_ms();
    struct ft_native *n = ft_native_open(&s, NULL);
    double setup = now_ms() - t0;
    if (!n)
        return fail("native session");
    if (ft_proc_pause(&s.proc) < 0)
        return fail("pause");
    struct ft_snapshot snap;
    struct ft_walk_opts wo = {.paused = 1};
    if (ft_snapshot_take(&s.reader, &s.rt, &wo, &snap) < 0)
        return fail("snapshot");
    struct ft_native_set set;
    t0 = now_ms();
    if (ft_native_collect(n, &s, &snap, &set) < 0)
        return fail("collect");
    double first = now_ms() - t0, first_unwind = ft_native_last_unwind_us(n);
    size_t frames = 0, deepest_py = 0;
    for (size_t i = 0; i < set.n; i++) {
        frames += set.t[i].stack.n;
        if (snap.threads[i].nframes > deepest_py)
            deepest_py = snap.threads[i].nframes;
    }
    ft_native_set_free(&set);
    double warm = 0, warm_unwind = 0;
    for (long k = 0; k < iterations; k++) {
        t0 = now_ms();
        if (ft_native_collect(n, &s, &snap, &set) < 0)
            return fail("collect");
        warm += now_ms() - t0;
        warm_unwind += ft_native_last_unwind_us(n);
        ft_native_set_free(&set);
    }
    ft_proc_resume(&s.proc);
    size_t threads = snap.nthreads;
    printf("threads=%zu python_frames=%zu native_frames=%zu setup_ms=%.3f first_collect_ms=%.3f "
           "first_unwind_us_per_thread=%.1f warm_collect_us_per_thread=%.1f "
           "warm_unwind_us_per_thread=%.1f warm_unwind_us_per_frame=%.2f\n",
           threads, deepest_py, frames, setup, first, first_unwind / (double)threads,
           warm * 1e3 / (double)iterations / (double)threads,
           warm_unwind / (double)iterations / (double)threads,
           warm_unwind / (double)iterations / (double)(frames ? frames : 1));
    ft_snapshot_free(&snap);
    ft_native_close(n);
    ft_session_close(&s);
    return 0;
}
