/*
 * sampler.c - sampling rounds (see sampler.h). Never retries a torn stack:
 * it counts an error sample and moves on, so one round's cost stays bounded.
 */
#include "sampler.h"

#include "../target/pause.h"
#include "../target/procfs.h"
#include "../util/error.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_NS 100000000ull
#define LIST_TRIES 5

static const char *mode_names[] = {[FT_MODE_CPU] = "cpu", [FT_MODE_WALL] = "wall", [FT_MODE_GIL] = "gil"};

const char *ft_sample_mode_name(enum ft_sample_mode m) { return mode_names[m]; }

int ft_sample_mode_parse(const char *name, enum ft_sample_mode *out)
{
    for (int i = FT_MODE_CPU; i <= FT_MODE_GIL; i++)
        if (!strcmp(name, mode_names[i])) {
            *out = (enum ft_sample_mode)i;
            return 0;
        }
    return -1;
}

uint64_t ft_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int ft_sampler_init(struct ft_sampler *s, struct ft_session *session, struct ft_profile *profile,
                    const struct ft_sample_opts *opts)
{
    memset(s, 0, sizeof *s);
    s->session = session;
    s->profile = profile;
    s->mode = opts->mode;
    s->blocking = opts->blocking;
    s->read_full = opts->read_full;
    s->locs = malloc(FT_MAX_DEPTH * sizeof *s->locs);
    if (!s->locs) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    return 0;
}

static void close_threads(struct ft_sampler *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        if (s->threads[i].stat_fd >= 0)
            close(s->threads[i].stat_fd);
        if (s->threads[i].fast)
            s->read_misses += ft_fastread_misses(s->threads[i].fast);
        ft_fastread_free(s->threads[i].fast);
    }
    s->nthreads = 0;
}

void ft_sampler_free(struct ft_sampler *s)
{
    close_threads(s);
    free(s->locs);
    s->locs = NULL;
}

