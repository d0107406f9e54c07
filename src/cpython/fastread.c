/*
 * fastread.c - stack reads of a running thread that are either consistent
 * or reported as torn (see fastread.h), in one syscall when the guess of
 * where the frames are holds.
 *
 * One process_vm_readv, laid out as a sandwich:
 *
 *   P1  the places the frames were last found: the data-stack window and
 *       older chunks (3.11+), frames living elsewhere, or (3.8-3.10) the
 *       frame objects
 *   T   the thread state (3.11-3.12: and the current frame behind its C
 *       frame): where the stack is *now*
 *   P2  the same places again, in reverse order
 *   N   (3.14+) the interpreter's code generation
 *   K   heads of the code objects last seen, and (3.8-3.11) their names,
 *       file names and line tables
 *
 * The stack is walked from T's innermost frame through P1 only. Every
 * byte the walk relied on must read the same in P2 (evidence.c). P1 was
 * copied before T and P2 after, so the frames held those bytes at the
 * moment of T: the stack is the thread's stack at that moment, up to a
 * change undone exactly within the few hundred nanoseconds between the
 * copies. A walk that needs memory outside the places learns the places
 * again (stack.c, plain reads that are never shown) and reads once more.
 *
 * Two savings that keep this exact: an entry frame found below a Python
 * frame is copied in P1 only where two copies are compared (VIEW_ONCE, see
 * ft_walk_iframes), and the walk takes what did not change from the
 * thread's last read (walkmemo.c: the memo, with the buffer it read, kept
 * while the places are laid out the same way).
 */
#include "fastread.h"

#include "remote.h"
#include "stack_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SLACK 512                  /* bytes copied past the top: room to grow */
#define MAX_FRAME_PLACES 48        /* frames outside the chunks kept as places */
#define MAX_GUESS_CODES 64         /* code heads read along */
#define MAX_GUESS_STRS (MAX_GUESS_CODES * FT_CODE_NSTR)
#define IOV_MAX_ONE 1024           /* iovs one process_vm_readv takes */
#define ATTEMPTS 3                 /* sandwiches per read before giving up on a guess */
#define MAX_LAYERS (1 + FT_MIRROR_MAX)
#define SLOW_READ_NS 10000ull     /* slack over the usual read time */

#define ABSORB_MAX 4               /* places read along with the thread state */
#define ABSORB_REACH 2048         /* ... when they lie this close past its start */
#define NEAR_INTERP 1024          /* N and the GC state read as one range within this */
#define SPAN_GAP 2048             /* places closer than this are copied as one range */
#define SPAN_MAX (64u << 10)
struct span {
    uint64_t addr;
    size_t len, at;
};

struct plan {
    size_t p_len, tstate_span, head_size;
    size_t t_len;                   /* T as read: the thread state and places absorbed */
    size_t absorbed[ABSORB_MAX], nabsorbed;
    uint64_t near_addr;             /* N and GC in one range, when close */
    size_t near_len, near_at;
    size_t *at;                     /* each place within P1 (f->at) */
    struct span *span;              /* f->span */
    size_t nspans;
    size_t nspans2;                 /* the first spans, copied in every layer;
                                       the rest (VIEW_ONCE places) in P1 only */
    int layers;
    int nts, top_t;                 /* thread-state reads; the one the walk starts from */
    size_t t_at[MAX_LAYERS], cframe_at[MAX_LAYERS], caller_at[MAX_LAYERS];
    size_t layer_at[MAX_LAYERS - 1];
    size_t gen_at, gc_at, gc0_at, gc_len, heads_at, strs_at, total;
    int gc0;                        /* the GC state is read before P1 too */
    size_t nheads, nstrs;           /* code heads and contents read along */
    size_t niov;                    /* ranges in the read */
    int have_gen;                   /* the code generation is read along */
};

struct ft_fastread {
    int have_places;
    struct ft_stack_places places;
    struct ft_stack_places fresh;  /* what the last learning found (its buffer is reused) */
    uint64_t *used;                /* per place: read number it was last walked through */
    size_t used_cap;
    uint64_t reads;
    uint64_t codes[MAX_GUESS_CODES];
    size_t ncodes;
    uint64_t strs[MAX_GUESS_STRS];
    uint32_t str_len[MAX_GUESS_STRS];
    size_t nstrs;
    unsigned char *buf;
    size_t cap;
    struct ft_remote_iov *iov;
    size_t iov_cap;
    size_t *at;                    /* per place: where its bytes land in a layer */
    size_t *order;                 /* places sorted by address */
    struct span *span;             /* what is copied: places merged when close */
    size_t plan_cap;
    uint64_t misses;
    uint64_t retries;
    uint64_t seed;
    uint64_t usual_ns;             /* moving average of a read's time per unit */
    int paused;                    /* this read: the thread is held still */
    int gc_guard;                  /* the GC state is read before P1 too (see gc_of) */
    struct plan spans;             /* the spans of the places, while they stand */
    uint64_t spans_tstate;
    int spans_stale;               /* the places changed since */
    uint64_t plan_id;              /* counts the span layouts made */
    struct walk_log memo;          /* the last read's walk (walkmemo.c) ... */
    unsigned char *memo_buf;       /* ... and the buffer it read, P1 at 0 */
    size_t memo_cap;
    int have_memo;
};

