/*
 * segments.c - runs of Python frames per eval-loop activation and their
 * anchors (see segments.h). Reads the frame chain again, shims included,
 * with plain reads: only for a target that cannot run (paused, core).
 */
#include "segments.h"

#include "remote.h"
#include "stack_internal.h"

#include <string.h>

static int add(struct ft_segment *out, size_t max, size_t *n, size_t first, size_t count,
               uint64_t anchor, enum ft_anchor_kind kind)
{
    if (count == 0)
        return 0;
    if (*n >= max) {
        ft_fail(FT_E_CORRUPT, "more eval-loop activations than frames");
        return -1;
    }
    out[(*n)++] = (struct ft_segment){first, count, anchor, kind};
    return 0;
}

static int disagree(void)
{
    ft_fail(FT_E_CORRUPT, "the frame chain read for native merging differs from the stack "
            "(the thread was not stopped)");
    return -1;
}

/* The thread's innermost frame, shim or not, and (3.11-3.12) its C frame. */
static int innermost(struct ft_reader *r, const struct ft_thread *t, uint64_t *frame,
                     uint64_t *cframe)
{
    const struct ft_offsets *o = &r->layout->off;
    unsigned char buf[TSTATE_MAX];
    size_t n = ft_tstate_span(o);
    struct tstate_view v;
    if (n > sizeof buf || ft_proc_read(r->proc, t->tstate, buf, n) < 0)
        return -1;
    ft_tstate_parse(r->layout, buf, n, &v);
    *cframe = v.cframe;
    *frame = v.frame;
    if (v.cframe && ft_read_u64(r->proc, v.cframe + o->cframe_current_frame, frame) < 0)
        return -1;
    return 0;
}

/* 3.11: runs end at frames with is_entry set; the k-th run belongs to
 * the activation whose _PyCFrame current_frame is the run's first frame,
 * found along cframe->previous (a C frame without Python frames of its
 * own is passed over). */
static int segments_311(struct ft_reader *r, const struct ft_thread *t, uint64_t frame,
                        uint64_t cframe, struct ft_segment *out, size_t max, size_t *n)
{
    const struct ft_offsets *o = &r->layout->off;
    size_t first = 0;
    size_t span = ft_iframe_span(o);
    unsigned char b[FRAME_COPY];
    if (span > sizeof b)
        return disagree();
    for (size_t k = 0; k < t->nframes; k++) {
        if (frame != t->frames[k].addr)
            return disagree();
        if (ft_proc_read(r->proc, frame, b, span) < 0)
            return -1;
        uint8_t entry = ft_u8_in(b, span, o->iframe_is_entry);
        frame = ft_u64_in(b, span, o->iframe_previous);
        if (entry || k + 1 == t->nframes) {
            uint64_t anchor = 0;
            for (int hops = 0; cframe && hops < 64 && !anchor; hops++) {
                uint64_t cur, prev;
                if (ft_read_u64(r->proc, cframe + o->cframe_current_frame, &cur) < 0 ||
                    ft_read_u64(r->proc, cframe + o->cframe_previous, &prev) < 0)
                    return -1;
                if (!prev)
                    break; /* the thread state's root C frame: no activation */
                if (cur == t->frames[first].addr)
                    anchor = cframe;
                cframe = prev;
            }
            if (add(out, max, n, first, k + 1 - first, anchor,
                    anchor ? FT_ANCHOR_CSTACK : FT_ANCHOR_NONE) < 0)
                return -1;
            first = k + 1;
        }
    }
    return 0;
}

/* 3.12+: each entry (shim) frame closes the run above it. */
static int segments_shims(struct ft_reader *r, const struct ft_thread *t, uint64_t frame,
                          struct ft_segment *out, size_t max, size_t *n)
{
    const struct ft_offsets *o = &r->layout->off;
    const struct ft_consts *c = &r->layout->c;
    size_t k = 0, first = 0, span = ft_iframe_span(o);
    unsigned char b[FRAME_COPY];
    if (span > sizeof b)
        return disagree();
    for (size_t steps = 0; frame && steps < 2 * FT_MAX_DEPTH + 16; steps++) {
        if (ft_proc_read(r->proc, frame, b, span) < 0)
            return -1;
        uint8_t owner = ft_u8_in(b, span, o->iframe_owner);
        uint64_t prev = ft_u64_in(b, span, o->iframe_previous);
        if (owner >= c->first_shim_owner) {
            if (add(out, max, n, first, k - first, frame, FT_ANCHOR_CSTACK) < 0)
                return -1;
            first = k;
        } else {
            if (k == t->nframes)
                break; /* the walker stopped here (truncated) */
            if (frame != t->frames[k].addr)
                return disagree();
            k++;
        }
        frame = prev;
    }
    if (k != t->nframes && !t->truncated)
        return disagree();
    return add(out, max, n, first, k - first, 0, FT_ANCHOR_NONE);
}

int ft_thread_segments(struct ft_reader *r, const struct ft_thread *t, struct ft_segment *out,
                       size_t max, size_t *n)
{
    const struct ft_offsets *o = &r->layout->off;
    *n = 0;
    if (o->pyframe_back != FT_ABSENT) {
        for (size_t k = 0; k < t->nframes; k++)
            if (add(out, max, n, k, 1, t->frames[k].addr, FT_ANCHOR_FRAME_ARG) < 0)
                return -1;
        return 0;
    }
    uint64_t frame, cframe;
    if (innermost(r, t, &frame, &cframe) < 0)
        return -1;
    if (o->iframe_is_entry != FT_ABSENT && o->cframe_previous != FT_ABSENT)
        return segments_311(r, t, frame, cframe, out, max, n);
    if (r->layout->c.first_shim_owner)
        return segments_shims(r, t, frame, out, max, n);
    return add(out, max, n, 0, t->nframes, 0, FT_ANCHOR_NONE);
}
