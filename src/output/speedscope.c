/*
 * speedscope.c - speedscope's file format: a shared frame table and
 * "sampled" profiles whose samples are frame-index lists, outermost first,
 * each weighted by its time in seconds. One profile per thread with
 * --threads, else one profile of all threads.
 */
#include "loc_index.h"
#include "profile_format.h"

static void frames_json(struct strbuf *out, const struct ft_profile *p, const struct ft_loc_index *x)
{
    sb_puts(out, "\"shared\":{\"frames\":[");
    for (size_t i = 0; i < x->n; i++) {
        const struct ft_func *f = &p->funcs[x->locs[i].func];
        sb_puts(out, i ? ",{\"name\":" : "{\"name\":");
        sb_json_string(out, f->qualname);
        sb_puts(out, ",\"file\":");
        sb_json_string(out, f->file);
        if (x->locs[i].line >= 0)
            sb_printf(out, ",\"line\":%d", x->locs[i].line);
        sb_puts(out, "}");
    }
    sb_puts(out, "]}");
}

/* One sampled profile over the counts of `thread` (UINT32_MAX: all). */
static void profile_json(struct strbuf *out, const struct ft_profile *p, struct ft_loc_index *x,
                         uint32_t thread, double seconds_per_sample, const char *name)
{
    struct strbuf samples, weights;
    sb_init(&samples);
    sb_init(&weights);
    double total = 0;
    int first = 1;
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        if (thread != UINT32_MAX && c->thread != thread)
            continue;
        const struct ft_loc *locs = ft_profile_locs(p, c->stack);
        sb_puts(&samples, first ? "[" : ",[");
        for (uint32_t d = p->stacks[c->stack].depth, k = 0; d-- > 0; k++)
            sb_printf(&samples, k ? ",%u" : "%u", ft_loc_index_of(x, locs[d]));
        sb_puts(&samples, "]");
        double w = (double)c->count * seconds_per_sample;
        sb_printf(&weights, first ? "%.9g" : ",%.9g", w);
        total += w;
        first = 0;
    }
    sb_puts(out, "{\"type\":\"sampled\",\"name\":");
    sb_json_string(out, name);
    sb_printf(out, ",\"unit\":\"seconds\",\"startValue\":0,\"endValue\":%.9g,\"samples\":[%s],"
              "\"weights\":[%s]}", total, samples.data ? samples.data : "",
              weights.data ? weights.data : "");
    sb_free(&samples);
    sb_free(&weights);
}

void ft_write_speedscope(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o)
{
    struct ft_loc_index x;
    ft_loc_index_init(&x);
    struct strbuf profiles, label;
    sb_init(&profiles);
    sb_init(&label);
    double per = (double)o->interval_ns / 1e9;
    if (o->per_thread) {
        for (uint32_t t = 0; t < p->nthreads; t++) {
            if (t)
                sb_puts(&profiles, ",");
            label.len = 0;
            ft_thread_label(&label, p, t);
            profile_json(&profiles, p, &x, t, per, label.data);
        }
    } else {
        profile_json(&profiles, p, &x, UINT32_MAX, per, "all threads");
    }
    sb_puts(out, "{\"$schema\":\"https://www.speedscope.app/file-format-schema.json\",");
    frames_json(out, p, &x);
    sb_printf(out, ",\"profiles\":[%s],\"name\":", profiles.data ? profiles.data : "");
    sb_json_string(out, o->title ? o->title : "frametap");
    sb_puts(out, ",\"activeProfileIndex\":0,\"exporter\":\"frametap\"}\n");
    sb_free(&profiles);
    sb_free(&label);
    ft_loc_index_free(&x);
}
