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

/* A frame as found in memory, before its code object is checked. */
struct raw_frame {
    uint64_t code;
    int64_t offset;               /* byte offset of the current instruction */
};

struct raw_stack {
    struct raw_frame v[FT_MAX_DEPTH];
    size_t n;
    int truncated;
};

/* A local copy of the used part of a thread's data stack (3.11+), so that
 * a whole stack of frames costs one read. */
struct window {
    uint64_t base;
    size_t len;
};

struct ft_walk_scratch {
    struct raw_stack raw;
    unsigned char *window;
    size_t window_cap;
    uint64_t distinct[FT_MAX_DEPTH];
    struct ft_code *codes[FT_MAX_DEPTH];
    unsigned char heads[FT_MAX_DEPTH / 16][FT_CODE_HEAD_MAX]; /* per batch */
};

#define WINDOW_MAX (16u << 20)
#define HEAD_BATCH (FT_MAX_DEPTH / 16)

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

static int push_raw(struct raw_stack *s, uint64_t code, int64_t offset)
{
    if (s->n == FT_MAX_DEPTH) {
        s->truncated = 1;
        return 0;
    }
    s->v[s->n++] = (struct raw_frame){code, offset};
    return 1;
}

/* Frame bytes from the window when they lie inside it, else from the target. */
static int frame_bytes(struct ft_reader *r, const struct window *w, uint64_t addr, void *buf,
                       size_t len)
{
    if (w->len && addr >= w->base && addr - w->base <= w->len && len <= w->len - (addr - w->base)) {
        memcpy(buf, r->scratch->window + (addr - w->base), len);
        return 0;
    }
    return ft_proc_read(r->proc, addr, buf, len);
}

/* 3.8-3.10: heap PyFrameObjects linked by f_back. */
static enum walk_status walk_pyframes(struct ft_reader *r, uint64_t frame, struct raw_stack *s)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t span = (size_t)(o->pyframe_lasti > o->pyframe_back ? o->pyframe_lasti : o->pyframe_back) + 8;
    struct cycle_check cc = {0, 1, 0};
    unsigned char buf[256];
    if (span > sizeof buf)
        return WALK_FATAL;
    while (frame) {
        if (ft_proc_read(r->proc, frame, buf, span) < 0)
            return classify_failure();
        int32_t lasti = ft_i32_in(buf, span, o->pyframe_lasti);
        int64_t offset = lasti < 0 ? -1 : (int64_t)lasti * (int64_t)r->layout->c.lasti_unit;
        if (!push_raw(s, ft_u64_in(buf, span, o->pyframe_code), offset))
            return WALK_OK;
        frame = ft_u64_in(buf, span, o->pyframe_back);
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    return WALK_OK;
}

/* 3.11+: _PyInterpreterFrames linked by `previous`; shim frames skipped. */
static enum walk_status walk_iframes(struct ft_reader *r, const struct window *w, uint64_t frame,
                                     struct raw_stack *s)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *k = &r->layout->c;
    size_t span = (size_t)o->iframe_localsplus;
    uint64_t tag_mask = ~(uint64_t)k->stackref_tag_bits;
    struct cycle_check cc = {0, 1, 0};
    unsigned char buf[256];
    if (span > sizeof buf)
        return WALK_FATAL;
    for (size_t steps = 0; frame && steps < 2 * FT_MAX_DEPTH; steps++) {
        if (frame_bytes(r, w, frame, buf, span) < 0)
            return classify_failure();
        uint8_t owner = ft_u8_in(buf, span, o->iframe_owner);
        uint64_t code = ft_u64_in(buf, span, o->iframe_executable) & tag_mask;
        if (!(k->first_shim_owner && owner >= k->first_shim_owner)) {
            int64_t offset = (int64_t)(ft_u64_in(buf, span, o->iframe_instr) -
                                       (code + o->code_code_adaptive));
            if (!push_raw(s, code, offset))
                return WALK_OK;
        }
        frame = ft_u64_in(buf, span, o->iframe_previous);
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    return WALK_OK;
}

/* Index of addr among the first n distinct code addresses, adding it if new. */
static size_t distinct_index(uint64_t *distinct, size_t *n, uint64_t addr)
{
    for (size_t i = *n; i-- > 0;)
        if (distinct[i] == addr)
            return i;
    distinct[*n] = addr;
    return (*n)++;
}

/* Reads the heads of all distinct code objects of a stack in batched
 * readv calls, validates each against the cache, decodes the new ones. */
