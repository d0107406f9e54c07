/*
 * sampler.c - sampling rounds (see sampler.h). Never retries a torn stack:
 * it counts an error sample and moves on, so one round's cost stays bounded.
 */
#include "sampler.h"

#include "../native/native_stacks.h"

#include "../cpython/thread_names.h"

#include "../target/pause.h"
#include "../target/procfs.h"
#include "../util/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define REFRESH_NS 100000000ull
#define LIST_TRIES 5
#define NAMES_NS 1000000000ull
/* Running reads of a thread before it is held for one (FT_PAUSE_FALLBACK):
 * few, since a read that passes by chance gets likelier with every try. */
#define FALLBACK_TRIES 4

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

enum ft_pause ft_pause_policy(enum ft_pause asked, const struct ft_layout *l, const char **why)
{
    static char text[512];
    const char *limit = ft_fastread_limit(l);
    if (why)
        *why = NULL;
    if (asked != FT_PAUSE_AUTO && asked != FT_PAUSE_NEVER)
        return asked;
    if (!limit)
        return asked == FT_PAUSE_NEVER ? asked : FT_PAUSE_FALLBACK;
    snprintf(text, sizeof text, "%s: %s", limit,
             asked == FT_PAUSE_NEVER
                 ? "with --nonblocking such stacks may be written (the default pauses running "
                   "threads instead)"
                 : "running threads are paused for the instant of each sample (--nonblocking "
                   "never pauses; such stacks may then be written)");
    if (why)
        *why = text;
    return asked == FT_PAUSE_NEVER ? asked : FT_PAUSE_RUNNING;
}

int ft_sampler_init(struct ft_sampler *s, struct ft_session *session, struct ft_profile *profile,
                    const struct ft_sample_opts *opts)
{
    memset(s, 0, sizeof *s);
    s->session = session;
    s->profile = profile;
    s->mode = opts->mode;
    s->pause = ft_pause_policy(opts->pause, &session->rt.layout, NULL);
    s->read_full = opts->read_full;
    if (session->wasm) /* no OS thread to hold alone: the whole host is paused per sample */
        s->pause = FT_PAUSE_ALL;
    s->locs = malloc((FT_MAX_DEPTH + FT_NATIVE_MAX + 2) * sizeof *s->locs);
    if (!s->locs) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    if (opts->native) {
        /* native frames need every thread stopped for the instant of a sample */
        s->pause = FT_PAUSE_ALL;
        if (!(s->native = ft_native_open(session, NULL))) {
            free(s->locs);
            s->locs = NULL;
            return -1;
        }
    }
    return 0;
}

static void close_threads(struct ft_sampler *s)
{
    for (size_t i = 0; i < s->nthreads; i++) {
        ft_oncpu_close(&s->threads[i].cpu);
        if (s->threads[i].fast)
            s->read_misses += ft_fastread_misses(s->threads[i].fast);
        ft_fastread_free(s->threads[i].fast);
        for (int k = 0; k < FT_STACK_MEMOS; k++)
            free(s->threads[i].memo[k].frames);
    }
    s->nthreads = 0;
}

static void close_host(struct ft_sampler *s)
{
    for (size_t i = 0; i < s->nhost; i++)
        close(s->host_fds[i]);
    s->nhost = 0;
}

void ft_sampler_free(struct ft_sampler *s)
{
    close_threads(s);
    close_host(s);
    free(s->names);
    s->names = NULL;
    free(s->locs);
    s->locs = NULL;
    ft_native_close(s->native);
    s->native = NULL;
}

/* Whether running threads may be held: the sampler then needs to know
 * which are running in every mode. */
static int holds_running(const struct ft_sampler *s)
{
    return s->pause == FT_PAUSE_RUNNING || s->pause == FT_PAUSE_FALLBACK;
}

/* Python thread names (threading's), read again every NAMES_NS: they cost
 * a dozen reads per thread, and threads are renamed rarely. */
