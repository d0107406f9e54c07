/*
 * walk.c - interpreter, thread and frame walkers (see walk.h).
 *
 * Every loop over remote pointers is bounded by a count, and frame chains
 * are also checked for cycles (Brent's algorithm: constant memory). Two
 * frame formats: PyFrameObject chains (3.8-3.10) and _PyInterpreterFrame
 * chains (3.11+); which one is used follows from which offsets the layout
 * has, not from a version number.
 */
#include "walk.h"

#include "../target/procfs.h"
#include "../util/error.h"
#include "linetable.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum walk_status { WALK_OK = 0, WALK_TORN = 1, WALK_FATAL = -1 };

struct frame_sink {
    struct ft_frame *v;
    size_t n, cap;
    int truncated;
};

struct cycle_check {
    uint64_t tortoise;
    size_t power, lambda;
};

/* Brent: returns 1 once `addr` repeats an earlier address of the chain. */
static int cycle_seen(struct cycle_check *c, uint64_t addr)
{
    if (addr == c->tortoise)
        return 1;
    if (++c->lambda == c->power) {
        c->tortoise = addr;
        c->power *= 2;
        c->lambda = 0;
    }
    return 0;
}

static enum walk_status classify_failure(void)
{
    enum ft_errkind k = ft_error_kind();
    return (k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM) ? WALK_FATAL : WALK_TORN;
}

static enum walk_status emit(struct ft_reader *r, struct frame_sink *s, uint64_t code_addr,
                             int64_t offset)
{
    const struct ft_code *code = ft_code_get(r, code_addr);
    if (!code)
        return classify_failure();
    if (offset >= code->code_bytes || offset < -2) {
        ft_fail(FT_E_CORRUPT, "instruction offset %lld is outside %s (%lld bytes)",
                (long long)offset, code->qualname, (long long)code->code_bytes);
        return WALK_TORN;
    }
    if (s->n == FT_MAX_DEPTH) {
        s->truncated = 1;
        return WALK_OK;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        struct ft_frame *v = realloc(s->v, cap * sizeof *v);
        if (!v) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return WALK_FATAL;
        }
        s->v = v;
        s->cap = cap;
    }
    int line = ft_line_for_offset(r->layout->linetable, code->linetable, code->linetable_len,
                                  code->firstlineno, offset);
    s->v[s->n++] = (struct ft_frame){code, line};
    return WALK_OK;
}

/* 3.8-3.10: heap PyFrameObjects linked by f_back. */
static enum walk_status walk_pyframes(struct ft_reader *r, uint64_t frame, struct frame_sink *s)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t span = (size_t)(o->pyframe_lasti > o->pyframe_back ? o->pyframe_lasti : o->pyframe_back) + 8;
    struct cycle_check cc = {0, 1, 0};
    for (size_t depth = 0; frame && depth <= FT_MAX_DEPTH && !s->truncated; depth++) {
        unsigned char buf[256];
        if (span > sizeof buf || ft_proc_read(r->proc, frame, buf, span) < 0)
            return classify_failure();
        int32_t lasti = ft_i32_in(buf, span, o->pyframe_lasti);
        int64_t offset = lasti < 0 ? -1 : (int64_t)lasti * (int64_t)r->layout->c.lasti_unit;
        enum walk_status st = emit(r, s, ft_u64_in(buf, span, o->pyframe_code), offset);
        if (st != WALK_OK)
            return st;
        frame = ft_u64_in(buf, span, o->pyframe_back);
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    return WALK_OK;
}

/* 3.11+: _PyInterpreterFrames linked by `previous`; shim frames skipped. */
static enum walk_status walk_iframes(struct ft_reader *r, uint64_t frame, struct frame_sink *s)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *k = &r->layout->c;
    size_t span = (size_t)o->iframe_localsplus;
    uint64_t tag_mask = ~(uint64_t)k->stackref_tag_bits;
    struct cycle_check cc = {0, 1, 0};
    for (size_t steps = 0; frame && steps <= 2 * FT_MAX_DEPTH && !s->truncated; steps++) {
        unsigned char buf[256];
        if (span > sizeof buf || ft_proc_read(r->proc, frame, buf, span) < 0)
            return classify_failure();
        uint8_t owner = ft_u8_in(buf, span, o->iframe_owner);
        uint64_t code = ft_u64_in(buf, span, o->iframe_executable) & tag_mask;
        if (!(k->first_shim_owner && owner >= k->first_shim_owner)) {
            int64_t offset = (int64_t)(ft_u64_in(buf, span, o->iframe_instr) -
                                       (code + o->code_code_adaptive));
            enum walk_status st = emit(r, s, code, offset);
            if (st != WALK_OK)
                return st;
        }
        frame = ft_u64_in(buf, span, o->iframe_previous);
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    return WALK_OK;
}

