/*
 * flamegraph_svg.c - a self-contained interactive flame graph: root at the
 * bottom, one <g class="f"> per tree node with its tooltip in <title>, and
 * the script of flamegraph_script.h. Every name goes through the text
 * rule of util/escape.h and XML escaping on top (ft_esc_xml); names never
 * enter the script. Frames narrower than 0.1 px are left out together with
 * their subtrees. Linear in the tree's nodes.
 */
#include "flamegraph_script.h"
#include "profile_format.h"

#include <stdlib.h>

#define WIDTH 1200
#define FRAME_H 17
#define TOP 60
#define BOTTOM 40
#define MIN_PX 0.1

static unsigned color_of(const struct strbuf *label)
{
    unsigned h = 2166136261u;
    for (size_t i = 0; i < label->len && label->data[i] != '('; i++)
        h = (h ^ (unsigned char)label->data[i]) * 16777619u;
    unsigned r = 205 + h % 50, g = 80 + (h >> 8) % 130, b = 40 + (h >> 16) % 50;
    return (r << 16) | (g << 8) | b;
}

struct visit {
    uint32_t node;
    uint32_t depth;
    double x;   /* fraction of the root */
};

static int max_depth(const struct ft_tree *t)
{
    struct visit *stack = malloc(t->n * sizeof *stack);
    size_t top = 0;
    int deepest = 0;
    if (!stack)
        abort();
    stack[top++] = (struct visit){0, 0, 0};
    while (top) {
        struct visit v = stack[--top];
        if ((int)v.depth > deepest)
            deepest = (int)v.depth;
        for (uint32_t c = t->v[v.node].first_child; c; c = t->v[c].next_sibling)
            stack[top++] = (struct visit){c, v.depth + 1, 0};
    }
    free(stack);
    return deepest;
}

static void node_label(struct strbuf *out, const struct ft_profile *p, const struct ft_tree_node *n)
{
    if (n->loc.func != UINT32_MAX)
        ft_frame_label(out, p, n->loc);
    else if (n->thread != UINT32_MAX)
        ft_thread_label(out, p, n->thread);
    else
        sb_puts(out, "all");
}

static void frame_g(struct strbuf *out, const struct ft_profile *p, const struct ft_tree *t,
                    struct visit v, int height, struct strbuf *label)
{
    const struct ft_tree_node *n = &t->v[v.node];
    double w = (double)n->total / (double)t->v[0].total;
    label->len = 0;
    node_label(label, p, n);
    double y = height - BOTTOM - (double)(v.depth + 1) * FRAME_H;
    sb_puts(out, "<g class=\"f\" data-label=\"");
    sb_xml_text(out, label->data);
    sb_printf(out, "\" data-x=\"%.9f\" data-w=\"%.9f\" data-d=\"%u\"><title>", v.x, w, v.depth);
    sb_xml_text(out, label->data);
    sb_printf(out, " (%llu samples, %.2f%%; self %llu)</title>", (unsigned long long)n->total,
              100.0 * w, (unsigned long long)n->self);
    sb_printf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%d\" rx=\"2\" "
              "fill=\"#%06x\"/><text x=\"%.2f\" y=\"%.1f\"></text></g>\n",
              v.x * WIDTH, y, w * WIDTH, FRAME_H - 1, color_of(label), v.x * WIDTH + 3,
              y + FRAME_H - 5);
}

static void frames_svg(struct strbuf *out, const struct ft_profile *p, const struct ft_tree *t,
                       int height, struct ft_progress *pg)
{
    struct visit *stack = malloc(t->n * sizeof *stack);
    struct strbuf label;
    size_t top = 0;
    if (!stack)
        abort();
    sb_init(&label);
    stack[top++] = (struct visit){0, 0, 0};
    while (top) {
        struct visit v = stack[--top];
        frame_g(out, p, t, v, height, &label);
        ft_progress_step(pg, t->n + v.node, 2 * t->n);
        double x = v.x;
        for (uint32_t c = t->v[v.node].first_child; c; c = t->v[c].next_sibling) {
            double w = (double)t->v[c].total / (double)t->v[0].total;
            if (w * WIDTH >= MIN_PX)
                stack[top++] = (struct visit){c, v.depth + 1, x};
            x += w;
        }
    }
    sb_free(&label);
    free(stack);
}

void ft_write_svg(struct strbuf *out, const struct ft_profile *p, const struct ft_write_opts *o,
                  struct ft_progress *pg)
{
    struct ft_tree t;
    ft_tree_build(&t, p, o->per_thread, pg);
    int height = TOP + BOTTOM + (max_depth(&t) + 1) * FRAME_H;
    sb_printf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n"
              "<svg version=\"1.1\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
              "height=\"%d\" viewBox=\"0 0 %d %d\" data-width=\"%d\">\n",
              WIDTH, height, WIDTH, height, WIDTH);
    sb_printf(out, "<style>%s</style>\n<script type=\"text/ecmascript\"><![CDATA[\n%s]]></script>\n",
              ft_flamegraph_style, ft_flamegraph_script);
    sb_printf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"#fafaf5\"/>\n"
              "<text id=\"title\" x=\"%d\" y=\"24\">", WIDTH / 2);
    sb_xml_text(out, o->title ? o->title : "frametap");
    sb_printf(out, "</text>\n<text x=\"10\" y=\"44\">%llu samples, mode %s",
              (unsigned long long)p->total_samples, o->mode ? o->mode : "?");
    if (p->truncated_samples)
        sb_printf(out, ", %llu on stacks cut at their outer end (marked truncated)",
                  (unsigned long long)p->truncated_samples);
    sb_printf(out, "</text>\n"
              "<text id=\"search\" class=\"btn\" x=\"%d\" y=\"24\">Search</text>\n"
              "<text id=\"reset\" class=\"btn\" x=\"10\" y=\"24\" style=\"display:none\">Reset zoom</text>\n"
              "<text id=\"matched\" x=\"%d\" y=\"44\"></text>\n"
              "<text id=\"details\" x=\"10\" y=\"%d\"></text>\n<g id=\"frames\">\n", WIDTH - 60,
              WIDTH - 160, height - 14);
    if (t.v[0].total)
        frames_svg(out, p, &t, height, pg);
    sb_puts(out, "</g>\n</svg>\n");
    ft_tree_free(&t);
}
