/*
 * tasks_text.c - `frametap tasks` as text: the process, where the tasks
 * were found, then a tree drawn as `python -m asyncio pstree` draws it.
 * Each root is a task nothing awaits, `(T) name`; under a task that awaits
 * others come its coroutine frames, outermost first (` qualname file:line`),
 * and under its innermost frame the tasks it awaits; a task that awaits no
 * task shows its own frames. A task awaited by two tasks appears under
 * both; one met again on its own path is marked (cycle) and not entered.
 * Never prints a name unescaped.
 */
#include "tasks_format.h"

#include "../util/grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEPTH_MAX 4096             /* deeper trees are cut (a cycle of futures) */

struct node {
    long task;                    /* task index, or -1 for a coroutine frame */
    const struct ft_coro_frame *frame;
    size_t *kids;
    size_t nkids, kids_cap;
};

struct tree {
    struct node *v;
    size_t n, cap;
    const struct ft_tasks *t;
};

static size_t new_node(struct tree *g, long task, const struct ft_coro_frame *frame)
{
    FT_GROW(g->v, g->cap, g->n + 1);
    g->v[g->n] = (struct node){task, frame, NULL, 0, 0};
    return g->n++;
}

static void add_kid(struct tree *g, size_t parent, size_t kid)
{
    struct node *p = &g->v[parent];
    FT_GROW(p->kids, p->kids_cap, p->nkids + 1);
    p->kids[p->nkids++] = kid;
}

static int same_frame(const struct ft_coro_frame *a, const struct ft_coro_frame *b)
{
    return a->line == b->line && !strcmp(a->code->qualname, b->code->qualname) &&
           !strcmp(a->code->filename, b->code->filename);
}

/* The frame node under parent showing f (made if missing). */
static size_t frame_under(struct tree *g, size_t parent, const struct ft_coro_frame *f)
{
    for (size_t i = 0; i < g->v[parent].nkids; i++) {
        size_t k = g->v[parent].kids[i];
        if (g->v[k].task < 0 && same_frame(g->v[k].frame, f))
            return k;
    }
    size_t k = new_node(g, -1, f);
    add_kid(g, parent, k);
    return k;
}

/* Task i's frames under its node, outermost first; the innermost node. */
static size_t frames_under(struct tree *g, size_t i)
{
    const struct ft_task *task = &g->t->v[i];
    size_t cur = i;
    for (size_t j = 0; j < task->nframes; j++)
        cur = frame_under(g, cur, &task->frames[j]);
    return cur;
}

static void build(struct tree *g)
{
    const struct ft_tasks *t = g->t;
    char *awaits = calloc(t->n ? t->n : 1, 1);
    if (!awaits)
        abort();
    for (size_t i = 0; i < t->n; i++) /* nodes 0..n-1 are the tasks */
        new_node(g, (long)i, NULL);
    for (size_t c = 0; c < t->n; c++)
        for (size_t k = 0; k < t->v[c].nawaited_by; k++) {
            size_t p = t->v[c].awaited_by[k].task;
            size_t at = frames_under(g, p);
            int present = 0;
            for (size_t j = 0; j < g->v[at].nkids; j++)
                present |= g->v[at].kids[j] == c;
            if (!present)
                add_kid(g, at, c);
            awaits[p] = 1;
        }
    for (size_t i = 0; i < t->n; i++)
        if (!awaits[i])
            frames_under(g, i);
    free(awaits);
}

static void label(struct strbuf *out, const struct tree *g, size_t k, int cycle)
{
    const struct node *n = &g->v[k];
    if (n->task >= 0) {
        const struct ft_task *task = &g->t->v[n->task];
        sb_puts(out, "(T) ");
        ft_esc_text(out, task->name, NULL);
        if (task->running)
            sb_puts(out, " [running]");
        if (task->error[0]) {
            sb_puts(out, " <");
            ft_esc_text(out, task->error, NULL);
            sb_puts(out, ">");
        }
        if (cycle)
            sb_puts(out, " (cycle)");
        return;
    }
    sb_puts(out, " ");
    ft_esc_text(out, n->frame->code->qualname, NULL);
    sb_puts(out, " ");
    ft_esc_text(out, n->frame->code->filename, NULL);
    if (n->frame->line >= 0)
        sb_printf(out, ":%d", n->frame->line);
}

struct walk {
    struct strbuf *out;
    const struct tree *g;
    char prefix[DEPTH_MAX * 8];
    size_t plen;
    size_t path[DEPTH_MAX];       /* task nodes on the way down */
    size_t depth;
    char *shown;
};

static void draw(struct walk *w, size_t k, int last)
{
    const struct node *n = &w->g->v[k];
    int cycle = 0;
    for (size_t i = 0; n->task >= 0 && i < w->depth; i++)
        cycle |= w->path[i] == k;
    sb_add(w->out, w->prefix, w->plen);
    sb_puts(w->out, last ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ");
    label(w->out, w->g, k, cycle);
    sb_puts(w->out, "\n");
    if (n->task >= 0)
        w->shown[n->task] = 1;
    const char *more = last ? "    " : "\u2502   ";
    size_t add = strlen(more);
    if (cycle || w->depth == DEPTH_MAX || w->plen + add >= sizeof w->prefix)
        return;
    memcpy(w->prefix + w->plen, more, add);
    w->plen += add;
    if (n->task >= 0)
        w->path[w->depth++] = k;
    for (size_t i = 0; i < n->nkids; i++)
        draw(w, n->kids[i], i == n->nkids - 1);
    if (n->task >= 0)
        w->depth--;
    w->plen -= add;
}

static void tree_text(struct strbuf *out, const struct ft_tasks *t)
{
    struct tree g = {.t = t};
    struct walk *w = calloc(1, sizeof *w);
    char *kid = calloc(t->n ? t->n : 1, 1);
    if (!w || !kid)
        abort();
    w->out = out;
    w->g = &g;
    w->shown = calloc(t->n ? t->n : 1, 1);
    if (!w->shown)
        abort();
    build(&g);
    for (size_t i = 0; i < g.n; i++)
        for (size_t j = 0; j < g.v[i].nkids; j++)
            if (g.v[g.v[i].kids[j]].task >= 0)
                kid[g.v[i].kids[j]] = 1;
    for (size_t i = 0; i < t->n; i++) /* roots: tasks nothing awaits */
        if (!kid[i])
            draw(w, i, 1);
    for (size_t i = 0; i < t->n; i++) /* tasks only cycles reach */
        if (!w->shown[i])
            draw(w, i, 1);
    for (size_t i = 0; i < g.n; i++)
        free(g.v[i].kids);
    free(g.v);
    free(w->shown);
    free(w);
    free(kid);
}

void ft_tasks_text(struct strbuf *out, const struct ft_dump_header *h, const struct ft_tasks *t)
{
    ft_dump_text_process(out, h);
    if (!t->asyncio_imported) {
        sb_puts(out, "asyncio is not imported: no tasks\n");
        return;
    }
    sb_printf(out, "%zu asyncio task%s, from ", t->n, t->n == 1 ? "" : "s");
    ft_esc_text(out, t->source, NULL);
    sb_puts(out, "\n");
    if (t->edges_inferred)
        sb_puts(out, "Before CPython 3.14 nothing records who awaits a task: shown are tasks awaited "
                     "directly, through gather() and by a TaskGroup; others (asyncio.wait, a Future "
                     "set by a callback) appear as roots.\n");
    if (!h->paused)
        sb_puts(out, "Read while the process ran (--nonblocking): tasks may have moved on meanwhile.\n");
    sb_puts(out, "\n");
    tree_text(out, t);
}
