/*
 * walk.c - interpreters and their threads: snapshots for dump, thread-state
 * lists for samplers, GIL holders (see walk.h). Stacks come from stack.c.
 *
 * Every loop over remote pointers is bounded by a count and cycle-checked
 * (Brent's algorithm: constant memory).
 */
#include "stack_internal.h"

#include "../target/procfs.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPSHOT_TRIES 5          /* walks of a running target's thread lists */

static int64_t native_id_of(struct ft_reader *r, const struct ft_runtime *rt, uint64_t tstate,
                            uint64_t thread_id)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t v = 0;
    if (!rt->os_threads)
        return -1; /* a wasm guest's thread ids are its own, not the host's */
    if (o->tstate_native_thread_id != FT_ABSENT) {
        if (ft_read_word(r->proc, r->layout, tstate + o->tstate_native_thread_id, &v) < 0)
            return -1;
        return ft_proc_host_tid(r->proc, (int64_t)v);
    }
    int32_t tid;
    if (rt->pthread_tid_offset == FT_ABSENT || !thread_id ||
        ft_read_i32(r->proc, thread_id + rt->pthread_tid_offset, &tid) < 0) {
        ft_error_clear();
        return -1;
    }
    return ft_proc_host_tid(r->proc, tid);
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

int ft_gc_state(struct ft_reader *r, uint64_t interp, int *collecting, uint64_t *frame)
{
    const struct ft_offsets *o = &r->layout->off;
    int32_t flag = 0;
    *collecting = 0;
    *frame = 0;
    uint64_t at = o->interp_gc_collecting != FT_ABSENT ? interp + o->interp_gc_collecting
                : o->runtime_gc_collecting != FT_ABSENT ? r->runtime + o->runtime_gc_collecting : 0;
    if (!at || !interp)
        return 0;
    if (ft_read_i32(r->proc, at, &flag) < 0 ||
        (flag && o->interp_gc_frame != FT_ABSENT &&
         ft_read_word(r->proc, r->layout, interp + o->interp_gc_frame, frame) < 0))
        return -1;
    *collecting = flag != 0;
    return 0;
}

long ft_gc_position(const struct ft_thread *t, uint64_t holder)
{
    if (!t->gc_collecting)
        return -1;
    if (!t->gc_frame)
        return t->tstate == holder ? 0 : -1;
    for (size_t i = 0; i < t->nframes; i++)
        if (t->frames[i].addr == t->gc_frame)
            return (long)i;
    return -1;
}

/* Which thread state holds the GIL: <=3.11 the runtime's tstate_current;
 * 3.12+ the interpreter's GIL, if locked. */
uint64_t ft_gil_holder(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t holder = 0;
    if (o->runtime_tstate_current != FT_ABSENT) {
        if (ft_read_word(r->proc, r->layout, rt->addr + o->runtime_tstate_current, &holder) < 0)
            holder = 0;
    } else if (o->interp_gil_holder != FT_ABSENT) {
        int32_t locked = 0;
        if (ft_read_i32(r->proc, interp + o->interp_gil_locked, &locked) < 0 || !locked ||
            ft_read_word(r->proc, r->layout, interp + o->interp_gil_holder, &holder) < 0)
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
                       uint64_t tstate, uint64_t interp, int64_t interp_id, uint64_t holder,
                       const struct ft_walk_opts *opts)
{
    const struct ft_offsets *o = &r->layout->off;
    t->tstate = tstate;
    t->interp = interp;
    t->interp_id = interp_id;
    t->holds_gil = tstate == holder;
    if (ft_read_word(r->proc, r->layout, tstate + o->tstate_thread_id, &t->thread_id) < 0)
        return -1;
    t->native_id = native_id_of(r, rt, tstate, t->thread_id);
    if (t->native_id > 0 && r->proc->pid > 0) {
        ft_thread_name(r->proc->pid, (pid_t)t->native_id, t->name, sizeof t->name);
        t->on_cpu = on_cpu(r, opts, (pid_t)t->native_id);
    }
    return ft_read_thread_stack(r, t, opts->paused);
}

struct name_table {
    struct ft_thread_name *v;
    size_t n;
};

/* threading's names for interp's threads: decoration, so a failure to read
 * them leaves the threads unnamed and the walk goes on. */
static void read_names(struct ft_reader *r, uint64_t interp, const struct ft_walk_opts *opts,
                       struct name_table *names)
{
    names->n = 0;
    names->v = opts->python_names ? malloc(FT_PYTHREADS_MAX * sizeof *names->v) : NULL;
    if (names->v && ft_thread_names(r, interp, names->v, FT_PYTHREADS_MAX, &names->n) < 0)
        names->n = 0;
    ft_error_clear();
}

static void set_python_name(struct ft_thread *t, const struct name_table *names)
{
    const char *name = ft_thread_name_of(names->v, names->n, t->thread_id);
    if (name) {
        snprintf(t->python_name, sizeof t->python_name, "%s", name);
        t->has_python_name = 1;
    }
}

static int walk_threads(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp,
                        struct thread_list *out, const struct ft_walk_opts *opts,
                        const struct name_table *names)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t id = 0, tstate;
    if (ft_read_u64(r->proc, interp + o->interp_id, &id) < 0 ||
        ft_read_word(r->proc, r->layout, interp + o->interp_threads_head, &tstate) < 0)
        return -1;
    uint64_t holder = ft_gil_holder(r, rt, interp);
    struct cycle_check cc = {0, 1, 0};
    for (size_t i = 0; tstate && i < FT_MAX_THREADS_PER_INTERP; i++) {
        struct ft_thread *t = push_thread(out);
        if (!t) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        if (read_thread(r, rt, t, tstate, interp, (int64_t)id, holder, opts) < 0)
            return -1;
        set_python_name(t, names);
        if (ft_read_word(r->proc, r->layout, tstate + o->tstate_next, &tstate) < 0)
            return -1;
        if (tstate && cycle_seen(&cc, tstate)) {
            ft_fail(FT_E_CORRUPT, "thread list of interpreter %lld loops", (long long)id);
            return -1;
        }
    }
    return 0;
}

