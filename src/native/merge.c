/*
 * merge.c - placing Python runs among native frames (see merge.h). No
 * reads, no names beyond the two classifiers at the end: the order comes
 * from addresses first and falls back to names only where they are
 * unambiguous.
 */
#include "merge.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAST_FRAME_SPAN (1u << 20) /* stack range assumed for the outermost frame */

/* The native frame whose stack range holds addr, or -1. */
static long frame_holding(const struct ft_native_stack *ns, uint64_t addr)
{
    for (size_t i = 0; i < ns->n; i++) {
        const struct ft_native_frame *f = &ns->v[i];
        if (!(f->regmask & (1u << FT_NATIVE_REG_SP)) || addr < f->sp)
            continue;
        uint64_t end = f->sp + LAST_FRAME_SPAN;
        if (i + 1 < ns->n) {
            if (!(ns->v[i + 1].regmask & (1u << FT_NATIVE_REG_SP)))
                continue;
            end = ns->v[i + 1].sp;
        }
        if (addr < end)
            return (long)i;
    }
    return -1;
}

static long frame_with_arg(const struct ft_native_stack *ns, const struct ft_merge_native *info,
                           uint64_t arg)
{
    for (size_t i = 0; i < ns->n; i++)
        if (info[i].have_arg && info[i].arg == arg)
            return (long)i;
    return -1;
}

struct plan {
    long *pos;                 /* per run: its native frame, -1 unplaced */
    size_t nseg;
    char *claimed;             /* per native frame */
};

/* Whether run seg may be the one native frame info runs. */
static int compatible(const struct ft_merge_native *info, const struct ft_segment *seg)
{
    if (seg->kind != FT_ANCHOR_FRAME_ARG || !info->held_known)
        return 1;
    for (size_t k = 0; k < info->nheld; k++)
        if (info->held[k] == seg->anchor)
            return 1;
    return 0;
}

/* Places the runs of [j0, j1) (all unplaced) on eval frames in (lo, hi).
 * Returns how many of them the frame objects their activations keep
 * confirm, or -1 when they cannot be placed. */
static int by_order(const struct ft_merge_native *info, const struct ft_segment *seg,
                    struct plan *p, size_t j0, size_t j1, long lo, long hi)
{
    size_t want = j1 - j0, have = 0;
    /* a run whose entry frame's address is known but in none of these
     * frames is run by another stack (another thread's, when a thread
     * state moved between threads): the order must not claim it */
    for (size_t j = j0; j < j1; j++)
        if (seg[j].kind == FT_ANCHOR_CSTACK)
            return -1;
    for (long i = lo + 1; i < hi; i++)
        have += info[i].is_eval && !p->claimed[i];
    size_t skip = 0;
    if (have == want + 1 && lo == -1)
        skip = 1; /* innermost eval frame entered, its first frame not yet pushed */
    else if (have != want)
        return -1;
    size_t j = j0;
    int checked = 0;
    for (long i = lo + 1; i < hi && j < j1; i++) {
        if (!info[i].is_eval || p->claimed[i])
            continue;
        if (skip) {
            skip--;
            continue;
        }
        if (!compatible(&info[i], &seg[j])) {
            for (size_t k = j0; k < j; k++) {
                p->claimed[p->pos[k]] = 0;
                p->pos[k] = -1;
            }
            return -1;
        }
        checked += seg[j].kind == FT_ANCHOR_FRAME_ARG && info[i].held_known;
        p->pos[j++] = i;
        p->claimed[i] = 1;
    }
    return checked;
}

static void push(struct ft_merged *m, enum ft_mitem_kind kind, size_t index, int runs,
                 const char *mark)
{
    m->v[m->n++] = (struct ft_mitem){kind, index, runs, mark};
}

static void unmerged(struct ft_merged *m, const struct ft_native_stack *ns, size_t npy)
{
    m->n = 0;
    m->merged = 0;
    for (size_t i = 0; i < ns->n; i++)
        push(m, FT_MITEM_NATIVE, i, 0, NULL);
    push(m, FT_MITEM_MARK, 0, 0, "Python frames, not merged with the native ones:");
    for (size_t k = 0; k < npy; k++)
        push(m, FT_MITEM_PYTHON, k, 0, NULL);
}

static void emit(struct ft_merged *m, const struct ft_native_stack *ns,
                 const struct ft_segment *seg, const struct plan *p, size_t npy)
{
    size_t j = 0, py = 0;
    for (size_t i = 0; i < ns->n; i++) {
        int runs = 0;
        while (j < p->nseg && p->pos[j] == (long)i) {
            for (size_t k = 0; k < seg[j].count; k++)
                push(m, FT_MITEM_PYTHON, seg[j].first + k, 0, NULL);
            py = seg[j].first + seg[j].count;
            runs = 1;
            j++;
        }
        push(m, FT_MITEM_NATIVE, i, runs, NULL);
    }
    if (py < npy) {
        push(m, FT_MITEM_MARK, 0, 0, "native stack ends here; its Python callers:");
        for (; py < npy; py++)
            push(m, FT_MITEM_PYTHON, py, 0, NULL);
    }
}

