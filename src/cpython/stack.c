/*
 * stack.c - walking one thread's Python frames: PyFrameObject chains
 * (3.8-3.10) and _PyInterpreterFrame chains (3.11+), over a view of copied
 * target memory; plus the plain-read walk that a paused target allows and
 * that aims a running target's reads (ft_learn_places).
 *
 * Every loop over remote pointers is bounded by a count and cycle-checked.
 * Which frame format is read follows from which offsets the layout has, not
 * from a version number.
 */
#include "stack_internal.h"

#include "remote.h"
#include "../util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CHUNKS 64             /* older data-stack chunks followed */

static int push_raw(struct raw_stack *s, uint64_t code, int64_t offset, uint64_t addr)
{
    if (!code) {
        ft_fail(FT_E_CORRUPT, "a frame without code (being set up or torn down while read)");
        return -1;
    }
    /* A frame with a callee has run at least up to its call: no function's
     * first instruction calls. One that has not started is memory being
     * set up for a new call, read beside a stale callee. */
    if (s->strict && s->n && offset <= 0) {
        ft_fail(FT_E_CORRUPT, "a frame below the innermost had not started");
        return -1;
    }
    if (s->n == FT_MAX_DEPTH) {
        s->truncated = 1;
        return 0;
    }
    s->v[s->n++] = (struct raw_frame){code, offset, addr};
    return 1;
}

/* A slot that keeps a frame's bytes until the read ends. NULL when a
 * pathological chain used them all. */
static unsigned char *copy_slot(struct ft_walk_scratch *w)
{
    if (w->ncopies == COPY_SLOTS) {
        ft_fail(FT_E_CORRUPT, "frame chain longer than any stack frametap reads");
        return NULL;
    }
    return w->copies + FRAME_COPY * w->ncopies++;
}

static struct view_range *range_at(struct view *v, uint64_t addr, size_t len)
{
    for (size_t k = 0; k < v->n; k++) {
        size_t i = v->hint + k < v->n ? v->hint + k : v->hint + k - v->n;
        struct view_range *g = &v->r[i];
        if (addr >= g->addr && addr - g->addr <= g->len && len <= g->len - (addr - g->addr)) {
            v->hint = i;
            return g;
        }
    }
    return NULL;
}

/* A frame's bytes from the view; from the target when the view is live.
 * *kind is the range's kind, or -1 for bytes read just now. */
static enum walk_status frame_bytes(struct ft_reader *r, uint64_t addr, size_t len,
                                    const unsigned char **out, int *kind, size_t *range)
{
    struct view *v = &r->scratch->view;
    struct view_range *g = range_at(v, addr, len);
    if (g) {
        *out = g->bytes + (addr - g->addr);
        *kind = g->kind;
        *range = (size_t)(g - v->r);
        g->walked = 1;
        return WALK_OK;
    }
    *range = SIZE_MAX;
    if (!v->live)
        return WALK_MISS;
    if (v->nmissed < PLACES_MAX) {
        FT_GROW(v->missed, v->missed_cap, v->nmissed + 1);
        v->missed[v->nmissed++] = addr;
    }
    unsigned char *slot = copy_slot(r->scratch);
    if (!slot)
        return WALK_TORN;
    if (ft_proc_read(r->proc, addr, slot, len) < 0)
        return classify_failure();
    *out = slot;
    *kind = -1;
    return WALK_OK;
}

/* Before 3.11 a frame does not say it belongs to a generator: its code
 * does. Only codes already in the cache are asked (no read on this path);
 * a stale answer costs a torn sample, never a wrong frame. */
int ft_is_cached_generator(struct ft_reader *r, uint64_t code)
{
    const struct ft_code *c = ft_code_peek(r, code);
    return c && (c->flags & r->layout->c.generator_flags);
}

size_t ft_pyframe_span(const struct ft_offsets *o)
{
    uint64_t m = o->pyframe_lasti > o->pyframe_back ? o->pyframe_lasti : o->pyframe_back;
    if (o->pyframe_state != FT_ABSENT && o->pyframe_state > m)
        m = o->pyframe_state;
    return (size_t)m + 8;
}

/* 3.8-3.10: a frame object on a thread's chain is alive (its reference
 * count is not 0: freed frames wait on free lists and as zombies with a
 * count of 0) and, unless it is the innermost, still executing. */