static void read_names(struct ft_sampler *s, const struct ft_tstate_ref *refs, size_t n)
{
    struct ft_reader *r = &s->session->reader;
    if (!s->names && !(s->names = malloc(FT_PYTHREADS_MAX * sizeof *s->names)))
        return;
    s->nnames = 0;
    uint64_t done[16];
    size_t ndone = 0;
    for (size_t i = 0; i < n && ndone < 16; i++) {
        size_t k = 0;
        while (k < ndone && done[k] != refs[i].interp)
            k++;
        if (k < ndone)
            continue;
        done[ndone++] = refs[i].interp;
        size_t got = 0;
        if (ft_thread_names(r, refs[i].interp, s->names + s->nnames, FT_PYTHREADS_MAX - s->nnames,
                            &got) == 0)
            s->nnames += got;
        ft_error_clear();
    }
}

/* A thread's label in the profile: its Python name, else its OS name; a
 * wasm runtime's threads carry the runtime's label ("[wasm 3.13.2 in
 * node]", and its place among the process's runtimes when not the first). */
static const char *thread_label(struct ft_sampler *s, const struct ft_tstate_ref *ref)
{
    static char label[256];
    char comm[32];
    const char *py = s->names ? ft_thread_name_of(s->names, s->nnames, ref->thread_id) : NULL;
    if (!py) {
        ft_thread_name(s->session->proc.pid, (pid_t)ref->native_id, comm, sizeof comm);
        py = comm;
    }
    if (s->session->wasm) {
        char nth[24] = "";
        if (s->session->wasm_slot)
            snprintf(nth, sizeof nth, " #%d", s->session->wasm_slot + 1);
        snprintf(label, sizeof label, "%.64s [%s%s]", py[0] ? py : "thread", s->session->label, nth);
    } else if (s->label_pid)
        snprintf(label, sizeof label, "%s [pid %d]", py, (int)s->session->proc.pid);
    else
        snprintf(label, sizeof label, "%s", py);
    return label;
}

/* A thread's key in the profile: its OS id; a wasm guest thread has none,
 * so its runtime's slot and place in the list stand for it (negative, never
 * an OS id). */
static int64_t profile_key(const struct ft_sampler *s, const struct ft_tstate_ref *ref, size_t i)
{
    if (!s->session->wasm)
        return ref->native_id;
    return -(int64_t)(1 + (uint64_t)s->session->wasm_slot * FT_SAMPLER_MAX_THREADS + i);
}

/* The stat files of the host's threads (wasm), opened afresh. */
static void refresh_host(struct ft_sampler *s)
{
    pid_t tids[FT_SAMPLER_MAX_HOST];
    ssize_t n = ft_list_threads(s->session->proc.pid, tids, FT_SAMPLER_MAX_HOST);
    ft_error_clear();
    close_host(s);
    for (ssize_t i = 0; i < n; i++) {
        int fd = ft_open_task_file(s->session->proc.pid, tids[i], "stat");
        if (fd >= 0)
            s->host_fds[s->nhost++] = fd;
    }
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
    int new_thread = n != s->nthreads;
    for (size_t i = 0; i < n && !new_thread; i++)
        new_thread = s->threads[i].ref.tstate != refs[i].tstate;
    uint64_t now = ft_now_ns();
    if (new_thread || now >= s->next_names_ns) {
        read_names(s, refs, n);
        s->next_names_ns = now + NAMES_NS;
    }
    if (ses->wasm)
        refresh_host(s);
    struct ft_sampled_thread fresh[FT_SAMPLER_MAX_THREADS];
    for (size_t i = 0; i < n; i++) {
        memset(&fresh[i], 0, sizeof fresh[i]);
        fresh[i].ref = refs[i];
        ft_oncpu_none(&fresh[i].cpu);
        for (size_t j = 0; j < s->nthreads; j++)
            if (s->threads[j].ref.tstate == refs[i].tstate &&
                s->threads[j].ref.native_id == refs[i].native_id) {
                struct ft_sampled_thread *old = &s->threads[j];
                fresh[i].cpu = old->cpu;
                fresh[i].fast = old->fast;
                memcpy(fresh[i].memo, old->memo, sizeof old->memo);
                ft_oncpu_none(&old->cpu);
                old->fast = NULL;
                memset(old->memo, 0, sizeof old->memo);
            }
        if (!fresh[i].fast && !(fresh[i].fast = ft_fastread_new())) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        if (!ft_oncpu_is_open(&fresh[i].cpu) &&
            (s->mode == FT_MODE_CPU || s->track_activity || holds_running(s)) && refs[i].native_id > 0)
            ft_oncpu_open(&fresh[i].cpu, ses->proc.pid, refs[i].native_id);
        fresh[i].profile_thread = ft_profile_thread(s->profile, profile_key(s, &refs[i], i),
                                                    thread_label(s, &refs[i]));
    }
    close_threads(s);
    memcpy(s->threads, fresh, n * sizeof *fresh);
    s->nthreads = n;
    return 0;
}