struct ft_fastread *ft_fastread_new(void) { return calloc(1, sizeof(struct ft_fastread)); }

void ft_fastread_free(struct ft_fastread *f)
{
    if (f) {
        free(f->buf);
        free(f->places.r);
        free(f->fresh.r);
        free(f->used);
        free(f->iov);
        free(f->at);
        free(f->order);
        free(f->span);
        free(f->memo_buf);
        ft_walklog_free(&f->memo);
    }
    free(f);
}

/* Room for the plan of n places and one sandwich of their spans. */
static int plan_room(struct ft_fastread *f, size_t n)
{
    size_t want = n ? n : 1;
    if (want > f->plan_cap) {
        size_t *at = realloc(f->at, want * sizeof *at), *order = at ? realloc(f->order, want * sizeof *order) : NULL;
        struct span *span = order ? realloc(f->span, want * sizeof *span) : NULL;
        if (at)
            f->at = at;
        if (order)
            f->order = order;
        f->spans_stale = 1;
        if (!span) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        f->span = span;
        f->plan_cap = want;
    }
    /* layers of spans, thread states, spacers, N, GC, K */
    size_t iovs = (MAX_LAYERS + 1) * (want + 8) + MAX_GUESS_CODES + MAX_GUESS_STRS + 8;
    if (iovs > f->iov_cap) {
        struct ft_remote_iov *iov = realloc(f->iov, iovs * sizeof *iov);
        if (!iov) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        f->iov = iov;
        f->iov_cap = iovs;
    }
    return 0;
}

uint64_t ft_fastread_misses(const struct ft_fastread *f) { return f->misses; }

void ft_fastread_forget(struct ft_fastread *f)
{
    f->have_places = 0;
    f->spans_stale = 1;
    f->places.n = 0;
    f->ncodes = 0;
    f->nstrs = 0;
}

static int reserve(struct ft_fastread *f, size_t n)
{
    if (n <= f->cap)
        return 0;
    unsigned char *b = realloc(f->buf, n);
    if (!b) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    f->buf = b;
    f->cap = n;
    return 0;
}

/* Where each part lands in f->buf: P1 at 0; then per later layer k a
 * thread state T_k, the C frame's current frame, and P_{k+1} (P1's mirror
 * at layer_at[k]); then N and K. */

/* Merges places that lie close together into spans, so that a layer costs
 * one range per cluster of frames (frame objects of 3.8-3.10 and running
 * generators mostly sit a few hundred bytes apart), and sets where each
 * place's bytes land. */
static const struct ft_place *sort_base; /* for by_addr: one sort at a time */

static int by_addr(const void *a, const void *b)
{
    const struct ft_place *pa = &sort_base[*(const size_t *)a], *pb = &sort_base[*(const size_t *)b];
    int oa = pa->kind == VIEW_ONCE, ob = pb->kind == VIEW_ONCE;
    if (oa != ob)
        return oa - ob; /* places copied once last: P2 is a prefix of P1's spans */
    return pa->addr < pb->addr ? -1 : pa->addr > pb->addr;
}

/* A frame that lives inside the thread state (3.14+: its base frame) is
 * copied with T, at the moment the walk starts from, instead of in every
 * layer: one range fewer per layer, and its bytes agree with T by
 * construction. */
static int absorb(struct plan *p, const struct ft_place *pl, size_t i, uint64_t tstate)
{
    if (p->nabsorbed == ABSORB_MAX || pl->addr < tstate || pl->len > ABSORB_REACH ||
        pl->addr - tstate > ABSORB_REACH - pl->len)
        return 0;
    p->absorbed[p->nabsorbed++] = i;
    if (pl->addr + pl->len - tstate > p->t_len)
        p->t_len = (size_t)(pl->addr + pl->len - tstate);
    return 1;
}

static void plan_spans(struct ft_fastread *f, struct plan *p, uint64_t tstate)
{
    size_t n = f->places.n, at = 0;
    p->at = f->at;
    p->span = f->span;
    for (size_t i = 0; i < n; i++)
        f->order[i] = i;
    sort_base = f->places.r;
    qsort(f->order, n, sizeof *f->order, by_addr);
    p->nspans = 0;
    p->nspans2 = SIZE_MAX;
    p->nabsorbed = 0;
    p->t_len = p->tstate_span;
    for (size_t k = 0; k < n; k++) {
        const struct ft_place *pl = &f->places.r[f->order[k]];
        if (absorb(p, pl, f->order[k], tstate))
            continue;
        if (pl->kind == VIEW_ONCE && p->nspans2 == SIZE_MAX)
            p->nspans2 = p->nspans;
        struct span *last = p->nspans > (p->nspans2 == SIZE_MAX ? 0 : p->nspans2)
                                ? &p->span[p->nspans - 1] : NULL;
        uint64_t end = pl->addr + pl->len;
        if (last && pl->addr <= last->addr + last->len + SPAN_GAP && end - last->addr <= SPAN_MAX) {
            if (end > last->addr + last->len) {
                at += (size_t)(end - (last->addr + last->len));
                last->len = (size_t)(end - last->addr);
            }
        } else {
            p->span[p->nspans++] = (struct span){pl->addr, pl->len, at};
            at += pl->len;
            last = &p->span[p->nspans - 1];
        }
        p->at[f->order[k]] = last->at + (size_t)(pl->addr - last->addr);
    }
    if (p->nspans2 == SIZE_MAX)
        p->nspans2 = p->nspans;
    for (size_t k = 0; k < p->nabsorbed; k++) {
        p->at[p->absorbed[k]] = at;
        at += f->places.r[p->absorbed[k]].len;
    }
    p->p_len = at;
}

