/*
 * trace_text.c - the call hierarchy as text, one event a line, in time
 * order across threads, indented by call depth per thread:
 *
 *     12.345 MainThread(8274):  => add in /app/calc.py:4
 *     12.901 MainThread(8274):  <= add in /app/calc.py:5
 *
 * Names, values and thread labels go through the text rule of
 * util/escape.h (controls and invalid UTF-8 as \xNN): one event is always
 * one line, and nothing a traced program names reaches a terminal raw.
 */
#include "trace_output.h"
#include "../util/escape.h"
#include "../util/grow.h"
#include <stdlib.h>
#include <string.h>

static void put_clean(FILE *f, const char *s)
{
    ft_esc_text_file(f, s);
}

static void put_where(FILE *f, const struct ft_tcode *c, int line)
{
    if (!c) {
        fputs("<unknown code>", f);
        return;
    }
    put_clean(f, c->qualname);
    fputs(" in ", f);
    put_clean(f, c->file);
    fprintf(f, ":%d", line);
}

static void put_opcode(FILE *f, const struct ft_trace *t, const struct ft_tevent *e,
                       const struct ft_tcode *c)
{
    struct ft_trace_opcode op;
    if (!e->payload || e->c < sizeof op) {
        fputs(".  op ?", f);
        return;
    }
    memcpy(&op, e->payload, sizeof op);
    const char *name = t->procs[t->threads[e->thread].proc].opnames[op.opcode & 0xff];
    fputs(".  op ", f);
    if (name && *name)
        put_clean(f, name);
    else
        fprintf(f, "%u", op.opcode);
    fprintf(f, " @%u in ", op.offset);
    put_where(f, c, c ? ft_trace_line_at(c, op.offset) : 0);
    if (op.depth == 0xffff) {
        fputs(" stack=?", f);
        return;
    }
    fputs(" stack=[", f);
    if (op.depth > op.nitems)
        fprintf(f, "...%u below, ", op.depth - op.nitems);
    for (unsigned i = 0; i < op.nitems; i++) {
        fputs(i ? ", " : "", f);
        put_clean(f, ft_trace_payload_str(e, sizeof op, 2 * i));
        fputc(' ', f);
        put_clean(f, ft_trace_payload_str(e, sizeof op, 2 * i + 1));
    }
    fputc(']', f);
}

static void put_exception(FILE *f, const struct ft_tevent *e, const struct ft_tcode *c)
{
    static const char *const verbs[] = { [FT_REC_RAISE - FT_REC_RAISE] = "raise",
        [FT_REC_RERAISE - FT_REC_RAISE] = "reraise", [FT_REC_HANDLED - FT_REC_RAISE] = "handled" };
    uint32_t off = ft_trace_event_offset(e);
    fprintf(f, "!  %s ", verbs[e->kind - FT_REC_RAISE]);
    put_clean(f, ft_trace_payload_str(e, 4, 0));
    fputs(" at ", f);
    put_where(f, c, c ? ft_trace_line_at(c, off) : 0);
}