static int walk_interp(struct ft_reader *r, const struct ft_runtime *rt, uint64_t interp,
                       struct thread_list *out, const struct ft_walk_opts *opts)
{
    struct name_table names;
    read_names(r, interp, opts, &names);
    int rc = walk_threads(r, rt, interp, out, opts, &names);
    free(names.v);
    return rc;
}

static int snapshot_once(struct ft_reader *r, const struct ft_runtime *rt,
                         const struct ft_walk_opts *opts, struct thread_list *list)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t interp;
    if (ft_read_word(r->proc, r->layout, rt->addr + o->runtime_interpreters_head, &interp) < 0)
        return -1;
    if (!interp) {
        char who[PATH_MAX + 128];
        ft_fail(FT_E_NOTPY, "%s has no Python interpreter yet (starting up or shutting "
                "down): try again in a moment", ft_proc_describe(r->proc, who, sizeof who));
        return -1;
    }
    struct cycle_check cc = {0, 1, 0};
    for (size_t i = 0; interp && i < FT_MAX_INTERPRETERS; i++) {
        if (walk_interp(r, rt, interp, list, opts) < 0 ||
            ft_read_word(r->proc, r->layout, interp + o->interp_next, &interp) < 0)
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
    int tries = opts->paused ? 1 : SNAPSHOT_TRIES;
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
    if (ft_read_word(r->proc, r->layout, rt->addr + o->runtime_interpreters_head, &interp) < 0)
        return -1;
    struct cycle_check ci = {0, 1, 0};
    for (size_t i = 0; interp && i < FT_MAX_INTERPRETERS; i++) {
        uint64_t tstate, id;
        if (ft_read_word(r->proc, r->layout, interp + o->interp_threads_head, &tstate) < 0 ||
            ft_read_u64(r->proc, interp + o->interp_id, &id) < 0)
            return -1;
        struct cycle_check ct = {0, 1, 0};
        for (size_t j = 0; tstate && j < FT_MAX_THREADS_PER_INTERP && *count < max; j++) {
            struct ft_tstate_ref *t = &out[(*count)++];
            t->tstate = tstate;
            t->interp = interp;
            t->interp_id = (int64_t)id;
            if (ft_read_word(r->proc, r->layout, tstate + o->tstate_thread_id, &t->thread_id) < 0 ||
                ft_read_word(r->proc, r->layout, tstate + o->tstate_next, &tstate) < 0)
                return -1;
            t->native_id = native_id_of(r, rt, t->tstate, t->thread_id);
            if (tstate && cycle_seen(&ct, tstate))
                return -1;
        }
        if (ft_read_word(r->proc, r->layout, interp + o->interp_next, &interp) < 0)
            return -1;
        if (interp && cycle_seen(&ci, interp))
            break;
    }
    return 0;
}
