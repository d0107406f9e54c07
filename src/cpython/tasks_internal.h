/*
 * tasks_internal.h - what the task readers share: tasks.c (the list of
 * tasks, names, coroutine stacks, links), tasks_lists.c (3.14+) and
 * tasks_registry.c (3.8-3.13). Not for use outside them.
 */
#ifndef FT_TASKS_INTERNAL_H
#define FT_TASKS_INTERNAL_H

#include "tasks.h"

/* The task at addr: found (*added 0) or appended (*added 1, the rest of
 * it zeroed). NULL with ft_fail() set past FT_TASKS_MAX. */
struct ft_task *ft_tasks_add(struct ft_tasks *t, uint64_t addr, int *added);
/* The index of the task at addr, or -1. */
long ft_tasks_find(const struct ft_tasks *t, uint64_t addr);
/* Records that task `parent` awaits task `child` (once). */
void ft_tasks_link(struct ft_tasks *t, size_t child, size_t parent, const char *via);
/* A task's name from its name object: a str, or an int n for "Task-n"
 * (3.12+ name tasks lazily). Errors go into task->error. */
void ft_task_name(struct ft_reader *r, struct ft_task *task, uint64_t name);
/* A task's coroutine stack from its coroutine object (0: none). Errors go
 * into task->error; -1 only when the process can no longer be read. */
int ft_task_stack(struct ft_reader *r, struct ft_task *task, uint64_t coro);

int ft_tasks_from_lists(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tasks *out);
int ft_tasks_from_registry(struct ft_reader *r, const struct ft_runtime *rt, struct ft_tasks *out);

#endif