static int pyframe_alive(struct ft_reader *r, const unsigned char *b, size_t span, int top, int strict)
{
    const struct ft_offsets *o = &r->layout->off;
    if (o->ob_refcnt != FT_ABSENT && ft_sword_in(r->layout, b, span, o->ob_refcnt) <= 0) {
        ft_fail(FT_E_CORRUPT, "the chain reached a freed frame");
        return 0;
    }
    if (strict && !top && o->pyframe_state != FT_ABSENT &&
        ft_u8_in(b, span, o->pyframe_state) != (uint8_t)r->layout->c.pyframe_running) {
        ft_fail(FT_E_CORRUPT, "the chain reached a frame that is no longer executing");
        return 0;
    }
    return 1;
}

static enum walk_status loops(void)
{
    ft_fail(FT_E_CORRUPT, "frame chain loops");
    return WALK_TORN;
}

/* 3.8-3.10: heap PyFrameObjects linked by f_back. */
enum walk_status ft_walk_pyframes(struct ft_reader *r, uint64_t frame)
{
    const struct ft_offsets *o = &r->layout->off;
    struct raw_stack *s = &r->scratch->raw;
    size_t span = ft_pyframe_span(o);
    struct cycle_check cc = {0, 1, 0};
    if (span > FRAME_COPY)
        return WALK_FATAL;
    while (frame) {
        const unsigned char *b;
        int kind;
        size_t range;
        enum walk_status st = frame_bytes(r, frame, span, &b, &kind, &range);
        if (st != WALK_OK)
            return st;
        int top = s->n == 0;
        if (!pyframe_alive(r, b, span, top, s->strict))
            return WALK_TORN;
        uint64_t code = ft_word_in(r->layout, b, span, o->pyframe_code);
        int32_t lasti = ft_i32_in(b, span, o->pyframe_lasti);
        int64_t offset = lasti < 0 ? -1 : (int64_t)lasti * (int64_t)r->layout->c.lasti_unit;
        if (kind == VIEW_FRAME)
            ft_evidence_add(&r->scratch->ev, frame, b, span, top ? FT_EV_PYFRAME_TOP : FT_EV_PYFRAME);
        int pushed = push_raw(s, code, offset, frame);
        if (pushed <= 0)
            return pushed < 0 ? WALK_TORN : WALK_OK;
        frame = ft_word_in(r->layout, b, span, o->pyframe_back);
        if (frame && cycle_seen(&cc, frame))
            return loops();
    }
    return WALK_OK;
}

/* 3.12-3.13: a frame with a Python frame above it must be waiting for it,
 * with its stack depth stored; a running frame has stacktop -1. Memory a
 * running caller's callee used to occupy keeps that callee's code and
 * links, so without this a copy taken between a return and the next call
 * would show the old callee on top of a caller that is elsewhere. */
static int waiting(struct ft_reader *r, const unsigned char *b, size_t span)
{
    const struct ft_offsets *o = &r->layout->off;
    if (!r->scratch->raw.strict || !r->layout->c.stacktop_running || o->iframe_stacktop == FT_ABSENT ||
        ft_i32_in(b, span, o->iframe_stacktop) >= 0)
        return 1;
    ft_fail(FT_E_CORRUPT, "a frame below the innermost was running, not waiting for a call");
    return 0;
}

/* 3.11+: _PyInterpreterFrames linked by `previous`; shim frames skipped. A
 * generator's frame has no caller link while it is suspended: met inside a
 * chain, it was caught between a yield and a resume, and the chain ends
 * there (stackcodes.c then calls the stack incomplete). */
/* 3.11-3.12 enter the eval loop by pointing the thread state at a new C
 * frame first and filling it in after: a thread caught (preempted, or
 * paused) in between shows a C frame whose current frame is whatever that
 * stack slot held before, and a chain that hangs together but never
 * existed. The first entry frame of a true chain hangs below the current
 * frame of the caller's C frame. */
void ft_expect_entry_caller(struct ft_reader *r, uint64_t caller_frame)
{
    r->scratch->raw.entry_check = 1;
    r->scratch->raw.entry_caller = caller_frame;
}

