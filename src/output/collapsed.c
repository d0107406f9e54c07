/*
 * collapsed.c - Brendan Gregg's folded stacks: `root;...;leaf count`, one
 * line per distinct stack, integer counts. Frame labels may not contain ';'
 * or newlines (they would split frames or lines): those become '_'.
 */
#include "profile_format.h"

static void add_label(struct strbuf *out, const struct strbuf *label)
{
    for (size_t i = 0; i < label->len; i++) {
        char c = label->data[i];
        sb_add(out, (c == ';' || c == '\n' || c == '\r') ? "_" : &c, 1);
    }
}

void ft_write_collapsed(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o)
{
    struct strbuf label;
    sb_init(&label);
    for (size_t i = 0; i < p->ncounts; i++) {
        const struct ft_count *c = &p->counts[i];
        const struct ft_loc *locs = ft_profile_locs(p, c->stack);
        uint32_t depth = p->stacks[c->stack].depth;
        int first = 1;
        if (o->per_thread) {
            label.len = 0;
            ft_thread_label(&label, p, c->thread);
            add_label(out, &label);
            first = 0;
        }
        for (uint32_t d = depth; d-- > 0;) {
            if (!first)
                sb_add(out, ";", 1);
            label.len = 0;
            ft_frame_label(&label, p, locs[d]);
            add_label(out, &label);
            first = 0;
        }
        if (first)
            sb_puts(out, "<no Python frames>");
        sb_printf(out, " %llu\n", (unsigned long long)c->count);
    }
    sb_free(&label);
}
