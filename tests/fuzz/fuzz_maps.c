/*
 * fuzz_maps.c - libFuzzer target for the /proc/PID/maps parser: any text
 * parses into well-formed mappings (start < end) or is skipped; and what
 * the wasm reader derives from maps alone (candidate linear memories, a
 * memory's extent) stays inside the mappings and its bounds.
 */
#include "target/maps.h"
#include "target/wasm_memories.h"

#include <stdlib.h>
#include <string.h>

#define MAX_CAND 64

static void check_wasm(const struct ft_maps *m)
{
    struct ft_wasm_candidate c[MAX_CAND];
    size_t n = ft_wasm_candidates(m, c, MAX_CAND);
    if (n > MAX_CAND)
        abort();
    for (size_t i = 0; i < n; i++) {
        if (c[i].start >= c[i].end || (c[i].start & 0xfff))
            abort();
        if (i && !c[i].image && !c[i - 1].image && c[i].guard > c[i - 1].guard)
            abort(); /* ranked by reservation, images first */
        if (i && c[i].image && !c[i - 1].image)
            abort();
        uint64_t ext = ft_maps_extent(m, c[i].start, FT_WASM32_LIMIT);
        if (!ext || ext > FT_WASM32_LIMIT)
            abort();
    }
    for (size_t i = 0; i < m->n; i++) {
        uint64_t lim = (uint64_t)(i * 4099) + 1;
        if (ft_maps_extent(m, m->v[i].start, lim) > lim)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    struct ft_maps m;
    if (ft_maps_parse(text, &m) == 0) {
        for (size_t i = 0; i < m.n; i++)
            if (m.v[i].start >= m.v[i].end)
                abort();
        check_wasm(&m);
        ft_maps_free(&m);
    }
    free(text);
    return 0;
}
