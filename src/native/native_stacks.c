/*
 * native_stacks.c - unwinding, symbolizing and merging every thread of a
 * snapshot (see native_stacks.h). When a native pc lies in no module the
 * target mapped a library since the session began: its modules are
 * reported again (once per collect) and the threads unwound afresh.
 */
#include "native_stacks.h"

#include "../cpython/segments.h"
#include "../util/error.h"
#include "frame_arg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <elfutils/libdwfl.h>

struct ft_native {
    struct ft_unwinder *u;
    struct ft_symbolizer *sym;
    struct ft_frame_args *args;
    double unwind_us;
};

struct ft_native *ft_native_open(struct ft_session *s, const struct ft_core *core)
{
    struct ft_native *n = calloc(1, sizeof *n);
    if (!n) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return NULL;
    }
    n->u = core ? ft_unwinder_open_core(core) : ft_unwinder_open_pid(s->proc.pid);
    n->sym = n->u ? ft_symbolizer_new(n->u) : NULL;
    n->args = n->u ? ft_frame_args_new(n->u) : NULL;
    if (!n->sym || !n->args) {
        if (n->u)
            ft_fail(FT_E_SYSTEM, "out of memory");
        ft_native_close(n);
        return NULL;
    }
    return n;
}

void ft_native_close(struct ft_native *n)
{
    if (!n)
        return;
    ft_symbolizer_free(n->sym);
    ft_frame_args_free(n->args);
    ft_unwinder_close(n->u);
    free(n);
}