/* Bytes of the garbage collector's state read along: the collecting flag,
 * and (3.15+) the frame the collection began in when it lies close by. */
static size_t gc_span(const struct ft_reader *r)
{
    const struct ft_offsets *o = &r->layout->off;
    if (o->interp_gc_collecting == FT_ABSENT && o->runtime_gc_collecting == FT_ABSENT)
        return 0;
    if (o->interp_gc_frame != FT_ABSENT && o->interp_gc_collecting != FT_ABSENT &&
        o->interp_gc_frame > o->interp_gc_collecting && o->interp_gc_frame + 8 - o->interp_gc_collecting <= 16)
        return (size_t)(o->interp_gc_frame + 8 - o->interp_gc_collecting);
    return 4;
}

static uint64_t gc_addr(const struct ft_reader *r, const struct ft_thread *t)
{
    const struct ft_offsets *o = &r->layout->off;
    return o->interp_gc_collecting != FT_ABSENT ? t->interp + o->interp_gc_collecting
                                                : r->runtime + o->runtime_gc_collecting;
}

/* N and the GC state: two ranges, or one when both lie close together in
 * the interpreter state (3.14+: a few hundred bytes apart). */
static size_t plan_near(const struct ft_reader *r, const struct ft_thread *t, struct plan *p, size_t at)
{
    const struct ft_offsets *o = &r->layout->off;
    p->near_len = 0;
    p->near_addr = 0;
    p->near_at = 0;
    if (p->have_gen && p->gc_len && o->interp_gc_collecting != FT_ABSENT) {
        uint64_t gen = o->interp_code_generation, gc = o->interp_gc_collecting;
        uint64_t lo = gen < gc ? gen : gc, hi = gen + 8 > gc + p->gc_len ? gen + 8 : gc + p->gc_len;
        if (hi - lo <= NEAR_INTERP) {
            p->near_addr = t->interp + lo;
            p->near_len = (size_t)(hi - lo);
            p->near_at = at;
            p->gen_at = at + (size_t)(gen - lo);
            p->gc_at = at + (size_t)(gc - lo);
            return at + p->near_len;
        }
    }
    p->gen_at = at;
    p->gc_at = at + 8;
    return at + 8 + 16;
}

/* P1 at 0; with three layers a thread state T0 before P1 (liveness checks
 * only); then per later layer a thread state, the C frame's current frame,
 * and the layer; then N and K. */
static void plan_layout(const struct ft_reader *r, struct ft_fastread *f,
                        const struct ft_thread *t, struct plan *p)
{
    if (f->spans_stale || f->spans_tstate != t->tstate) {
        p->tstate_span = ft_tstate_span(&r->layout->off);
        plan_spans(f, p, t->tstate);
        f->plan_id++;
        f->spans = *p;
        f->spans_tstate = t->tstate;
        f->spans_stale = 0;
    } else {
        *p = f->spans;
    }
    size_t at = p->p_len;
    p->head_size = ft_code_head_size(r->layout);
    p->layers = f->paused ? 1 : r->sandwich_layers;
    p->top_t = p->layers > 2;
    p->nts = p->layers > 1 ? p->layers - 1 + p->top_t : 1;
    for (int j = 0; j < p->nts; j++) {
        p->t_at[j] = at;
        at += p->t_len;
        p->cframe_at[j] = at;         /* 3.11-3.12: the C frame's part we read */
        at += r->layout->off.tstate_cframe != FT_ABSENT ? ft_cframe_len(&r->layout->off) : 0;
        p->caller_at[j] = at;         /* its caller's current frame */
        at += 8;
        if (j >= p->top_t && j - p->top_t < p->layers - 1) {
            p->layer_at[j - p->top_t] = at;
            at += p->p_len;
        }
    }
    p->have_gen = r->check == FT_CHECK_GENERATION && t->interp;
    p->gc_len = t->interp ? gc_span(r) : 0;
    at = plan_near(r, t, p, at);
    p->gc0 = f->gc_guard && p->gc_len;
    p->gc0_at = at;
    at += p->gc0 ? p->gc_len : 0;
    /* 3.14+ needs no heads while no code object was freed: the generation
     * counter says so, and heads are read only when it moved */
    p->nheads = p->have_gen ? 0 : f->ncodes;
    p->nstrs = f->nstrs;
    p->heads_at = at;
    at += p->nheads * p->head_size;
    p->strs_at = at;
    at += p->nstrs * FT_STR_CHECK_MAX;
    p->total = at;
}

static uint64_t next_random(struct ft_fastread *f)
{
    uint64_t x = f->seed ? f->seed : 0x9E3779B97F4A7C15ull;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return f->seed = x;
}

