/*
 * trace_chrome.c - the trace as Chrome Trace Event JSON: B/E pairs per
 * thread for Python calls (and C calls, garbage collections), instant
 * events for exceptions, imports, audit events and lines. Opens in
 * Perfetto, chrome://tracing and speedscope.
 *
 * Every E closes the innermost B this writer opened on that thread (a
 * return from a frame entered before tracing began has none and is left
 * out), and all still-open B's are closed at the end: viewers get
 * balanced, ordered pairs whatever the trace holds.
 */
#include "trace_output.h"
#include "../util/grow.h"
#include "../util/strbuf.h"
#include <stdlib.h>
#include <string.h>

struct open_frame { const char *name; const char *cat; };
struct tstack { struct open_frame *v; size_t n, cap; };

static void event_head(struct strbuf *sb, const struct ft_trace *t, const struct ft_tevent *e,
                       const char *ph, const char *cat, const char *name, uint64_t ns)
{
    const struct ft_tthread *th = &t->threads[e->thread];
    sb_puts(sb, ",\n{\"ph\":\"");
    sb_puts(sb, ph);
    sb_puts(sb, "\",\"cat\":\"");
    sb_puts(sb, cat);
    sb_puts(sb, "\",\"name\":");
    sb_json_string(sb, name);
    sb_printf(sb, ",\"pid\":%u,\"tid\":%u,\"ts\":%.3f", t->procs[th->proc].pid, th->tid,
              (double)ns / 1000.0);
}

static void push(struct strbuf *sb, const struct ft_trace *t, const struct ft_tevent *e,
                 struct tstack *s, const char *cat, const char *name, const struct ft_tcode *c)
{
    FT_GROW(s->v, s->cap, s->n + 1);
    s->v[s->n++] = (struct open_frame){ name, cat };
    event_head(sb, t, e, "B", cat, name, e->ns);
    if (c) {
        sb_puts(sb, ",\"args\":{\"file\":");
        sb_json_string(sb, c->file);
        sb_printf(sb, ",\"line\":%u}", c->firstline);
    }
    sb_puts(sb, "}");
}

static void pop(struct strbuf *sb, const struct ft_trace *t, const struct ft_tevent *e,
                struct tstack *s, uint64_t ns)
{
    if (s->n == 0)
        return;
    struct open_frame fr = s->v[--s->n];
    event_head(sb, t, e, "E", fr.cat, fr.name, ns);
    sb_puts(sb, "}");
}

static void instant(struct strbuf *sb, const struct ft_trace *t, const struct ft_tevent *e,
                    const char *cat, const char *name, const char *detail)
{
    event_head(sb, t, e, "i", cat, name, e->ns);
    sb_puts(sb, ",\"s\":\"t\"");
    if (detail) {
        sb_puts(sb, ",\"args\":{\"detail\":");
        sb_json_string(sb, detail);
        sb_puts(sb, "}");
    }
    sb_puts(sb, "}");
}

static void metadata(struct strbuf *sb, const struct ft_trace *t)
{
    sb_puts(sb, "{\"traceEvents\":[\n{\"ph\":\"M\",\"name\":\"frametap\",\"pid\":0,\"tid\":0,"
                "\"args\":{\"source\":\"frametap trace\"}}");
    for (size_t i = 0; i < t->nprocs; i++) {
        char name[64];
        snprintf(name, sizeof name, "python %u", t->procs[i].pid);
        sb_printf(sb, ",\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%u,\"tid\":0,"
                  "\"args\":{\"name\":", t->procs[i].pid);
        sb_json_string(sb, name);
        sb_puts(sb, "}}");
    }
    for (size_t i = 0; i < t->nthreads; i++) {
        char label[300];
        ft_trace_thread_label(t, (uint32_t)i, label, sizeof label);
        sb_printf(sb, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%u,\"tid\":%u,"
                  "\"args\":{\"name\":", t->procs[t->threads[i].proc].pid, t->threads[i].tid);
        sb_json_string(sb, label);
        sb_puts(sb, "}}");
    }
}

static void one_event(struct strbuf *sb, const struct ft_trace *t, const struct ft_tevent *e,
                      struct tstack *s)
{
    const struct ft_tcode *c = ft_trace_event_code(t, e);
    const char *name = c ? c->qualname : "?";
    uint32_t proc = t->threads[e->thread].proc;
    char detail[256];
    switch (e->kind) {
    case FT_REC_CALL: case FT_REC_RESUME:
        push(sb, t, e, s, "python", name, c);
        break;
    case FT_REC_C_CALL:
        push(sb, t, e, s, "c", ft_trace_func(t, proc, e->a), NULL);
        break;
    case FT_REC_GC_START:
        push(sb, t, e, s, "gc", "gc", NULL);
        break;
    case FT_REC_RETURN: case FT_REC_YIELD: case FT_REC_UNWIND:
    case FT_REC_C_RETURN: case FT_REC_C_RAISE: case FT_REC_GC_STOP:
        pop(sb, t, e, s, e->ns);
        break;
    case FT_REC_RAISE: case FT_REC_RERAISE: case FT_REC_HANDLED:
        snprintf(detail, sizeof detail, "%s in %s line %d", ft_trace_payload_str(e, 4, 0), name,
                 c ? ft_trace_line_at(c, ft_trace_event_offset(e)) : 0);
        instant(sb, t, e, "exception", e->kind == FT_REC_HANDLED ? "handled" : "raise", detail);
        break;
    case FT_REC_IMPORT:
        instant(sb, t, e, "import", "import", ft_trace_payload_str(e, 0, 0));
        break;
    case FT_REC_AUDIT:
        instant(sb, t, e, "audit", ft_trace_payload_str(e, 0, 0), ft_trace_payload_str(e, 0, 1));
        break;
    case FT_REC_LINE:
        snprintf(detail, sizeof detail, "%s line %u", name, e->c);
        instant(sb, t, e, "line", "line", detail);
        break;
    case FT_TEV_GAP:                  /* events were lost: close what was open */
        while (s->n)
            pop(sb, t, e, s, e->ns);
        snprintf(detail, sizeof detail, "%u events of this thread dropped", e->a);
        instant(sb, t, e, "frametap", "dropped", detail);
        break;
    default:
        break;                        /* opcodes and thread records: text output only */
    }
}

int ft_trace_write_chrome(const struct ft_trace *t, FILE *f)
{
    struct tstack *stacks = calloc(t->nthreads ? t->nthreads : 1, sizeof *stacks);
    if (!stacks)
        return -1;
    struct strbuf sb;
    sb_init(&sb);
    metadata(&sb, t);
    uint64_t last = 0;
    for (size_t i = 0; i < t->nevents; i++) {
        one_event(&sb, t, &t->events[i], &stacks[t->events[i].thread]);
        last = t->events[i].ns;
        if (sb.len > (1u << 20)) {
            fwrite(sb.data, 1, sb.len, f);
            sb.len = 0;
        }
    }
    for (size_t th = 0; th < t->nthreads; th++) {
        struct ft_tevent closing = { .thread = (uint32_t)th, .ns = last };
        while (stacks[th].n)
            pop(&sb, t, &closing, &stacks[th], last);
        free(stacks[th].v);
    }
    sb_puts(&sb, "\n],\"displayTimeUnit\":\"ns\"}\n");
    fwrite(sb.data, 1, sb.len, f);
    sb_free(&sb);
    free(stacks);
    return ferror(f) ? -1 : 0;
}
