/*
 * tasks.h - the asyncio tasks of a target, read from outside: each task's
 * name, its coroutine stack, and which tasks await it.
 *
 * Where they come from:
 *   - 3.14+: the interpreter's own lists (every C Task is linked into its
 *     thread's list, tasks of ended threads into the interpreter's), with
 *     the offsets the target publishes in .AsyncioDebug (asyncio_debug.h);
 *     who awaits a task is recorded in the task (awaited_by), by asyncio
 *     itself for await, gather, TaskGroup, wait and shield.
 *   - 3.8-3.13: the asyncio.tasks module's registry (_all_tasks, or
 *     _scheduled_tasks and _eager_tasks: weak sets and sets of tasks),
 *     pending tasks only. Nothing records who awaits a task, so the edges
 *     are inferred from what each task waits on: a Task (await task), a
 *     gather's future (its children), or, when its coroutine is inside
 *     TaskGroup.__aexit__, the group's tasks. Tasks awaited otherwise
 *     (asyncio.wait, a plain Future set by a callback) show no awaiter.
 *
 * What it must never do: run anything in the target, follow a list or a
 * set beyond FT_TASKS_MAX, or report a task it could not read as if it
 * were whole (a task whose coroutine cannot be read carries an error).
 */
#ifndef FT_TASKS_H
#define FT_TASKS_H

#include "coro.h"
#include "discover.h"

#include "../util/hindex.h"

#define FT_TASKS_MAX 65536
#define FT_TASK_NAME_MAX 256

struct ft_task_link {
    size_t task;                  /* index of the task that awaits */
    const char *via;              /* "awaited_by", "await", "gather", "taskgroup", "future" */
};

struct ft_task {
    uint64_t addr;
    char name[FT_TASK_NAME_MAX];  /* as the target has it: callers escape */
    int64_t thread;               /* OS thread id: 3.14+ the list it was on; before,
                                     the thread running its loop; -1 unknown */
    int running;                  /* its thread is running it now */
    struct ft_coro_frame *frames; /* outermost first */
    size_t nframes;
    int frames_truncated;
    uint64_t awaits;              /* what its innermost coroutine awaits (0: none) */
    struct ft_task_link *awaited_by;
    size_t nawaited_by, awaited_by_cap;
    char error[160];              /* set when the task could not be read whole */
};

struct ft_tasks {
    struct ft_task *v;
    size_t n, cap;
    struct ft_hindex index;       /* address -> task */
    int from_debug_offsets;       /* 3.14+ lists; else the registry */
    int edges_inferred;           /* 3.8-3.13: see above */
    int asyncio_imported;
    char source[PATH_MAX + 64];   /* where the tasks were found, for people */
};

/* Reads every task of every interpreter. 0 (also when asyncio is not
 * imported: no tasks), or -1 with ft_fail() set. */
int ft_tasks_read(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tasks *out);
void ft_tasks_free(struct ft_tasks *t);

#endif
