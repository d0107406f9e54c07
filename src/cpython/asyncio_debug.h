/*
 * asyncio_debug.h - where CPython 3.14+ keeps asyncio tasks, as the target
 * publishes it: the .AsyncioDebug section (struct
 * _Py_AsyncioModuleDebugOffsets of Modules/_asynciomodule.c: offsets in
 * the C Task, in the interpreter state and in the thread state). It lives
 * in the executable when _asyncio is built in (Debian 3.15), or in the
 * _asyncio extension module's file, mapped once asyncio is imported
 * (Debian 3.14).
 *
 * What it must never do: take the section's numbers without checking them
 * (each offset must fall inside the size it is an offset into, each size
 * must be plausible), or guess them when the section is missing.
 */
#ifndef FT_ASYNCIO_DEBUG_H
#define FT_ASYNCIO_DEBUG_H

#include "layout.h"

#include <limits.h>

struct ft_asyncio_offsets {
    uint64_t task_size, task_name, task_awaited_by, task_is_task, task_awaited_by_is_set, task_coro,
        task_node;
    uint64_t interp_tasks_head;
    uint64_t tstate_running_loop, tstate_running_task, tstate_tasks_head;
    char file[PATH_MAX];          /* the file the section was found in */
};

/* Reads and checks the section. 0; 1 when no mapped file has it (asyncio
 * not imported yet, or a build without it); -1 with ft_fail() set when it
 * is there but cannot be used. */
int ft_asyncio_offsets_read(struct ft_proc *p, struct ft_asyncio_offsets *out);

#endif