/* 0-2 spacer reads, only where more than two copies are compared (where
 * a dead frame cannot be told from a live one) */
static uint64_t spacers(struct ft_fastread *f, const struct plan *p)
{
    return p->layers > 2 ? next_random(f) % 3 : 0;
}

static struct ft_remote_iov range(uint64_t addr, unsigned char *buf, size_t len)
{
    return (struct ft_remote_iov){addr, buf, len};
}

/* The first n spans into b (a layer), forwards or backwards. */
static size_t add_places(const struct plan *p, size_t n, unsigned char *b, int backwards,
                         struct ft_remote_iov *iov)
{
    for (size_t j = 0; j < n; j++) {
        const struct span *s = &p->span[backwards ? n - 1 - j : j];
        iov[j] = range(s->addr, b + s->at, s->len);
    }
    return n;
}

/* The iovs in as few syscalls as the kernel allows, in order. 1: all of it
 * arrived; 0: some range was not mapped; -1: the process cannot be read. */
static int read_all(struct ft_reader *r, const struct ft_remote_iov *iov, size_t n)
{
    for (size_t done = 0; done < n;) {
        size_t k = n - done < IOV_MAX_ONE ? n - done : IOV_MAX_ONE, want = 0;
        for (size_t i = 0; i < k; i++)
            want += iov[done + i].len;
        ssize_t got = ft_proc_readv_partial(r->proc, iov + done, k);
        if (got < 0)
            return -1;
        if ((size_t)got != want)
            return 0;
        done += k;
    }
    return 1;
}

/* Absorbed places into every layer, from the T the walk starts from. */
static void spread_absorbed(struct ft_fastread *f, const struct plan *p, uint64_t tstate)
{
    for (size_t k = 0; k < p->nabsorbed; k++) {
        const struct ft_place *pl = &f->places.r[p->absorbed[k]];
        const unsigned char *src = f->buf + p->t_at[p->top_t] + (size_t)(pl->addr - tstate);
        memcpy(f->buf + p->at[p->absorbed[k]], src, pl->len);
        for (int j = 0; j < p->layers - 1; j++)
            memcpy(f->buf + p->layer_at[j] + p->at[p->absorbed[k]], src, pl->len);
    }
}

/* 1: all of it arrived; 0: some range was not mapped (the stack moved far:
 * learn again); -1: the process cannot be read. */
static int sandwich(struct ft_reader *r, struct ft_fastread *f, const struct ft_thread *t,
                    struct plan *p)
{
    const struct ft_offsets *o = &r->layout->off;
    if (plan_room(f, f->places.n) < 0)
        return -1;
    plan_layout(r, f, t, p);
    if (p->tstate_span > TSTATE_MAX || reserve(f, p->total) < 0)
        return -1;
    struct ft_remote_iov *iov = f->iov;
    unsigned char *b = f->buf;
    size_t n = 0;
    if (p->gc0)
        iov[n++] = range(gc_addr(r, t), b + p->gc0_at, p->gc_len);
    if (!p->top_t)
        n += add_places(p, p->nspans, b, 0, iov + n); /* P1, unless T0 comes first */
    for (int j = 0; j < p->nts; j++) {
        /* 0-2 spacer reads before and after each thread state, at random:
         * a program that loops with the period of these reads could
         * otherwise show every thread state one moment of its loop and
         * every copy another, each time alike */
        for (uint64_t x = spacers(f, p); x > 0; x--)
            iov[n++] = range(t->tstate, b + p->t_at[j], p->tstate_span);
        iov[n++] = range(t->tstate, b + p->t_at[j], p->t_len);
        if (f->places.cframe)
            iov[n++] = range(f->places.cframe + ft_cframe_lo(o), b + p->cframe_at[j], ft_cframe_len(o));
        if (f->places.prev_cframe)
            iov[n++] = range(f->places.prev_cframe + o->cframe_current_frame, b + p->caller_at[j], 8);
        for (uint64_t x = spacers(f, p); x > 0; x--)
            iov[n++] = range(t->tstate, b + p->gen_at, 8);
        if (j == 0 && p->top_t)
            n += add_places(p, p->nspans, b, 0, iov + n);
        else if (j - p->top_t < p->layers - 1)
            n += add_places(p, p->nspans2, b + p->layer_at[j - p->top_t], (j - p->top_t) % 2 == 0,
                            iov + n);
    }
    if (p->near_len) {
        iov[n++] = range(p->near_addr, b + p->near_at, p->near_len);
    } else {
        if (p->have_gen)
            iov[n++] = range(t->interp + o->interp_code_generation, b + p->gen_at, 8);
        if (p->gc_len)
            iov[n++] = range(gc_addr(r, t), b + p->gc_at, p->gc_len);
    }
    for (size_t i = 0; i < p->nheads; i++)
        iov[n++] = range(f->codes[i], b + p->heads_at + i * p->head_size, p->head_size);
    for (size_t i = 0; i < p->nstrs; i++)
        iov[n++] = range(f->strs[i], b + p->strs_at + i * FT_STR_CHECK_MAX, f->str_len[i]);
    p->niov = n;
    int whole = read_all(r, iov, n);
    if (whole == 1)
        spread_absorbed(f, p, t->tstate);
    return whole;
}

