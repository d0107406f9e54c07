/*
 * stack.c - reading one thread's Python stack: frame chains (PyFrameObject
 * 3.8-3.10, _PyInterpreterFrame 3.11+), the data-stack window, and batched
 * validation of the code objects a stack refers to.
 *
 * Every loop over remote pointers is bounded by a count and cycle-checked.
 * Which frame format is read follows from which offsets the layout has, not
 * from a version number.
 */
#include "stack_internal.h"

#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GENERATOR_REREADS 3

static int push_raw(struct raw_stack *s, uint64_t code, int64_t offset, uint64_t addr)
{
    if (!code) {
        ft_fail(FT_E_CORRUPT, "a frame without code (being set up while read)");
        return -1;
    }
    if (s->n == FT_MAX_DEPTH) {
        s->truncated = 1;
        return 0;
    }
    s->v[s->n++] = (struct raw_frame){code, offset, addr};
    return 1;
}

/* Frame bytes from the window or its extras when they hold them, else from
 * the target (noting the address, so a sampler can read it along next time). */
static int frame_bytes(struct ft_reader *r, struct window *w, uint64_t addr, void *buf, size_t len)
{
    if (w->len && addr >= w->base && addr - w->base <= w->len && len <= w->len - (addr - w->base)) {
        memcpy(buf, w->bytes + (addr - w->base), len);
        return 0;
    }
    for (size_t i = 0; i < w->nextra; i++)
        if (w->extra_addr[i] == addr) {
            memcpy(buf, w->extra_bytes[i], len);
            return 0;
        }
    if (w->nmissed < WINDOW_EXTRAS)
        w->missed[w->nmissed++] = addr;
    return ft_proc_read(r->proc, addr, buf, len);
}

/* Before 3.11 a frame does not say it belongs to a generator: its code
 * does. Only codes already in the cache are asked (no read on this path). */
int ft_is_cached_generator(struct ft_reader *r, uint64_t code)
{
    const struct ft_code *c = ft_code_peek(r, code);
    return c && (c->flags & r->layout->c.generator_flags);
}

/* As caught_running(), for PyFrameObject's f_back (3.8-3.10). */
static uint64_t caught_running_py(struct ft_reader *r, uint64_t frame, size_t span, unsigned char *buf)
{
    for (int i = 0; i < GENERATOR_REREADS; i++) {
        if (ft_proc_read(r->proc, frame, buf, span) < 0) {
            ft_error_clear();
            return 0;
        }
        uint64_t back = ft_u64_in(buf, span, r->layout->off.pyframe_back);
        if (back)
            return back;
    }
    return 0;
}

/* 3.8-3.10: heap PyFrameObjects linked by f_back. */
enum walk_status ft_walk_pyframes(struct ft_reader *r, uint64_t frame, struct raw_stack *s)
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
        uint64_t code = ft_u64_in(buf, span, o->pyframe_code);
        uint64_t back = ft_u64_in(buf, span, o->pyframe_back);
        if (!back && s->strict && ft_is_cached_generator(r, code) &&
            (back = caught_running_py(r, frame, span, buf)) != 0) {
            lasti = ft_i32_in(buf, span, o->pyframe_lasti);
            offset = lasti < 0 ? -1 : (int64_t)lasti * (int64_t)r->layout->c.lasti_unit;
        }
        int pushed = push_raw(s, code, offset, frame);
        if (pushed <= 0)
            return pushed < 0 ? WALK_TORN : WALK_OK;
        frame = back;
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    return WALK_OK;
}

/* 3.11+: _PyInterpreterFrames linked by `previous`; shim frames skipped. */
/* A generator's frame loses its link to its caller each time it yields, and
 * a running target's generators yield constantly. Re-read the frame until it
 * runs again: its caller link is then current, and so is the rest of the
 * chain (callers cannot return while the generator runs inside them). */