/* The innermost frame pointer of a thread, through cframe on 3.11-3.12. */
static int first_frame(struct ft_reader *r, uint64_t tstate, uint64_t *frame)
{
    const struct ft_offsets *o = &r->layout->off;
    if (o->tstate_frame != FT_ABSENT)
        return ft_read_u64(r->proc, tstate + o->tstate_frame, frame);
    if (o->tstate_current_frame != FT_ABSENT)
        return ft_read_u64(r->proc, tstate + o->tstate_current_frame, frame);
    uint64_t cframe;
    if (ft_read_u64(r->proc, tstate + o->tstate_cframe, &cframe) < 0)
        return -1;
    *frame = 0;
    return cframe ? ft_read_u64(r->proc, cframe + o->cframe_current_frame, frame) : 0;
}

static enum walk_status read_stack_once(struct ft_reader *r, struct ft_thread *t)
{
    struct frame_sink s = {0};
    uint64_t frame;
    ft_error_clear();
    enum walk_status st = first_frame(r, t->tstate, &frame) < 0 ? classify_failure() : WALK_OK;
    if (st == WALK_OK)
        st = r->layout->off.pyframe_back != FT_ABSENT ? walk_pyframes(r, frame, &s)
                                                      : walk_iframes(r, frame, &s);
    if (st != WALK_OK) {
        free(s.v);
        return st;
    }
    t->frames = s.v;
    t->nframes = s.n;
    t->truncated = s.truncated;
    return WALK_OK;
}

static int read_stack(struct ft_reader *r, struct ft_thread *t, const struct ft_walk_opts *opts)
{
    int tries = opts->paused ? 1 : FT_TEAR_RETRIES;
    for (int i = 0; i < tries; i++) {
        enum walk_status st = read_stack_once(r, t);
        if (st == WALK_OK)
            return 0;
        if (st == WALK_FATAL)
            return -1;
    }
    if (opts->paused)
        snprintf(t->error, sizeof t->error,
                 "stack is inconsistent although the process was paused: %s", ft_error_message());
    else
        snprintf(t->error, sizeof t->error, "stack kept changing while being read (%d tries): %s",
                 tries, ft_error_message());
    ft_error_clear(); /* recorded per thread; the snapshot goes on */
    return 0;
}

static int64_t native_id_of(struct ft_reader *r, const struct ft_runtime *rt, uint64_t tstate,
                            uint64_t thread_id)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t v = 0;
    if (o->tstate_native_thread_id != FT_ABSENT) {
        if (ft_read_u64(r->proc, tstate + o->tstate_native_thread_id, &v) < 0)
            return -1;
        return (int64_t)v;
    }
    int32_t tid;
    if (rt->pthread_tid_offset == FT_ABSENT || !thread_id ||
        ft_read_i32(r->proc, thread_id + rt->pthread_tid_offset, &tid) < 0) {
        ft_error_clear();
        return -1;
    }
    return tid;
}

struct thread_list {
    struct ft_thread *v;
    size_t n, cap;
};

static struct ft_thread *push_thread(struct thread_list *l)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct ft_thread *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    struct ft_thread *t = &l->v[l->n++];
    memset(t, 0, sizeof *t);
    return t;
}

/* Which thread state holds the GIL: <=3.11 the runtime's tstate_current;
 * 3.12+ the interpreter's GIL, if locked. */
static uint64_t gil_holder(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t holder = 0;
    if (o->runtime_tstate_current != FT_ABSENT) {
        if (ft_read_u64(r->proc, rt->addr + o->runtime_tstate_current, &holder) < 0)
            holder = 0;
    } else if (o->interp_gil_holder != FT_ABSENT) {
        int32_t locked = 0;
        if (ft_read_i32(r->proc, interp + o->interp_gil_locked, &locked) < 0 || !locked ||
            ft_read_u64(r->proc, interp + o->interp_gil_holder, &holder) < 0)
            holder = 0;
    }
    ft_error_clear();
    return holder;
}