static int entry_hangs_right(struct raw_stack *s, uint64_t previous)
{
    s->entry_check = 0;
    if (previous == s->entry_caller)
        return 1;
    ft_fail(FT_E_CORRUPT, "the thread was entering or leaving the interpreter loop "
            "(its first entry frame does not follow its caller)");
    return 0;
}

/* An entry frame (the eval loop's, on the C stack) is written when the
 * loop is entered and stays as it is until the loop returns, which it
 * cannot do while the first frame it ran is alive: below a Python frame
 * whose two copies agree, one copy of it tells the same as two. The
 * sandwich copies such a frame once (VIEW_ONCE) where two copies suffice
 * (3.14+); met on top of the chain, or below anything but a Python frame,
 * it must be copied twice: the read is done again so. */
static enum walk_status once_refused(struct raw_stack *s, uint64_t frame)
{
    s->refused = frame;
    return WALK_AGAIN;
}

static enum walk_status check_taken(struct ft_reader *r, uint64_t frame, uint64_t top,
                                   int callee_python, size_t steps);

/* The walk from `frame`, `steps` steps below the innermost frame `top`;
 * callee_python: the frame walked before this one was a Python frame. */
static enum walk_status walk_from(struct ft_reader *r, uint64_t frame, uint64_t top, int callee_python,
                                  size_t first_step)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *k = &r->layout->c;
    struct raw_stack *s = &r->scratch->raw;
    size_t span = ft_iframe_span(o);
    uint64_t tag_mask = ~(uint64_t)k->stackref_tag_bits;
    struct cycle_check cc = {0, 1, 0};
    for (size_t steps = first_step; frame && steps < 2 * FT_MAX_DEPTH; steps++) {
        const unsigned char *b;
        int kind;
        size_t range;
        if (steps && ft_walklog_reuse(r->scratch, frame, callee_python, span))
            return r->scratch->check_memo ? check_taken(r, frame, top, callee_python, steps)
                                          : WALK_OK; /* the rest is as the last walk found it */
        enum walk_status st = frame_bytes(r, frame, span, &b, &kind, &range);
        if (st != WALK_OK)
            return st;
        uint8_t owner = ft_u8_in(b, span, o->iframe_owner);
        int shim = k->first_shim_owner && owner >= k->first_shim_owner;
        uint64_t code = ft_word_in(r->layout, b, span, o->iframe_executable) & tag_mask;
        /* 3.11 marks a generator resumed from C as an entry frame too: a
         * chain may not end at a generator's frame. */
        int is_entry = o->iframe_is_entry != FT_ABSENT && ft_u8_in(b, span, o->iframe_is_entry);
        s->ends_at_entry = shim || (is_entry && owner != k->generator_owner);
        if (s->entry_check && (shim || is_entry) &&
            !entry_hangs_right(s, ft_word_in(r->layout, b, span, o->iframe_previous)))
            return WALK_TORN;
        int one_copy = (kind == VIEW_FRAME || kind == VIEW_ONCE) && shim && frame != top && callee_python;
        if (kind == VIEW_ONCE && !one_copy)
            return once_refused(s, frame);
        if (kind == VIEW_FRAME)
            ft_evidence_add(&r->scratch->ev, frame, b, span, frame == top ? FT_EV_IFRAME_TOP : FT_EV_IFRAME);
        if (one_copy && s->nonce < ONCE_MAX)
            s->once[s->nonce++] = frame;
        ft_walklog_step(r->scratch, frame, b, range, kind,
                        (callee_python ? STEP_CALLEE_PYTHON : 0) | (one_copy ? STEP_ONCE : 0));
        if (!shim && callee_python && !waiting(r, b, span))
            return WALK_TORN;
        callee_python = !shim;
        if (!shim) {
            int64_t offset = (int64_t)(ft_word_in(r->layout, b, span, o->iframe_instr) -
                                       (code + o->code_code_adaptive));
            int pushed = push_raw(s, code, offset, frame);
            if (pushed < 0)
                return WALK_TORN;
            if (!pushed)
                break;
        }
        frame = ft_word_in(r->layout, b, span, o->iframe_previous);
        if (frame && cycle_seen(&cc, frame))
            return loops();
    }
    return WALK_OK;
}

