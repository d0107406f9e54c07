/*
 * dump_json.c - the machine-readable dump. Strings from the target are
 * escaped by sb_json_string (util/escape.h: the real name per JSON rules,
 * invalid UTF-8 as U+FFFD), so the output parses whatever the names hold.
 * Shape: {pid, command, python, binary, build_id, runtime_found_by,
 *         runtime_address, paused,
 *         threads: [{native_id, ident, name (OS), python_name (threading's,
 *                    null if it does not know the thread), interpreter,
 *                    holds_gil, on_cpu, error, truncated, gc,
 *                    frames: [{name, qualname, file, line}],
 *                    native (dump --native): {error, merged, placed, note,
 *                        frames: [{kind: python, frame} | {kind: native, pc,
 *                        symbol, offset, module, module_address, file, line,
 *                        interpreter, runs_python, plumbing} | {kind: mark,
 *                        text}]}}]}
 * A thread collecting garbage has gc true and a frame named "<GC>" (file
 * "", line null) where the collection began, as in a recorded profile
 * (native "frame" indexes count it).
 * With dump --locals each frame also has locals_error (null or why they
 * could not be read) and locals: [{name, kind (positional, keyword_only,
 * var_positional, var_keyword, local, cell, free), cell (the value lives in
 * a cell), value (repr-like text, null when unset), type, truncated}], and
 * the object has locals_paused (false: read while the process ran); the
 * "<GC>" frame has neither.
 * dump --core adds core, written_by ("kernel" or "gdb"), signal (0 for
 * gdb's cores) and fault_address after runtime_address.
 * A runtime in a wasm memory adds wasm (its label, "wasm 3.13.2 in node")
 * and memory: {base (where linear address 0 is in the process), size};
 * runtime_address is then a linear address, and native_id null. `dump`
 * writes {pid, command, paused, interpreters: [one such object per wasm
 * runtime]} for such a process.
 */
#include "dump_format.h"

#include "../native/native_stacks.h"

#define GC_FRAME "{\"name\":\"<GC>\",\"qualname\":\"<GC>\",\"file\":\"\",\"line\":null}"

static void key(struct strbuf *out, const char *k)
{
    sb_json_string(out, k);
    sb_puts(out, ":");
}

static void local_json(struct strbuf *out, const struct ft_local *l)
{
    sb_puts(out, "{");
    key(out, "name");
    sb_json_string(out, l->name);
    sb_printf(out, ",\"kind\":\"%s\",\"cell\":%s,", ft_local_kind_names[l->kind],
              l->in_cell ? "true" : "false");
    key(out, "value");
    if (l->set)
        sb_json_string(out, l->value);
    else
        sb_puts(out, "null");
    sb_puts(out, ",");
    key(out, "type");
    if (l->set && l->info.type[0])
        sb_json_string(out, l->info.type);
    else
        sb_puts(out, "null");
    sb_printf(out, ",\"truncated\":%s}", l->info.truncated ? "true" : "false");
}

static void locals_json(struct strbuf *out, const struct ft_frame_locals *l)
{
    sb_puts(out, ",");
    key(out, "locals_error");
    if (l->error[0])
        sb_json_string(out, l->error);
    else
        sb_puts(out, "null");
    sb_puts(out, ",\"locals\":[");
    for (size_t i = 0; !l->error[0] && i < l->n; i++) {
        if (i)
            sb_puts(out, ",");
        local_json(out, &l->v[i]);
    }
    sb_puts(out, "]");
}

static void frame_json(struct strbuf *out, const struct ft_frame *f, const struct ft_frame_locals *l)
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
    sb_puts(out, ",");
    key(out, "line");
    if (f->line >= 0)
        sb_printf(out, "%d", f->line);
    else
        sb_puts(out, "null");
    if (l)
        locals_json(out, l);
    sb_puts(out, "}");
}

