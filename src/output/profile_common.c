/*
 * profile_common.c - format names, frame labels, the stack tree, and the
 * dispatch from a format to its writer.
 */
#include "profile_format.h"

#include "../util/error.h"
#include "../util/grow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    enum ft_format f;
} formats[] = {
    {"svg", FT_FMT_SVG},     {"speedscope", FT_FMT_SPEEDSCOPE}, {"collapsed", FT_FMT_COLLAPSED},
    {"pprof", FT_FMT_PPROF}, {"chrome", FT_FMT_CHROME},
};

/* Longest suffixes first: ".trace.json" must win over ".json". */
static const struct {
    const char *suffix;
    enum ft_format f;
} extensions[] = {
    {".trace.json", FT_FMT_CHROME}, {".chrome.json", FT_FMT_CHROME}, {".pb.gz", FT_FMT_PPROF},
    {".pprof", FT_FMT_PPROF},       {".speedscope.json", FT_FMT_SPEEDSCOPE},
    {".json", FT_FMT_SPEEDSCOPE},   {".svg", FT_FMT_SVG},       {".collapsed", FT_FMT_COLLAPSED},
    {".folded", FT_FMT_COLLAPSED},  {".txt", FT_FMT_COLLAPSED},
};

int ft_format_parse(const char *name, enum ft_format *out)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!strcmp(name, formats[i].name)) {
            *out = formats[i].f;
            return 0;
        }
    return -1;
}

const char *ft_format_name(enum ft_format f)
{
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].f == f)
            return formats[i].name;
    return "?";
}

int ft_format_from_path(const char *path, enum ft_format *out)
{
    size_t len = strlen(path);
    for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++) {
        size_t n = strlen(extensions[i].suffix);
        if (len > n && !strcmp(path + len - n, extensions[i].suffix)) {
            *out = extensions[i].f;
            return 0;
        }
    }
    return -1;
}

void ft_frame_label(struct strbuf *out, const struct ft_profile *p, struct ft_loc loc)
{
    const struct ft_func *f = &p->funcs[loc.func];
    if (!f->file[0])
        sb_puts(out, f->qualname); /* a synthetic frame such as <GC> */
    else if (loc.line >= 0)
        sb_printf(out, "%s (%s:%d)", f->qualname, f->file, loc.line);
    else
        sb_printf(out, "%s (%s)", f->qualname, f->file);
}

void ft_thread_label(struct strbuf *out, const struct ft_profile *p, uint32_t thread)
{
    const struct ft_thread_info *t = &p->threads[thread];
    sb_printf(out, "thread %lld", (long long)t->native_id);
    if (t->name[0])
        sb_printf(out, " (%s)", t->name);
}

static uint32_t tree_add(struct ft_tree *t, struct ft_loc loc, uint32_t thread)
{
    FT_GROW(t->v, t->cap, t->n + 1);
    t->v[t->n] = (struct ft_tree_node){loc, thread, 0, 0, 0, 0};
    return (uint32_t)t->n++;
}

static uint32_t child(struct ft_tree *t, uint32_t parent, struct ft_loc loc, uint32_t thread)
{
    uint32_t *link = &t->v[parent].first_child;
    while (*link) {
        struct ft_tree_node *c = &t->v[*link];
        if (c->loc.func == loc.func && c->loc.line == loc.line && c->thread == thread)
            return *link;
        link = &c->next_sibling;
    }
    uint32_t id = tree_add(t, loc, thread);
    /* tree_add may move t->v: find the link again before writing it */
    link = &t->v[parent].first_child;
    while (*link)
        link = &t->v[*link].next_sibling;
    *link = id;
    return id;
}

void ft_tree_build(struct ft_tree *t, const struct ft_profile *p, int per_thread)
{
    const struct ft_loc none = {UINT32_MAX, -1};
    memset(t, 0, sizeof *t);
    tree_add(t, none, UINT32_MAX);
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        const struct ft_loc *locs = ft_profile_locs(p, c->stack);
        uint32_t depth = p->stacks[c->stack].depth;
        uint32_t node = 0;
        t->v[0].total += c->count;
        if (per_thread) {
            node = child(t, 0, none, c->thread);
            t->v[node].total += c->count;
        }
        for (uint32_t d = depth; d-- > 0;) { /* outermost first */
            node = child(t, node, locs[d], UINT32_MAX);
            t->v[node].total += c->count;
        }
        t->v[node].self += c->count;
    }
}

void ft_tree_free(struct ft_tree *t)
{
    free(t->v);
    memset(t, 0, sizeof *t);
}

int ft_write_profile(const char *path, enum ft_format f, const struct ft_profile *p,
                     const struct ft_write_opts *o)
{
    if (f == FT_FMT_PPROF)
        return ft_write_pprof(path, p, o);
    struct strbuf sb;
    sb_init(&sb);
    switch (f) {
    case FT_FMT_SVG: ft_write_svg(&sb, p, o); break;
    case FT_FMT_SPEEDSCOPE: ft_write_speedscope(&sb, p, o); break;
    case FT_FMT_COLLAPSED: ft_write_collapsed(&sb, p, o); break;
    case FT_FMT_CHROME: ft_write_chrome(&sb, p, o); break;
    case FT_FMT_PPROF: break;
    }
    FILE *fp = fopen(path, "wb");
    int ok = fp && fwrite(sb.data ? sb.data : "", 1, sb.len, fp) == sb.len;
    int err = errno;
    if (fp && fclose(fp) != 0)
        ok = 0;
    sb_free(&sb);
    if (!ok) {
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(err));
        return -1;
    }
    return 0;
}
