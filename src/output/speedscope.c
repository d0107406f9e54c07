/*
 * speedscope.c - speedscope's file format: a shared frame table and
 * "sampled" profiles whose samples are frame-index lists, outermost first,
 * each weighted by its time in seconds. One profile per thread with
 * --threads, else one profile of all threads with identical stacks merged.
 * Frames are numbered in a first pass so the table can come first and the
 * samples stream after it. Names are JSON strings (util/escape.h).
 */
#include "loc_index.h"
#include "profile_format.h"

static void number_frames(struct ft_loc_index *x, const struct ft_profile *p, const struct ft_rows *r)
{
    for (size_t i = 0; i < r->n; i++) {
        const struct ft_loc *locs = ft_profile_locs(p, r->v[i].stack);
        for (uint32_t d = p->stacks[r->v[i].stack].depth; d-- > 0;)
            ft_loc_index_of(x, locs[d]);
    }
}

static void frames_json(struct strbuf *out, const struct ft_profile *p, const struct ft_loc_index *x)
{
    sb_puts(out, "\"shared\":{\"frames\":[");
    for (size_t i = 0; i < x->n; i++) {
        const struct ft_func *f = &p->funcs[x->locs[i].func];
        sb_puts(out, i ? ",{\"name\":" : "{\"name\":");
        sb_json_string(out, f->qualname);
        if (!ft_func_is_marker(f)) {
            sb_puts(out, ",\"file\":");
            sb_json_string(out, f->file);
        }
        if (x->locs[i].line >= 0)
            sb_printf(out, ",\"line\":%d", x->locs[i].line);
        sb_puts(out, "}");
    }
    sb_puts(out, "]}");
}

/* One sampled profile over rows [from, to). */
static void profile_json(struct strbuf *out, const struct ft_profile *p, struct ft_loc_index *x,
                         const struct ft_rows *r, size_t from, size_t to, double seconds_per_sample,
                         const char *name, struct ft_progress *pg)
{
    double total = 0;
    for (size_t i = from; i < to; i++)
        total += (double)r->v[i].count * seconds_per_sample;
    sb_puts(out, "{\"type\":\"sampled\",\"name\":");
    sb_json_string(out, name);
    sb_printf(out, ",\"unit\":\"seconds\",\"startValue\":0,\"endValue\":%.9g,\"samples\":[", total);
    for (size_t i = from; i < to; i++) {
        const struct ft_loc *locs = ft_profile_locs(p, r->v[i].stack);
        sb_puts(out, i > from ? ",[" : "[");
        for (uint32_t d = p->stacks[r->v[i].stack].depth, k = 0; d-- > 0; k++)
            sb_printf(out, k ? ",%u" : "%u", ft_loc_index_of(x, locs[d]));
        sb_puts(out, "]");
        ft_progress_step(pg, i, r->n);
    }
    sb_puts(out, "],\"weights\":[");
    for (size_t i = from; i < to; i++)
        sb_printf(out, i > from ? ",%.9g" : "%.9g", (double)r->v[i].count * seconds_per_sample);
    sb_puts(out, "]}");
}

void ft_write_speedscope(struct strbuf *out, const struct ft_profile *p,
                         const struct ft_write_opts *o, struct ft_progress *pg)
{
    struct ft_loc_index x;
    struct ft_rows rows;
    struct strbuf label;
    double per = (double)o->interval_ns / 1e9;
    ft_loc_index_init(&x);
    sb_init(&label);
    ft_rows_build(&rows, p, o->per_thread);
    number_frames(&x, p, &rows);
    sb_puts(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",");
    frames_json(out, p, &x);
    sb_puts(out, ",\"profiles\":[");
    if (o->per_thread) {
        for (uint32_t t = 0; t < p->nthreads; t++) {
            if (t)
                sb_puts(out, ",");
            label.len = 0;
            ft_thread_label(&label, p, t);
            profile_json(out, p, &x, &rows, rows.thread_start[t], rows.thread_start[t + 1], per,
                         label.data, pg);
        }
    } else {
        profile_json(out, p, &x, &rows, 0, rows.n, per, "all threads", pg);
    }
    sb_puts(out, "],\"name\":");
    sb_json_string(out, o->title ? o->title : "frametap");
    sb_puts(out, ",\"activeProfileIndex\":0,\"exporter\":\"frametap\"}\n");
    ft_rows_free(&rows);
    sb_free(&label);
    ft_loc_index_free(&x);
}