static enum walk_status resolve_codes(struct ft_reader *r, size_t ndistinct)
{
    struct ft_walk_scratch *w = r->scratch;
    size_t head = ft_code_head_size(r->layout);
    for (size_t at = 0; at < ndistinct; at += HEAD_BATCH) {
        size_t n = ndistinct - at < HEAD_BATCH ? ndistinct - at : HEAD_BATCH;
        struct ft_remote_iov iov[HEAD_BATCH];
        for (size_t i = 0; i < n; i++)
            iov[i] = (struct ft_remote_iov){w->distinct[at + i], w->heads[i], head};
        if (ft_proc_readv(r->proc, iov, n) < 0)
            return classify_failure();
        for (size_t i = 0; i < n; i++) {
            w->codes[at + i] = ft_code_from_head(r, w->distinct[at + i], w->heads[i], head);
            if (!w->codes[at + i])
                return classify_failure();
        }
    }
    return WALK_OK;
}

static enum walk_status resolve_frames(struct ft_reader *r, struct ft_thread *t)
{
    struct ft_walk_scratch *w = r->scratch;
    struct raw_stack *s = &w->raw;
    size_t ndistinct = 0;
    size_t *index = malloc((s->n ? s->n : 1) * sizeof *index);
    struct ft_frame *frames = malloc((s->n ? s->n : 1) * sizeof *frames);
    enum walk_status st = WALK_OK;
    if (!index || !frames) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        st = WALK_FATAL;
    }
    for (size_t i = 0; st == WALK_OK && i < s->n; i++)
        index[i] = distinct_index(w->distinct, &ndistinct, s->v[i].code);
    if (st == WALK_OK)
        st = resolve_codes(r, ndistinct);
    for (size_t i = 0; st == WALK_OK && i < s->n; i++) {
        struct ft_code *code = w->codes[index[i]];
        int64_t offset = s->v[i].offset;
        if (offset >= code->code_bytes || offset < -2) {
            ft_fail(FT_E_CORRUPT, "instruction offset %lld is outside %s (%lld bytes)",
                    (long long)offset, code->qualname, (long long)code->code_bytes);
            st = WALK_TORN;
            break;
        }
        frames[i] = (struct ft_frame){code, ft_code_line(code, r->layout->linetable, offset)};
    }
    free(index);
    if (st != WALK_OK) {
        free(frames);
        return st;
    }
    t->frames = frames;
    t->nframes = s->n;
    t->truncated = s->truncated;
    return WALK_OK;
}

/* The fields of a thread state the walker needs, from one read. */
struct tstate_view {
    uint64_t frame;               /* innermost frame (after cframe on 3.11-3.12) */
    uint64_t thread_id, native_id, next, chunk, top;
};

static uint64_t max_tstate_offset(const struct ft_offsets *o)
{
    const uint64_t fields[] = {o->tstate_next, o->tstate_frame, o->tstate_cframe,
                               o->tstate_current_frame, o->tstate_thread_id,
                               o->tstate_native_thread_id, o->tstate_datastack_chunk,
                               o->tstate_datastack_top};
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] != FT_ABSENT && fields[i] > m)
            m = fields[i];
    return m;
}

static uint64_t field_or_zero(const unsigned char *buf, size_t n, uint64_t off)
{
    return off == FT_ABSENT ? 0 : ft_u64_in(buf, n, off);
}

static int read_tstate(struct ft_reader *r, uint64_t tstate, struct tstate_view *v)
{
    const struct ft_offsets *o = &r->layout->off;
    unsigned char buf[1024];
    size_t n = (size_t)max_tstate_offset(o) + 8;
    if (n > sizeof buf) {
        ft_fail(FT_E_CORRUPT, "thread state layout is implausibly large");
        return -1;
    }
    if (ft_proc_read(r->proc, tstate, buf, n) < 0)
        return -1;
    v->next = ft_u64_in(buf, n, o->tstate_next);
    v->thread_id = ft_u64_in(buf, n, o->tstate_thread_id);
    v->native_id = field_or_zero(buf, n, o->tstate_native_thread_id);
    v->chunk = field_or_zero(buf, n, o->tstate_datastack_chunk);
    v->top = field_or_zero(buf, n, o->tstate_datastack_top);
    if (o->tstate_frame != FT_ABSENT)
        v->frame = ft_u64_in(buf, n, o->tstate_frame);
    else if (o->tstate_current_frame != FT_ABSENT)
        v->frame = ft_u64_in(buf, n, o->tstate_current_frame);
    else {
        uint64_t cframe = ft_u64_in(buf, n, o->tstate_cframe);
        v->frame = 0;
        if (cframe && ft_read_u64(r->proc, cframe + o->cframe_current_frame, &v->frame) < 0)
            return -1;
    }
    return 0;
}

/* Copies [chunk data, top) of the current data-stack chunk. A window that
 * cannot be read is simply not used: frames are then read one by one. */