static int open_stat(pid_t pid, int64_t tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%lld/stat", (int)pid, (long long)tid);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* Re-reads the thread list, keeping open stat files of threads that stay. */
static int refresh(struct ft_sampler *s)
{
    static struct ft_tstate_ref refs[FT_SAMPLER_MAX_THREADS];
    size_t n;
    struct ft_session *ses = s->session;
    if (ses->rt.pthread_tid_offset == FT_ABSENT &&
        ses->rt.layout.off.tstate_native_thread_id == FT_ABSENT &&
        ft_proc_reload_maps(&ses->proc) == 0)
        ft_find_pthread_tid_offset(&ses->proc, &ses->rt);
    /* Threads come and go while the list is walked: a walk that ran into
     * a freed thread state is walked again; if it keeps failing the old
     * list is kept until the next refresh. Only a process that cannot be
     * read at all ends the run. */
    int rc = -1;
    for (int tries = 0; tries < LIST_TRIES && rc < 0; tries++) {
        ft_error_clear();
        rc = ft_list_tstates(&ses->reader, &ses->rt, refs, FT_SAMPLER_MAX_THREADS, &n);
        if (rc < 0 && ft_error_kind() != FT_E_CORRUPT)
            return -1;
    }
    if (rc < 0) {
        s->list_failures++;
        ft_error_clear();
        return 0;
    }
    struct ft_sampled_thread fresh[FT_SAMPLER_MAX_THREADS];
    for (size_t i = 0; i < n; i++) {
        fresh[i].ref = refs[i];
        fresh[i].stat_fd = -1;
        fresh[i].fast = NULL;
        for (size_t j = 0; j < s->nthreads; j++)
            if (s->threads[j].ref.tstate == refs[i].tstate &&
                s->threads[j].ref.native_id == refs[i].native_id) {
                fresh[i].stat_fd = s->threads[j].stat_fd;
                fresh[i].fast = s->threads[j].fast;
                s->threads[j].stat_fd = -1;
                s->threads[j].fast = NULL;
            }
        if (!fresh[i].fast && !(fresh[i].fast = ft_fastread_new())) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        if (fresh[i].stat_fd < 0 && (s->mode == FT_MODE_CPU || s->track_activity) &&
            refs[i].native_id > 0)
            fresh[i].stat_fd = open_stat(ses->proc.pid, refs[i].native_id);
        char name[64], comm[32];
        ft_thread_name(ses->proc.pid, (pid_t)refs[i].native_id, comm, sizeof comm);
        if (s->label_pid)
            snprintf(name, sizeof name, "%s [pid %d]", comm, (int)ses->proc.pid);
        else
            snprintf(name, sizeof name, "%s", comm);
        fresh[i].profile_thread = ft_profile_thread(s->profile, refs[i].native_id, name);
    }
    close_threads(s);
    memcpy(s->threads, fresh, n * sizeof *fresh);
    s->nthreads = n;
    return 0;
}

/* State letter from an open stat file: one pread, no open/close per sample. */
static int is_running(int fd)
{
    char buf[512];
    ssize_t n = fd >= 0 ? pread(fd, buf, sizeof buf - 1, 0) : -1;
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *close = strrchr(buf, ')');
    return close && close[1] == ' ' && close[2] == 'R';
}

static int wanted(struct ft_sampler *s, struct ft_sampled_thread *t, uint64_t *holders,
                  uint64_t *holder_interps, size_t *nholders)
{
    int running = (s->mode == FT_MODE_CPU || s->track_activity) && is_running(t->stat_fd);
    s->thread_looks++;
    s->running_looks += (uint64_t)running;
    switch (s->mode) {
    case FT_MODE_WALL: return 1;
    case FT_MODE_CPU: return running;
    case FT_MODE_GIL: break;
    }
    for (size_t i = 0; i < *nholders; i++)
        if (holder_interps[i] == t->ref.interp)
            return holders[i] == t->ref.tstate;
    uint64_t h = ft_gil_holder(&s->session->reader, &s->session->rt, t->ref.interp);
    if (*nholders < 16) {
        holder_interps[*nholders] = t->ref.interp;
        holders[(*nholders)++] = h;
    }
    return h == t->ref.tstate;
}

static uint32_t func_of(struct ft_profile *p, struct ft_code *c)
{
    if (c->user_id < 0)
        c->user_id = ft_profile_func(p, c->qualname, c->filename, c->firstlineno);
    return (uint32_t)c->user_id;
}

static void record(struct ft_sampler *s, struct ft_sampled_thread *t, struct ft_thread *th,
                   uint64_t now)
{
    for (size_t i = 0; i < th->nframes; i++) {
        struct ft_code *c = (struct ft_code *)th->frames[i].code;
        s->locs[i] = (struct ft_loc){func_of(s->profile, c), th->frames[i].line};
    }
    uint32_t stack = ft_profile_stack(s->profile, s->locs, th->nframes, th->truncated);
    ft_profile_add(s->profile, t->profile_thread, stack, now);
    s->samples++;
}

/* Which threads this round samples; decided before any pause, since a
 * stopped thread is never on a CPU. */
static void choose(struct ft_sampler *s, uint8_t *want, uint64_t now)
{
    uint64_t holders[16], holder_interps[16];
    size_t nholders = 0;
    for (size_t i = 0; i < s->nthreads; i++) {
        want[i] = (uint8_t)wanted(s, &s->threads[i], holders, holder_interps, &nholders);
        if (!want[i])
            ft_profile_idle(s->profile, s->threads[i].profile_thread, now);
    }
}

static int sample_threads(struct ft_sampler *s, const uint8_t *want, uint64_t now)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        struct ft_sampled_thread *t = &s->threads[i];
        if (!want[i])
            continue;
        struct ft_thread th;
        memset(&th, 0, sizeof th);
        th.tstate = t->ref.tstate;
        th.interp = t->ref.interp;
        th.thread_id = t->ref.thread_id;
        if (s->read_full)
            ft_fastread_forget(t->fast);
        if (s->blocking ? ft_read_thread_stack(&s->session->reader, &th, 1) < 0
                        : ft_fastread_stack(&s->session->reader, t->fast, &th) < 0)
            return -1;
        if (th.error[0]) {
            s->errors++;
            s->profile->error_samples++;
            s->next_refresh_ns = 0; /* a torn read may mean the thread list changed */
        } else {
            record(s, t, &th, now);
        }
        free(th.frames);
    }
    return 0;
}

int ft_sampler_round(struct ft_sampler *s, uint64_t now)
{
    ft_error_clear();
    if (now >= s->next_refresh_ns) {
        if (refresh(s) < 0)
            return -1;
        s->next_refresh_ns = now + REFRESH_NS;
    }
    static uint8_t want[FT_SAMPLER_MAX_THREADS];
    choose(s, want, now);
    if (s->blocking && ft_proc_pause(&s->session->proc) < 0)
        return -1;
    int rc = sample_threads(s, want, now);
    if (s->track_activity && s->nthreads) {
        uint64_t h = ft_gil_holder(&s->session->reader, &s->session->rt, s->threads[0].ref.interp);
        s->gil_rounds += h != 0;
    }
    if (s->blocking)
        ft_proc_resume(&s->session->proc);
    ft_code_cache_sweep(s->session->reader.codes);
    s->rounds++;
    return rc;
}