/* Merges freshly learnt places into the kept ones: chunks are replaced,
 * frames living elsewhere are added to those kept (the least recently
 * walked go first when there are too many), so that a program moving among
 * a few sets of frames soon has all of them in every read. */
static int merge_places(struct ft_fastread *f, struct ft_stack_places *fresh)
{
    size_t n0 = fresh->n, kept = 0;
    uint64_t kept_used[MAX_FRAME_PLACES];
    for (size_t i = 0; f->have_places && i < f->places.n && kept < MAX_FRAME_PLACES; i++) {
        const struct ft_place *old = &f->places.r[i];
        if ((old->kind != VIEW_FRAME && old->kind != VIEW_ONCE) || f->reads - f->used[i] > 64)
            continue;
        size_t k = 0;
        while (k < n0 && fresh->r[k].addr != old->addr)
            k++;
        if (k == n0 && ft_places_add(fresh, *old) == 0)
            kept_used[kept++] = f->used[i];
    }
    if (fresh->n > f->used_cap) {
        uint64_t *used = realloc(f->used, fresh->n * sizeof *used);
        if (!used) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        f->used = used;
        f->used_cap = fresh->n;
    }
    for (size_t i = 0; i < fresh->n; i++)
        f->used[i] = i < n0 ? f->reads : kept_used[i - n0];
    struct ft_stack_places swap = f->places;
    f->places = *fresh;
    *fresh = swap;
    f->have_places = 1;
    f->spans_stale = 1;
    return 0;
}

static enum walk_status learn(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t)
{
    struct ft_stack_places *fresh = &f->fresh;
    f->misses++;
    fresh->n = 0;
    enum walk_status st = ft_learn_places(r, t, SLACK, fresh);
    if (st == WALK_FATAL)
        return st;
    if (st != WALK_OK || merge_places(f, fresh) < 0)
        f->have_places = 0;
    f->spans_stale = 1;
    ft_error_clear();
    return WALK_OK;
}

/* Remembers the code objects of this stack (and what 3.8-3.11 compare of
 * them) to check along with the next read. */
static void remember_codes(struct ft_reader *r, struct ft_fastread *f)
{
    const struct ft_walk_scratch *w = r->scratch;
    f->ncodes = w->ndistinct < MAX_GUESS_CODES ? w->ndistinct : MAX_GUESS_CODES;
    f->nstrs = 0;
    for (size_t i = 0; i < f->ncodes; i++) {
        const struct ft_code *c = w->codes[i];
        f->codes[i] = c->addr;
        for (int j = 0; j < FT_CODE_NSTR && f->nstrs < MAX_GUESS_STRS; j++) {
            size_t m = 0;
            if (!c->strs[j].addr)
                continue;
            while (m < f->nstrs && f->strs[m] != c->strs[j].addr)
                m++;
            if (m == f->nstrs) {
                f->strs[f->nstrs] = c->strs[j].addr;
                f->str_len[f->nstrs++] = c->strs[j].len;
            }
        }
    }
}

/* The view of P1 the walk may use, and the innermost frame per T.
 * Returns WALK_OK; WALK_AGAIN when the places were adjusted to T without
 * learning them anew (the stack grew past the window within its chunk; a
 * new C frame); WALK_MISS when they no longer fit (another chunk). */
static enum walk_status set_view(struct ft_reader *r, struct ft_fastread *f, const struct plan *p,
                                 const struct tstate_view *v, uint64_t *top)
{
    struct view *view = &r->scratch->view;
    enum walk_status st = WALK_OK;
    *top = v->frame;
    if (v->cframe && v->cframe != f->places.cframe) {
        f->places.cframe = v->cframe;
        st = WALK_AGAIN;
    }
    if (v->cframe && st == WALK_OK) {
        struct tstate_view c;
        ft_cframe_parse(r->layout, f->buf + p->cframe_at[p->top_t], &c);
        *top = c.frame;
        if (c.prev_cframe != f->places.prev_cframe) {
            f->places.prev_cframe = c.prev_cframe;
            st = WALK_AGAIN;
        }
        ft_expect_entry_caller(r, c.prev_cframe ? ft_word_in(r->layout, f->buf + p->caller_at[p->top_t], 8, 0) : 0);
    }
    view->live = 0;
    view->datastack_top = v->top;
    view->n = 0;
    for (size_t i = 0; i < f->places.n; i++) {
        struct ft_place *pl = &f->places.r[i];
        if (pl->kind == VIEW_WINDOW && (v->top < pl->addr || v->top > pl->addr + pl->len)) {
            uint64_t base = v->chunk + r->layout->off.stackchunk_data;
            if (pl->addr != base || v->top < base || v->top > v->limit || v->top - base > WINDOW_MAX)
                return WALK_MISS; /* another chunk */
            uint64_t end = v->top + SLACK < v->limit ? v->top + SLACK : v->limit;
            pl->len = (size_t)(end - base);
            f->spans_stale = 1;
            st = WALK_AGAIN;
        }
        if (st == WALK_OK &&
            ft_view_add(view, (struct view_range){pl->addr, pl->len, f->buf + p->at[i], pl->kind, 0}) < 0)
            return WALK_MISS;
    }
    return st;
}

