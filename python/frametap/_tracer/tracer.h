/*
 * frametap's in-process tracer: what its files share.
 *
 * Hooks (hooks_monitoring.c for 3.12+, hooks_profile.c for 3.8-3.11) turn
 * interpreter events into 16-byte records in per-thread buffers
 * (buffers.c); a writer thread drains full buffers to the trace file.
 * Hooks run with the GIL held and must never block, call arbitrary Python
 * code (no repr() of user objects), or raise into the traced program: on
 * any trouble an event is dropped and counted, never the program stopped.
 */
#ifndef FTT_TRACER_H
#define FTT_TRACER_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <pthread.h>
#include "../../../src/trace/trace_format.h"

/* co_extra: renamed "unstable" in 3.12, same functions. */
#if PY_VERSION_HEX >= 0x030C0000
#define ftt_code_get_extra   PyUnstable_Code_GetExtra
#define ftt_code_set_extra   PyUnstable_Code_SetExtra
#define ftt_request_extra    PyUnstable_Eval_RequestCodeExtraIndex
#else
#define ftt_code_get_extra   _PyCode_GetExtra
#define ftt_code_set_extra   _PyCode_SetExtra
#define ftt_request_extra    _PyEval_RequestCodeExtraIndex
#endif

/* ---- clock.c-free ticks: the cheapest monotonic counter there is ---- */
#if defined(__x86_64__)
#include <x86intrin.h>
#define FTT_TS_FLAGS 0u
static inline uint64_t ftt_ticks(void) { return __rdtsc(); }
/* Records go to memory with non-temporal stores: the writer thread reads
 * each chunk and the producer refills it later, so ordinary stores paid a
 * cache-line ownership transfer per 4 events (measured on 3.8: 27 ns per
 * event over an untraced run with ordinary stores, 15 ns with these). The
 * chunk is handed over under a mutex, whose locked instruction orders them. */
static inline void ftt_store_record(struct ft_trace_record *r, uint64_t ts, uint32_t a,
                                    uint32_t kind_c)
{
    _mm_stream_si64((long long *)&r->ts, (long long)ts);
    _mm_stream_si64((long long *)&r->a, (long long)((uint64_t)a | ((uint64_t)kind_c << 32)));
}
#else
static inline void ftt_store_record(struct ft_trace_record *r, uint64_t ts, uint32_t a,
                                    uint32_t kind_c)
{
    r->ts = ts;
    r->a = a;
    r->kind_c = kind_c;
}
#include <time.h>
#define FTT_TS_FLAGS FT_TRACE_TS_NS
static inline uint64_t ftt_ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif
uint64_t ftt_mono_ns(void);

/* ---- options of one tracing session ---- */
#define FTT_MAX_GLOBS 32
struct ftt_options {
    uint32_t events;            /* FT_EV_* */
    int max_depth;              /* 0: no limit */
    char *within;               /* NULL: everywhere */
    int lazy_within;            /* events only while a --within call runs (window.c) */
    char *include[FTT_MAX_GLOBS];
    int ninclude;
    char *exclude[FTT_MAX_GLOBS];
    int nexclude;
    size_t buffer_bytes;        /* bound on all buffers together */
    char *path;
};

/* ---- per-thread buffer ---- */
struct ftt_chunk {
    struct ftt_chunk *next;
    struct ft_trace_chunk hdr;
    unsigned char data[];
};

struct ftt_thread {
    struct ftt_thread *next;    /* all threads ever seen (never freed) */
    uint32_t session;           /* the session this state belongs to */
    uint32_t tid;
    uint64_t ident;
    uint32_t seq;
    struct ftt_chunk *chunk;
    unsigned char *pos, *end;
    uint32_t retry_in;          /* while dropping: events until next try */
    uint64_t events, dropped, dropped_reported;
    uint64_t dropped_queued;    /* dropped as of the last chunk handed to the writer */
    int depth;                  /* Python frames entered minus left */
    int within_depth;           /* depth of the --within call, -1: outside */
    int name_tries;             /* thread name lookups left */
    int in_hook;                /* our own Python calls: no events */
    int last_unwind;            /* 3.8-3.11: previous event left a frame by exception */
    void *exc_frame;            /* 3.8-3.11: frame an exception is in */
    PyObject *exc_type;         /* 3.8-3.11: its type, for HANDLED */
    int dead;                   /* the OS thread exited */
    int skip_opcode;            /* 3.8-3.11 lazy --within: the next opcode is frametap's */
};

