/*
 * trace_attach.c - `frametap trace PID` (trace_attach.h): asks the
 * program's agent to start frametap's tracer into a raw file, waits, asks
 * it to stop. Disconnecting (even by being killed) stops the trace in the
 * program: the agent does that when its frametap goes away.
 */
#include "trace_attach.h"

#include "../util/error.h"
#include "agent_client.h"
#include "options.h"
#include "pyrun.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void ignore(void *arg, const struct ftw_msg *m)
{
    (void)arg;
    (void)m;
}

static size_t start_message(const struct ft_trace_request *r, const char *raw, struct ftw_buf *b)
{
    ftw_begin(b, FTW_TRACE_START);
    ftw_field_str(b, FTW_T_RAW, raw);
    ftw_field_u64(b, FTW_T_EVENTS, r->events);
    if (r->within)
        ftw_field_str(b, FTW_T_WITHIN, r->within);
    for (int i = 0; i < r->ninclude; i++)
        ftw_field_str(b, FTW_T_INCLUDE, r->include[i]);
    for (int i = 0; i < r->nexclude; i++)
        ftw_field_str(b, FTW_T_EXCLUDE, r->exclude[i]);
    ftw_field_u64(b, FTW_T_MAX_DEPTH, (uint64_t)r->max_depth);
    ftw_field_u64(b, FTW_T_BUFFER_MB, (uint64_t)r->buffer_mb);
    return ftw_end(b);
}

int ft_trace_attach(pid_t pid, const struct ft_trace_request *r, const char *raw)
{
    char pkg[PATH_MAX];
    int have_pkg = ft_package_dir(pkg, sizeof pkg) == 0;
    ft_error_clear();
    struct ft_agent a;
    if (ft_agent_attach(&a, pid, have_pkg ? pkg : NULL) < 0)
        return -1;
    unsigned char mem[16384];
    struct ftw_buf b;
    ftw_init(&b, mem, sizeof mem);
    size_t n = start_message(r, raw, &b);
    char text[1024];
    int rc = ft_agent_request(&a, mem, n, ignore, NULL, text, sizeof text, NULL);
    if (rc != 1) {
        ft_fail(rc < 0 ? FT_E_EXITED : FT_E_SYSTEM, "process %d did not start tracing: %s",
                (int)pid, rc < 0 ? "it went away" : text);
        ft_agent_close(&a);
        return -1;
    }
    if (!r->quiet)
        fprintf(stderr, "frametap: tracing process %d (Python %s); Ctrl-C to stop\n", (int)pid,
                a.version);
    static volatile sig_atomic_t stop;
    ft_stop_on_signals(&stop);
    uint64_t end = r->duration > 0 ? mono_ms() + (uint64_t)(r->duration * 1000) : 0;
    int gone = 0;
    while (!stop && !(end && mono_ms() >= end)) {
        struct ftw_msg m;
        if (ft_agent_recv(&a, 200, &m) < 0) {
            gone = 1;                       /* the program ended: its trace is closed */
            break;
        }
    }
    if (!gone) {
        ftw_init(&b, mem, sizeof mem);
        ftw_begin(&b, FTW_TRACE_STOP);
        n = ftw_end(&b);
        if (ft_agent_request(&a, mem, n, ignore, NULL, text, sizeof text, NULL) < 0)
            gone = 1;
        ftw_init(&b, mem, sizeof mem);
        ftw_begin(&b, FTW_BYE);
        n = ftw_end(&b);
        ft_agent_request(&a, mem, n, ignore, NULL, text, sizeof text, NULL);
    }
    ft_agent_close(&a);
    return 0;
}