/* 3.11-3.13 keep a popped frame's code and links, so a copy cannot tell a
 * live innermost frame from one that just returned: each thread state read
 * around the copies must still have it on the data stack (same chunk, top
 * above it). Frames outside the chunk are not checked this way. */
static int live_everywhere(const struct ft_reader *r, const struct plan *p, const unsigned char *b,
                           const struct tstate_view *at_top, uint64_t top)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t end = top + ft_iframe_span(o);
    uint64_t base = at_top->chunk + o->stackchunk_data;
    if (!p->top_t || !at_top->chunk || top < base || top >= at_top->limit)
        return 1;
    for (int j = 0; j < p->nts; j++) {
        struct tstate_view v;
        ft_tstate_parse(r->layout, b + p->t_at[j], p->tstate_span, &v);
        if (v.chunk != at_top->chunk || v.top < end) {
            ft_fail(FT_E_CORRUPT, "the innermost frame returned while the stack was read");
            return 0;
        }
    }
    return 1;
}

/* The view's ranges are the places, in order: a range the walk took a
 * frame from keeps its place fresh. */
static void mark_used(struct ft_fastread *f, const struct ft_walk_scratch *w)
{
    for (size_t k = 0; k < w->view.n && k < f->places.n; k++)
        if (w->view.r[k].walked)
            f->used[k] = f->reads;
}

/* The walk of this read is logged, and takes what did not change from
 * the last one, where the copies are laid out alike and the walk is a
 * function of their bytes alone (3.11-3.12 also check the C frames'
 * links, which the log does not hold). */
static int memo_applies(const struct ft_reader *r, const struct ft_fastread *f)
{
    const struct ft_offsets *o = &r->layout->off;
    return !f->paused && o->pyframe_back == FT_ABSENT && o->tstate_cframe == FT_ABSENT;
}

static void begin_log(struct ft_reader *r, struct ft_fastread *f)
{
    int use = memo_applies(r, f) && f->have_memo && f->memo.plan == f->plan_id;
    ft_walklog_begin(r->scratch, memo_applies(r, f) ? f->buf : NULL, use ? &f->memo : NULL,
                     use ? f->memo_buf : NULL);
}

/* This read's walk becomes the memo, and its buffer the memo's (swapped:
 * the next sandwich is copied into the other one). */
static void keep_log(struct ft_reader *r, struct ft_fastread *f, const struct ft_thread *t,
                     const struct ft_code_pre *pre)
{
    f->have_memo = memo_applies(r, f) && ft_walklog_keep(r->scratch, &f->memo, f->plan_id,
                                                                  ft_iframe_span(&r->layout->off)) == 0;
    if (!f->have_memo)
        return;
    if (pre->have_generation)
        ft_walklog_frames(&f->memo, t->frames, t->nframes, pre->generation, r->misses);
    unsigned char *b = f->buf;
    size_t cap = f->cap;
    f->buf = f->memo_buf;
    f->cap = f->memo_cap;
    f->memo_buf = b;
    f->memo_cap = cap;
}

/* Frames the walk took from the memo are resolved as the memo's were,
 * where the code generation (3.14+) says no code object was freed since
 * and the reader decoded none (which could evict one from its cache). */
static void known_frames(const struct ft_reader *r, const struct ft_fastread *f, struct ft_code_pre *pre)
{
    const struct walk_log *l = &r->scratch->log, *m = &f->memo;
    if (!l->taken_at || !m->have_frames || !pre->have_generation || m->generation != pre->generation ||
        m->decodes != r->misses)
        return;
    pre->known = m->frames + m->step[l->taken_at].raw_before;
    pre->known_from = l->taken_raw;
}

/* Entry frames the walk found below a Python frame are copied once from
 * the next read on, where two copies are compared (3.14+); see
 * ft_walk_iframes. */
static void copy_once(struct ft_fastread *f, const struct raw_stack *s)
{
    for (size_t i = 0; i < f->places.n; i++)
        for (size_t k = 0; k < s->nonce && f->places.r[i].kind == VIEW_FRAME; k++)
            if (f->places.r[i].addr == s->once[k]) {
                f->places.r[i].kind = VIEW_ONCE;
                f->spans_stale = 1;
            }
}

static void copy_twice(struct ft_fastread *f, uint64_t frame)
{
    for (size_t i = 0; i < f->places.n; i++)
        if (f->places.r[i].kind == VIEW_ONCE && f->places.r[i].addr == frame) {
            f->places.r[i].kind = VIEW_FRAME;
            f->spans_stale = 1;
        }
}

/* The collector's state, read after the copies: a <GC> frame shown on a
 * stack from before the collection began would be a stack that never was
 * (a caller at the line of a call not yet made, collecting). So a thread
 * seen collecting is read with the state copied before P1 as well, and
 * both must agree: WALK_AGAIN when that copy was not made, WALK_TORN when
 * a collection began or ended during the read. Seen not collecting, the
 * stack is written without <GC>, which a collection that ends during the
 * read makes at worst a stack of a moment before it began. */