static void load_window(struct ft_reader *r, const struct tstate_view *v, struct window *w)
{
    const struct ft_offsets *o = &r->layout->off;
    struct ft_walk_scratch *s = r->scratch;
    w->len = 0;
    if (o->stackchunk_data == FT_ABSENT || !v->chunk || v->chunk > UINT64_MAX - o->stackchunk_data)
        return;
    uint64_t base = v->chunk + o->stackchunk_data;
    if (v->top <= base || v->top - base > WINDOW_MAX)
        return;
    w->base = base;
    size_t len = (size_t)(v->top - base);
    if (len > s->window_cap) {
        unsigned char *nb = realloc(s->window, len);
        if (!nb)
            return;
        s->window = nb;
        s->window_cap = len;
    }
    if (ft_proc_read(r->proc, w->base, s->window, len) == 0)
        w->len = len;
    else
        ft_error_clear();
}

static enum walk_status read_stack_once(struct ft_reader *r, struct ft_thread *t)
{
    struct tstate_view v;
    struct window w = {0, 0};
    ft_error_clear();
    r->scratch->raw.n = 0;
    r->scratch->raw.truncated = 0;
    if (read_tstate(r, t->tstate, &v) < 0)
        return classify_failure();
    enum walk_status st;
    if (r->layout->off.pyframe_back != FT_ABSENT) {
        st = walk_pyframes(r, v.frame, &r->scratch->raw);
    } else {
        load_window(r, &v, &w);
        st = walk_iframes(r, &w, v.frame, &r->scratch->raw);
    }
    return st == WALK_OK ? resolve_frames(r, t) : st;
}

int ft_read_thread_stack(struct ft_reader *r, struct ft_thread *t, int paused)
{
    return ft_read_thread_stack_tries(r, t, paused, paused ? 1 : FT_TEAR_RETRIES);
}

int ft_read_thread_stack_tries(struct ft_reader *r, struct ft_thread *t, int paused, int tries)
{
    if (!r->scratch && !(r->scratch = calloc(1, sizeof *r->scratch))) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    t->error[0] = '\0';
    for (int i = 0; i < tries; i++) {
        enum walk_status st = read_stack_once(r, t);
        if (st == WALK_OK)
            return 0;
        if (st == WALK_FATAL)
            return -1;
    }
    if (paused)
        snprintf(t->error, sizeof t->error,
                 "stack is inconsistent although the process was paused: %s", ft_error_message());
    else
        snprintf(t->error, sizeof t->error, "stack kept changing while being read (%d tries): %s",
                 tries, ft_error_message());
    ft_error_clear(); /* recorded per thread; the snapshot goes on */
    return 0;
}

void ft_walk_scratch_free(struct ft_reader *r)
{
    if (r->scratch)
        free(r->scratch->window);
    free(r->scratch);
    r->scratch = NULL;
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
uint64_t ft_gil_holder(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp)
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
    if (t->native_id > 0 && r->proc->pid > 0) {
        ft_thread_name(r->proc->pid, (pid_t)t->native_id, t->name, sizeof t->name);
        t->on_cpu = on_cpu(r, opts, (pid_t)t->native_id);
    }
    return ft_read_thread_stack(r, t, opts->paused);
}

static int walk_interp(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp,
                       struct thread_list *out, const struct ft_walk_opts *opts)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t id = 0, tstate;
    if (ft_read_u64(r->proc, interp + o->interp_id, &id) < 0 ||
        ft_read_u64(r->proc, interp + o->interp_threads_head, &tstate) < 0)
        return -1;
    uint64_t holder = ft_gil_holder(r, rt, interp);
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

int ft_list_tstates(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tstate_ref *out,
                    size_t max, size_t *count)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t interp;
    *count = 0;
    if (ft_read_u64(r->proc, rt->addr + o->runtime_interpreters_head, &interp) < 0)
        return -1;
    struct cycle_check ci = {0, 1, 0};
    for (size_t i = 0; interp && i < FT_MAX_INTERPRETERS; i++) {
        uint64_t tstate, id;
        if (ft_read_u64(r->proc, interp + o->interp_threads_head, &tstate) < 0 ||
            ft_read_u64(r->proc, interp + o->interp_id, &id) < 0)
            return -1;
        struct cycle_check ct = {0, 1, 0};
        for (size_t j = 0; tstate && j < FT_MAX_THREADS_PER_INTERP && *count < max; j++) {
            struct ft_tstate_ref *t = &out[(*count)++];
            t->tstate = tstate;
            t->interp = interp;
            t->interp_id = (int64_t)id;
            if (ft_read_u64(r->proc, tstate + o->tstate_thread_id, &t->thread_id) < 0 ||
                ft_read_u64(r->proc, tstate + o->tstate_next, &tstate) < 0)
                return -1;
            t->native_id = native_id_of(r, rt, t->tstate, t->thread_id);
            if (tstate && cycle_seen(&ct, tstate))
                return -1;
        }
        if (ft_read_u64(r->proc, interp + o->interp_next, &interp) < 0)
            return -1;
        if (interp && cycle_seen(&ci, interp))
            break;
    }
    return 0;
}
