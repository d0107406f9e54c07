/*
 * discover.h - finding _PyRuntime in a live target and the layout to read it
 * with. Order: the _PyRuntime symbol, the .PyRuntime section, then a scan of
 * the interpreter's writable mappings that accepts only a candidate whose
 * interpreter and thread state point back at each other (or, 3.13+, whose
 * _Py_DebugOffsets cookie and version check out).
 */
#ifndef FT_DISCOVER_H
#define FT_DISCOVER_H

#include "binary.h"
#include "layout.h"

enum ft_discovery { FT_DISC_AUTO, FT_DISC_SYMBOL, FT_DISC_SECTION, FT_DISC_SCAN };

struct ft_runtime {
    uint64_t addr;
    const char *found_by;          /* "symbol", "section" or "scan" */
    char binary[PATH_MAX];
    char build_id[80];
    struct ft_layout layout;
    uint64_t pthread_tid_offset;   /* glibc struct pthread tid, FT_ABSENT if unknown */
    int os_threads;                /* thread states name the host's threads (not wasm) */
};

/* Fills rt for process p. method restricts discovery (for tests and odd
 * builds). Fails with FT_E_NOTPY / FT_E_VERSION / ... and a clear message. */
int ft_discover(struct ft_proc *p, enum ft_discovery method, struct ft_runtime *rt);

/* Looks up glibc's struct pthread tid offset in the target's libc (needed
 * for OS thread ids before 3.11). A process caught right after exec may not
 * have libc mapped yet: callers may try again later. */
void ft_find_pthread_tid_offset(const struct ft_proc *p, struct ft_runtime *rt);

/* The process the last ft_discover() of a live process found no python or
 * libpython binary mapped in (0: it found one, or it was not that reason),
 * so that callers looking elsewhere (wasm memories) need not look again. */
pid_t ft_discover_found_no_binary(void);

#endif
