/*
 * walkmemo.c - the last walk of a running thread's frames (3.11+), kept so
 * that the next read takes the part of the chain that did not change
 * instead of walking it again: a deep stack mostly changes at its top.
 *
 * Taking steps is exact, never a guess. A walk is a function of the bytes
 * it reads, where it starts and whether the frame above was a Python
 * frame; the steps from a frame down are taken from the last walk only
 * when that walk went through the same frame, in the same state, and
 * every byte its steps from there read lies at the same place of a copy
 * laid out the same way (same plan) and reads the same now. The evidence
 * those steps owe the sandwich is added from the new copy, as the walk
 * would add it. It must never take a step whose bytes it did not compare.
 *
 * Cost: what a kept walk needs to be compared is prepared when it is kept
 * (per step, the bytes of the window read from it down; the few steps read
 * elsewhere), so that taking n steps is one compare of the window, one per
 * step elsewhere and a copy of the raw frames.
 */
#include "stack_internal.h"
#include "evidence.h"
#include "../util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_STEPS 8             /* the last walk is looked for this far down */
#define MATCH_REACH 4             /* ... this many steps either side of the same depth */
#define MATCH_TRIES 2             /* comparisons per walk */

void ft_walklog_begin(struct ft_walk_scratch *w, const unsigned char *copy,
                      const struct walk_log *memo, const unsigned char *memo_copy)
{
    w->log.n = 0;
    w->log.whole = copy != NULL;
    w->log.taken_at = 0;
    w->copy = copy;
    w->memo = memo && memo_copy && memo->whole ? memo : NULL;
    w->memo_copy = memo_copy;
    w->memo_tries = 0;
}

void ft_walklog_step(struct ft_walk_scratch *w, uint64_t addr, const unsigned char *b,
                     size_t range, int kind, int flags)
{
    struct walk_log *l = &w->log;
    if (!l->whole)
        return;
    if (kind < 0 || range > UINT16_MAX || b < w->copy || (size_t)(b - w->copy) > UINT32_MAX - 4096) {
        l->whole = 0; /* read from the target, not the copy: nothing to compare later */
        return;
    }
    FT_GROW(l->step, l->cap, l->n + 1);
    l->step[l->n++] = (struct walk_step){addr, (uint32_t)(b - w->copy), (uint32_t)w->raw.n,
                                         (uint16_t)range, (uint8_t)kind, (uint8_t)flags, 0, 0};
}

/* The last walk's step at `frame`, looked for near the same depth. */
static size_t find(const struct walk_log *m, uint64_t frame, size_t depth)
{
    size_t lo = depth > MATCH_REACH ? depth - MATCH_REACH : 1;
    for (size_t j = lo; j <= depth + MATCH_REACH && j < m->n; j++)
        if (m->step[j].addr == frame)
            return j;
    return 0;
}

/* The first of the memo's steps outside the window at or below j. */
static size_t first_sparse(const struct walk_log *m, size_t j)
{
    size_t k = m->nsparse;
    while (k > 0 && m->sparse[k - 1] >= j)
        k--;
    return k;
}

/* Every byte the steps from j read, the same in both copies. */
static int same_bytes(const struct ft_walk_scratch *w, size_t j, size_t span)
{
    const struct walk_log *m = w->memo;
    const struct walk_step *at = &m->step[j];
    if (at->win_lo < at->win_hi &&
        memcmp(w->memo_copy + at->win_lo, w->copy + at->win_lo, at->win_hi - at->win_lo) != 0)
        return 0;
    for (size_t k = first_sparse(m, j); k < m->nsparse; k++)
        if (memcmp(w->memo_copy + m->step[m->sparse[k]].at, w->copy + m->step[m->sparse[k]].at, span) != 0)
            return 0;
    return 1;
}

/* What the walk would have noted of the steps from j: evidence for frames
 * read on their own, entry frames to copy once, the ranges it used. */
