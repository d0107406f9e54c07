/*
 * chrome_trace.c - Trace Event JSON: per thread, the sampled timeline as
 * nested B/E events (a frame opens when it first appears under the same
 * callers and closes when a sample no longer has it), thread names as
 * metadata. Built from the profile's spans (kept only when this format is
 * asked for); timestamps in microseconds from the first sample. Each
 * function's JSON-escaped name and file are made once and reused for all
 * its events. Linear in spans times the frames that change between them.
 */
#include "profile_format.h"

#include <stdlib.h>

struct open_stack {
    struct ft_loc *v;
    uint32_t n;
};

struct chrome {
    struct strbuf *out;
    const struct ft_profile *p;
    struct strbuf names;     /* per function: "name":...,"args":{"file":... */
    size_t *name_at;         /* offset of function i's text in names, +1; 0 = not yet */
    int first;
};

static const char *func_json(struct chrome *c, uint32_t func)
{
    if (!c->name_at[func]) {
        const struct ft_func *f = &c->p->funcs[func];
        c->name_at[func] = c->names.len + 1;
        sb_puts(&c->names, "\"name\":");
        sb_json_string(&c->names, f->qualname);
        sb_puts(&c->names, ",\"args\":{\"file\":");
        sb_json_string(&c->names, f->file);
        sb_add(&c->names, "", 1); /* keeps the NUL that ends this entry */
    }
    return c->names.data + c->name_at[func] - 1;
}

static void event(struct chrome *c, char ph, struct ft_loc loc, double ts, int64_t tid)
{
    sb_puts(c->out, c->first ? "\n" : ",\n");
    c->first = 0;
    sb_printf(c->out, "{\"ph\":\"%c\",\"pid\":1,\"tid\":%lld,\"ts\":%.3f,\"cat\":\"python\",%s,"
              "\"line\":%d}}", ph, (long long)tid, ts, func_json(c, loc.func), loc.line);
}

/* Moves the open stack of one thread to `stack` at time ts. */
static void move_to(struct chrome *c, struct open_stack *o, uint32_t stack, double ts, int64_t tid)
{
    const struct ft_profile *p = c->p;
    const struct ft_loc *locs = stack == UINT32_MAX ? NULL : ft_profile_locs(p, stack);
    uint32_t depth = stack == UINT32_MAX ? 0 : p->stacks[stack].depth;
    uint32_t k = 0; /* common prefix, outermost first */
    while (k < o->n && k < depth && o->v[k].func == locs[depth - 1 - k].func &&
           o->v[k].line == locs[depth - 1 - k].line)
        k++;
    while (o->n > k)
        event(c, 'E', o->v[--o->n], ts, tid);
    for (; k < depth; k++) {
        o->v[o->n++] = locs[depth - 1 - k];
        event(c, 'B', o->v[o->n - 1], ts, tid);
    }
}

static void thread_names(struct chrome *c)
{
    struct strbuf label;
    sb_init(&label);
    for (uint32_t t = 0; t < c->p->nthreads; t++) {
        sb_puts(c->out, c->first ? "\n" : ",\n");
        c->first = 0;
        sb_printf(c->out, "{\"ph\":\"M\",\"pid\":1,\"tid\":%lld,\"name\":\"thread_name\",\"args\":{\"name\":",
                  (long long)c->p->threads[t].native_id);
        label.len = 0;
        ft_thread_label(&label, c->p, t);
        sb_json_string(c->out, label.data);
        sb_puts(c->out, "}}");
    }
    sb_free(&label);
}

static void timeline(struct chrome *c, struct open_stack *open, struct ft_progress *pg)
{
    const struct ft_profile *p = c->p;
    double last_ts = 0;
    for (size_t i = 0; i < p->nspans; i++) {
        const struct ft_span *s = &p->spans[i];
        struct open_stack *os = &open[s->thread];
        if (!os->v && !(os->v = malloc((p->max_depth ? p->max_depth : 1) * sizeof *os->v)))
            abort();
        double start = (double)(s->start_ns - p->start_ns) / 1e3;
        double end = (double)(s->end_ns - p->start_ns) / 1e3;
        int64_t tid = p->threads[s->thread].native_id;
        move_to(c, os, s->stack, start, tid);
        if (end > last_ts)
            last_ts = end;
        if (s->stack_ends)
            move_to(c, os, UINT32_MAX, end, tid);
        ft_progress_step(pg, i, p->nspans);
    }
    for (uint32_t t = 0; t < p->nthreads; t++)
        if (open[t].v)
            move_to(c, &open[t], UINT32_MAX, last_ts, p->threads[t].native_id);
}

void ft_write_chrome(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o,
                     struct ft_progress *pg)
{
    struct chrome c = {out, p, {0}, NULL, 1};
    struct open_stack *open = calloc(p->nthreads ? p->nthreads : 1, sizeof *open);
    c.name_at = calloc(p->nfuncs ? p->nfuncs : 1, sizeof *c.name_at);
    if (!open || !c.name_at)
        abort();
    sb_init(&c.names);
    sb_puts(out, "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[");
    thread_names(&c);
    (void)o;
    timeline(&c, open, pg);
    sb_puts(out, "\n]}\n");
    for (uint32_t t = 0; t < p->nthreads; t++)
        free(open[t].v);
    free(open);
    free(c.name_at);
    sb_free(&c.names);
}
