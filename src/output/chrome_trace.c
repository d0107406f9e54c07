/*
 * chrome_trace.c - Trace Event JSON: per thread, the sampled timeline as
 * nested B/E events (a frame opens when it first appears under the same
 * callers and closes when a sample no longer has it), thread names as
 * metadata. Built from the profile's spans (kept only when this format is
 * asked for); timestamps in microseconds from the first sample.
 */
#include "profile_format.h"

#include <stdlib.h>

struct open_stack {
    struct ft_loc *v;
    uint32_t n;
};

static void event(struct strbuf *out, int *first, const struct ft_profile *p, char ph,
                  struct ft_loc loc, double ts, int64_t tid)
{
    const struct ft_func *f = &p->funcs[loc.func];
    sb_puts(out, *first ? "\n" : ",\n");
    *first = 0;
    sb_printf(out, "{\"ph\":\"%c\",\"pid\":1,\"tid\":%lld,\"ts\":%.3f,\"cat\":\"python\",\"name\":",
              ph, (long long)tid, ts);
    sb_json_string(out, f->qualname);
    sb_puts(out, ",\"args\":{\"file\":");
    sb_json_string(out, f->file);
    sb_printf(out, ",\"line\":%d}}", loc.line);
}

/* Moves the open stack of one thread to `stack` at time ts. */
static void move_to(struct strbuf *out, int *first, const struct ft_profile *p, struct open_stack *o,
                    uint32_t stack, double ts, int64_t tid)
{
    const struct ft_loc *locs = stack == UINT32_MAX ? NULL : ft_profile_locs(p, stack);
    uint32_t depth = stack == UINT32_MAX ? 0 : p->stacks[stack].depth;
    uint32_t k = 0; /* common prefix, outermost first */
    while (k < o->n && k < depth && o->v[k].func == locs[depth - 1 - k].func &&
           o->v[k].line == locs[depth - 1 - k].line)
        k++;
    while (o->n > k)
        event(out, first, p, 'E', o->v[--o->n], ts, tid);
    for (; k < depth; k++) {
        o->v[o->n++] = locs[depth - 1 - k];
        event(out, first, p, 'B', o->v[o->n - 1], ts, tid);
    }
}

void ft_write_chrome(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o)
{
    (void)o;
    int first = 1;
    sb_puts(out, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    for (uint32_t t = 0; t < p->nthreads; t++) {
        sb_puts(out, first ? "\n" : ",\n");
        first = 0;
        sb_printf(out, "{\"ph\":\"M\",\"pid\":1,\"tid\":%lld,\"name\":\"thread_name\",\"args\":{\"name\":",
                  (long long)p->threads[t].native_id);
        struct strbuf label;
        sb_init(&label);
        ft_thread_label(&label, p, t);
        sb_json_string(out, label.data);
        sb_free(&label);
        sb_puts(out, "}}");
    }
    struct open_stack *open = calloc(p->nthreads ? p->nthreads : 1, sizeof *open);
    double last_ts = 0;
    for (size_t i = 0; open && i < p->nspans; i++) {
        const struct ft_span *s = &p->spans[i];
        struct open_stack *os = &open[s->thread];
        if (!os->v && !(os->v = malloc(FT_MAX_STACK_DEPTH * sizeof *os->v)))
            break;
        double start = (double)(s->start_ns - p->start_ns) / 1e3;
        double end = (double)(s->end_ns - p->start_ns) / 1e3;
        int64_t tid = p->threads[s->thread].native_id;
        move_to(out, &first, p, os, s->stack, start, tid);
        if (end > last_ts)
            last_ts = end;
        if (s->stack_ends)
            move_to(out, &first, p, os, UINT32_MAX, end, tid);
    }
    for (uint32_t t = 0; open && t < p->nthreads; t++) {
        if (open[t].v)
            move_to(out, &first, p, &open[t], UINT32_MAX, last_ts, p->threads[t].native_id);
        free(open[t].v);
    }
    free(open);
    sb_puts(out, "\n]}\n");
}
