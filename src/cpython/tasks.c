/*
 * tasks.c - the list of tasks and what every reader of them shares: the
 * index by address, names, coroutine stacks, awaiter links; and the choice
 * of reader (tasks.h).
 */
#include "tasks_internal.h"

#include "../util/error.h"
#include "../util/grow.h"
#include "objects.h"
#include "remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_addr(uint64_t a) { return (a >> 4) * 0x9E3779B97F4A7C15ull; }

static uint64_t hash_of(const void *ctx, uint32_t id)
{
    return hash_addr(((const struct ft_tasks *)ctx)->v[id - 1].addr);
}

static int same(const void *ctx, uint32_t id, const void *key)
{
    return ((const struct ft_tasks *)ctx)->v[id - 1].addr == *(const uint64_t *)key;
}

long ft_tasks_find(const struct ft_tasks *t, uint64_t addr)
{
    if (!t->index.cap)
        return -1;
    uint32_t *slot = ft_hindex_slot(&t->index, hash_addr(addr), same, t, &addr);
    return *slot ? (long)*slot - 1 : -1;
}

struct ft_task *ft_tasks_add(struct ft_tasks *t, uint64_t addr, int *added)
{
    long at = ft_tasks_find(t, addr);
    *added = 0;
    if (at >= 0)
        return &t->v[at];
    if (t->n >= FT_TASKS_MAX) {
        ft_fail(FT_E_CORRUPT, "more than %d asyncio tasks: not read further", FT_TASKS_MAX);
        return NULL;
    }
    ft_hindex_reserve(&t->index, t->n, hash_of, t);
    FT_GROW(t->v, t->cap, t->n + 1);
    struct ft_task *task = &t->v[t->n++];
    memset(task, 0, sizeof *task);
    task->addr = addr;
    task->thread = -1;
    *ft_hindex_slot(&t->index, hash_addr(addr), same, t, &addr) = (uint32_t)t->n;
    *added = 1;
    return task;
}

void ft_tasks_link(struct ft_tasks *t, size_t child, size_t parent, const char *via)
{
    struct ft_task *c = &t->v[child];
    for (size_t i = 0; i < c->nawaited_by; i++)
        if (c->awaited_by[i].task == parent)
            return;
    FT_GROW(c->awaited_by, c->awaited_by_cap, c->nawaited_by + 1);
    c->awaited_by[c->nawaited_by++] = (struct ft_task_link){parent, via};
}

static void task_error(struct ft_task *task, const char *what)
{
    if (!task->error[0])
        snprintf(task->error, sizeof task->error, "%s: %s", what, ft_error_message());
    ft_error_clear();
}

void ft_task_name(struct ft_reader *r, struct ft_task *task, uint64_t name)
{
    uint64_t type;
    int64_t n;
    if (!name) {
        snprintf(task->name, sizeof task->name, "?");
        return;
    }
    if (ft_obj_type(r, name, &type) < 0)
        return task_error(task, "name unreadable");
    int t = ft_builtin_of(r, type);
    if (t == FT_TYPE_INT && ft_obj_int(r, name, &n) == 0)
        snprintf(task->name, sizeof task->name, "Task-%lld", (long long)n);
    else if (t != FT_TYPE_STR || ft_obj_str(r, name, task->name, sizeof task->name) < 0)
        task_error(task, "name unreadable");
}

int ft_task_stack(struct ft_reader *r, struct ft_task *task, uint64_t coro)
{
    struct ft_coro_chain *chain = malloc(sizeof *chain);
    if (!coro || !chain) {
        free(chain);
        return coro ? -1 : 0;
    }
    if (ft_coro_chain(r, coro, chain) < 0) {
        enum ft_errkind k = ft_error_kind();
        task_error(task, "coroutine unreadable");
        free(chain);
        return k == FT_E_EXITED || k == FT_E_PERM || k == FT_E_SYSTEM ? -1 : 0;
    }
    task->frames = malloc((chain->n ? chain->n : 1) * sizeof *task->frames);
    if (task->frames) {
        memcpy(task->frames, chain->v, chain->n * sizeof *task->frames);
        task->nframes = chain->n;
        task->frames_truncated = chain->truncated;
        task->awaits = chain->awaited;
    }
    free(chain);
    if (!task->frames)
        ft_fail(FT_E_SYSTEM, "out of memory");
    return task->frames ? 0 : -1;
}

/* Whether any interpreter has imported asyncio. */
static int asyncio_imported(struct ft_reader *r, const struct ft_runtime *rt)
{
    const struct ft_offsets *o = &r->layout->off;
    uint64_t interp, mod;
    if (ft_read_u64(r->proc, rt->addr + o->runtime_interpreters_head, &interp) < 0)
        return -1;
    for (int i = 0; interp && i < 256; i++) {
        int rc = ft_find_module(r, interp, "asyncio", &mod);
        if (rc <= 0)
            return rc == 0 ? 1 : -1;
        if (ft_read_u64(r->proc, interp + o->interp_next, &interp) < 0)
            return -1;
    }
    return 0;
}

int ft_tasks_read(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tasks *out)
{
    memset(out, 0, sizeof *out);
    int imported = asyncio_imported(r, rt);
    if (imported < 0)
        return -1;
    out->asyncio_imported = imported;
    if (!imported)
        return 0;
    if (r->layout->off.llist_next == FT_ABSENT)
        return ft_tasks_from_registry(r, rt, out);
    int rc = ft_tasks_from_lists(r, rt, out);
    if (rc == 1)
        ft_fail(FT_E_VERSION, "CPython %d.%d keeps asyncio tasks in lists that its .AsyncioDebug section "
                "describes, and no file this process maps has that section (a build without it): "
                "its tasks cannot be read", r->layout->major, r->layout->minor);
    return rc == 0 ? 0 : -1;
}

void ft_tasks_free(struct ft_tasks *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].frames);
        free(t->v[i].awaited_by);
    }
    free(t->v);
    ft_hindex_free(&t->index);
    memset(t, 0, sizeof *t);
}
