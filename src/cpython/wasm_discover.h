/*
 * wasm_discover.h - CPython runtimes compiled to WebAssembly inside a host
 * process (node running pyodide, other wasm runtimes), found from outside:
 * no runtime cooperation, no symbols, no DWARF.
 *
 * What it is for: every _PyRuntime in the process's linear memories, with
 * the memory's base in the host and the layout to read it with. How: the
 * candidate memories of wasm_memories.h are scanned from their start
 * (bounded per memory and in total) for the _Py_DebugOffsets cookie
 * (3.13+) or, before 3.13, for the runtime's own shape; either way a hit
 * counts only when the runtime points at the main interpreter it contains
 * (interpreters.main - offset of _main_interpreter = its linear address,
 * which also gives the base), the interpreter points back at the runtime
 * and its first thread state back at the interpreter. The version is the
 * one the target states (debug offsets, or sys.hexversion read through
 * sys.modules); pre-releases are refused as for native targets.
 *
 * What it must never do: trust a hit on one signal (module byte copies
 * and JIT code carry the cookie too), read past a budget, or guess a
 * version.
 */
#ifndef FT_WASM_DISCOVER_H
#define FT_WASM_DISCOVER_H

#include "layout.h"

#define FT_WASM_MAX_RUNTIMES 32
#define FT_WASM_SCAN_PREFIX (32ull << 20)   /* bytes scanned from a memory's start */
#define FT_WASM_SCAN_BUDGET (512ull << 20)  /* bytes scanned in all */

struct ft_wasm_runtime {
    uint64_t base;                /* linear address 0 in the host */
    uint64_t linear;              /* _PyRuntime's linear address */
    uint64_t main_interp;         /* interpreters.main: linear + offset of _main_interpreter */
    int cookie;                   /* found by the _Py_DebugOffsets cookie (3.13+) */
    int runtime_shift;            /* bytes the runtime's fields sit past the generated row's */
    struct ft_layout layout;
};

struct ft_wasm_scan {
    size_t candidates, scanned_memories;
    size_t not_null;              /* candidates skipped: no null page at their start */
    uint64_t scanned_bytes;
    int budget_spent;
    char refused[256];            /* why a runtime found was not usable (version), or "" */
};

/* Fills out with the runtimes in pid's memories (at most max). Returns how
 * many, or -1 when the process cannot be read (ft_fail set). */
int ft_wasm_find(pid_t pid, struct ft_wasm_runtime *out, size_t max, struct ft_wasm_scan *scan);

/* The same in a process (or memory image, for the fuzzer) already open,
 * whose maps say where memories may be. */
int ft_wasm_find_in(struct ft_proc *host, struct ft_wasm_runtime *out, size_t max,
                    struct ft_wasm_scan *scan);

/* Whether r still holds at its place: the anchor (cookie and version, or
 * interpreters.main) read through p, whose space is r's memory. */
int ft_wasm_still_there(struct ft_proc *p, const struct ft_wasm_runtime *r);

#endif
