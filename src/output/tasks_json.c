/*
 * tasks_json.c - `frametap tasks --json`. Strings from the target go
 * through sb_json_string (util/escape.h). Shape:
 *   {pid, command, python, binary, paused, asyncio_imported, source,
 *    edges_inferred,
 *    tasks: [{address, name, thread (OS thread id of its list on 3.14+,
 *             else of the thread running its event loop; null if unknown),
 *             running, error (null or why it is incomplete),
 *             coroutine_stack: [{name, qualname, file, line}] innermost
 *             first, truncated,
 *             awaited_by: [{address, name, via}]}]}
 * via says how the awaiter is known: "awaited_by" (recorded by asyncio,
 * 3.14+), "future" (through a future that awaits the task, 3.14+),
 * "await", "gather", "taskgroup" (inferred, before 3.14).
 */
#include "tasks_format.h"

static void key(struct strbuf *out, const char *k)
{
    sb_json_string(out, k);
    sb_puts(out, ":");
}

static void frame_json(struct strbuf *out, const struct ft_coro_frame *f)
{
    sb_puts(out, "{");
    key(out, "name");
    sb_json_string(out, f->code->name);
    sb_puts(out, ",");
    key(out, "qualname");
    sb_json_string(out, f->code->qualname);
    sb_puts(out, ",");
    key(out, "file");
    sb_json_string(out, f->code->filename);
    if (f->line >= 0)
        sb_printf(out, ",\"line\":%d}", f->line);
    else
        sb_puts(out, ",\"line\":null}");
}

static void task_json(struct strbuf *out, const struct ft_tasks *t, const struct ft_task *task)
{
    sb_printf(out, "{\"address\":%llu,", (unsigned long long)task->addr);
    key(out, "name");
    sb_json_string(out, task->name);
    if (task->thread >= 0)
        sb_printf(out, ",\"thread\":%lld", (long long)task->thread);
    else
        sb_puts(out, ",\"thread\":null");
    sb_printf(out, ",\"running\":%s,", task->running ? "true" : "false");
    key(out, "error");
    if (task->error[0])
        sb_json_string(out, task->error);
    else
        sb_puts(out, "null");
    sb_puts(out, ",\"coroutine_stack\":[");
    for (size_t i = task->nframes; i-- > 0;) {
        frame_json(out, &task->frames[i]);
        if (i)
            sb_puts(out, ",");
    }
    sb_printf(out, "],\"truncated\":%s,\"awaited_by\":[", task->frames_truncated ? "true" : "false");
    for (size_t i = 0; i < task->nawaited_by; i++) {
        const struct ft_task *p = &t->v[task->awaited_by[i].task];
        sb_printf(out, "%s{\"address\":%llu,", i ? "," : "", (unsigned long long)p->addr);
        key(out, "name");
        sb_json_string(out, p->name);
        sb_puts(out, ",");
        key(out, "via");
        sb_json_string(out, task->awaited_by[i].via);
        sb_puts(out, "}");
    }
    sb_puts(out, "]}");
}

void ft_tasks_json(struct strbuf *out, const struct ft_dump_header *h, const struct ft_tasks *t)
{
    ft_dump_json_process(out, h);
    sb_printf(out, "\"paused\":%s,\"asyncio_imported\":%s,", h->paused ? "true" : "false",
              t->asyncio_imported ? "true" : "false");
    key(out, "source");
    if (t->asyncio_imported)
        sb_json_string(out, t->source);
    else
        sb_puts(out, "null");
    sb_printf(out, ",\"edges_inferred\":%s,\"tasks\":[", t->edges_inferred ? "true" : "false");
    for (size_t i = 0; i < t->n; i++) {
        if (i)
            sb_puts(out, ",");
        task_json(out, t, &t->v[i]);
    }
    sb_puts(out, "]}\n");
}