static uint64_t caught_running(struct ft_reader *r, uint64_t frame, size_t span, unsigned char *buf)
{
    const struct ft_offsets *o = &r->layout->off;
    for (int i = 0; i < GENERATOR_REREADS; i++) {
        if (ft_proc_read(r->proc, frame, buf, span) < 0) {
            ft_error_clear();
            return 0;
        }
        uint64_t previous = ft_u64_in(buf, span, o->iframe_previous);
        if (previous)
            return previous;
    }
    return 0;
}

enum walk_status ft_walk_iframes(struct ft_reader *r, struct window *w, uint64_t frame,
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
    s->ends_at_entry = !frame; /* no frames at all is a complete (empty) stack */
    for (size_t steps = 0; frame && steps < 2 * FT_MAX_DEPTH; steps++) {
        if (frame_bytes(r, w, frame, buf, span) < 0)
            return classify_failure();
        uint8_t owner = ft_u8_in(buf, span, o->iframe_owner);
        uint64_t code = ft_u64_in(buf, span, o->iframe_executable) & tag_mask;
        int shim = k->first_shim_owner && owner >= k->first_shim_owner;
        /* 3.11 marks a generator resumed from C as an entry frame too: a
         * chain may not end at a generator's frame, whose caller link is
         * simply cleared while it is suspended. */
        s->ends_at_entry = shim || (o->iframe_is_entry != FT_ABSENT &&
                                    ft_u8_in(buf, span, o->iframe_is_entry) &&
                                    owner != k->generator_owner);
        if (!shim) {
            int64_t offset = (int64_t)(ft_u64_in(buf, span, o->iframe_instr) -
                                       (code + o->code_code_adaptive));
            int pushed = push_raw(s, code, offset, frame);
            if (pushed <= 0)
                return pushed < 0 ? WALK_TORN : WALK_OK;
        }
        uint64_t previous = ft_u64_in(buf, span, o->iframe_previous);
        if (!previous && s->strict && !shim && k->generator_owner && owner == k->generator_owner) {
            previous = caught_running(r, frame, span, buf);
            if (previous && s->n && s->v[s->n - 1].addr == frame &&
                (ft_u64_in(buf, span, o->iframe_executable) & tag_mask) == s->v[s->n - 1].code)
                s->v[s->n - 1].offset = (int64_t)(ft_u64_in(buf, span, o->iframe_instr) -
                                                  (s->v[s->n - 1].code + o->code_code_adaptive));
        }
        frame = previous;
        if (frame && cycle_seen(&cc, frame)) {
            ft_fail(FT_E_CORRUPT, "frame chain loops");
            return WALK_TORN;
        }
    }
    return WALK_OK;
}

/* Numbers the distinct code objects of the raw stack (w->distinct) and maps
 * each frame to its number (w->index), with a hash table cleared per call. */
static size_t number_codes(struct ft_walk_scratch *w)
{
    const struct raw_stack *s = &w->raw;
    size_t nslots = 64, ndistinct = 0;
    while (nslots < 2 * s->n)
        nslots *= 2;
    memset(w->slots, 0, nslots * sizeof *w->slots);
    for (size_t i = 0; i < s->n; i++) {
        uint64_t addr = s->v[i].code;
        size_t j = (size_t)((addr >> 4) * 0x9E3779B97F4A7C15ull >> 40) & (nslots - 1);
        while (w->slots[j] && w->distinct[w->slots[j] - 1] != addr)
            j = (j + 1) & (nslots - 1);
        if (!w->slots[j]) {
            w->distinct[ndistinct++] = addr;
            w->slots[j] = (uint32_t)ndistinct;
        }
        w->index[i] = w->slots[j] - 1;
    }
    return ndistinct;
}

/* Reads the heads of the distinct code objects that are not trusted yet in
 * batched readv calls, validates each against the cache, decodes new ones. */
