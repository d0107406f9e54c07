/*
 * session.h - one attached target: the process, its runtime and layout, and
 * the code cache. The entry point for every outside command (dump, and the
 * profiler later). Opening reads; it never pauses or writes.
 */
#ifndef FT_SESSION_H
#define FT_SESSION_H

#include "code.h"
#include "discover.h"
#include "wasm_discover.h"

struct ft_session {
    struct ft_proc proc;
    struct ft_runtime rt;
    struct ft_reader reader;
    char version[32];
    int wasm;                     /* a runtime inside a wasm linear memory: */
    struct ft_wasm_runtime wasm_rt; /* where, and how it was found          */
    char label[128];              /* "wasm 3.13.2 in node"; "" for native  */
    int wasm_slot;                /* its place among the process's wasm runtimes */
};

int ft_session_open(struct ft_session *s, pid_t pid, enum ft_discovery method);
/* The same for a core file (opened with ft_core_open; it must outlive s):
 * its memory is read as that of a stopped process. */
struct ft_core;
int ft_session_open_core(struct ft_session *s, const struct ft_core *core,
                         enum ft_discovery method);
void ft_session_close(struct ft_session *s);

/* A session on one CPython runtime found in a wasm memory of pid
 * (ft_wasm_find): the process's reads address that memory from 0. */
int ft_session_open_wasm(struct ft_session *s, pid_t pid, const struct ft_wasm_runtime *w);
/* Every wasm runtime of pid as sessions, at most max. Returns how many
 * (0: none, ft_fail set to FT_E_NOTPY saying what was scanned), or -1. */
int ft_sessions_open_wasm(struct ft_session *out, size_t max, pid_t pid);
/* 0 while a wasm session's runtime is where it was found; else it is
 * looked for again (memories move when they grow in some runtimes) and
 * the session follows it: 0 if found, -1 (FT_E_CORRUPT) if not. */
int ft_session_recheck(struct ft_session *s);

#endif