static int on_cpu(struct ft_reader *r, const struct ft_walk_opts *opts, pid_t tid)
{
    if (!opts->running)
        return ft_thread_state(r->proc->pid, tid) == 'R';
    for (size_t i = 0; i < opts->nrunning; i++)
        if (opts->running[i] == tid)
            return 1;
    return 0;
}

static int read_thread(struct ft_reader *r, const struct ft_runtime *rt, struct ft_thread *t,
                       uint64_t tstate, int64_t interp_id, uint64_t holder,
                       const struct ft_walk_opts *opts)
{
    const struct ft_offsets *o = &r->layout->off;
    t->tstate = tstate;
    t->interp_id = interp_id;
    t->holds_gil = tstate == holder;
    if (ft_read_u64(r->proc, tstate + o->tstate_thread_id, &t->thread_id) < 0)
        return -1;
    t->native_id = native_id_of(r, rt, tstate, t->thread_id);
    if (t->native_id > 0) {
        ft_thread_name(r->proc->pid, (pid_t)t->native_id, t->name, sizeof t->name);
        t->on_cpu = on_cpu(r, opts, (pid_t)t->native_id);
    }
    return read_stack(r, t, opts);
}

static int walk_interp(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp,
                       struct thread_list *out, const struct ft_walk_opts *opts)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t id = 0, tstate;
    if (ft_read_u64(r->proc, interp + o->interp_id, &id) < 0 ||
        ft_read_u64(r->proc, interp + o->interp_threads_head, &tstate) < 0)
        return -1;
    uint64_t holder = gil_holder(r, rt, interp);
    struct cycle_check cc = {0, 1, 0};
    for (size_t i = 0; tstate && i < FT_MAX_THREADS_PER_INTERP; i++) {
        struct ft_thread *t = push_thread(out);
        if (!t) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        if (read_thread(r, rt, t, tstate, (int64_t)id, holder, opts) < 0)
            return -1;
        if (ft_read_u64(r->proc, tstate + o->tstate_next, &tstate) < 0)
            return -1;
        if (tstate && cycle_seen(&cc, tstate)) {
            ft_fail(FT_E_CORRUPT, "thread list of interpreter %lld loops", (long long)id);
            return -1;
        }
    }
    return 0;
}

static int snapshot_once(struct ft_reader *r, const struct ft_runtime *rt,
                         const struct ft_walk_opts *opts, struct thread_list *list)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t interp;
    if (ft_read_u64(r->proc, rt->addr + o->runtime_interpreters_head, &interp) < 0)
        return -1;
    if (!interp) {
        ft_fail(FT_E_NOTPY, "process %d has no Python interpreter yet (starting up or shutting "
                "down): try again in a moment", (int)r->proc->pid);
        return -1;
    }
    struct cycle_check cc = {0, 1, 0};
    for (size_t i = 0; interp && i < FT_MAX_INTERPRETERS; i++) {
        if (walk_interp(r, rt, interp, list, opts) < 0 ||
            ft_read_u64(r->proc, interp + o->interp_next, &interp) < 0)
            return -1;
        if (interp && cycle_seen(&cc, interp))
            break;
    }
    return 0;
}

/* A running target can free a thread state while it is being read: retry
 * the whole walk when what failed was the data, not the process. */
int ft_snapshot_take(struct ft_reader *r, const struct ft_runtime *rt,
                     const struct ft_walk_opts *opts, struct ft_snapshot *out)
{
    int tries = opts->paused ? 1 : FT_TEAR_RETRIES;
    ft_code_cache_sweep(r->codes);
    for (int i = 0; i < tries; i++) {
        struct thread_list list = {0};
        ft_error_clear();
        int rc = snapshot_once(r, rt, opts, &list);
        out->threads = list.v;
        out->nthreads = list.n;
        if (rc == 0)
            return 0;
        ft_snapshot_free(out);
        if (ft_error_kind() != FT_E_CORRUPT)
            break;
    }
    return -1;
}

void ft_snapshot_free(struct ft_snapshot *s)
{
    for (size_t i = 0; i < s->nthreads; i++)
        free(s->threads[i].frames);
    free(s->threads);
    s->threads = NULL;
    s->nthreads = 0;
}