static enum walk_status resolve_codes(struct ft_reader *r, size_t ndistinct, uint64_t round,
                                      uint64_t trust)
{
    struct ft_walk_scratch *w = r->scratch;
    size_t head = ft_code_head_size(r->layout);
    size_t pending[HEAD_BATCH], npending = 0;
    for (size_t i = 0; i <= ndistinct; i++) {
        if (i < ndistinct) {
            struct ft_code *c = trust ? ft_code_peek(r, w->distinct[i]) : NULL;
            if (c && round - c->checked_round < trust) {
                w->codes[i] = c;
                continue;
            }
            pending[npending++] = i;
        }
        if (npending == HEAD_BATCH || (i == ndistinct && npending)) {
            struct ft_remote_iov iov[HEAD_BATCH];
            for (size_t k = 0; k < npending; k++)
                iov[k] = (struct ft_remote_iov){w->distinct[pending[k]], w->heads[k], head};
            if (ft_proc_readv(r->proc, iov, npending) < 0)
                return classify_failure();
            for (size_t k = 0; k < npending; k++) {
                struct ft_code *c = ft_code_from_head(r, w->distinct[pending[k]], w->heads[k], head);
                if (!c)
                    return classify_failure();
                c->checked_round = round;
                w->codes[pending[k]] = c;
            }
            npending = 0;
        }
    }
    return WALK_OK;
}

/* A complete stack ends where the thread's Python code began: at an entry
 * frame on 3.11+ (a shim below the outermost frame on 3.12+, is_entry on
 * 3.11); before 3.11, at least not inside a generator, whose link to its
 * caller is cleared whenever it yields. A read that raced a yield ends
 * early, at the generator's frame, and would look like a short stack. */
static int stack_complete(const struct ft_reader *r, const struct raw_stack *s,
                          const struct ft_walk_scratch *w)
{
    if (r->layout->off.pyframe_back == FT_ABSENT)
        return s->ends_at_entry;
    const struct ft_code *bottom = w->codes[w->index[s->n - 1]];
    return !(bottom->flags & r->layout->c.generator_flags);
}

enum walk_status ft_resolve_frames(struct ft_reader *r, struct ft_thread *t, uint64_t round,
                                   uint64_t trust)
{
    struct ft_walk_scratch *w = r->scratch;
    struct raw_stack *s = &w->raw;
    struct ft_frame *frames = malloc((s->n ? s->n : 1) * sizeof *frames);
    if (!frames) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return WALK_FATAL;
    }
    enum walk_status st = resolve_codes(r, number_codes(w), round, trust);
    if (st == WALK_OK && s->strict && s->n && !s->truncated && !stack_complete(r, s, w)) {
        ft_fail(FT_E_CORRUPT, "stack ended early (a generator yielded while being read)");
        st = WALK_TORN;
    }
    for (size_t i = 0; st == WALK_OK && i < s->n; i++) {
        struct ft_code *code = w->codes[w->index[i]];
        int64_t offset = s->v[i].offset;
        if (offset >= code->code_bytes || offset < -2) {
            ft_fail(FT_E_CORRUPT, "instruction offset %lld is outside %s (%lld bytes)",
                    (long long)offset, code->qualname, (long long)code->code_bytes);
            st = WALK_TORN;
            break;
        }
        frames[i] = (struct ft_frame){code, ft_code_line(code, r->layout->linetable, offset)};
    }
    if (st != WALK_OK) {
        free(frames);
        return st;
    }
    t->frames = frames;
    t->nframes = s->n;
    t->truncated = s->truncated;
    return WALK_OK;
}

size_t ft_tstate_span(const struct ft_offsets *o)
{
    const uint64_t fields[] = {o->tstate_next, o->tstate_frame, o->tstate_cframe,
                               o->tstate_current_frame, o->tstate_thread_id,
                               o->tstate_native_thread_id, o->tstate_datastack_chunk,
                               o->tstate_datastack_top};
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] != FT_ABSENT && fields[i] > m)
            m = fields[i];
    return (size_t)m + 8;
}

