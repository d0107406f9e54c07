/*
 * segments.h - which of a thread's Python frames each activation of the
 * eval loop runs, and how that activation can be found on the C stack.
 *
 * A C call of the interpreter (_PyEval_EvalFrameDefault) runs a run of
 * Python frames: from 3.11 on, the frames between two entry frames (3.11:
 * up to a frame with is_entry set; 3.12+: up to an entry "shim" frame,
 * owner CSTACK or INTERPRETER); before 3.11, exactly one PyFrameObject.
 * Each run is anchored by an address the matching native activation
 * holds: 3.11 the activation's _PyCFrame, 3.12+ its entry frame (both are
 * locals of the eval function, so they lie in that C frame's stack
 * range); before 3.11 the frame object itself, which is the eval
 * function's frame argument.
 *
 * For a stopped target or a core only (plain reads); every chain is
 * bounded and must agree with the frames the walker returned, else the
 * runs are not given (never a guess).
 */
#ifndef FT_SEGMENTS_H
#define FT_SEGMENTS_H

#include "walk.h"

enum ft_anchor_kind {
    FT_ANCHOR_NONE,            /* not known */
    FT_ANCHOR_CSTACK,          /* an address inside the activation's C stack frame */
    FT_ANCHOR_FRAME_ARG,       /* the eval function's frame argument (3.8-3.10) */
};

struct ft_segment {
    size_t first, count;       /* Python frames [first, first + count), innermost first */
    uint64_t anchor;
    enum ft_anchor_kind kind;
};

/* The runs of t's frames, innermost first, into out (at most max). 0, or
 * -1 with ft_fail() set when the chain disagrees with t->frames. */
int ft_thread_segments(struct ft_reader *r, const struct ft_thread *t, struct ft_segment *out,
                       size_t max, size_t *n);

#endif
