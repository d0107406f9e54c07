/*
 * session.c - attaching to a target (see session.h).
 */
#include "session.h"

#include "walk.h"

#include "../target/corefile.h"
#include "../util/error.h"

#include <string.h>

#define CODE_CACHE_SIZE 4096

static int finish_open(struct ft_session *s, enum ft_discovery method)
{
    if (ft_discover(&s->proc, method, &s->rt) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    s->reader.proc = &s->proc;
    s->reader.layout = &s->rt.layout;
    s->reader.runtime = s->rt.addr;
    s->reader.codes = ft_code_cache_new(CODE_CACHE_SIZE);
    ft_reader_init(&s->reader);
    if (!s->reader.codes) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        ft_proc_close(&s->proc);
        return -1;
    }
    ft_version_string(&s->rt.layout, s->version, sizeof s->version);
    return 0;
}

int ft_session_open(struct ft_session *s, pid_t pid, enum ft_discovery method)
{
    memset(s, 0, sizeof *s);
    s->proc.mem_fd = -1;
    if (ft_proc_open(&s->proc, pid) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    return finish_open(s, method);
}

int ft_session_open_core(struct ft_session *s, const struct ft_core *core,
                         enum ft_discovery method)
{
    memset(s, 0, sizeof *s);
    if (ft_core_proc(core, &s->proc) < 0) {
        ft_proc_close(&s->proc);
        return -1;
    }
    return finish_open(s, method);
}

void ft_session_close(struct ft_session *s)
{
    ft_walk_scratch_free(&s->reader);
    ft_code_cache_free(s->reader.codes);
    s->reader.codes = NULL;
    ft_proc_close(&s->proc);
}