/* Prints one event's text (after the time/thread prefix and indent). */
static void put_body(FILE *f, const struct ft_trace *t, const struct ft_tevent *e)
{
    const struct ft_tcode *c = ft_trace_event_code(t, e);
    uint32_t proc = t->threads[e->thread].proc;
    switch (e->kind) {
    case FT_REC_CALL:   fputs("=> ", f); put_where(f, c, c ? (int)c->firstline : 0); break;
    case FT_REC_RESUME: fputs("=> ", f); put_where(f, c, c ? (int)c->firstline : 0);
                        fputs(" (resumed)", f); break;
    case FT_REC_RETURN: fputs("<= ", f); put_where(f, c, c ? ft_trace_line_at(c, e->c) : 0); break;
    case FT_REC_YIELD:  fputs("<= ", f); put_where(f, c, c ? ft_trace_line_at(c, e->c) : 0);
                        fputs(" (yield)", f); break;
    case FT_REC_UNWIND: fputs("<= ", f); put_where(f, c, c ? ft_trace_line_at(c, e->c) : 0);
                        fputs(" (exception)", f); break;
    case FT_REC_C_CALL:   fputs("=> [C] ", f); put_clean(f, ft_trace_func(t, proc, e->a)); break;
    case FT_REC_C_RETURN: fputs("<= [C] ", f); put_clean(f, ft_trace_func(t, proc, e->a)); break;
    case FT_REC_C_RAISE:  fputs("<= [C] ", f); put_clean(f, ft_trace_func(t, proc, e->a));
                          fputs(" (exception)", f); break;
    case FT_REC_LINE:   fprintf(f, ".  line %u of ", e->c);
                        put_clean(f, c ? c->qualname : "?"); break;
    case FT_REC_OPCODE: put_opcode(f, t, e, c); break;
    case FT_REC_RAISE: case FT_REC_RERAISE: case FT_REC_HANDLED: put_exception(f, e, c); break;
    case FT_REC_GC_START: fprintf(f, "*  gc start (generation %u)", e->c); break;
    case FT_REC_GC_STOP:  fprintf(f, "*  gc done (collected %u, uncollectable %u)", e->a, e->c); break;
    case FT_REC_IMPORT: fputs("*  import ", f); put_clean(f, ft_trace_payload_str(e, 0, 0)); break;
    case FT_REC_AUDIT:  fputs("*  audit ", f); put_clean(f, ft_trace_payload_str(e, 0, 0));
                        fputc('(', f); put_clean(f, ft_trace_payload_str(e, 0, 1));
                        fputc(')', f); break;
    case FT_REC_THREAD: fputs("*  thread ", f); put_clean(f, ft_trace_payload_str(e, 8, 0)); break;
    default: fprintf(f, "?  record kind %u", e->kind);
    }
}

static int opens(unsigned k)  { return k == FT_REC_CALL || k == FT_REC_RESUME || k == FT_REC_C_CALL; }
static int closes(unsigned k)
{
    return k == FT_REC_RETURN || k == FT_REC_YIELD || k == FT_REC_UNWIND
        || k == FT_REC_C_RETURN || k == FT_REC_C_RAISE;
}

static void put_header(FILE *f, const struct ft_trace *t)
{
    for (size_t i = 0; i < t->nprocs; i++) {
        const struct ft_tproc *p = &t->procs[i];
        fprintf(f, "# frametap trace: pid %u%s, Python %u.%u.%u, %llu events, %llu dropped%s\n",
                p->pid, !p->parent_pid ? "" : p->parent_pid == p->pid ? " (after exec)" : " (forked)",
                p->python_hex >> 24,
                (p->python_hex >> 16) & 0xff, (p->python_hex >> 8) & 0xff,
                (unsigned long long)p->total_events, (unsigned long long)p->total_dropped,
                p->complete ? "" : " (ended without its closing record: killed?)");
        if (p->error) {
            fprintf(f, "# pid %u: reading stopped early: ", p->pid);
            put_clean(f, p->error);
            fputc('\n', f);
        }
    }
    fputs("# microseconds thread: => call, <= return, ! exception, * other, . line/opcode, "
          "~~ events dropped\n", f);
}

int ft_trace_write_text(const struct ft_trace *t, FILE *f)
{
    int *depth = calloc(t->nthreads ? t->nthreads : 1, sizeof *depth);
    if (!depth)
        return -1;
    put_header(f, t);
    for (size_t i = 0; i < t->nevents; i++) {
        const struct ft_tevent *e = &t->events[i];
        char label[300];
        int *d = &depth[e->thread];
        if (closes(e->kind) && *d > 0)
            (*d)--;
        if (e->kind == FT_TEV_GAP)
            *d = 0;                  /* what was open may have closed: start again */
        ft_trace_thread_label(t, e->thread, label, sizeof label);
        fprintf(f, "%12.3f ", (double)e->ns / 1000.0);
        put_clean(f, label);
        fprintf(f, ": %*s", *d < 200 ? *d : 200, "");
        if (e->kind == FT_TEV_GAP)
            fprintf(f, "~~ %u events of this thread dropped here (the writer fell behind); "
                    "calls below are indented afresh", e->a);
        else
            put_body(f, t, e);
        fputc('\n', f);
        if (opens(e->kind))
            (*d)++;
    }
    free(depth);
    return ferror(f) ? -1 : 0;
}
