/*
 * session.h - one attached target: the process, its runtime and layout, and
 * the code cache. The entry point for every outside command (dump, and the
 * profiler later). Opening reads; it never pauses or writes.
 */
#ifndef FT_SESSION_H
#define FT_SESSION_H

#include "code.h"
#include "discover.h"

struct ft_session {
    struct ft_proc proc;
    struct ft_runtime rt;
    struct ft_reader reader;
    char version[32];
};

int ft_session_open(struct ft_session *s, pid_t pid, enum ft_discovery method);
/* The same for a core file (opened with ft_core_open; it must outlive s):
 * its memory is read as that of a stopped process. */
struct ft_core;
int ft_session_open_core(struct ft_session *s, const struct ft_core *core,
                         enum ft_discovery method);
void ft_session_close(struct ft_session *s);

#endif