static int wanted(struct ft_sampler *s, struct ft_sampled_thread *t, uint64_t *holders,
                  uint64_t *holder_interps, size_t *nholders)
{
    /* FALLBACK asks only when a read tore (read_one): a /proc read per
     * thread per round costs as much as the stack read itself */
    int running = s->session->wasm ? s->host_running
                  : (s->mode == FT_MODE_CPU || s->track_activity || s->pause == FT_PAUSE_RUNNING) &&
                        ft_oncpu_now(&t->cpu);
    t->running = running;
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

/* Where a <GC> frame goes in this sample, if anywhere: the GIL holder is
 * asked only while a collection runs and the interpreter does not say
 * where it began. */
static long gc_position(struct ft_sampler *s, const struct ft_thread *th)
{
    uint64_t holder = 0;
    if (!th->gc_collecting)
        return -1;
    if (!th->gc_frame)
        holder = ft_gil_holder(&s->session->reader, &s->session->rt, th->interp);
    return ft_gc_position(th, holder);
}

static int memo_holds(const struct ft_sampler *s, const struct ft_stack_memo *m,
                      const struct ft_thread *th, long gc)
{
    return m->frames && th->nframes && m->n == th->nframes && m->gc == gc &&
           m->decodes == s->session->reader.misses &&
           memcmp(m->frames, th->frames, th->nframes * sizeof *th->frames) == 0;
}

/* The stack id of th's frames if they are one of the thread's last stacks
 * (same code entries, lines and frames, no code decoded since), else -1. */
static int64_t memo_lookup(const struct ft_sampler *s, struct ft_sampled_thread *t,
                           const struct ft_thread *th, long gc)
{
    for (int k = 0; k < FT_STACK_MEMOS; k++) {
        if (!memo_holds(s, &t->memo[k], th, gc))
            continue;
        struct ft_stack_memo hit = t->memo[k];
        memmove(&t->memo[1], &t->memo[0], (size_t)k * sizeof hit);
        t->memo[0] = hit;
        return hit.stack;
    }
    return -1;
}

/* Keeps th's stack as the most recent, in place of the least recent. */
static void memo_store(const struct ft_sampler *s, struct ft_sampled_thread *t,
                       const struct ft_thread *th, long gc, uint32_t stack)
{
    struct ft_stack_memo m = t->memo[FT_STACK_MEMOS - 1];
    memmove(&t->memo[1], &t->memo[0], (FT_STACK_MEMOS - 1) * sizeof m);
    if (th->nframes > m.cap) {
        struct ft_frame *f = realloc(m.frames, th->nframes * sizeof *f);
        if (!f) {
            m.n = SIZE_MAX; /* no memo; nothing else is lost */
            t->memo[0] = m;
            return;
        }
        m.frames = f;
        m.cap = th->nframes;
    }
    if (th->nframes) /* an empty stack has no frames array to copy from */
        memcpy(m.frames, th->frames, th->nframes * sizeof *th->frames);
    m.n = th->nframes;
    m.gc = gc;
    m.decodes = s->session->reader.misses;
    m.stack = stack;
    t->memo[0] = m;
}

static void memo_forget(struct ft_sampled_thread *t)
{
    for (int k = 0; k < FT_STACK_MEMOS; k++)
        t->memo[k].n = SIZE_MAX;
}

static void record(struct ft_sampler *s, struct ft_sampled_thread *t, struct ft_thread *th,
                   uint64_t now)
{
    long gc = gc_position(s, th);
    int64_t known = memo_lookup(s, t, th, gc);
    if (known >= 0) {
        ft_profile_add(s->profile, t->profile_thread, (uint32_t)known, now);
        s->samples++;
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < th->nframes; i++) {
        struct ft_code *c = (struct ft_code *)th->frames[i].code;
        if ((long)i == gc)
            s->locs[n++] = (struct ft_loc){ft_profile_func(s->profile, "<GC>", "", 0), -1};
        s->locs[n++] = (struct ft_loc){func_of(s->profile, c), th->frames[i].line};
    }
    if (gc >= 0 && (size_t)gc >= th->nframes)
        s->locs[n++] = (struct ft_loc){ft_profile_func(s->profile, "<GC>", "", 0), -1};
    uint32_t stack = ft_profile_stack(s->profile, s->locs, n, th->truncated);
    memo_store(s, t, th, gc, stack);
    ft_profile_add(s->profile, t->profile_thread, stack, now);
    s->samples++;
}

/* A native frame as a profile function: its symbol (or module and
 * address), its source file (or module) and line where known. */
static uint32_t native_func(struct ft_sampler *s, const struct ft_native_thread *nt, size_t i)
{
    const struct ft_native_sym *sym = &nt->syms[i];
    char name[96];
    const char *qual = sym->name;
    if (!qual) {
        const char *mod = sym->module ? strrchr(sym->module, '/') : NULL;
        snprintf(name, sizeof name, "?? [%s+0x%llx]", mod ? mod + 1 : "?",
                 (unsigned long long)(sym->module ? sym->module_addr : nt->stack.v[i].pc));
        qual = name;
    }
    return ft_profile_func(s->profile, qual, sym->file ? sym->file : sym->module ? sym->module : "",
                           0);
}

/* record --native: the thread's merged stack, C frames of the
 * interpreter's call plumbing left out (as dump's text does). A stack
 * that cannot be merged is kept with its Python frames only, and counted. */
static void record_native(struct ft_sampler *s, struct ft_sampled_thread *t, struct ft_thread *th,
                          uint64_t now)
{
    struct ft_native_thread nt;
    memset(&nt, 0, sizeof nt);
    th->native_id = t->ref.native_id;
    ft_native_thread(s->native, s->session, th, &nt);
    if (nt.error[0] || !nt.merged.merged) {
        s->native_unmerged++;
        ft_native_thread_free(&nt);
        memo_forget(t); /* the memo holds Python-only stacks of native runs */
        record(s, t, th, now);
        return;
    }
    size_t n = 0;
    for (size_t k = 0; k < nt.merged.n && n < FT_MAX_DEPTH + FT_NATIVE_MAX; k++) {
        const struct ft_mitem *it = &nt.merged.v[k];
        if (it->kind == FT_MITEM_PYTHON)
            s->locs[n++] = (struct ft_loc){func_of(s->profile, (struct ft_code *)th->frames[it->index].code),
                                           th->frames[it->index].line};
        else if (it->kind == FT_MITEM_NATIVE && !ft_native_item_hidden(&nt, it))
            s->locs[n++] = (struct ft_loc){native_func(s, &nt, it->index),
                                           nt.syms[it->index].line > 0 ? nt.syms[it->index].line : -1};
    }
    uint32_t stack = ft_profile_stack(s->profile, s->locs, n, th->truncated);
    ft_profile_add(s->profile, t->profile_thread, stack, now);
    s->samples++;
    ft_native_thread_free(&nt);
}

/* Which threads this round samples; decided before any pause, since a
 * stopped thread is never on a CPU. */
static void choose(struct ft_sampler *s, uint8_t *want, uint64_t now)
{
    uint64_t holders[16], holder_interps[16];
    size_t nholders = 0;
    s->host_running = 0;
    for (size_t i = 0; s->session->wasm && i < s->nhost && !s->host_running; i++)
        s->host_running = ft_stat_running(s->host_fds[i]);
    for (size_t i = 0; i < s->nthreads; i++) {
        want[i] = (uint8_t)wanted(s, &s->threads[i], holders, holder_interps, &nholders);
        if (!want[i])
            ft_profile_idle(s->profile, s->threads[i].profile_thread, now);
    }
}

/* A pause that failed (another tracer took the process, permission) costs
 * this sample, not the run; a process that is gone ends it. */
static int pause_failed(struct ft_sampler *s, struct ft_thread *th)
{
    enum ft_errkind k = ft_error_kind();
    if (k == FT_E_EXITED || ft_proc_is_exiting(s->session->proc.pid))
        return -1;
    snprintf(th->error, sizeof th->error, "could not pause the thread: %s", ft_error_message());
    ft_error_clear();
    return 1;
}

/* A read without holding the thread; *hold asks for a held read instead.
 * Where running threads must be held (FT_PAUSE_RUNNING), one that was not
 * running may start to during the read (it takes the GIL): its count of
 * runs, read before its state and after the read, tells, and such a read
 * is done again held. */
static int read_unheld(struct ft_sampler *s, struct ft_sampled_thread *t, struct ft_thread *th,
                       int *hold)
{
    long long runs = s->pause == FT_PAUSE_RUNNING ? ft_oncpu_runs(&t->cpu) : -1;
    if (runs >= 0 && ft_oncpu_now(&t->cpu)) {
        *hold = 1;
        return 0;
    }
    int tries = s->pause == FT_PAUSE_FALLBACK ? FALLBACK_TRIES : 0;
    if (ft_fastread_stack(&s->session->reader, t->fast, th, tries) < 0)
        return -1;
    if (runs >= 0) {
        *hold = ft_oncpu_runs(&t->cpu) != runs;
        return 0;
    }
    if (!th->error[0] || s->pause != FT_PAUSE_FALLBACK)
        return 0;
    if (s->mode != FT_MODE_CPU && !s->track_activity)
        t->running = ft_oncpu_now(&t->cpu);
    *hold = t->running;
    return 0;
}

/* One thread's stack: read paused when the whole process is, or when this
 * thread runs and its version needs it; else the consistent running read.
 * 1: read (or an error sample); 0: the thread went away; -1: fatal. */
static int read_one(struct ft_sampler *s, struct ft_sampled_thread *t, struct ft_thread *th)
{
    struct ft_reader *r = &s->session->reader;
    if (s->pause == FT_PAUSE_ALL)
        return ft_fastread_paused(r, t->fast, th) < 0 ? -1 : 1;
    int hold = s->pause == FT_PAUSE_RUNNING && t->running;
    if (!hold && read_unheld(s, t, th, &hold) < 0)
        return -1;
    if (!hold || t->ref.native_id <= 0)
        return 1;
    pid_t tid = (pid_t)t->ref.native_id;
    int held = ft_thread_pause(&s->session->proc, tid);
    if (held < 0)
        return pause_failed(s, th);
    if (held == 0)
        return 0;
    free(th->frames);
    th->frames = NULL;
    th->nframes = 0;
    int rc = ft_fastread_paused(r, t->fast, th);
    ft_thread_resume(&s->session->proc, tid);
    s->paused_reads++;
    return rc < 0 ? -1 : 1;
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
        int rc = read_one(s, t, &th);
        if (rc < 0)
            return -1;
        if (rc == 0 || th.gone) { /* the thread is gone: nothing to count */
            free(th.frames);
            s->next_refresh_ns = 0;
            continue;
        }
        if (th.error[0]) {
            ft_tally_add(&s->causes, th.error);
            s->errors++;
            s->profile->error_samples++;
            s->next_refresh_ns = 0; /* a torn read may mean the thread list changed */
        } else if (s->native) {
            record_native(s, t, &th, now);
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
    if (s->pause == FT_PAUSE_ALL && ft_proc_pause(&s->session->proc) < 0) {
        struct ft_thread th = {0};
        if (pause_failed(s, &th) < 0)
            return -1;
        for (size_t i = 0; i < s->nthreads; i++)
            if (want[i]) {
                ft_tally_add(&s->causes, th.error);
                s->errors++;
                s->profile->error_samples++;
            }
        s->rounds++;
        return 0;
    }
    int rc = 0;
    if (s->session->wasm && ft_session_recheck(s->session) < 0) {
        /* the memory moved and was not found again: an error sample for
         * each thread this round wanted; a process gone ends the run */
        if (ft_error_kind() == FT_E_EXITED || ft_proc_is_exiting(s->session->proc.pid)) {
            rc = -1;
        } else {
            for (size_t i = 0; i < s->nthreads; i++)
                if (want[i]) {
                    ft_tally_add(&s->causes, ft_error_message());
                    s->errors++;
                    s->profile->error_samples++;
                }
            ft_error_clear();
            s->next_refresh_ns = 0;
        }
    } else {
        rc = sample_threads(s, want, now);
    }
    if (s->track_activity && s->nthreads) {
        uint64_t h = ft_gil_holder(&s->session->reader, &s->session->rt, s->threads[0].ref.interp);
        s->gil_rounds += h != 0;
    }
    if (s->pause == FT_PAUSE_ALL)
        ft_proc_resume(&s->session->proc);
    ft_code_cache_sweep(s->session->reader.codes);
    s->rounds++;
    return rc;
}
