/*
 * dump_text.c - the human-readable dump: one block per thread, frames
 * innermost first as `qualname (file:line)`. Never prints a frame the walker
 * did not validate; a thread whose stack failed shows the reason instead.
 */
#include "dump_format.h"

#include <string.h>

/* The Python name in quotes, and the OS name in brackets when it differs;
 * the OS name alone in quotes for a thread threading does not know. */
static void thread_names(struct strbuf *out, const struct ft_thread *t)
{
    if (t->has_python_name) {
        sb_puts(out, " ");
        sb_text_quoted(out, t->python_name);
        if (t->name[0] && strcmp(t->name, t->python_name) != 0) {
            sb_puts(out, " [");
            sb_text_quoted(out, t->name);
            sb_puts(out, "]");
        }
    } else if (t->name[0]) {
        sb_puts(out, " ");
        sb_text_quoted(out, t->name);
    }
}

static void thread_header(struct strbuf *out, const struct ft_thread *t)
{
    sb_printf(out, "Thread %lld", (long long)t->native_id);
    thread_names(out, t);
    sb_printf(out, " (ident 0x%llx, interpreter %lld)", (unsigned long long)t->thread_id,
              (long long)t->interp_id);
    if (t->holds_gil)
        sb_puts(out, " [holds GIL]");
    if (t->on_cpu)
        sb_puts(out, " [on CPU]");
    sb_puts(out, "\n");
}

static void frame_line(struct strbuf *out, const struct ft_frame *f)
{
    if (f->line >= 0)
        sb_printf(out, "    %s (%s:%d)\n", f->code->qualname, f->code->filename, f->line);
    else
        sb_printf(out, "    %s (%s)\n", f->code->qualname, f->code->filename);
}

void ft_dump_text(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s)
{
    sb_printf(out, "Process %d: %s\nPython %s (%s)\n", h->pid, h->comm, h->python_version,
              h->binary);
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct ft_thread *t = &s->threads[i];
        sb_puts(out, "\n");
        thread_header(out, t);
        if (t->error[0]) {
            sb_printf(out, "    <error: %s>\n", t->error);
            continue;
        }
        if (t->nframes == 0)
            sb_puts(out, "    <no Python frames>\n");
        for (size_t j = 0; j < t->nframes; j++)
            frame_line(out, &t->frames[j]);
        if (t->truncated)
            sb_printf(out, "    <truncated at %d frames>\n", FT_MAX_DEPTH);
    }
}