double ft_native_last_unwind_us(const struct ft_native *n)
{
    return n->unwind_us;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One thread's native stack; 1 when a pc lies in no module the session
 * knows (a library mapped since), 0 otherwise (errors in nt->error). */
static int unwind_one(struct ft_native *n, struct ft_session *s, const struct ft_thread *t,
                      struct ft_native_thread *nt)
{
    int want_regs = s->rt.layout.off.pyframe_back != FT_ABSENT; /* 3.8-3.10: frame arguments */
    nt->error[0] = '\0';
    if (t->native_id <= 0) {
        snprintf(nt->error, sizeof nt->error, "no OS thread id for this thread");
        return 0;
    }
    ft_error_clear();
    if (ft_unwind_thread(n->u, (pid_t)t->native_id, want_regs, &nt->stack) < 0) {
        snprintf(nt->error, sizeof nt->error, "%s", ft_error_message());
        ft_error_clear();
        return 0;
    }
    Dwfl *dwfl = ft_unwinder_dwfl(n->u);
    for (size_t k = 0; k < nt->stack.n; k++)
        if (!dwfl_addrmodule(dwfl, nt->stack.v[k].pc))
            return 1;
    return 0;
}

static int unwind_all(struct ft_native *n, struct ft_session *s, const struct ft_snapshot *snap,
                      struct ft_native_set *out)
{
    int stray = 0;
    double t0 = now_us();
    for (size_t i = 0; i < snap->nthreads; i++)
        stray |= unwind_one(n, s, &snap->threads[i], &out->t[i]);
    n->unwind_us = now_us() - t0;
    return stray;
}

/* The target mapped a library since its modules were reported: report
 * them again (0), forgetting what was learnt by address. */
static int refresh(struct ft_native *n)
{
    if (ft_unwinder_refresh(n->u) < 0) {
        ft_error_clear();
        return -1;
    }
    ft_symbolizer_reset(n->sym);
    ft_frame_args_reset(n->args);
    return 0;
}

static int is_interp(const char *module, const struct ft_session *s)
{
    return module && strcmp(module, s->rt.binary) == 0;
}

static void merge_thread(struct ft_native *n, struct ft_session *s, const struct ft_thread *t,
                         struct ft_native_thread *nt)
{
    size_t nf = nt->stack.n;
    struct ft_merge_native *info = calloc(nf + 1, sizeof *info);
    struct ft_segment *seg = calloc(t->nframes + 1, sizeof *seg);
    nt->syms = calloc(nf + 1, sizeof *nt->syms);
    nt->in_interp = calloc(nf + 1, 1);
    if (!info || !seg || !nt->syms || !nt->in_interp) {
        snprintf(nt->error, sizeof nt->error, "out of memory");
        goto done;
    }
    int frame_args = s->rt.layout.off.pyframe_back != FT_ABSENT && !t->error[0];
    uint64_t *addrs = frame_args ? calloc(t->nframes + 1, sizeof *addrs) : NULL;
    for (size_t k = 0; addrs && k < t->nframes; k++)
        addrs[k] = t->frames[k].addr;
    /* 3.8-3.10: which frame object each eval activation runs: its frame
     * argument from DWARF where the build tracks it, else the one frame
     * object of the chain the activation keeps in its callee-saved
     * registers or stack range; without either the merge goes by order. */
    for (size_t k = 0; k < nf; k++) {
        const struct ft_native_frame *f = &nt->stack.v[k];
        ft_symbolize(n->sym, f->pc, f->activation, &nt->syms[k]);
        nt->in_interp[k] = is_interp(nt->syms[k].module, s);
        info[k].in_interp = nt->in_interp[k];
        info[k].is_eval = ft_is_eval_symbol(nt->syms[k].name);
        size_t held[FT_HELD_MAX];
        int nheld;
        if (!frame_args || !info[k].is_eval)
            continue;
        if (ft_frame_arg(n->args, &s->proc, &nt->stack, k, "_PyEval_EvalFrameDefault", "f",
                         &info[k].arg) == 0) {
            info[k].have_arg = 1;
        } else if (addrs && (nheld = ft_frame_holds(&s->proc, &nt->stack, k, addrs,
                                                    t->nframes, held)) >= 0) {
            info[k].held_known = 1;
            info[k].nheld = (size_t)nheld;
            for (int h = 0; h < nheld; h++)
                info[k].held[h] = addrs[held[h]];
            /* the one frame object it keeps is the one it runs */
            info[k].have_arg = nheld == 1;
            info[k].arg = nheld == 1 ? addrs[held[0]] : 0;
        }
    }
    free(addrs);
    size_t nseg = 0;
    if (t->error[0]) {
        nseg = 0; /* no Python frames to place */
    } else if (ft_thread_segments(&s->reader, t, seg, t->nframes + 1, &nseg) < 0) {
        snprintf(nt->error, sizeof nt->error, "%s", ft_error_message());
        ft_error_clear();
        nseg = 0;
    }
    if (ft_merge(&nt->stack, info, seg, nseg, t->error[0] ? 0 : t->nframes, &nt->merged) < 0)
        snprintf(nt->error, sizeof nt->error, "out of memory");
done:
    free(info);
    free(seg);
}

int ft_native_collect(struct ft_native *n, struct ft_session *s, const struct ft_snapshot *snap,
                      struct ft_native_set *out)
{
    out->n = snap->nthreads;
    out->t = calloc(snap->nthreads + 1, sizeof *out->t);
    if (!out->t) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    if (unwind_all(n, s, snap, out) && refresh(n) == 0)
        unwind_all(n, s, snap, out);
    ft_error_clear();
    for (size_t i = 0; i < snap->nthreads; i++)
        if (!out->t[i].error[0])
            merge_thread(n, s, &snap->threads[i], &out->t[i]);
    return 0;
}

int ft_native_thread(struct ft_native *n, struct ft_session *s, const struct ft_thread *t,
                     struct ft_native_thread *out)
{
    /* the strings of earlier calls were copied by the caller: a full
     * symbol cache can start afresh */
    if (ft_symbolizer_full(n->sym))
        ft_symbolizer_reset(n->sym);
    double t0 = now_us();
    if (unwind_one(n, s, t, out) && refresh(n) == 0)
        unwind_one(n, s, t, out);
    n->unwind_us = now_us() - t0;
    if (!out->error[0])
        merge_thread(n, s, t, out);
    return 0;
}

void ft_native_thread_free(struct ft_native_thread *nt)
{
    ft_native_stack_free(&nt->stack);
    free(nt->syms);
    free(nt->in_interp);
    ft_merged_free(&nt->merged);
    nt->syms = NULL;
    nt->in_interp = NULL;
}

int ft_native_item_hidden(const struct ft_native_thread *nt, const struct ft_mitem *it)
{
    if (it->kind != FT_MITEM_NATIVE || !nt->merged.merged || !nt->in_interp[it->index])
        return 0;
    return it->runs_python || ft_is_plumbing_symbol(nt->syms[it->index].name);
}

void ft_native_set_free(struct ft_native_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        ft_native_thread_free(&set->t[i]);
    free(set->t);
    set->t = NULL;
    set->n = 0;
}
