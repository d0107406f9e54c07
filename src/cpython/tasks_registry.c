/*
 * tasks_registry.c - asyncio tasks of CPython 3.8-3.13, from the registry
 * the asyncio.tasks module keeps (_all_tasks up to 3.11, _scheduled_tasks
 * and _eager_tasks from 3.12: a weakref.WeakSet and a set) and its
 * _current_tasks (running tasks). C Tasks are read with the TaskObj layout
 * generated for the version; Python tasks (asyncio.tasks._PyTask and
 * other subclasses without the C layout) by their instance attributes.
 * Only pending tasks are kept: the weak set still holds finished tasks
 * until they are collected.
 *
 * Edges are inferred (nothing records who awaits a task before 3.14):
 * task T awaits what its _fut_waiter is; a Task there is awaited by T, a
 * gather's _GatheringFuture stands for its _children (gathers nested up to
 * GATHER_DEPTH), and a coroutine of T inside TaskGroup.__aexit__ (or
 * _aexit) awaits the group's _tasks (the group is that frame's `self`).
 */
#include "tasks_internal.h"

#include "../util/error.h"
#include "objects.h"
#include "remote.h"
#include "stackref.h"
#include "walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GATHER_DEPTH 4
#define BASES_MAX 16               /* type bases followed looking for _asyncio.Task */

#define TSTATES_MAX 4096

struct registry {
    struct ft_reader *r;
    struct ft_tasks *out;
    uint64_t *waiter;             /* per task: its _fut_waiter */
    size_t cap;
    struct ft_tstate_ref *threads; /* to tell a loop's thread by its ident */
    size_t nthreads;
};

static int fatal(void)
{
    enum ft_errkind k = ft_error_kind();
    return k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM;
}

/* Whether obj's type is, or derives from, a type named `name`. */
static int derives_from(struct ft_reader *r, uint64_t obj, const char *name)
{
    uint64_t type;
    char tn[64];
    if (ft_obj_type(r, obj, &type) < 0)
        return -1;
    for (int i = 0; type && i < BASES_MAX; i++) {
        if (ft_type_name(r, type, tn, sizeof tn) < 0)
            return -1;
        if (!strcmp(tn, name))
            return 1;
        if (ft_type_base(r, type, &type) < 0)
            return -1;
    }
    return 0;
}

struct fields {
    uint64_t coro, name, waiter, loop;
    int pending;
};

/* A C Task: the generated TaskObj layout. */
static int c_task_fields(struct ft_reader *r, uint64_t task, struct fields *f)
{
    const struct ft_offsets *o = &r->layout->off;
    unsigned char b[1024];
    if (o->task_size == FT_ABSENT || o->task_size > sizeof b) {
        ft_fail(FT_E_VERSION, "this layout has no asyncio Task");
        return -1;
    }
    if (ft_proc_read(r->proc, task, b, (size_t)o->task_size) < 0)
        return -1;
    size_t n = (size_t)o->task_size;
    f->pending = ft_i32_in(b, n, o->task_state) == (int32_t)r->layout->c.task_pending;
    f->coro = ft_u64_in(b, n, o->task_coro);
    f->name = ft_u64_in(b, n, o->task_name);
    f->waiter = ft_u64_in(b, n, o->task_fut_waiter);
    f->loop = ft_u64_in(b, n, o->task_loop);
    return 0;
}

static int attr_or_zero(struct ft_reader *r, uint64_t obj, const char *name, uint64_t *v)
{
    int rc = ft_obj_attr(r, obj, name, v);
    if (rc == FT_OBJ_ABSENT)
        *v = 0;
    return rc < 0 ? -1 : 0;
}

/* A Python task: its instance attributes (_state is the str 'PENDING'). */
static int py_task_fields(struct ft_reader *r, uint64_t task, struct fields *f)
{
    uint64_t state;
    char s[16];
    if (attr_or_zero(r, task, "_state", &state) < 0 || attr_or_zero(r, task, "_coro", &f->coro) < 0 ||
        attr_or_zero(r, task, "_name", &f->name) < 0 || attr_or_zero(r, task, "_fut_waiter", &f->waiter) < 0 ||
        attr_or_zero(r, task, "_loop", &f->loop) < 0)
        return -1;
    f->pending = state && ft_obj_str(r, state, s, sizeof s) == 0 && !strcmp(s, "PENDING");
    ft_error_clear();
    return 0;
}

