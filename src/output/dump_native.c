/*
 * dump_native.c - a thread's merged native and Python stack for `dump
 * --native`, as text and as JSON. Takes decoded values only (symbolized
 * native frames, the merge's order, the walker's Python frames); every
 * name goes through util/escape.h like any other name from the target.
 *
 * Text leaves out the interpreter's own call plumbing (eval-loop frames,
 * which the Python frames they run stand for, and _Py*, PyEval_*,
 * *vectorcall* frames of the interpreter's binary); JSON keeps every
 * frame, flagged, in the same order.
 */
#include "dump_format.h"

#include "../native/native_stacks.h"
#include "../profile/aggregate.h"

#include <signal.h>
#include <string.h>

static const char *base_of(const char *p)
{
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

static void native_text(struct strbuf *out, const struct ft_native_thread *nt, size_t i)
{
    const struct ft_native_sym *s = &nt->syms[i];
    sb_puts(out, "    (C) ");
    if (s->name)
        ft_esc_text(out, s->name, NULL);
    else
        sb_puts(out, "??");
    if (s->name && s->file) {
        sb_puts(out, " (");
        ft_esc_text(out, s->file, NULL);
        sb_printf(out, ":%d)", s->line);
    }
    sb_puts(out, " [");
    if (s->module) {
        ft_esc_text(out, base_of(s->module), NULL);
        if (!s->name)
            sb_printf(out, "+0x%llx", (unsigned long long)s->module_addr);
    } else {
        sb_printf(out, "0x%llx", (unsigned long long)nt->stack.v[i].pc);
    }
    sb_puts(out, "]\n");
}

void ft_dump_text_native(struct strbuf *out, const struct ft_thread *t,
                         const struct ft_native_thread *nt,
                         void (*python_frame)(struct strbuf *, const struct ft_frame *))
{
    if (t->error[0]) {
        sb_puts(out, "    <error reading the Python frames: ");
        ft_esc_text(out, t->error, NULL);
        sb_puts(out, ">\n");
    }
    if (nt->error[0]) {
        sb_puts(out, "    <no native frames: ");
        ft_esc_text(out, nt->error, NULL);
        sb_puts(out, ">\n");
        for (size_t j = 0; !t->error[0] && j < t->nframes; j++)
            python_frame(out, &t->frames[j]);
        return;
    }
    for (size_t k = 0; k < nt->merged.n; k++) {
        const struct ft_mitem *it = &nt->merged.v[k];
        if (ft_native_item_hidden(nt, it))
            continue;
        if (it->kind == FT_MITEM_PYTHON) {
            python_frame(out, &t->frames[it->index]);
        } else if (it->kind == FT_MITEM_NATIVE) {
            native_text(out, nt, it->index);
        } else {
            sb_puts(out, "    <");
            sb_puts(out, it->mark);
            sb_puts(out, ">\n");
        }
    }
    if (t->truncated)
        sb_printf(out, "    " FT_TRUNCATED_FMT "\n", t->nframes);
    if (nt->merged.by_order)
        sb_printf(out, "    <%zu run(s) of Python frames placed by the order of eval-loop "
                  "frames: no address or argument anchored them>\n", nt->merged.by_order);
    if (nt->merged.note[0]) {
        sb_puts(out, "    <");
        ft_esc_text(out, nt->merged.note, NULL);
        sb_puts(out, ">\n");
    }
}

static void json_str_or_null(struct strbuf *out, const char *s)
{
    if (s)
        sb_json_string(out, s);
    else
        sb_puts(out, "null");
}

static void native_json(struct strbuf *out, const struct ft_native_thread *nt,
                        const struct ft_mitem *it)
{
    const struct ft_native_sym *s = &nt->syms[it->index];
    const struct ft_native_frame *f = &nt->stack.v[it->index];
    sb_printf(out, "{\"kind\":\"native\",\"pc\":%llu,\"symbol\":", (unsigned long long)f->pc);
    json_str_or_null(out, s->name);
    sb_printf(out, ",\"offset\":%llu,\"module\":", (unsigned long long)s->offset);
    json_str_or_null(out, s->module);
    sb_printf(out, ",\"module_address\":%llu,\"file\":", (unsigned long long)s->module_addr);
    json_str_or_null(out, s->file);
    if (s->line > 0)
        sb_printf(out, ",\"line\":%d", s->line);
    else
        sb_puts(out, ",\"line\":null");
    sb_printf(out, ",\"interpreter\":%s,\"runs_python\":%s,\"plumbing\":%s}",
              nt->in_interp[it->index] ? "true" : "false", it->runs_python ? "true" : "false",
              ft_native_item_hidden(nt, it) ? "true" : "false");
}

void ft_dump_json_native(struct strbuf *out, const struct ft_native_thread *nt, long gc_at)
{
    sb_puts(out, ",\"native\":{\"error\":");
    json_str_or_null(out, nt->error[0] ? nt->error : NULL);
    const struct ft_merged *m = &nt->merged;
    sb_printf(out, ",\"merged\":%s,\"placed\":{\"address\":%zu,\"argument\":%zu,\"order\":%zu,"
              "\"after_end\":%zu},\"note\":", m->merged ? "true" : "false", m->by_address,
              m->by_argument, m->by_order, m->after_end);
    json_str_or_null(out, m->note[0] ? m->note : NULL);
    sb_puts(out, ",\"frames\":[");
    for (size_t k = 0; !nt->error[0] && k < m->n; k++) {
        const struct ft_mitem *it = &m->v[k];
        if (k)
            sb_puts(out, ",");
        if (it->kind == FT_MITEM_PYTHON) {
            sb_printf(out, "{\"kind\":\"python\",\"frame\":%zu}",
                      it->index + (gc_at >= 0 && it->index >= (size_t)gc_at));
        } else if (it->kind == FT_MITEM_NATIVE) {
            native_json(out, nt, it);
        } else {
            sb_puts(out, "{\"kind\":\"mark\",\"text\":");
            sb_json_string(out, it->mark);
            sb_puts(out, "}");
        }
    }
    sb_puts(out, "]}");
}

void ft_dump_signal_name(struct strbuf *out, int sig)
{
    const char *abbrev = sigabbrev_np(sig);
    sb_printf(out, "signal %d", sig);
    if (abbrev)
        sb_printf(out, " (SIG%s)", abbrev);
}
