/*
 * trace_counts.c - which functions were entered most, second by second
 * (like the SystemTap "top" script in the seed), then over the whole run.
 * Counts Python calls (resumes of generators are not new entries) and C
 * calls when they were traced. Names come from the traced program: every
 * one goes through the text rule of util/escape.h.
 */
#include "trace_output.h"
#include "../util/escape.h"
#include "../util/grow.h"
#include <stdlib.h>
#include <string.h>

#define TOP 20

struct count { uint32_t proc, id; int c_func; uint64_t n; };
/* Counts with an open-addressing index (slot = position + 1, 0 = empty). */
struct counts { struct count *v; size_t n, cap; size_t *slots; size_t nslots; };

static size_t slot_of(uint32_t proc, uint32_t id, int c_func, size_t nslots)
{
    uint64_t h = ((uint64_t)proc << 33) ^ ((uint64_t)id << 1) ^ (uint64_t)c_func;
    h *= 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & (nslots - 1);
}

static void reindex(struct counts *cs)
{
    free(cs->slots);
    cs->nslots = cs->nslots ? cs->nslots * 2 : 1024;
    cs->slots = calloc(cs->nslots, sizeof *cs->slots);
    if (!cs->slots)
        abort();
    for (size_t i = 0; i < cs->n; i++) {
        size_t j = slot_of(cs->v[i].proc, cs->v[i].id, cs->v[i].c_func, cs->nslots);
        while (cs->slots[j])
            j = (j + 1) & (cs->nslots - 1);
        cs->slots[j] = i + 1;
    }
}

static void bump(struct counts *cs, uint32_t proc, uint32_t id, int c_func)
{
    if ((cs->n + 1) * 2 > cs->nslots)
        reindex(cs);
    size_t j = slot_of(proc, id, c_func, cs->nslots);
    for (; cs->slots[j]; j = (j + 1) & (cs->nslots - 1)) {
        struct count *c = &cs->v[cs->slots[j] - 1];
        if (c->id == id && c->proc == proc && c->c_func == c_func) {
            c->n++;
            return;
        }
    }
    FT_GROW(cs->v, cs->cap, cs->n + 1);
    cs->v[cs->n] = (struct count){ proc, id, c_func, 1 };
    cs->slots[j] = ++cs->n;
}

static int by_count(const void *a, const void *b)
{
    const struct count *x = a, *y = b;
    if (x->n != y->n)
        return x->n > y->n ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

static void put_table(FILE *f, const struct ft_trace *t, struct counts *cs, const char *title,
                      double seconds)
{
    uint64_t total = 0;
    for (size_t i = 0; i < cs->n; i++)
        total += cs->v[i].n;
    qsort(cs->v, cs->n, sizeof *cs->v, by_count);
    fprintf(f, "%s: %llu calls (%.0f per second)\n", title, (unsigned long long)total,
            seconds > 0 ? (double)total / seconds : 0.0);
    fprintf(f, "%12s  %s\n", "calls", "function");
    for (size_t i = 0; i < cs->n && i < TOP; i++) {
        const struct count *c = &cs->v[i];
        if (c->c_func) {
            fprintf(f, "%12llu  [C] ", (unsigned long long)c->n);
            ft_esc_text_file(f, ft_trace_func(t, c->proc, c->id));
            fputc('\n', f);
            continue;
        }
        const struct ft_tcode *code = ft_trace_code(t, c->proc, c->id);
        if (code) {
            fprintf(f, "%12llu  ", (unsigned long long)c->n);
            ft_esc_text_file(f, code->qualname);
            fputs(" (", f);
            ft_esc_text_file(f, code->file);
            fprintf(f, ":%u)\n", code->firstline);
        } else
            fprintf(f, "%12llu  <code %u>\n", (unsigned long long)c->n, c->id);
    }
    if (cs->n > TOP)
        fprintf(f, "%12s  ... %zu more functions\n", "", cs->n - TOP);
    fputc('\n', f);
}

int ft_trace_write_counts(const struct ft_trace *t, FILE *f)
{
    struct counts second = { 0 }, all = { 0 };
    uint64_t bucket = 0, last_ns = t->nevents ? t->events[t->nevents - 1].ns : 0;
    for (size_t i = 0; i <= t->nevents; i++) {
        const struct ft_tevent *e = i < t->nevents ? &t->events[i] : NULL;
        if (!e || e->ns / 1000000000u != bucket) {
            if (second.n) {
                char title[64];
                snprintf(title, sizeof title, "second %llu", (unsigned long long)bucket);
                put_table(f, t, &second, title, 1.0);
            }
            second.n = 0;
            if (second.slots)
                memset(second.slots, 0, second.nslots * sizeof *second.slots);
            if (!e)
                break;
            bucket = e->ns / 1000000000u;
        }
        int c_func = e->kind == FT_REC_C_CALL;
        if (e->kind != FT_REC_CALL && !c_func)
            continue;
        uint32_t proc = t->threads[e->thread].proc;
        bump(&second, proc, e->a, c_func);
        bump(&all, proc, e->a, c_func);
    }
    put_table(f, t, &all, "whole trace", (double)last_ns / 1e9);
    free(second.v);
    free(all.v);
    free(second.slots);
    free(all.slots);
    return ferror(f) ? -1 : 0;
}
