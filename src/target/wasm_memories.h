/*
 * wasm_memories.h - where WebAssembly linear memories may sit in a process,
 * judged from its memory maps alone (no runtime cooperation, no symbols).
 *
 * What it is for: a bounded list of places worth scanning for a CPython
 * runtime compiled to wasm, most memory-like first, and the extent of one
 * memory once its base is known. What it must never do: read the target
 * (it looks at struct ft_maps only), or promise that a candidate is a wasm
 * memory: the scan above it validates everything it finds.
 *
 * Runtimes reserve far more address space than a memory uses and keep the
 * rest inaccessible (V8: a 2 GiB guard before and 8 GiB from the base, or
 * the declared maximum without its trap handler; wasmtime: guards around
 * a 4 GiB reservation and a "/memfd:wasm-memory-image" mapping over the
 * data; wasmer: 4 GiB + 2 GiB guard). So a memory is an rw mapping that
 * begins (or follows) a large PROT_NONE reservation, or a wasm memory
 * image; the bigger the reservation next to it, the likelier.
 */
#ifndef FT_WASM_MEMORIES_H
#define FT_WASM_MEMORIES_H

#include "process.h"

#define FT_WASM_MAX_CANDIDATES 4096
#define FT_WASM32_LIMIT (1ull << 32)      /* addressable bytes of a wasm32 memory */

struct ft_wasm_candidate {
    uint64_t start, end;          /* the rw run of mappings to scan from start */
    uint64_t guard;               /* bytes of PROT_NONE beside it (the ranking) */
    int image;                    /* a "/memfd:wasm-memory-image" mapping */
};

/* Candidates in p's maps, best first, at most max. Returns how many. */
size_t ft_wasm_candidates(const struct ft_maps *m, struct ft_wasm_candidate *out, size_t max);

/* Bytes readable from base on: the mapping holding base and the readable
 * mappings that follow it without a gap, at most limit. 0 if base is not
 * in a readable mapping. */
uint64_t ft_maps_extent(const struct ft_maps *m, uint64_t base, uint64_t limit);

#endif
