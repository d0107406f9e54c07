/*
 * dump_format.h - renders a snapshot for `frametap dump`, as text for
 * people or JSON for programs. Takes decoded values only; knows nothing of
 * offsets or remote memory.
 */
#ifndef FT_DUMP_FORMAT_H
#define FT_DUMP_FORMAT_H

#include "../cpython/locals.h"
#include "../cpython/walk.h"
#include "../util/strbuf.h"

struct ft_native_set;

struct ft_dump_header {
    int pid;
    const char *comm;
    const char *python_version;
    const char *binary;
    const char *build_id;
    const char *found_by;
    unsigned long long runtime_address;
    int paused;
    const struct ft_snapshot_locals *locals; /* NULL: not asked for (dump --locals) */
    const struct ft_native_set *native; /* dump --native: per thread, else NULL */
    const char *core;                   /* dump --core: the core file, else NULL */
    int core_signal;                    /* the signal that killed it, 0 none */
    int core_by_gdb;                    /* written by gdb's gcore, not by a crash */
    int core_have_fault;
    unsigned long long core_fault_address;
    const char *wasm;                   /* "wasm 3.13.2 in node" for a runtime in a wasm
                                           memory, else NULL: then ... */
    unsigned long long memory_base;     /* ... where linear address 0 is in the process */
    unsigned long long memory_size;     /* ... and how many bytes the memory has now */
};

/* The locals of frame j of thread i, or NULL (not asked for, or the
 * thread's stack failed). */
static inline const struct ft_frame_locals *ft_dump_locals_of(const struct ft_dump_header *h, size_t i,
                                                             size_t j)
{
    const struct ft_snapshot_locals *l = h->locals;
    return l && i < l->nthreads && l->threads[i] && j < l->nframes[i] ? &l->threads[i][j] : NULL;
}

void ft_dump_text(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s);
/* The opening lines every per-process text output shares ("Process ...",
 * "Python ..."), and the opening of a JSON object with pid, command,
 * python and binary (followed by a comma). */
void ft_dump_text_process(struct strbuf *out, const struct ft_dump_header *h);
void ft_dump_json_process(struct strbuf *out, const struct ft_dump_header *h);
void ft_dump_json(struct strbuf *out, const struct ft_dump_header *h, const struct ft_snapshot *s);

/* dump_native.c: a thread's merged native and Python frames (text: in
 * place of the Python frames, each printed by python_frame; JSON: the
 * ,"native":{...} member of the thread object). */
struct ft_native_thread;
void ft_dump_text_native(struct strbuf *out, const struct ft_thread *t,
                         const struct ft_native_thread *nt,
                         void (*python_frame)(struct strbuf *, const struct ft_frame *));
/* gc_at: where the "<GC>" entry sits in the thread's JSON frames (-1:
 * none); Python frames at or after it are one further on. */
void ft_dump_json_native(struct strbuf *out, const struct ft_native_thread *nt, long gc_at);
/* "signal 11 (SIGSEGV)" for the core headers. */
void ft_dump_signal_name(struct strbuf *out, int sig);

#endif
