/*
 * tasks_lists.c - asyncio tasks of CPython 3.14+: the C Tasks linked into
 * each thread state's list and the interpreter's (tasks of threads that
 * ended), read with the offsets of the target's .AsyncioDebug section;
 * each task's awaiters from its own awaited_by (one object, or a set).
 *
 * Bounds: every list and set is followed at most FT_TASKS_MAX steps and
 * cycle-checked; a future that awaits a future is followed FUTURE_HOPS
 * deep.
 */
#include "tasks_internal.h"

#include "../util/error.h"
#include "asyncio_debug.h"
#include "objects.h"
#include "remote.h"
#include "walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUTURE_HOPS 4
#define TSTATES_MAX 4096

struct lists {
    struct ft_reader *r;
    struct ft_asyncio_offsets ao;
    struct ft_tasks *out;
    uint64_t *awaited_by;         /* per task: its awaited_by field ... */
    uint8_t *is_set;              /* ... and whether that is a set */
    size_t cap;
};

/* Reads the task at addr (once) with its name and coroutine stack. */
static int read_task(struct lists *l, uint64_t addr, int64_t thread, long *index)
{
    unsigned char b[4096];
    int added;
    struct ft_task *task = ft_tasks_add(l->out, addr, &added);
    if (!task)
        return -1;
    *index = (long)(task - l->out->v);
    if (!added)
        return 0;
    task->thread = thread;
    if (l->cap < l->out->n) {
        size_t cap = l->out->n * 2;
        uint64_t *ab = realloc(l->awaited_by, cap * sizeof *ab);
        uint8_t *is = ab ? realloc(l->is_set, cap) : NULL;
        if (ab)
            l->awaited_by = ab;
        if (!ab || !is) {
            ft_fail(FT_E_SYSTEM, "out of memory");
            return -1;
        }
        l->is_set = is;
        l->cap = cap;
    }
    l->awaited_by[*index] = 0;
    l->is_set[*index] = 0;
    if (ft_proc_read(l->r->proc, addr, b, (size_t)l->ao.task_size) < 0) {
        snprintf(task->error, sizeof task->error, "task unreadable: %s", ft_error_message());
        ft_error_clear();
        return 0;
    }
    size_t n = (size_t)l->ao.task_size;
    l->awaited_by[*index] = ft_u64_in(b, n, l->ao.task_awaited_by);
    l->is_set[*index] = ft_u8_in(b, n, l->ao.task_awaited_by_is_set);
    ft_task_name(l->r, task, ft_u64_in(b, n, l->ao.task_name));
    return ft_task_stack(l->r, &l->out->v[*index], ft_u64_in(b, n, l->ao.task_coro));
}

/* Follows the list whose head is at `head` (an llist_node). */
static int walk_list(struct lists *l, uint64_t head, int64_t thread)
{
    const struct ft_offsets *o = &l->r->layout->off;
    uint64_t node, tortoise = 0;
    size_t power = 1, lambda = 0;
    long index;
    if (ft_read_u64(l->r->proc, head + o->llist_next, &node) < 0)
        return -1;
    for (size_t i = 0; node != head; i++) {
        if (!node || i == FT_TASKS_MAX) {
            ft_fail(FT_E_CORRUPT, "asyncio task list at 0x%llx is %s", (unsigned long long)head,
                    node ? "longer than frametap follows" : "broken");
            return -1;
        }
        if (read_task(l, node - l->ao.task_node, thread, &index) < 0 ||
            ft_read_u64(l->r->proc, node + o->llist_next, &node) < 0)
            return -1;
        if (node == tortoise) {
            ft_fail(FT_E_CORRUPT, "asyncio task list at 0x%llx loops", (unsigned long long)head);
            return -1;
        }
        if (++lambda == power) { /* Brent */
            tortoise = node;
            power *= 2;
            lambda = 0;
        }
    }
    return 0;
}

static int link_awaiter(struct lists *l, size_t child, uint64_t awaiter, int hops);