static uint64_t field_or_zero(const unsigned char *buf, size_t n, uint64_t off)
{
    return off == FT_ABSENT ? 0 : ft_u64_in(buf, n, off);
}

void ft_tstate_parse(const struct ft_offsets *o, const unsigned char *buf, size_t n,
                     struct tstate_view *v)
{
    v->next = ft_u64_in(buf, n, o->tstate_next);
    v->thread_id = ft_u64_in(buf, n, o->tstate_thread_id);
    v->native_id = field_or_zero(buf, n, o->tstate_native_thread_id);
    v->chunk = field_or_zero(buf, n, o->tstate_datastack_chunk);
    v->top = field_or_zero(buf, n, o->tstate_datastack_top);
    v->cframe = field_or_zero(buf, n, o->tstate_cframe);
    v->frame = 0;
    if (o->tstate_frame != FT_ABSENT)
        v->frame = ft_u64_in(buf, n, o->tstate_frame);
    else if (o->tstate_current_frame != FT_ABSENT)
        v->frame = ft_u64_in(buf, n, o->tstate_current_frame);
}

static int read_tstate(struct ft_reader *r, uint64_t tstate, struct tstate_view *v)
{
    const struct ft_offsets *o = &r->layout->off;
    unsigned char buf[1024];
    size_t n = ft_tstate_span(o);
    if (n > sizeof buf) {
        ft_fail(FT_E_CORRUPT, "thread state layout is implausibly large");
        return -1;
    }
    if (ft_proc_read(r->proc, tstate, buf, n) < 0)
        return -1;
    ft_tstate_parse(o, buf, n, v);
    if (v->cframe && ft_read_u64(r->proc, v->cframe + o->cframe_current_frame, &v->frame) < 0)
        return -1;
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
    size_t len = (size_t)(v->top - base);
    if (len > s->window_cap) {
        unsigned char *nb = realloc(s->window, len);
        if (!nb)
            return;
        s->window = nb;
        s->window_cap = len;
    }
    if (ft_proc_read(r->proc, base, s->window, len) == 0) {
        w->base = base;
        w->len = len;
        w->bytes = s->window;
    } else {
        ft_error_clear();
    }
}

static enum walk_status read_stack_once(struct ft_reader *r, struct ft_thread *t, int paused)
{
    struct tstate_view v;
    struct window w;
    memset(&w, 0, sizeof w);
    ft_error_clear();
    r->scratch->raw.n = 0;
    r->scratch->raw.truncated = 0;
    r->scratch->raw.strict = !paused;
    if (read_tstate(r, t->tstate, &v) < 0)
        return classify_failure();
    enum walk_status st;
    if (r->layout->off.pyframe_back != FT_ABSENT) {
        st = ft_walk_pyframes(r, v.frame, &r->scratch->raw);
    } else {
        load_window(r, &v, &w);
        st = ft_walk_iframes(r, &w, v.frame, &r->scratch->raw);
    }
    return st == WALK_OK ? ft_resolve_frames(r, t, 0, 0) : st;
}

int ft_walk_scratch_ensure(struct ft_reader *r)
{
    if (!r->scratch && !(r->scratch = calloc(1, sizeof *r->scratch))) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    return 0;
}

int ft_read_thread_stack(struct ft_reader *r, struct ft_thread *t, int paused)
{
    return ft_read_thread_stack_tries(r, t, paused, paused ? 1 : FT_TEAR_RETRIES);
}

int ft_read_thread_stack_tries(struct ft_reader *r, struct ft_thread *t, int paused, int tries)
{
    if (ft_walk_scratch_ensure(r) < 0)
        return -1;
    t->error[0] = '\0';
    for (int i = 0; i < tries; i++) {
        enum walk_status st = read_stack_once(r, t, paused);
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
