/*
 * merge.h - one stack from a thread's native frames and its Python
 * frames. Pure: takes what was read and symbolized, returns an order.
 *
 * Each run of Python frames (segments.h) goes just inside (innermost side
 * of) the native frame of the eval-loop activation that runs it. That
 * activation is found, in order of preference:
 *   - by address: the run's anchor (3.11 _PyCFrame, 3.12+ entry frame)
 *     lies in the activation's stack range [sp, caller's sp), and that
 *     frame's code is the interpreter's (a broken unwind that skips
 *     frames makes one range cover others: it must not claim a run);
 *   - by argument: the eval function's frame argument, read from DWARF
 *     (3.8-3.10), is the run's frame object;
 *   - by order: runs left over whose anchor is unknown (not a C-stack
 *     address that is simply elsewhere) take, innermost first, the
 *     eval-loop frames (by name) left over between the placed ones, only
 *     when the counts agree (one extra innermost eval frame is allowed: the loop
 *     was entered, its first frame not yet pushed) and, where the frame
 *     objects an activation keeps are known, the one given is among them.
 * A run that cannot be placed makes the thread "not merged": both stacks
 * are given one after the other, never a guessed interleaving. Outer runs
 * below the point where the native unwind stopped early follow the native
 * frames after a marker.
 */
#ifndef FT_MERGE_H
#define FT_MERGE_H

#include "../cpython/segments.h"
#include "unwind.h"

#include <stddef.h>
#include <stdint.h>

/* What the merge needs to know of a native frame besides its address. */
struct ft_merge_native {
    int in_interp;             /* its pc is in the interpreter's binary */
    int is_eval;               /* its symbol names an eval-loop function */
    int have_arg;              /* arg holds the eval function's frame argument */
    uint64_t arg;
    int held_known;            /* held[]: every frame object the frame keeps (one of */
    size_t nheld;              /* them is the one it runs), 3.8-3.10 */
    uint64_t held[FT_HELD_MAX];
};

enum ft_mitem_kind { FT_MITEM_NATIVE, FT_MITEM_PYTHON, FT_MITEM_MARK };

struct ft_mitem {
    enum ft_mitem_kind kind;
    size_t index;              /* native frame or Python frame index */
    int runs_python;           /* native: an eval-loop frame that ran the Python frames before it */
    const char *mark;          /* FT_MITEM_MARK: static text */
};

struct ft_merged {
    struct ft_mitem *v;
    size_t n;
    int merged;                /* 0: the stacks are given one after the other */
    size_t by_address, by_argument, by_order, after_end; /* runs placed each way */
    char note[200];            /* why not merged / how the native stack ended, "" if nothing */
};

/* Merges; out->v is allocated (free with ft_merged_free). Returns 0, -1
 * on out of memory. */
int ft_merge(const struct ft_native_stack *ns, const struct ft_merge_native *info,
             const struct ft_segment *seg, size_t nseg, size_t npy, struct ft_merged *out);
void ft_merged_free(struct ft_merged *m);

/* Whether a symbol names an eval-loop function (_PyEval_EvalFrameDefault
 * and its .cold/.part clones, the 3.14+ tail-call _TAIL_CALL_ handlers,
 * PyEval_EvalFrameEx). */
int ft_is_eval_symbol(const char *name);
/* Whether a symbol of the interpreter's own binary is call plumbing that
 * text output leaves out between Python frames. */
int ft_is_plumbing_symbol(const char *name);

#endif
