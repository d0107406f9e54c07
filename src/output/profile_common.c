/*
 * profile_common.c - frame and thread labels, the rows writers list
 * (merged across threads or grouped by thread), and the dispatch from a
 * format to its writer, which streams into the file.
 */
#include "profile_format.h"

#include "../util/error.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ft_frame_label(struct strbuf *out, const struct ft_profile *p, struct ft_loc loc)
{
    const struct ft_func *f = &p->funcs[loc.func];
    if (ft_func_is_marker(f) || !f->file[0])
        sb_puts(out, f->qualname); /* a synthetic frame: <GC>, <truncated ...> */
    else if (loc.line >= 0)
        sb_printf(out, "%s (%s:%d)", f->qualname, f->file, loc.line);
    else
        sb_printf(out, "%s (%s)", f->qualname, f->file);
}

void ft_thread_label(struct strbuf *out, const struct ft_profile *p, uint32_t thread)
{
    const struct ft_thread_info *t = &p->threads[thread];
    if (t->native_id < 0 && t->name[0]) { /* a wasm guest's thread: no OS id, its label says whose */
        sb_puts(out, t->name);
        return;
    }
    sb_printf(out, "thread %lld", (long long)t->native_id);
    if (t->name[0])
        sb_printf(out, " (%s)", t->name);
}

static void *xcalloc(size_t n, size_t size)
{
    void *v = calloc(n ? n : 1, size);
    if (!v)
        abort();
    return v;
}

/* One row per distinct stack, summed over threads, in first-seen order. */
static void rows_merged(struct ft_rows *r, const struct ft_profile *p)
{
    uint32_t *row_of = xcalloc(p->nstacks, sizeof *row_of); /* row+1, 0 none */
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        if (!row_of[c->stack]) {
            r->v[r->n] = (struct ft_count){UINT32_MAX, c->stack, 0};
            row_of[c->stack] = (uint32_t)++r->n;
        }
        r->v[row_of[c->stack] - 1].count += c->count;
    }
    free(row_of);
}

/* The counts grouped by thread (a counting sort: stable, linear). */
static void rows_by_thread(struct ft_rows *r, const struct ft_profile *p)
{
    size_t *next = xcalloc(p->nthreads + 1, sizeof *next);
    r->thread_start = xcalloc(p->nthreads + 1, sizeof *r->thread_start);
    for (size_t i = 0; i < p->ncounts; i++)
        r->thread_start[p->counts[i].thread + 1]++;
    for (size_t t = 0; t < p->nthreads; t++)
        r->thread_start[t + 1] += r->thread_start[t];
    memcpy(next, r->thread_start, (p->nthreads + 1) * sizeof *next);
    for (size_t i = 0; i < p->ncounts; i++)
        r->v[next[p->counts[i].thread]++] = p->counts[i];
    r->n = p->ncounts;
    free(next);
}

void ft_rows_build(struct ft_rows *r, const struct ft_profile *p, int per_thread)
{
    memset(r, 0, sizeof *r);
    r->v = xcalloc(p->ncounts, sizeof *r->v);
    if (per_thread)
        rows_by_thread(r, p);
    else
        rows_merged(r, p);
}

void ft_rows_free(struct ft_rows *r)
{
    free(r->v);
    free(r->thread_start);
    memset(r, 0, sizeof *r);
}

/* A format written through a strbuf drained into the file as it grows. */
static int write_streamed(const char *path, enum ft_format f, const struct ft_profile *p,
                          const struct ft_write_opts *o, struct ft_progress *pg)
{
    FILE *fp = fopen(path, "wb");
    if (!fp) {
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    struct strbuf sb;
    sb_init_sink(&sb, fp);
    switch (f) {
    case FT_FMT_SVG: ft_write_svg(&sb, p, o, pg); break;
    case FT_FMT_SPEEDSCOPE: ft_write_speedscope(&sb, p, o, pg); break;
    case FT_FMT_COLLAPSED: ft_write_collapsed(&sb, p, o, pg); break;
    case FT_FMT_CHROME: ft_write_chrome(&sb, p, o, pg); break;
    case FT_FMT_PPROF: break;
    }
    int rc = sb_drain(&sb), err = sb.sink_errno;
    sb_free(&sb);
    if (fclose(fp) != 0 && rc == 0) {
        rc = -1;
        err = errno;
    }
    if (rc < 0)
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(err));
    return rc;
}

int ft_write_profile(const char *path, enum ft_format f, const struct ft_profile *p,
                     const struct ft_write_opts *o)
{
    struct ft_progress pg;
    ft_progress_begin(&pg, path, stderr);
    int rc = f == FT_FMT_PPROF ? ft_write_pprof(path, p, o, &pg) : write_streamed(path, f, p, o, &pg);
    ft_progress_end(&pg);
    return rc;
}
