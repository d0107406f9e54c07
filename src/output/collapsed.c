/*
 * collapsed.c - Brendan Gregg's folded stacks: `root;...;leaf count`, one
 * line per distinct stack (merged across threads unless --threads, which
 * adds the thread as the root frame), integer counts. Labels are escaped by
 * the text rule of util/escape.h with ';' as \x3b as well, so no name can
 * split a frame or a line.
 */
#include "profile_format.h"

static void add_label(struct strbuf *out, const struct strbuf *label)
{
    ft_esc_text(out, label->data, ";");
}

static void line(struct strbuf *out, const struct ft_profile *p, const struct ft_count *c,
                 struct strbuf *label)
{
    const struct ft_loc *locs = ft_profile_locs(p, c->stack);
    uint32_t depth = p->stacks[c->stack].depth;
    int first = 1;
    if (c->thread != UINT32_MAX) {
        label->len = 0;
        ft_thread_label(label, p, c->thread);
        add_label(out, label);
        first = 0;
    }
    for (uint32_t d = depth; d-- > 0;) {
        if (!first)
            sb_add(out, ";", 1);
        label->len = 0;
        ft_frame_label(label, p, locs[d]);
        add_label(out, label);
        first = 0;
    }
    if (first)
        sb_puts(out, "<no Python frames>");
    sb_printf(out, " %llu\n", (unsigned long long)c->count);
}

void ft_write_collapsed(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o,
                        struct ft_progress *pg)
{
    struct ft_rows rows;
    struct strbuf label;
    sb_init(&label);
    ft_rows_build(&rows, p, o->per_thread);
    for (size_t i = 0; i < rows.n; i++) {
        line(out, p, &rows.v[i], &label);
        ft_progress_step(pg, i, rows.n);
    }
    ft_rows_free(&rows);
    sb_free(&label);
}