/* ---- one code object as the tracer knows it (kept in co_extra) ---- */
#define FTT_CODE_EXCLUDED 1u
#define FTT_CODE_WITHIN   2u
struct ftt_code {
    uint32_t session;
    uint32_t id;
    uint32_t flags;
    int defined;                /* its FT_REC_CODE_DEF made it into a buffer */
    uint16_t *depths;           /* 3.12/3.13: stack depth per code unit */
    Py_ssize_t ndepths;
    PyObject *bytecode;         /* de-specialized co_code, for opcode events */
};

/* ---- the session ---- */
struct ftt_state {
    int active;
    uint32_t session;
    struct ftt_options opt;
    int fd;
    int write_error;            /* errno of the first failed write */
    pthread_t writer;
    int writer_running;
    int writer_tid;
    int writer_resume_pending;  /* paused for a fork: start at the next chunk */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ftt_chunk *free_chunks, *full_head, *full_tail;
    unsigned queued;            /* chunks in the full list */
    size_t nchunks, max_chunks, peak_chunks;
    int stopping;
    int forked_child;           /* between fork() and after_fork_child() */
    struct ftt_thread *threads;
    uint32_t next_code_id, next_func_id;
    uint64_t write_dropped;     /* events lost to write errors */
    Py_ssize_t extra_index;
    PyObject *describe;         /* frametap._codeinfo.describe */
    PyObject *stack_depths;     /* frametap._codeinfo.stack_depths */
    PyObject *disable;          /* sys.monitoring.DISABLE (3.12+) */
    uint64_t start_ticks, start_ns;
    uint32_t parent_pid;
};
extern struct ftt_state ftt;

/* buffers.c */
int ftt_buffers_open(const char *path, uint32_t parent_pid);
void ftt_buffers_close(void);
void ftt_buffers_after_fork(void);
void ftt_buffers_install_fork_handlers(void);
void ftt_writer_pause(void);
int ftt_writer_resume(void);
struct ftt_thread *ftt_thread_slow(void);
void *ftt_reserve_slow(struct ftt_thread *t, size_t bytes);
void ftt_thread_set_name(struct ftt_thread *t);
uint64_t ftt_total_events(void);
size_t ftt_buffer_peak_bytes(void);
uint64_t ftt_total_dropped(void);

/* initial-exec: one %fs-relative load per event instead of a call to
 * __tls_get_addr (the default for code in a shared object). */
struct ftt_tls { struct ftt_thread *thread; uint32_t session; };
extern _Thread_local struct ftt_tls ftt_tls __attribute__((tls_model("initial-exec")));

static inline struct ftt_thread *ftt_thread(void)
{
    if (ftt_tls.session == ftt.session && ftt_tls.thread)
        return ftt_tls.thread;
    return ftt_thread_slow();
}

static inline void *ftt_reserve(struct ftt_thread *t, size_t bytes)
{
    if ((size_t)(t->end - t->pos) >= bytes) {
        void *r = t->pos;
        t->pos += bytes;
        t->events++;
        return r;
    }
    return ftt_reserve_slow(t, bytes);
}

static inline void ftt_emit(struct ftt_thread *t, unsigned kind, uint32_t a, uint32_t c)
{
    struct ft_trace_record *r = ftt_reserve(t, sizeof *r);
    if (r)
        ftt_store_record(r, ftt_ticks(), a, FT_REC_MAKE(kind, c > FT_REC_C_MAX ? FT_REC_C_MAX : c));
}

/* A record with a payload; returns the payload (len bytes) or NULL. */
void *ftt_emit_blob(struct ftt_thread *t, unsigned kind, uint32_t a, size_t len);
/* Same, the payload being strings joined with their NULs. */
void ftt_emit_strings(struct ftt_thread *t, unsigned kind, uint32_t a,
                      const char *s1, const char *s2);

