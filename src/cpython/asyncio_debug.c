/*
 * asyncio_debug.c - reads and checks the .AsyncioDebug section of a 3.14+
 * target (see asyncio_debug.h).
 *
 * The section is a struct of u64 in three groups, each opening with the
 * size of the structure its offsets point into; `struct section` below
 * names them in that order (Modules/_asynciomodule.c, not an installed
 * header). The runtime check that every offset lies inside its size is
 * what vouches for reading them by these positions.
 */
#include "asyncio_debug.h"

#include "../util/error.h"
#include "binary.h"

#include <stddef.h>
#include <string.h>

struct section {
    uint64_t task_size, task_name, task_awaited_by, task_is_task, task_awaited_by_is_set, task_coro,
        task_node;
    uint64_t interp_size, interp_tasks_head;
    uint64_t tstate_size, tstate_running_loop, tstate_running_task, tstate_tasks_head;
};

#define TASK_SIZE_MAX 4096
#define STATE_SIZE_MAX (16u << 20)

static int inside(uint64_t off, uint64_t width, uint64_t size) { return off <= size && size - off >= width; }

static int check(const struct section *s, const char *file)
{
    int ok = s->task_size >= 32 && s->task_size <= TASK_SIZE_MAX && inside(s->task_name, 8, s->task_size) &&
             inside(s->task_awaited_by, 8, s->task_size) && inside(s->task_is_task, 1, s->task_size) &&
             inside(s->task_awaited_by_is_set, 1, s->task_size) && inside(s->task_coro, 8, s->task_size) &&
             inside(s->task_node, 16, s->task_size) && s->interp_size <= STATE_SIZE_MAX &&
             inside(s->interp_tasks_head, 16, s->interp_size) && s->tstate_size <= STATE_SIZE_MAX &&
             inside(s->tstate_running_loop, 8, s->tstate_size) && inside(s->tstate_running_task, 8, s->tstate_size) &&
             inside(s->tstate_tasks_head, 16, s->tstate_size);
    if (!ok)
        ft_fail(FT_E_CORRUPT, "the .AsyncioDebug section of %s holds offsets outside the structures they "
                "describe: not used", file);
    return ok ? 0 : -1;
}

int ft_asyncio_offsets_read(struct ft_proc *p, struct ft_asyncio_offsets *out)
{
    struct section s;
    uint64_t addr, size;
    memset(out, 0, sizeof *out);
    if (ft_find_mapped_section(p, ".AsyncioDebug", "_asyncio", &addr, &size, out->file, sizeof out->file))
        return 1;
    if (size < sizeof s) {
        ft_fail(FT_E_VERSION, "the .AsyncioDebug section of %s has %llu bytes, fewer than the %zu "
                "frametap reads", out->file, (unsigned long long)size, sizeof s);
        return -1;
    }
    if (ft_proc_read(p, addr, &s, sizeof s) < 0 || check(&s, out->file) < 0)
        return -1;
    out->task_size = s.task_size;
    out->task_name = s.task_name;
    out->task_awaited_by = s.task_awaited_by;
    out->task_is_task = s.task_is_task;
    out->task_awaited_by_is_set = s.task_awaited_by_is_set;
    out->task_coro = s.task_coro;
    out->task_node = s.task_node;
    out->interp_tasks_head = s.interp_tasks_head;
    out->tstate_running_loop = s.tstate_running_loop;
    out->tstate_running_task = s.tstate_running_task;
    out->tstate_tasks_head = s.tstate_tasks_head;
    return 0;
}