/* FRAMETAP_CHECK_MEMO: steps taken from the last walk are walked again
 * and must give the same raw frames (a test of walkmemo.c on real
 * targets; this read is then not kept as a memo). */
static enum walk_status check_taken(struct ft_reader *r, uint64_t frame, uint64_t top,
                                   int callee_python, size_t steps)
{
    struct ft_walk_scratch *w = r->scratch;
    struct raw_stack *s = &w->raw;
    size_t from = w->log.taken_raw, n = s->n;
    int ends = s->ends_at_entry;
    struct raw_frame *taken = malloc((n - from + 1) * sizeof *taken);
    if (!taken)
        return WALK_OK;
    memcpy(taken, s->v + from, (n - from) * sizeof *taken);
    s->n = from;
    w->memo = NULL;
    w->log.whole = 0;
    enum walk_status st = walk_from(r, frame, top, callee_python, steps);
    ft_walklog_checked(st == WALK_OK && s->n == n && s->ends_at_entry == ends &&
                       memcmp(taken, s->v + from, (n - from) * sizeof *taken) == 0, MEMO_CHECK_WALK);
    free(taken);
    return st;
}

enum walk_status ft_walk_iframes(struct ft_reader *r, uint64_t frame)
{
    if (ft_iframe_span(&r->layout->off) > FRAME_COPY)
        return WALK_FATAL;
    r->scratch->raw.ends_at_entry = !frame; /* no frames at all is a complete (empty) stack */
    return walk_from(r, frame, frame, 0, 0);
}

void ft_view_evidence(struct ft_reader *r, uint64_t top)
{
    struct view *v = &r->scratch->view;
    struct ft_evidence *ev = &r->scratch->ev;
    size_t span = ft_iframe_span(&r->layout->off);
    for (size_t i = 0; i < v->n; i++) {
        const struct view_range *g = &v->r[i];
        size_t below = g->len;
        if (g->kind == VIEW_FRAME || g->kind == VIEW_ONCE)
            continue;
        if (g->kind == VIEW_WINDOW) {
            if (top >= g->addr && top - g->addr < g->len) {
                below = (size_t)(top - g->addr);
                if (span <= g->len - below)
                    ft_evidence_add(ev, top, g->bytes + below, span, FT_EV_IFRAME_TOP);
            } else if (v->datastack_top > g->addr && v->datastack_top - g->addr < g->len) {
                below = (size_t)(v->datastack_top - g->addr);
            }
        }
        if (below)
            ft_evidence_add(ev, g->addr, g->bytes, below, FT_EV_BYTES);
    }
}

size_t ft_tstate_span(const struct ft_offsets *o)
{
    const uint64_t fields[] = {o->tstate_next, o->tstate_frame, o->tstate_cframe,
                               o->tstate_current_frame, o->tstate_thread_id,
                               o->tstate_native_thread_id, o->tstate_datastack_chunk,
                               o->tstate_datastack_top, o->tstate_datastack_limit};
    uint64_t m = 0;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i] != FT_ABSENT && fields[i] > m)
            m = fields[i];
    return (size_t)m + 8;
}

static uint64_t field_or_zero(const struct ft_layout *l, const unsigned char *buf, size_t n,
                              uint64_t off)
{
    return off == FT_ABSENT ? 0 : ft_word_in(l, buf, n, off);
}

void ft_tstate_parse(const struct ft_layout *l, const unsigned char *buf, size_t n,
                     struct tstate_view *v)
{
    const struct ft_offsets *o = &l->off;
    v->next = ft_word_in(l, buf, n, o->tstate_next);
    v->thread_id = ft_word_in(l, buf, n, o->tstate_thread_id);
    v->native_id = field_or_zero(l, buf, n, o->tstate_native_thread_id);
    v->chunk = field_or_zero(l, buf, n, o->tstate_datastack_chunk);
    v->top = field_or_zero(l, buf, n, o->tstate_datastack_top);
    v->limit = field_or_zero(l, buf, n, o->tstate_datastack_limit);
    v->cframe = field_or_zero(l, buf, n, o->tstate_cframe);
    v->frame = 0;
    v->prev_cframe = 0;
    if (o->tstate_frame != FT_ABSENT)
        v->frame = ft_word_in(l, buf, n, o->tstate_frame);
    else if (o->tstate_current_frame != FT_ABSENT)
        v->frame = ft_word_in(l, buf, n, o->tstate_current_frame);
}