static enum walk_status gc_of(const struct ft_reader *r, struct ft_fastread *f,
                              const struct plan *p, const unsigned char *b, struct ft_thread *t)
{
    const struct ft_offsets *o = &r->layout->off;
    t->gc_collecting = p->gc_len && ft_i32_in(b + p->gc_at, p->gc_len, 0) != 0;
    t->gc_frame = t->gc_collecting && p->gc_len > 8
                      ? ft_word_in(r->layout, b + p->gc_at, p->gc_len, o->interp_gc_frame - o->interp_gc_collecting)
                      : 0;
    f->gc_guard = t->gc_collecting;
    if (!t->gc_collecting || f->paused)
        return WALK_OK;
    if (!p->gc0)
        return WALK_AGAIN;
    if (memcmp(b + p->gc0_at, b + p->gc_at, p->gc_len) != 0) {
        ft_fail(FT_E_CORRUPT, "a garbage collection began or ended during the read");
        return WALK_TORN;
    }
    return WALK_OK;
}

static uint64_t monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A read's cost in units of about equal time: the call, its ranges and
 * the pages it copies. The usual time is kept per unit, so that a read
 * that grows (a deeper stack, more places learnt) is not taken for a
 * descheduled one. */
static uint64_t read_units(const struct plan *p)
{
    return 4 + p->niov / 4 + p->total / 4096;
}

/* The copies vouch for one moment only if they follow each other closely:
 * a read during which frametap was descheduled (a loaded machine) spans
 * milliseconds, in which a looping program passes the same states many
 * times over and identical copies prove nothing. Such a read counts as
 * torn. "Closely": within a few times the usual time for its size. A
 * slow read still raises the usual time a little, so that a machine that
 * is slow throughout (sanitizers, emulation) is learnt, not refused. */
static int quick_enough(struct ft_fastread *f, const struct plan *p, uint64_t ns)
{
    uint64_t units = read_units(p), per = ns / units + 1;
    uint64_t usual = f->usual_ns ? f->usual_ns : per;
    int ok = ns <= 4 * usual * units + SLOW_READ_NS;
    f->usual_ns = ok ? usual - usual / 8 + per / 8 : usual + usual / 16 + 1;
    if (!ok)
        ft_fail(FT_E_CORRUPT, "a read took %llu us, too long to vouch for one moment "
                "(frametap was descheduled?)", (unsigned long long)(ns / 1000));
    return ok;
}

/* One sandwich and what follows from it. WALK_MISS: learn and read again. */
static enum walk_status read_sandwich(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t)
{
    const struct ft_offsets *o = &r->layout->off;
    struct plan p;
    struct tstate_view v;
    uint64_t top;
    ft_read_begin(r, !f->paused);
    f->reads++;
    uint64_t began = monotonic_ns();
    int whole = sandwich(r, f, t, &p);
    if (whole < 0)
        return classify_failure();
    if (!whole)
        return WALK_MISS;
    if (!f->paused && !quick_enough(f, &p, monotonic_ns() - began))
        return WALK_TORN;
    ft_tstate_parse(r->layout, f->buf + p.t_at[p.top_t], p.tstate_span, &v);
    if (t->thread_id && v.thread_id != t->thread_id) {
        t->gone = 1;
        ft_fail(FT_E_CORRUPT, "the thread ended (its state now belongs to another thread)");
        return WALK_FATAL_THREAD;
    }
    enum walk_status fit = set_view(r, f, &p, &v, &top);
    if (fit != WALK_OK)
        return fit;
    if (!live_everywhere(r, &p, f->buf, &v, top))
        return WALK_TORN;
    begin_log(r, f);
    enum walk_status st = o->pyframe_back != FT_ABSENT ? ft_walk_pyframes(r, top)
                                                        : ft_walk_iframes(r, top);
    if (st == WALK_AGAIN)
        copy_twice(f, r->scratch->raw.refused);
    if (st != WALK_OK)
        return st;
    if (o->pyframe_back == FT_ABSENT)
        ft_view_evidence(r, top);
    mark_used(f, r->scratch);
    struct ft_code_pre pre = {
        .have_generation = p.have_gen,
        .generation = ft_u64_in(f->buf + p.gen_at, 8, 0),
        .nheads = p.nheads, .head_addr = f->codes, .heads = f->buf + p.heads_at,
        .nstrs = p.nstrs, .str_addr = f->strs, .str_len = f->str_len, .strs = f->buf + p.strs_at,
    };
    known_frames(r, f, &pre);
    st = gc_of(r, f, &p, f->buf, t);
    if (st != WALK_OK)
        return st;
    int decoded = 0;
    st = ft_resolve_frames(r, t, &pre, &decoded);
    if (st != WALK_OK)
        return st;
    struct ft_mirror m = {f->buf, p.p_len, {0}, p.layers - 1};
    for (int k = 0; k < p.layers - 1; k++)
        m.delta[k] = (ptrdiff_t)p.layer_at[k];
    int ok = f->paused ? 1 : ft_evidence_confirm(r, &r->scratch->ev, &m);
    remember_codes(r, f);
    if (ok == 1 && (!decoded || f->paused)) {
        if (!f->paused && p.layers == 2)
            copy_once(f, &r->scratch->raw);
        keep_log(r, f, t, &pre);
        return WALK_OK;
    }
    free(t->frames);
    t->frames = NULL;
    t->nframes = 0;
    if (ok < 0)
        return WALK_FATAL;
    /* a code object decoded just now was read after the copies: read the
     * stack again, with it checked inside the sandwich */
    return ok == 0 ? WALK_TORN : WALK_AGAIN;
}

