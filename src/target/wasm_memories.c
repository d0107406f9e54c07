/*
 * wasm_memories.c - candidate linear memories and their extent, from the
 * maps only (see wasm_memories.h). Bounded by the maps' count; no reads.
 */
#include "wasm_memories.h"

#include <stdlib.h>
#include <string.h>

#define MIN_GUARD (1ull << 20)     /* PROT_NONE smaller than this is not a reservation */
#define IMAGE_NAME "/memfd:wasm-memory-image"

static int readable_rw(const struct ft_map *m)
{
    return m->perms[0] == 'r' && m->perms[1] == 'w';
}

static int prot_none(const struct ft_map *m)
{
    return !m->path && m->perms[0] == '-' && m->perms[1] == '-' && m->perms[2] == '-';
}

static int is_image(const struct ft_map *m)
{
    return m->path && strcmp(m->path, IMAGE_NAME) == 0;
}

uint64_t ft_maps_extent(const struct ft_maps *m, uint64_t base, uint64_t limit)
{
    uint64_t end = 0;
    for (size_t i = 0; i < m->n; i++) {
        const struct ft_map *x = &m->v[i];
        if (!end) {
            if (base >= x->start && base < x->end && x->perms[0] == 'r')
                end = x->end;
            continue;
        }
        if (x->start != end || x->perms[0] != 'r')
            break;
        end = x->end;
    }
    if (!end)
        return 0;
    return end - base < limit ? end - base : limit;
}

static int by_guard(const void *a, const void *b)
{
    const struct ft_wasm_candidate *x = a, *y = b;
    if (x->image != y->image)
        return y->image - x->image;
    return x->guard < y->guard ? 1 : x->guard > y->guard ? -1 : (x->start > y->start) - (x->start < y->start);
}

size_t ft_wasm_candidates(const struct ft_maps *m, struct ft_wasm_candidate *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < m->n && n < max; i++) {
        const struct ft_map *x = &m->v[i];
        if (!readable_rw(x) || (x->path && !is_image(x)) || (x->start & 0xfff))
            continue;
        uint64_t before = 0, after = 0, end = x->end;
        if (i > 0 && prot_none(&m->v[i - 1]) && m->v[i - 1].end == x->start)
            before = m->v[i - 1].end - m->v[i - 1].start;
        size_t j = i + 1; /* the rw run: a memory image continues in anonymous pages */
        while (j < m->n && m->v[j].start == end && readable_rw(&m->v[j]) &&
               (!m->v[j].path || is_image(&m->v[j])))
            end = m->v[j++].end;
        if (j < m->n && prot_none(&m->v[j]) && m->v[j].start == end)
            after = m->v[j].end - m->v[j].start;
        uint64_t guard = before + after;
        if (!is_image(x) && guard < MIN_GUARD)
            continue;
        out[n++] = (struct ft_wasm_candidate){x->start, end, guard, is_image(x)};
        i = j - 1;
    }
    qsort(out, n, sizeof *out, by_guard);
    return n;
}