static void note_rest(struct ft_walk_scratch *w, size_t j, size_t span)
{
    const struct walk_log *m = w->memo;
    struct raw_stack *s = &w->raw;
    for (size_t k = first_sparse(m, j); k < m->nsparse; k++) {
        const struct walk_step *st = &m->step[m->sparse[k]];
        if (st->kind == VIEW_FRAME)
            ft_evidence_add(&w->ev, st->addr, w->copy + st->at, span, FT_EV_IFRAME);
        if ((st->flags & STEP_ONCE) && s->nonce < ONCE_MAX)
            s->once[s->nonce++] = st->addr;
        if (st->range < w->view.n)
            w->view.r[st->range].walked = 1;
    }
    if (m->win_range < w->view.n)
        w->view.r[m->win_range].walked = 1;
}

int ft_walklog_reuse(struct ft_walk_scratch *w, uint64_t frame, int callee_python, size_t span)
{
    const struct walk_log *m = w->memo;
    struct raw_stack *s = &w->raw;
    if (!m || !w->log.whole || w->log.n == 0 || w->log.n > MATCH_STEPS ||
        w->memo_tries == MATCH_TRIES || s->entry_check)
        return 0;
    size_t j = find(m, frame, w->log.n);
    if (!j)
        return 0;
    const struct walk_step *at = &m->step[j];
    size_t rest = m->nraw - at->raw_before;
    /* the walk's checks there must have been the same: the one on a
     * caller's state (the step above a Python frame), the one on frames
     * below the innermost (some raw frame before) */
    if ((at->flags & STEP_CALLEE_PYTHON) != (callee_python ? STEP_CALLEE_PYTHON : 0) ||
        (at->raw_before == 0) != (s->n == 0) || s->n + rest > FT_MAX_DEPTH)
        return 0;
    w->memo_tries++;
    if (!same_bytes(w, j, span))
        return 0;
    if (rest)
        memcpy(s->v + s->n, m->raw + at->raw_before, rest * sizeof *s->v);
    note_rest(w, j, span);
    w->log.taken_at = j;
    w->log.taken_raw = s->n;
    s->n += rest;
    s->ends_at_entry = m->ends_at_entry;
    return 1;
}

static int in_window(const struct walk_log *l, const struct walk_step *st)
{
    return st->range == l->win_range && st->kind == VIEW_WINDOW;
}

/* Window bounds and the steps outside the window, for steps [0, upto) of
 * l, given those of the steps below: l->sparse[first_below, nsparse) are
 * the steps outside the window from upto on; they move up behind the new
 * ones, in the same array. */
static void derive(struct walk_log *l, size_t upto, size_t first_below)
{
    size_t nbelow = l->nsparse - first_below, nsparse = 0;
    for (size_t i = 0; i < upto; i++)
        nsparse += !in_window(l, &l->step[i]);
    FT_GROW(l->sparse, l->sparse_cap, nsparse + nbelow);
    if (nbelow)
        memmove(l->sparse + nsparse, l->sparse + first_below, nbelow * sizeof *l->sparse);
    uint32_t lo = upto < l->n ? l->step[upto].win_lo : UINT32_MAX, hi = upto < l->n ? l->step[upto].win_hi : 0;
    size_t k = nsparse;
    for (size_t i = upto; i-- > 0;) {
        struct walk_step *st = &l->step[i];
        if (in_window(l, st)) {
            lo = st->at < lo ? st->at : lo;
            hi = st->at + l->span > hi ? st->at + (uint32_t)l->span : hi;
        } else {
            l->sparse[--k] = (uint32_t)i;
        }
        st->win_lo = lo;
        st->win_hi = hi;
    }
    l->nsparse = nsparse + nbelow;
}

static size_t window_range(const struct walk_log *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->step[i].kind == VIEW_WINDOW)
            return l->step[i].range;
    return SIZE_MAX;
}

/* The memo takes this walk's new steps in place of its first j, when they
 * are as many and pushed as many raw frames: nothing below moves. */