/* The awaiters recorded in object obj (a task or a future). */
static int each_awaiter(struct lists *l, size_t child, uint64_t field, int is_set, int hops)
{
    struct ft_set_iter it;
    uint64_t used, key;
    int rc;
    if (!field)
        return 0;
    if (!is_set)
        return link_awaiter(l, child, field, hops);
    if (ft_set_iter_init(l->r, field, &it, &used) < 0)
        return -1;
    while ((rc = ft_set_iter_next(&it, &key)) == 1)
        if (link_awaiter(l, child, key, hops) < 0)
            return -1;
    return rc;
}

/* A task awaiting child is linked; a future awaiting it (gather's outer
 * future, say) is looked through to the tasks awaiting that future. */
static int link_awaiter(struct lists *l, size_t child, uint64_t awaiter, int hops)
{
    uint8_t is_task;
    long index;
    if (ft_proc_read(l->r->proc, awaiter + l->ao.task_is_task, &is_task, 1) < 0)
        return -1;
    if (is_task) {
        if (read_task(l, awaiter, -1, &index) < 0)
            return -1;
        ft_tasks_link(l->out, child, (size_t)index, hops ? "future" : "awaited_by");
        return 0;
    }
    if (hops >= FUTURE_HOPS)
        return 0;
    uint64_t field;
    uint8_t is_set;
    if (ft_read_u64(l->r->proc, awaiter + l->ao.task_awaited_by, &field) < 0 ||
        ft_proc_read(l->r->proc, awaiter + l->ao.task_awaited_by_is_set, &is_set, 1) < 0)
        return -1;
    return each_awaiter(l, child, field, is_set, hops + 1);
}

static void mark_running(struct lists *l, const struct ft_tstate_ref *t)
{
    uint64_t loop, task;
    if (ft_read_u64(l->r->proc, t->tstate + l->ao.tstate_running_loop, &loop) == 0 && loop &&
        ft_read_u64(l->r->proc, t->tstate + l->ao.tstate_running_task, &task) == 0) {
        long i = ft_tasks_find(l->out, task);
        if (i >= 0)
            l->out->v[i].running = 1;
    }
    ft_error_clear();
}

static int walk_all(struct lists *l, const struct ft_runtime *rt)
{
    static struct ft_tstate_ref refs[TSTATES_MAX];
    size_t n;
    uint64_t interp;
    if (ft_list_tstates(l->r, rt, refs, TSTATES_MAX, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (walk_list(l, refs[i].tstate + l->ao.tstate_tasks_head, refs[i].native_id) < 0)
            return -1;
    if (ft_read_u64(l->r->proc, rt->addr + l->r->layout->off.runtime_interpreters_head, &interp) < 0)
        return -1;
    for (int i = 0; interp && i < FT_MAX_INTERPRETERS; i++)
        if (walk_list(l, interp + l->ao.interp_tasks_head, -1) < 0 ||
            ft_read_u64(l->r->proc, interp + l->r->layout->off.interp_next, &interp) < 0)
            return -1;
    for (size_t i = 0; i < n; i++)
        mark_running(l, &refs[i]);
    /* Awaiters last: every task of the lists is known by then. Reading an
     * awaiter may add a task (one not on any list), which is seen too. */
    for (size_t i = 0; i < l->out->n; i++) {
        if (each_awaiter(l, i, l->awaited_by[i], l->is_set[i], 0) == 0)
            continue;
        enum ft_errkind k = ft_error_kind();
        if (k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM)
            return -1;
        struct ft_task *t = &l->out->v[i];
        if (!t->error[0])
            snprintf(t->error, sizeof t->error, "awaiters unreadable: %s", ft_error_message());
        ft_error_clear();
    }
    return 0;
}

int ft_tasks_from_lists(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tasks *out)
{
    struct lists l = {.r = r, .out = out};
    int rc = ft_asyncio_offsets_read(r->proc, &l.ao);
    if (rc)
        return rc;
    out->from_debug_offsets = 1;
    snprintf(out->source, sizeof out->source, "the interpreter's task lists (.AsyncioDebug of %s)", l.ao.file);
    rc = walk_all(&l, rt);
    free(l.awaited_by);
    free(l.is_set);
    return rc;
}