/* codes.c */
int ftt_codes_init(void);
struct ftt_code *ftt_code_slow(struct ftt_thread *t, PyObject *code, PyObject *globals);
uint32_t ftt_func_id(struct ftt_thread *t, PyObject *callable);
void ftt_codes_reset(void);
int ftt_exclude_code(PyObject *code);

/* globals: the frame's, when the caller has them at no cost; else NULL and
 * the slow path asks the interpreter (only on a code object's first event). */
static inline struct ftt_code *ftt_code(struct ftt_thread *t, PyObject *code, PyObject *globals)
{
    void *extra = NULL;
    if (ftt.extra_index >= 0 && ftt_code_get_extra(code, ftt.extra_index, &extra) == 0 && extra) {
        struct ftt_code *c = extra;
        if (c->session == ftt.session && c->defined)
            return c;
    }
    return ftt_code_slow(t, code, globals);
}

/* hooks_*.c: with a lazy --within, the events of the window turn on when
 * a thread enters a --within call and off when it leaves it; outside, only
 * the --within code objects themselves are watched (3.12+: their local
 * PY_START; 3.8-3.11: a call frametap's probes put at their entry). */
void ftt_window_open(struct ftt_thread *t);
void ftt_window_close(struct ftt_thread *t);
/* 3.12+: watch code (a --within function's) for its start. */
int ftt_within_code(PyObject *code);
/* 3.8-3.11: the --within call running on this thread began (the probe
 * site at its entry calls this). */
void ftt_within_entered(void);

/* --within given, and no call to it is on this thread's stack now. */
static inline int ftt_outside_within(const struct ftt_thread *t)
{
    return ftt.opt.within && t->within_depth < 0;
}

/* Deeper than --max-depth (counted from the --within call when given)? */
static inline int ftt_too_deep(const struct ftt_thread *t)
{
    if (!ftt.opt.max_depth)
        return 0;
    int rel = ftt.opt.within ? t->depth - t->within_depth + 1 : t->depth;
    return rel > ftt.opt.max_depth;
}

/* Should a Python frame event be recorded? Keeps the depth count. */
static inline int ftt_enter(struct ftt_thread *t, const struct ftt_code *c)
{
    t->depth++;
    if (ftt.opt.within) {
        if (t->within_depth < 0) {
            if (!(c->flags & FTT_CODE_WITHIN))
                return 0;
            t->within_depth = t->depth;
            if (ftt.opt.lazy_within)
                ftt_window_open(t);
        }
    }
    if (ftt_too_deep(t))
        return 0;
    return !(c->flags & FTT_CODE_EXCLUDED);
}

static inline int ftt_leave(struct ftt_thread *t, const struct ftt_code *c)
{
    int record = 1;
    if (ftt_outside_within(t))
        record = 0;
    if (record && ftt_too_deep(t))
        record = 0;
    if (t->depth == t->within_depth) {
        t->within_depth = -1;
        if (ftt.opt.lazy_within)
            ftt_window_close(t);
    }
    if (t->depth > 0)
        t->depth--;
    return record && !(c->flags & FTT_CODE_EXCLUDED);
}

/* Inside the current frame (lines, opcodes, exceptions). */
static inline int ftt_inside(struct ftt_thread *t, const struct ftt_code *c)
{
    if (ftt_outside_within(t) || ftt_too_deep(t))
        return 0;
    return !(c->flags & FTT_CODE_EXCLUDED);
}

/* valuestack.c */
void ftt_emit_opcode(struct ftt_thread *t, struct ftt_code *c, PyObject *code,
                     int offset, PyObject *const *items, Py_ssize_t depth);
size_t ftt_safe_repr(PyObject *o, char *buf, size_t cap);
const char *ftt_type_name(PyObject *o);

/* misc_events.c */
int ftt_misc_start(void);
void ftt_misc_stop(void);
void ftt_emit_exception(struct ftt_thread *t, unsigned kind, uint32_t code_id,
                        uint32_t offset, PyObject *exc);

/* hooks_*.c: the version's way of getting events */
int ftt_hooks_start(void);
void ftt_hooks_stop(void);
int ftt_floor_start(void);
long long ftt_floor_stop(void);

#endif