static void thread_json(struct strbuf *out, const struct ft_dump_header *h, size_t i,
                        const struct ft_thread *t, const struct ft_native_thread *nt)
{
    if (h->wasm)
        sb_printf(out, "{\"native_id\":null,\"ident\":%llu,", (unsigned long long)t->thread_id);
    else
        sb_printf(out, "{\"native_id\":%lld,\"ident\":%llu,", (long long)t->native_id,
                  (unsigned long long)t->thread_id);
    key(out, "name");
    sb_json_string(out, t->name);
    sb_puts(out, ",");
    key(out, "python_name");
    if (t->has_python_name)
        sb_json_string(out, t->python_name);
    else
        sb_puts(out, "null");
    sb_printf(out, ",\"interpreter\":%lld,\"holds_gil\":%s,\"on_cpu\":%s,\"truncated\":%s,",
              (long long)t->interp_id, t->holds_gil ? "true" : "false",
              t->on_cpu ? "true" : "false", t->truncated ? "true" : "false");
    key(out, "error");
    if (t->error[0])
        sb_json_string(out, t->error);
    else
        sb_puts(out, "null");
    long gc = t->error[0] ? -1 : ft_gc_position(t, t->holds_gil ? t->tstate : 0);
    sb_printf(out, ",\"gc\":%s,\"frames\":[", gc >= 0 ? "true" : "false");
    const char *sep = "";
    for (size_t j = 0; !t->error[0] && j < t->nframes; j++) {
        sb_puts(out, sep);
        if ((long)j == gc)
            sb_puts(out, GC_FRAME ",");
        frame_json(out, &t->frames[j], ft_dump_locals_of(h, i, j));
        sep = ",";
    }
    if (gc >= 0 && (size_t)gc >= t->nframes) {
        sb_puts(out, sep);
        sb_puts(out, GC_FRAME);
    }
    sb_puts(out, "]");
    if (nt)
        ft_dump_json_native(out, nt, gc);
    sb_puts(out, "}");
}

void ft_dump_json_process(struct strbuf *out, const struct ft_dump_header *h)
{
    sb_printf(out, "{\"pid\":%d,", h->pid);
    key(out, "command");
    sb_json_string(out, h->comm);
    sb_puts(out, ",");
    key(out, "python");
    sb_json_string(out, h->python_version);
    sb_puts(out, ",");
    key(out, "binary");
    sb_json_string(out, h->binary);
    sb_puts(out, ",");
}

void ft_dump_json(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s)
{
    ft_dump_json_process(out, h);
    key(out, "build_id");
    sb_json_string(out, h->build_id);
    sb_puts(out, ",");
    key(out, "runtime_found_by");
    sb_json_string(out, h->found_by);
    sb_printf(out, ",\"runtime_address\":%llu", (unsigned long long)h->runtime_address);
    if (h->wasm) {
        sb_puts(out, ",\"wasm\":");
        sb_json_string(out, h->wasm);
        sb_printf(out, ",\"memory\":{\"base\":%llu,\"size\":%llu}", h->memory_base, h->memory_size);
    }
    if (h->core) {
        sb_puts(out, ",\"core\":");
        sb_json_string(out, h->core);
        sb_printf(out, ",\"written_by\":\"%s\",\"signal\":%d,\"fault_address\":",
                  h->core_by_gdb ? "gdb" : "kernel", h->core_by_gdb ? 0 : h->core_signal);
        if (h->core_have_fault)
            sb_printf(out, "%llu", h->core_fault_address);
        else
            sb_puts(out, "null");
    }
    sb_printf(out, ",\"paused\":%s,", h->paused ? "true" : "false");
    if (h->locals)
        sb_printf(out, "\"locals_paused\":%s,", h->locals->while_running ? "false" : "true");
    sb_puts(out, "\"threads\":[");
    for (size_t i = 0; i < s->nthreads; i++) {
        if (i)
            sb_puts(out, ",");
        thread_json(out, h, i, &s->threads[i], h->native && i < h->native->n ? &h->native->t[i] : NULL);
    }
    sb_puts(out, "]}\n");
}