/* The OS thread running the event loop `loop` (its _thread_id is the
 * ident of the thread in run_forever()), or -1. */
static int64_t loop_thread(struct registry *g, uint64_t loop)
{
    uint64_t ident;
    int64_t id;
    if (!loop || ft_obj_attr(g->r, loop, "_thread_id", &ident) != 0 || ft_obj_int(g->r, ident, &id) < 0) {
        ft_error_clear();
        return -1;
    }
    for (size_t i = 0; i < g->nthreads; i++)
        if (g->threads[i].thread_id == (uint64_t)id)
            return g->threads[i].native_id;
    return -1;
}

/* Adds obj if it is a pending task. */
static int consider(struct registry *g, uint64_t obj)
{
    struct fields f = {0};
    int added;
    if (!obj || ft_tasks_find(g->out, obj) >= 0)
        return 0;
    int c = derives_from(g->r, obj, "_asyncio.Task");
    int rc = c < 0 ? -1 : c ? c_task_fields(g->r, obj, &f) : py_task_fields(g->r, obj, &f);
    if (rc < 0 || !f.pending || !f.coro) {
        int bad = rc < 0 && fatal();
        ft_error_clear();
        return bad ? -1 : 0; /* not a task, finished, or unreadable: not shown */
    }
    struct ft_task *task = ft_tasks_add(g->out, obj, &added);
    if (!task)
        return -1;
    size_t i = (size_t)(task - g->out->v);
    if (g->cap <= i) {
        size_t cap = 2 * (i + 1);
        uint64_t *w = realloc(g->waiter, cap * sizeof *w);
        if (!w) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        g->waiter = w;
        g->cap = cap;
    }
    g->waiter[i] = f.waiter;
    task->thread = loop_thread(g, f.loop);
    ft_task_name(g->r, task, f.name);
    return ft_task_stack(g->r, &g->out->v[i], f.coro);
}

/* Every element of a set (or the referents of a set of weak references). */
static int each_in_set(struct registry *g, uint64_t set, int weak)
{
    struct ft_set_iter it;
    uint64_t used, key, obj;
    int rc;
    if (ft_set_iter_init(g->r, set, &it, &used) < 0)
        return -1;
    while ((rc = ft_set_iter_next(&it, &key)) == 1) {
        if (weak && ft_obj_weakref(g->r, key, &obj) < 0)
            return -1;
        if (consider(g, weak ? obj : key) < 0)
            return -1;
    }
    return rc;
}

static void mark_running(struct registry *g, uint64_t current)
{
    struct ft_dict_iter it;
    uint64_t loop, task;
    if (ft_dict_iter_init(g->r, current, &it) < 0) {
        ft_error_clear();
        return;
    }
    while (ft_dict_iter_next(&it, &loop, &task) == 1) {
        long i = ft_tasks_find(g->out, task);
        if (i >= 0)
            g->out->v[i].running = 1;
    }
    ft_error_clear();
}

static int read_module(struct registry *g, uint64_t interp)
{
    static const char *const weak_sets[] = {"_scheduled_tasks", "_all_tasks"};
    uint64_t mod, dict, v;
    int rc = ft_find_module(g->r, interp, "asyncio.tasks", &mod);
    if (rc)
        return rc == FT_OBJ_ABSENT ? 0 : -1;
    if (ft_module_dict(g->r, mod, &dict))
        return -1;
    for (size_t i = 0; i < sizeof weak_sets / sizeof weak_sets[0]; i++) {
        rc = ft_dict_lookup_str(g->r, dict, weak_sets[i], &v);
        if (rc < 0)
            return -1;
        if (rc == FT_OBJ_ABSENT)
            continue;
        uint64_t data;
        rc = ft_obj_attr(g->r, v, "data", &data);
        if (rc || each_in_set(g, data, 1) < 0)
            return rc == FT_OBJ_ABSENT ? 0 : -1;
        break;
    }
    rc = ft_dict_lookup_str(g->r, dict, "_eager_tasks", &v);
    if (rc < 0 || (rc == 0 && each_in_set(g, v, 0) < 0))
        return -1;
    if (ft_dict_lookup_str(g->r, dict, "_current_tasks", &v) == 0)
        mark_running(g, v);
    ft_error_clear();
    return 0;
}