static int keep_in_place(struct ft_walk_scratch *w, struct walk_log *memo)
{
    struct walk_log *l = &w->log;
    size_t j = l->taken_at, win = window_range(l);
    if (l->n != j || l->taken_raw != memo->step[j].raw_before || (win != memo->win_range && win != SIZE_MAX))
        return 0;
    memcpy(memo->step, l->step, j * sizeof *l->step);
    if (l->taken_raw)
        memcpy(memo->raw, w->raw.v, l->taken_raw * sizeof *memo->raw);
    derive(memo, j, first_sparse(memo, j));
    return 1;
}

/* The log takes the memo's steps from j on, so that it holds all of the
 * chain (the walk took them, shifted). */
static void append_taken(struct ft_walk_scratch *w, const struct walk_log *memo)
{
    struct walk_log *l = &w->log;
    size_t j = l->taken_at, n = memo->n - j;
    FT_GROW(l->step, l->cap, l->n + n);
    for (size_t i = 0; i < n; i++) {
        struct walk_step st = memo->step[j + i];
        st.raw_before = st.raw_before - memo->step[j].raw_before + (uint32_t)l->taken_raw;
        l->step[l->n++] = st;
    }
}

int ft_walklog_keep(struct ft_walk_scratch *w, struct walk_log *memo, uint64_t plan, size_t span)
{
    struct walk_log *l = &w->log;
    const struct raw_stack *s = &w->raw;
    if (!l->whole || s->truncated || s->n > UINT32_MAX)
        return -1;
    if (l->taken_at && keep_in_place(w, memo)) {
        memo->plan = plan;
        memo->have_frames = 0; /* until ft_walklog_frames */
        return 0;
    }
    if (l->taken_at)
        append_taken(w, memo);
    FT_GROW(l->raw, l->raw_cap, s->n);
    if (s->n) /* an empty stack has nothing to copy (and maybe no array yet) */
        memcpy(l->raw, s->v, s->n * sizeof *s->v);
    l->nraw = s->n;
    l->ends_at_entry = s->ends_at_entry;
    l->plan = plan;
    l->span = span;
    l->win_range = window_range(l);
    l->nsparse = 0;
    derive(l, l->n, 0);
    struct walk_log t = *memo;
    *memo = *l;
    *l = t;
    l->n = 0;
    l->whole = 0;
    l->have_frames = 0;
    memo->have_frames = 0;
    return 0;
}

void ft_walklog_frames(struct walk_log *memo, const struct ft_frame *frames, size_t n,
                       uint64_t generation, uint64_t decodes)
{
    memo->have_frames = 0;
    if (n != memo->nraw)
        return;
    FT_GROW(memo->frames, memo->frames_cap, n);
    if (n)
        memcpy(memo->frames, frames, n * sizeof *frames);
    memo->generation = generation;
    memo->decodes = decodes;
    memo->have_frames = 1;
}

void ft_walklog_free(struct walk_log *l)
{
    free(l->frames);
    free(l->step);
    free(l->sparse);
    free(l->raw);
    memset(l, 0, sizeof *l);
}

static unsigned long checked[2];
static const char *const check_names[2] = {[MEMO_CHECK_WALK] = "walk", [MEMO_CHECK_RESOLUTION] = "resolution"};

static void report_checks(void)
{
    fprintf(stderr, "frametap: memo check: %lu walks and %lu resolutions taken from the last read, "
            "all as a full walk gives\n", checked[MEMO_CHECK_WALK], checked[MEMO_CHECK_RESOLUTION]);
}

void ft_walklog_checked(int agreed, enum memo_check what)
{
    if (!agreed) {
        fprintf(stderr, "frametap: memo check: a %s taken from the last read differs from a full one\n",
                check_names[what]);
        abort();
    }
    if (!checked[MEMO_CHECK_WALK] && !checked[MEMO_CHECK_RESOLUTION])
        atexit(report_checks);
    checked[what]++;
}
