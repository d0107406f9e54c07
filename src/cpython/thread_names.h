/*
 * thread_names.h - Python-level thread names of one interpreter
 * (threading.Thread.name), read from its own threading module: the
 * threads in threading._active (keyed by ident) and threading._limbo
 * (started, not yet running), each as ident -> Thread._name.
 *
 * For: labelling thread states; an ident equals PyThreadState.thread_id.
 * Never: imports threading or calls anything in the target. A thread
 * threading never saw, or an interpreter that never imported threading,
 * simply has no name: that is not an error. An entry that cannot be read
 * (torn by a running target, odd objects) is left out.
 */
#ifndef FT_THREAD_NAMES_H
#define FT_THREAD_NAMES_H

#include <stddef.h>
#include <stdint.h>

#define FT_PYTHREAD_NAME_MAX 256      /* bytes of UTF-8 kept per name */
#define FT_PYTHREADS_MAX 4096         /* names read per interpreter   */

struct ft_reader;

struct ft_thread_name {
    uint64_t ident;
    char name[FT_PYTHREAD_NAME_MAX + 1]; /* may hold invalid UTF-8 or controls: escape */
};

/* Fills out with at most max names (and FT_PYTHREADS_MAX). Returns 0 (n may
 * be 0), or -1 with ft_fail() set when the module's dicts cannot be read. */
int ft_thread_names(struct ft_reader *r, uint64_t interp, struct ft_thread_name *out, size_t max,
                    size_t *n);

/* The name of ident among v[0..n), or NULL. */
const char *ft_thread_name_of(const struct ft_thread_name *v, size_t n, uint64_t ident);

#endif