/* Links task `parent` to what it waits on: a task, or a gather's children. */
static int link_waiter(struct registry *g, size_t parent, uint64_t waiter, int depth)
{
    long child = ft_tasks_find(g->out, waiter);
    uint64_t children, items, count, item;
    if (child >= 0) {
        ft_tasks_link(g->out, (size_t)child, parent, depth ? "gather" : "await");
        return 0;
    }
    if (depth >= GATHER_DEPTH || derives_from(g->r, waiter, "_GatheringFuture") != 1 ||
        ft_obj_attr(g->r, waiter, "_children", &children) != 0 ||
        ft_obj_items(g->r, children, FT_TYPE_LIST, &items, &count) < 0)
        return fatal() ? -1 : 0;
    for (uint64_t i = 0; i < count && i < FT_TASKS_MAX; i++)
        if (ft_read_u64(g->r->proc, items + i * 8, &item) < 0 || link_waiter(g, parent, item, depth + 1) < 0)
            return -1;
    return 0;
}

/* 3.11+: a coroutine frame of TaskGroup.__aexit__ (3.13: _aexit) waits for
 * the group's tasks; the group is the frame's first argument. */
static int link_taskgroup(struct registry *g, size_t parent, const struct ft_coro_frame *f)
{
    const struct ft_offsets *o = &g->r->layout->off;
    const char *q = f->code->qualname, *file = f->code->filename;
    size_t fl = strlen(file);
    uint64_t bits, tasks;
    if ((strcmp(q, "TaskGroup.__aexit__") && strcmp(q, "TaskGroup._aexit")) || fl < 13 ||
        strcmp(file + fl - 13, "taskgroups.py") || o->iframe_localsplus == FT_ABSENT ||
        o->pyframe_localsplus != FT_ABSENT)
        return 0;
    if (ft_read_u64(g->r->proc, f->frame + o->iframe_localsplus, &bits) < 0)
        return -1;
    struct ft_ref self = ft_ref_decode(g->r->layout, bits);
    struct ft_set_iter it;
    uint64_t used, key;
    if (self.kind != FT_REF_OBJECT || ft_obj_attr(g->r, self.addr, "_tasks", &tasks) != 0 ||
        ft_set_iter_init(g->r, tasks, &it, &used) < 0)
        return fatal() ? -1 : 0;
    while (ft_set_iter_next(&it, &key) == 1) {
        long child = ft_tasks_find(g->out, key);
        if (child >= 0)
            ft_tasks_link(g->out, (size_t)child, parent, "taskgroup");
    }
    return fatal() ? -1 : 0;
}

static int infer_edges(struct registry *g)
{
    for (size_t i = 0; i < g->out->n; i++) {
        if (g->waiter[i] && link_waiter(g, i, g->waiter[i], 0) < 0)
            return -1;
        for (size_t j = 0; j < g->out->v[i].nframes; j++)
            if (link_taskgroup(g, i, &g->out->v[i].frames[j]) < 0)
                return -1;
        ft_error_clear();
    }
    return 0;
}

int ft_tasks_from_registry(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tasks *out)
{
    const struct ft_offsets *o = &r->layout->off;
    struct registry g = {.r = r, .out = out};
    uint64_t interp;
    int rc = 0;
    g.threads = malloc(TSTATES_MAX * sizeof *g.threads);
    if (!g.threads || ft_list_tstates(r, rt, g.threads, TSTATES_MAX, &g.nthreads) < 0) {
        ft_error_clear();
        g.nthreads = 0;
    }
    out->edges_inferred = 1;
    snprintf(out->source, sizeof out->source,
             "the asyncio.tasks registry (_all_tasks, or _scheduled_tasks and _eager_tasks)");
    if (ft_read_u64(r->proc, rt->addr + o->runtime_interpreters_head, &interp) < 0)
        return -1;
    for (int i = 0; rc == 0 && interp && i < FT_MAX_INTERPRETERS; i++) {
        rc = read_module(&g, interp);
        if (rc == 0 && ft_read_u64(r->proc, interp + o->interp_next, &interp) < 0)
            rc = -1;
    }
    if (rc == 0)
        rc = infer_edges(&g);
    free(g.waiter);
    free(g.threads);
    return rc;
}