int ft_merge(const struct ft_native_stack *ns, const struct ft_merge_native *info,
             const struct ft_segment *seg, size_t nseg, size_t npy, struct ft_merged *out)
{
    memset(out, 0, sizeof *out);
    out->v = malloc((ns->n + npy + 2) * sizeof *out->v);
    struct plan p = {calloc(nseg + 1, sizeof *p.pos), nseg, calloc(ns->n + 1, 1)};
    if (!out->v || !p.pos || !p.claimed) {
        free(p.pos);
        free(p.claimed);
        ft_merged_free(out);
        return -1;
    }
    out->merged = 1;
    long last = -1;
    for (size_t j = 0; j < nseg; j++) {
        long i = seg[j].kind == FT_ANCHOR_CSTACK ? frame_holding(ns, seg[j].anchor)
               : seg[j].kind == FT_ANCHOR_FRAME_ARG ? frame_with_arg(ns, info, seg[j].anchor) : -1;
        if (i >= 0 && !info[i].in_interp)
            i = -1;
        if (i >= 0 && (i <= last || p.claimed[i]))
            i = -1; /* out of order: an address cannot be trusted here */
        p.pos[j] = i;
        if (i >= 0) {
            p.claimed[i] = 1;
            last = i;
            if (seg[j].kind == FT_ANCHOR_CSTACK)
                out->by_address++;
            else
                out->by_argument++;
        }
    }
    int ended_early = ns->truncated || ns->end[0];
    for (size_t j = 0; j < nseg;) {
        if (p.pos[j] >= 0) {
            j++;
            continue;
        }
        size_t j1 = j;
        while (j1 < nseg && p.pos[j1] < 0)
            j1++;
        long lo = j ? p.pos[j - 1] : -1, hi = j1 < nseg ? p.pos[j1] : (long)ns->n;
        int checked = by_order(info, seg, &p, j, j1, lo, hi);
        if (checked >= 0) {
            out->by_argument += (size_t)checked; /* its own frame object confirmed it */
            out->by_order += j1 - j - (size_t)checked;
        } else if (j1 == nseg && ended_early) {
            for (size_t k = j; k < j1; k++)
                p.pos[k] = (long)ns->n; /* after the last native frame */
            out->after_end += j1 - j;
        } else {
            size_t have = 0;
            for (long i = lo + 1; i < hi; i++)
                have += info[i].is_eval && !p.claimed[i];
            snprintf(out->note, sizeof out->note, "not merged: %zu run(s) of Python frames could "
                     "not be matched to the %zu eval-loop frame(s) left among the native frames",
                     j1 - j, have);
            unmerged(out, ns, npy);
            break;
        }
        j = j1;
    }
    if (out->merged)
        emit(out, ns, seg, &p, npy);
    if (out->merged && ended_early && ns->end[0])
        snprintf(out->note, sizeof out->note, "native stack ends early: %s", ns->end);
    free(p.pos);
    free(p.claimed);
    return 0;
}

void ft_merged_free(struct ft_merged *m)
{
    free(m->v);
    m->v = NULL;
    m->n = 0;
}

static int starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

int ft_is_eval_symbol(const char *name)
{
    return name && (starts(name, "_PyEval_EvalFrameDefault") || starts(name, "_TAIL_CALL_") ||
                    starts(name, "PyEval_EvalFrameEx"));
}

int ft_is_plumbing_symbol(const char *name)
{
    static const char *const exact[] = {
        "PyObject_Call", "PyObject_CallObject", "PyObject_CallOneArg", "PyObject_CallNoArgs",
        "PyObject_CallFunction", "PyObject_CallMethod", "PyObject_CallFunctionObjArgs",
        "call_function", "function_code_fastcall", "slot_tp_call", "type_call", "cfunction_call",
        "cfunction_call_varargs", "do_call_core", "method_vectorcall", "PyEval_EvalCode",
        "PyEval_EvalCodeEx",
    };
    if (!name)
        return 0;
    if (starts(name, "_Py") || starts(name, "PyEval_") || starts(name, "_TAIL_CALL_") ||
        strstr(name, "ectorcall"))
        return 1;
    for (size_t i = 0; i < sizeof exact / sizeof exact[0]; i++)
        if (strcmp(name, exact[i]) == 0)
            return 1;
    return 0;
}