/* The thread state and (3.11-3.12) the current frame behind its C frame. */
static int read_tstate(struct ft_reader *r, struct ft_thread *t, struct tstate_view *v)
{
    const struct ft_offsets *o = &r->layout->off;
    struct ft_walk_scratch *w = r->scratch;
    size_t n = ft_tstate_span(o);
    if (n > sizeof w->tstate) {
        ft_fail(FT_E_CORRUPT, "thread state layout is implausibly large");
        return -1;
    }
    if (ft_proc_read(r->proc, t->tstate, w->tstate, n) < 0)
        return -1;
    ft_tstate_parse(r->layout, w->tstate, n, v);
    if (t->thread_id && v->thread_id != t->thread_id) {
        t->gone = 1;
        ft_fail(FT_E_CORRUPT, "the thread ended (its state now belongs to another thread)");
        return -1;
    }
    if (!v->cframe)
        return 0;
    unsigned char c[32];
    uint64_t caller = 0;
    if (ft_cframe_len(o) > sizeof c || ft_proc_read(r->proc, v->cframe + ft_cframe_lo(o), c, ft_cframe_len(o)) < 0)
        return -1;
    ft_cframe_parse(r->layout, c, v);
    if (v->prev_cframe && ft_read_word(r->proc, r->layout, v->prev_cframe + o->cframe_current_frame, &caller) < 0)
        return -1;
    ft_expect_entry_caller(r, caller);
    return 0;
}

void ft_cframe_parse(const struct ft_layout *l, const unsigned char *b, struct tstate_view *v)
{
    const struct ft_offsets *o = &l->off;
    size_t n = ft_cframe_len(o);
    v->frame = ft_word_in(l, b, n, o->cframe_current_frame - ft_cframe_lo(o));
    v->prev_cframe = ft_word_in(l, b, n, o->cframe_previous - ft_cframe_lo(o));
}


/* Adds [addr, addr + len) of the target to the live view, copied now. */
static int view_copy(struct ft_reader *r, uint64_t addr, size_t len, uint8_t kind,
                     unsigned char **pool, size_t *used, size_t cap)
{
    struct view *v = &r->scratch->view;
    if (len > cap - *used)
        return 0; /* not copied: the walk reads those frames one by one */
    if (ft_proc_read(r->proc, addr, *pool + *used, len) < 0) {
        ft_error_clear();
        return 0;
    }
    if (ft_view_add(v, (struct view_range){addr, len, *pool + *used, kind, 0}) == 0)
        *used += len;
    return 0;
}

/* 3.11+: the current chunk up to its top (+ slack, within the chunk) and
 * the used parts of older chunks, copied into the scratch window. */
static void copy_chunks(struct ft_reader *r, const struct tstate_view *v, size_t slack)
{
    const struct ft_offsets *o = &r->layout->off;
    struct ft_walk_scratch *w = r->scratch;
    if (o->stackchunk_data == FT_ABSENT || !v->chunk)
        return;
    uint64_t base = v->chunk + o->stackchunk_data;
    if (v->top <= base || v->top - base > WINDOW_MAX || v->limit < v->top)
        return;
    uint64_t end = v->top + slack < v->limit ? v->top + slack : v->limit;
    size_t cap = 2 * WINDOW_MAX, used = 0;
    if (!w->window && !(w->window = malloc(cap)))
        return;
    view_copy(r, base, (size_t)(end - base), VIEW_WINDOW, &w->window, &used, cap);
    uint64_t chunk = v->chunk, prev;
    for (int i = 0; i < MAX_CHUNKS; i++) {
        uint64_t top;
        if (ft_read_word(r->proc, r->layout, chunk + o->stackchunk_previous, &prev) < 0 || !prev ||
            ft_read_word(r->proc, r->layout, prev + o->stackchunk_top, &top) < 0 ||
            top > WINDOW_MAX / (uint64_t)r->layout->ptr_size) {
            ft_error_clear();
            return;
        }
        if (top)
            view_copy(r, prev + o->stackchunk_data, (size_t)top * (size_t)r->layout->ptr_size, VIEW_CHUNK, &w->window, &used, cap);
        chunk = prev;
    }
}

