/*
 * clock_cost.c - what one timestamp costs on this machine: the TSC read the
 * tracer stamps every event with, and clock_gettime(CLOCK_MONOTONIC) for
 * comparison. Run by `make bench-trace`; explains part of the tracer's
 * cost per event over a hook that only counts.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

#define N 50000000

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(void)
{
    volatile uint64_t sink = 0;
    double t0 = now();
#if defined(__x86_64__) || defined(__i386__)
    for (int i = 0; i < N; i++)
        sink += __rdtsc();
    double t1 = now();
    printf("rdtsc:                    %.2f ns per read\n", (t1 - t0) / N);
#endif
    t0 = now();
    for (int i = 0; i < N / 10; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        sink += (uint64_t)ts.tv_nsec;
    }
    printf("clock_gettime(MONOTONIC): %.2f ns per read\n", (now() - t0) / (N / 10));
    return (int)(sink & 0);
}
