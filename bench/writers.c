/*
 * writers.c - how long each profile writer takes on a large synthetic
 * profile shaped like exec-generated code: STACKS distinct stacks (each
 * through its own generated function under one shared caller, so one flame
 * graph node has STACKS children), SAMPLES samples over THREADS threads, a
 * timeline for the Chrome trace. Each writer runs in a forked child, so its
 * peak RSS is measured apart from the others. Prints a Markdown table for
 * bench/RESULTS.md; it measures, it never asserts.
 *
 * usage: build/bench/writers [STACKS [SAMPLES [THREADS]]]   (20000 60000 8)
 */
#include "output/profile_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELPERS 300
#define PREFIX 4
#define MAX_TAIL 8

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Stack i, innermost first: helpers, gen_i, then the shared prefix. */
static size_t make_stack(struct ft_profile *p, size_t i, struct ft_loc *locs)
{
    static const char *prefix[PREFIX] = {"dispatch", "run", "main", "<module>"};
    char name[64];
    size_t n = 0, tail = rnd() % (MAX_TAIL + 1);
    for (size_t k = 0; k < tail; k++) {
        snprintf(name, sizeof name, "helper_%llu", (unsigned long long)(rnd() % HELPERS));
        locs[n++] = (struct ft_loc){ft_profile_func(p, name, "/srv/app/helpers.py", 1), (int)(k + 10)};
    }
    snprintf(name, sizeof name, "generated_%zu", i);
    locs[n++] = (struct ft_loc){ft_profile_func(p, name, "<string>", (int)i), (int)i + 1};
    for (size_t k = 0; k < PREFIX; k++)
        locs[n++] = (struct ft_loc){ft_profile_func(p, prefix[k], "/srv/app/main.py", 1), (int)(20 + k)};
    return n;
}

static void build(struct ft_profile *p, size_t nstacks, size_t nsamples, size_t nthreads)
{
    struct ft_loc locs[MAX_TAIL + 1 + PREFIX];
    uint32_t *ids = malloc(nstacks * sizeof *ids);
    if (!ids)
        abort();
    ft_profile_init(p, 1);
    for (size_t t = 0; t < nthreads; t++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%zu", t);
        ft_profile_thread(p, (int64_t)(1000 + t), name);
    }
    for (size_t i = 0; i < nstacks; i++)
        ids[i] = ft_profile_stack(p, locs, make_stack(p, i, locs), 0);
    uint64_t now = 1000000000ull;
    for (size_t s = 0; s < nsamples; s++, now += 1000000 / nthreads) {
        uint32_t stack = s < nstacks ? ids[s] : ids[rnd() % nstacks];
        ft_profile_add(p, (uint32_t)(rnd() % nthreads), stack, now);
    }
    free(ids);
}

struct result {
    double seconds;
    long maxrss_kb;
    long long bytes;
    int ok;
};

/* Writes p as f in a child; returns its time, peak RSS and file size. */
static struct result run_writer(const struct ft_profile *p, enum ft_format f, int per_thread,
                                const char *path)
{
    struct result r = {0, 0, 0, 0};
    int fd[2];
    if (pipe(fd) < 0)
        return r;
    pid_t pid = fork();
    if (pid == 0) {
        struct ft_write_opts o = {per_thread, "bench", "cpu", 1000000};
        double t0 = now_s();
        int rc = ft_write_profile(path, f, p, &o);
        double dt = now_s() - t0;
        if (rc == 0 && write(fd[1], &dt, sizeof dt) != sizeof dt)
            _exit(2);
        _exit(rc == 0 ? 0 : 1);
    }
    close(fd[1]);
    int status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    r.ok = read(fd[0], &r.seconds, sizeof r.seconds) == sizeof r.seconds;
    close(fd[0]);
    if (pid < 0 || wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        r.ok = 0;
    r.maxrss_kb = ru.ru_maxrss;
    struct stat st;
    if (stat(path, &st) == 0)
        r.bytes = (long long)st.st_size;
    unlink(path);
    return r;
}

/* Peak RSS of a child that writes nothing: what every child starts with. */
static long baseline_kb(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    int status;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    wait4(pid, &status, 0, &ru);
    return ru.ru_maxrss;
}

int main(int argc, char **argv)
{
    size_t nstacks = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
    size_t nsamples = argc > 2 ? strtoul(argv[2], NULL, 10) : 60000;
    size_t nthreads = argc > 3 ? strtoul(argv[3], NULL, 10) : 8;
    if (!nstacks || !nthreads || nsamples < nstacks) {
        fprintf(stderr, "usage: %s [STACKS [SAMPLES [THREADS]]] (SAMPLES >= STACKS)\n", argv[0]);
        return 2;
    }
    char dir[] = "/tmp/frametap-bench-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    struct ft_profile p;
    double t0 = now_s();
    build(&p, nstacks, nsamples, nthreads);
    printf("Profile: %zu distinct stacks, %llu samples, %zu (thread, stack) counts, %zu functions, "
           "%zu timeline spans, %zu threads; built in %.2f s\n\n",
           p.nstacks, (unsigned long long)p.total_samples, p.ncounts, p.nfuncs, p.nspans,
           p.nthreads, now_s() - t0);
    long base = baseline_kb();
    printf("| format | --threads | seconds | peak RSS over the profile (MB) | file (MB) |\n"
           "|---|---|---|---|---|\n");
    static const enum ft_format formats[] = {FT_FMT_SVG, FT_FMT_SPEEDSCOPE, FT_FMT_COLLAPSED,
                                             FT_FMT_PPROF, FT_FMT_CHROME};
    for (int per_thread = 0; per_thread < 2; per_thread++)
        for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
            char path[128];
            snprintf(path, sizeof path, "%s/out.%s", dir, ft_format_name(formats[i]));
            struct result r = run_writer(&p, formats[i], per_thread, path);
            if (!r.ok)
                printf("| %s | %s | failed | | |\n", ft_format_name(formats[i]), per_thread ? "yes" : "no");
            else
                printf("| %s | %s | %.3f | %.1f | %.1f |\n", ft_format_name(formats[i]),
                       per_thread ? "yes" : "no", r.seconds, (double)(r.maxrss_kb - base) / 1024.0,
                       (double)r.bytes / 1e6);
            fflush(stdout);
        }
    rmdir(dir);
    ft_profile_free(&p);
    return 0;
}