/* Sandwiches until one gives a stack or tears, learning the places again
 * when the stack left them. */
static enum walk_status read_once(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t)
{
    int relearn = !f->have_places;
    ft_error_clear();
    /* a held thread's stack stands still, but a thread new to this reader
     * takes a read per link it reveals (3.11-3.12: its C frame, then that
     * frame's caller) before one passes */
    int attempts = f->paused ? 2 * ATTEMPTS : ATTEMPTS;
    for (int i = 0; i < attempts; i++) {
        if (relearn && learn(r, f, t) == WALK_FATAL)
            return WALK_FATAL;
        if (!f->have_places)
            continue;
        enum walk_status st = read_sandwich(r, f, t);
        if (st == WALK_FATAL_THREAD)
            return WALK_TORN;
        if (st != WALK_MISS && st != WALK_AGAIN)
            return st;
        relearn = st == WALK_MISS;
    }
    ft_fail(FT_E_CORRUPT, "the stack kept moving away from the memory read along with it");
    return WALK_TORN;
}

/* A read that tore is tried again, up to TRIES in all: the places usually
 * still hold, so each try is one syscall, and the stack is then a few
 * microseconds younger, which a sampler does not mind. Code that calls and
 * returns every few dozen nanoseconds tears most reads, in runs, so a few
 * retries are not enough. The last tear is an error sample. */
#define TRIES 16
/* A one-off read (dump) can afford many more: nothing waits for the next
 * sample, and a stack of frame objects (3.8-3.10) churning through deep
 * recursion tears most reads */
#define DUMP_TRIES (8 * TRIES)
int ft_fastread_stack(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t, int tries)
{
    if (ft_walk_scratch_ensure(r) < 0)
        return -1;
    t->error[0] = '\0';
    enum walk_status st = read_once(r, f, t);
    for (int i = 1; st == WALK_TORN && !t->gone && i < (tries > 0 ? tries : TRIES); i++) {
        f->retries++;
        st = read_once(r, f, t);
    }
    if (st == WALK_FATAL)
        return -1;
    if (st == WALK_TORN) {
        snprintf(t->error, sizeof t->error, "stack changed while being read: %s", ft_error_message());
        ft_error_clear();
    }
    return 0;
}

const char *ft_fastread_limit(const struct ft_layout *l)
{
    if (l->off.pyframe_back != FT_ABSENT)
        return "this Python keeps every frame in an object of its own, which cannot be copied "
               "at one instant while its thread runs";
    if (l->off.interp_code_generation == FT_ABSENT)
        return "this Python leaves a returned frame's memory as it was, so copies of a running "
               "thread's frames can agree on a stack that never was (a few in 100,000 samples "
               "of code that calls and returns in a tight loop)";
    return NULL;
}

int ft_fastread_paused(struct ft_reader *r, struct ft_fastread *f, struct ft_thread *t)
{
    if (ft_walk_scratch_ensure(r) < 0)
        return -1;
    t->error[0] = '\0';
    f->paused = 1;
    enum walk_status st = read_once(r, f, t);
    f->paused = 0;
    if (st != WALK_OK && st != WALK_FATAL) {
        /* the places did not settle (code created and freed under a
         * thread new to this reader): the plain walk reads what it needs
         * where it is, which a held thread allows */
        free(t->frames);
        t->frames = NULL;
        t->nframes = 0;
        ft_error_clear();
        st = ft_read_stack_paused(r, t);
        if (st == WALK_OK && t->interp && ft_gc_state(r, t->interp, &t->gc_collecting, &t->gc_frame) < 0)
            st = classify_failure();
    }
    if (st == WALK_FATAL)
        return -1;
    if (st != WALK_OK) {
        snprintf(t->error, sizeof t->error,
                 "stack is inconsistent although the thread was paused: %s", ft_error_message());
        ft_error_clear();
    }
    return 0;
}

int ft_read_thread_stack(struct ft_reader *r, struct ft_thread *t, int paused)
{
    if (ft_walk_scratch_ensure(r) < 0)
        return -1;
    t->error[0] = '\0';
    if (!paused) {
        struct ft_fastread *f = ft_fastread_new();
        if (!f) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        int rc = ft_fastread_stack(r, f, t, DUMP_TRIES);
        ft_fastread_free(f);
        return rc;
    }
    ft_error_clear();
    enum walk_status st = ft_read_stack_paused(r, t);
    if (st == WALK_OK && t->interp && ft_gc_state(r, t->interp, &t->gc_collecting, &t->gc_frame) < 0)
        st = classify_failure();
    if (st == WALK_FATAL)
        return -1;
    if (st != WALK_OK) {
        snprintf(t->error, sizeof t->error,
                 "stack is inconsistent although the process was paused: %s", ft_error_message());
        ft_error_clear(); /* recorded per thread; the snapshot goes on */
    }
    return 0;
}