/* Thread state, then the frames with plain reads where the chunks' copies
 * do not hold them. */
static enum walk_status gather_live(struct ft_reader *r, struct ft_thread *t, size_t slack,
                                    struct tstate_view *v)
{
    struct view *view = &r->scratch->view;
    if (read_tstate(r, t, v) < 0)
        return classify_failure();
    view->live = 1;
    view->datastack_top = v->top;
    if (r->layout->off.pyframe_back != FT_ABSENT)
        return ft_walk_pyframes(r, v->frame);
    copy_chunks(r, v, slack);
    return ft_walk_iframes(r, v->frame);
}

enum walk_status ft_learn_places(struct ft_reader *r, struct ft_thread *t, size_t slack,
                                 struct ft_stack_places *out)
{
    struct tstate_view v;
    ft_read_begin(r, 0);
    enum walk_status st = gather_live(r, t, slack, &v);
    out->cframe = v.cframe;
    out->prev_cframe = v.prev_cframe;
    out->n = 0;
    if (st != WALK_OK)
        return st;
    const struct view *view = &r->scratch->view;
    for (size_t i = 0; i < view->n; i++)
        ft_places_add(out, (struct ft_place){view->r[i].addr, view->r[i].len, view->r[i].kind});
    size_t span = r->layout->off.pyframe_back != FT_ABSENT ? ft_pyframe_span(&r->layout->off)
                                                            : ft_iframe_span(&r->layout->off);
    for (size_t i = 0; i < view->nmissed; i++)
        ft_places_add(out, (struct ft_place){view->missed[i], span, VIEW_FRAME});
    return WALK_OK;
}

enum walk_status ft_read_stack_paused(struct ft_reader *r, struct ft_thread *t)
{
    struct tstate_view v;
    ft_read_begin(r, 0);
    enum walk_status st = gather_live(r, t, 0, &v);
    int decoded;
    return st == WALK_OK ? ft_resolve_frames(r, t, NULL, &decoded) : st;
}

int ft_places_add(struct ft_stack_places *p, struct ft_place pl)
{
    if (p->n >= PLACES_MAX)
        return -1;
    FT_GROW(p->r, p->cap, p->n + 1);
    p->r[p->n++] = pl;
    return 0;
}

int ft_view_add(struct view *v, struct view_range g)
{
    if (v->n >= PLACES_MAX)
        return -1;
    FT_GROW(v->r, v->cap, v->n + 1);
    v->r[v->n++] = g;
    return 0;
}

void ft_read_begin(struct ft_reader *r, int strict)
{
    struct ft_walk_scratch *w = r->scratch;
    w->raw.n = 0;
    w->raw.truncated = 0;
    w->raw.ends_at_entry = 0;
    w->raw.strict = strict;
    w->raw.entry_check = 0;
    w->raw.nonce = 0;
    w->raw.refused = 0;
    ft_walklog_begin(w, NULL, NULL, NULL);
    w->ncopies = 0;
    w->view.n = 0;
    w->view.hint = 0;
    w->view.live = 0;
    w->view.nmissed = 0;
    w->view.datastack_top = 0;
    ft_evidence_reset(&w->ev);
}

int ft_walk_scratch_ensure(struct ft_reader *r)
{
    if (r->scratch)
        return 0;
    r->scratch = calloc(1, sizeof *r->scratch);
    if (r->scratch)
        r->scratch->check_memo = getenv("FRAMETAP_CHECK_MEMO") != NULL;
    if (r->scratch)
        r->scratch->copies = malloc((size_t)COPY_SLOTS * FRAME_COPY);
    if (!r->scratch || !r->scratch->copies) {
        ft_walk_scratch_free(r);
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    return 0;
}

void ft_walk_scratch_free(struct ft_reader *r)
{
    if (r->scratch) {
        free(r->scratch->window);
        free(r->scratch->copies);
        free(r->scratch->view.r);
        free(r->scratch->view.missed);
        ft_walklog_free(&r->scratch->log);
        ft_evidence_free(&r->scratch->ev);
    }
    free(r->scratch);
    r->scratch = NULL;
}
