/*
 * dump_text.c - the human-readable dump: one block per thread, frames
 * innermost first as `qualname (file:line)`. Never prints a frame the walker
 * did not validate; a thread whose stack failed shows the reason instead.
 * Every string from the target (names, files, thread and command names,
 * errors that quote them) goes through the text rule of util/escape.h, so a
 * name can neither forge a line nor send escape sequences to the terminal.
 * With dump --locals, each frame is followed by its arguments and locals,
 * one a line: `kind name = value` (values are text from the target too).
 */
#include "dump_format.h"

#include "../native/native_stacks.h"
#include "../profile/aggregate.h"

#include <string.h>

/* a collection running in this thread, where it began (see walk.h) */
#define FT_GC_LINE "<GC> (garbage collection)"

static void esc(struct strbuf *out, const char *s)
{
    ft_esc_text(out, s, NULL);
}

/* The Python name in quotes, and the OS name in brackets when it differs;
 * the OS name alone in quotes for a thread threading does not know. */
static void thread_names(struct strbuf *out, const struct ft_thread *t)
{
    if (t->has_python_name) {
        sb_puts(out, " ");
        ft_esc_text_quoted(out, t->python_name);
        if (t->name[0] && strcmp(t->name, t->python_name) != 0) {
            sb_puts(out, " [");
            ft_esc_text_quoted(out, t->name);
            sb_puts(out, "]");
        }
    } else if (t->name[0]) {
        sb_puts(out, " ");
        ft_esc_text_quoted(out, t->name);
    }
}

static void thread_header(struct strbuf *out, const struct ft_dump_header *h, const struct ft_thread *t)
{
    if (h->wasm) {
        sb_puts(out, "Thread [");
        esc(out, h->wasm);
        sb_puts(out, "]");
    } else {
        sb_printf(out, "Thread %lld", (long long)t->native_id);
    }
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
    sb_puts(out, "    ");
    esc(out, f->code->qualname);
    sb_puts(out, " (");
    esc(out, f->code->filename);
    if (f->line >= 0)
        sb_printf(out, ":%d", f->line);
    sb_puts(out, ")\n");
}

static const char *const kind_labels[] = {
    [FT_LOCAL_POSITIONAL] = "arg",    [FT_LOCAL_KEYWORD_ONLY] = "kwonly", [FT_LOCAL_VAR_POSITIONAL] = "*args",
    [FT_LOCAL_VAR_KEYWORD] = "**kwargs", [FT_LOCAL_PLAIN] = "local", [FT_LOCAL_CELL] = "cell",
    [FT_LOCAL_FREE] = "free",
};

static void locals_lines(struct strbuf *out, const struct ft_frame_locals *l)
{
    if (l->error[0]) {
        sb_puts(out, "        <locals unreadable: ");
        esc(out, l->error);
        sb_puts(out, ">\n");
        return;
    }
    for (size_t i = 0; i < l->n; i++) {
        const struct ft_local *v = &l->v[i];
        int arg = v->kind <= FT_LOCAL_VAR_KEYWORD;
        sb_printf(out, "        %s%s ", kind_labels[v->kind], arg && v->in_cell ? "(cell)" : "");
        esc(out, v->name);
        sb_puts(out, " = ");
        if (v->set)
            esc(out, v->value);
        else
            sb_puts(out, "<unset>");
        sb_puts(out, "\n");
    }
}

void ft_dump_text_process(struct strbuf *out, const struct ft_dump_header *h)
{
    if (h->core) {
        sb_puts(out, "Core file ");
        esc(out, h->core);
        sb_puts(out, h->core_by_gdb ? " (written by gdb): " : ": ");
    }
    sb_printf(out, "Process %d: ", h->pid);
    esc(out, h->comm);
    if (h->core && h->core_signal && !h->core_by_gdb) {
        sb_puts(out, ", killed by ");
        ft_dump_signal_name(out, h->core_signal);
        if (h->core_have_fault)
            sb_printf(out, " at address 0x%llx", h->core_fault_address);
    }
    sb_puts(out, "\nPython ");
    esc(out, h->python_version);
    if (h->wasm) {
        sb_puts(out, " [");
        esc(out, h->wasm);
        sb_printf(out, "] (linear memory at 0x%llx, %llu bytes; _PyRuntime at linear 0x%llx)\n",
                  h->memory_base, h->memory_size, h->runtime_address);
        return;
    }
    sb_puts(out, " (");
    esc(out, h->binary);
    sb_puts(out, ")\n");
}

static void process_header(struct strbuf *out, const struct ft_dump_header *h)
{
    ft_dump_text_process(out, h);
    if (h->locals && h->locals->while_running)
        sb_puts(out, "Locals were read while the process ran (--nonblocking): each may have changed "
                     "while being read.\n");
}

void ft_dump_text(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s)
{
    process_header(out, h);
    for (size_t i = 0; i < s->nthreads; i++) {
        const struct ft_thread *t = &s->threads[i];
        sb_puts(out, "\n");
        thread_header(out, h, t);
        if (h->native && i < h->native->n) {
            ft_dump_text_native(out, t, &h->native->t[i], frame_line);
            continue;
        }
        if (t->error[0]) {
            sb_puts(out, "    <error: ");
            esc(out, t->error);
            sb_puts(out, ">\n");
            continue;
        }
        long gc = ft_gc_position(t, t->holds_gil ? t->tstate : 0);
        if (t->nframes == 0 && gc < 0)
            sb_puts(out, "    <no Python frames>\n");
        for (size_t j = 0; j < t->nframes; j++) {
            if ((long)j == gc)
                sb_puts(out, "    " FT_GC_LINE "\n");
            frame_line(out, &t->frames[j]);
            const struct ft_frame_locals *l = ft_dump_locals_of(h, i, j);
            if (l)
                locals_lines(out, l);
        }
        if (gc >= 0 && (size_t)gc >= t->nframes)
            sb_puts(out, "    " FT_GC_LINE "\n");
        if (t->truncated)
            sb_printf(out, "    " FT_TRUNCATED_FMT "\n", t->nframes);
    }
}
