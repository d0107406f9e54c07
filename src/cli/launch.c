/*
 * launch.c - the target of record and top: an existing process, or a
 * command frametap starts and then waits for until it is a Python process
 * (it may begin as a shell wrapper or a loader). The command's stdin,
 * stdout and stderr are its own; frametap does not touch them.
 */
#include "../profile/sampler.h"
#include "../target/wasm_memories.h"
#include "../util/error.h"
#include "commands.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_NS 10000000000ull /* a Python binary is mapped: its interpreter starting */
#define NOT_PYTHON_NS 1000000000ull     /* no Python binary mapped for this long: not Python */
#define WASM_TIMEOUT_NS 30000000000ull  /* a wasm host (node) may load pyodide for this long */
#define WASM_POLL_NS 250000000ull       /* its memories scanned at most this often */

/* Runtimes found in a launched command's wasm memories beyond the first
 * (ft_launch_take_wasm hands them over). */
static struct ft_session *wasm_rest;
static int nwasm_rest;

int ft_launch_take_wasm(struct ft_session **rest)
{
    *rest = wasm_rest;
    int n = nwasm_rest;
    wasm_rest = NULL;
    nwasm_rest = 0;
    return n;
}

/* A command that maps no Python binary but has memories that may be wasm
 * linear memories (node): polled for CPython runtimes in them until one
 * appears (0: *s is the first, the others kept for ft_launch_take_wasm),
 * the child dies (-1) or time runs out (1, ft_fail set). 2: no memory
 * that could be one. */
static int open_wasm_when_ready(struct ft_session *s, pid_t pid, pid_t child, uint64_t start)
{
    struct ft_wasm_candidate cand[8];
    struct ft_proc p;
    size_t nc = 0;
    if (ft_proc_open(&p, pid) == 0)
        nc = ft_wasm_candidates(&p.maps, cand, 8);
    ft_proc_close(&p);
    ft_error_clear();
    if (!nc)
        return 2;
    struct ft_session *all = calloc(FT_WASM_MAX_RUNTIMES, sizeof *all);
    if (!all) {
        ft_fail(FT_E_SYSTEM, "out of memory");
        return -1;
    }
    int status;
    for (;;) {
        ft_error_clear();
        int n = ft_sessions_open_wasm(all, FT_WASM_MAX_RUNTIMES, pid);
        if (n > 0) {
            *s = all[0];
            s->reader.proc = &s->proc; /* the reader points into its session */
            s->reader.layout = &s->rt.layout;
            if (n > 1) {
                memmove(all, all + 1, (size_t)(n - 1) * sizeof *all);
                wasm_rest = all;
                nwasm_rest = n - 1;
            } else {
                free(all);
            }
            return 0;
        }
        enum ft_errkind k = ft_error_kind();
        if (ft_child_exited(child, &status) || k == FT_E_VERSION || k == FT_E_PERM ||
            ft_now_ns() - start > WASM_TIMEOUT_NS) {
            free(all);
            if (ft_child_exited(child, &status)) {
                ft_error_clear();
                ft_fail(FT_E_EXITED, "the command exited before frametap could read it as Python");
                return -1;
            }
            if (k == FT_E_VERSION || k == FT_E_PERM)
                return -1;
            char why[512];
            snprintf(why, sizeof why, "%s", ft_error_message());
            ft_error_clear();
            ft_fail(FT_E_NOTPY, "no Python interpreter appeared in the command (pid %d) within "
                    "%d s: %s", (int)pid, (int)(WASM_TIMEOUT_NS / 1000000000ull), why);
            return 1;
        }
        struct timespec ts = {0, (long)WASM_POLL_NS};
        nanosleep(&ts, NULL);
    }
}

int ft_child_exited(pid_t child, int *status)
{
    return child > 0 && waitpid(child, status, WNOHANG) == child;
}

#define CHILD_POLL_NS 20000000L

/* Collects what frametap's own waits are owed besides the command: a
 * thread still traced (stopped: let go; exited: collected, without which
 * the kernel never reports the command's exit). 1: the command itself
 * exited (status set); 0: something else collected; 2: nothing yet; -1:
 * no child left (errno). */
static int collect_one(pid_t child, int *status)
{
    int st;
    pid_t got = waitpid(-1, &st, __WALL | WNOHANG);
    if (got == 0 || (got < 0 && errno == EINTR))
        return 2;                         /* nothing yet */
    if (got < 0)
        return -1;
    if (WIFSTOPPED(st)) {
        ptrace(PTRACE_DETACH, got, 0, 0);
        return 0;
    }
    if (got != child)
        return 0;
    *status = st;
    return 1;
}

int ft_wait_child(pid_t child, int *status, volatile sig_atomic_t *stop)
{
    if (child <= 0)
        return -1;
    for (;;) {
        int rc = collect_one(child, status);
        if (rc == 1)
            return 1;
        if (rc == 0)
            continue;
        if (rc < 0)
            return -1;
        if (stop && *stop)
            return 0;
        struct timespec ts = {0, CHILD_POLL_NS};
        nanosleep(&ts, NULL);
    }
}

static pid_t launch(char **command)
{
    pid_t pid = fork();
    if (pid == 0) {
        execvp(command[0], command);
        fprintf(stderr, "frametap: cannot run %s: %s\n", command[0], strerror(errno));
        _exit(127);
    }
    if (pid < 0)
        ft_fail(FT_E_SYSTEM, "cannot start %s: %s", command[0], strerror(errno));
    return pid;
}

/* An interpreter with a thread state: Python has really started. */
static int has_thread(struct ft_session *s)
{
    struct ft_tstate_ref ref;
    size_t n = 0;
    int ok = ft_list_tstates(&s->reader, &s->rt, &ref, 1, &n) == 0 && n > 0;
    ft_error_clear();
    return ok;
}

/* What pid runs, for messages: its executable's path. */
static void exe_of(pid_t pid, char *buf, size_t n)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t k = readlink(link, buf, n - 1);
    buf[k > 0 ? k : 0] = '\0';
    if (k <= 0)
        snprintf(buf, n, "?");
}

/* Polls until pid is readable as Python, the child dies, or time runs out:
 * 10 s while a Python binary is mapped but its interpreter is starting,
 * 1 s while no Python binary is mapped at all. 1: not Python (ft_fail set). */
static int open_when_ready(struct ft_session *s, pid_t pid, pid_t child)
{
    uint64_t start = ft_now_ns(), deadline = start + START_TIMEOUT_NS;
    int status;
    for (;;) {
        ft_error_clear();
        int starting = 0;
        if (ft_session_open(s, pid, FT_DISC_AUTO) == 0) {
            if (has_thread(s))
                return 0;
            ft_session_close(s); /* mapped but not started: libc may not even be there */
            starting = 1;
            ft_fail(FT_E_NOTPY, "process %d did not start its Python interpreter within %d s",
                    (int)pid, (int)(START_TIMEOUT_NS / 1000000000ull));
        }
        enum ft_errkind k = ft_error_kind();
        int retry = child > 0 && (starting || k == FT_E_NOTPY || k == FT_E_CORRUPT || k == FT_E_EXITED);
        if (ft_child_exited(child, &status)) {
            ft_error_clear();
            ft_fail(FT_E_EXITED, "the command exited before frametap could read it as Python");
            return -1;
        }
        if (!retry || ft_now_ns() > deadline)
            return -1;
        if (!starting && k == FT_E_NOTPY && ft_now_ns() - start > NOT_PYTHON_NS) {
            if (ft_discover_found_no_binary() == pid) {
                int rc = open_wasm_when_ready(s, pid, child, start);
                if (rc != 2)
                    return rc;
            }
            char exe[256];
            exe_of(pid, exe, sizeof exe);
            ft_error_clear();
            ft_fail(FT_E_NOTPY, "no Python interpreter appeared in the command (pid %d) within "
                    "1 s: it runs %s (if it starts Python in a child process, add "
                    "--subprocesses)", (int)pid, exe);
            return 1;
        }
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
}

int ft_parse_target(const char *cmd, int argc, char **argv, int *pid, char ***command)
{
    *pid = 0;
    *command = NULL;
    if (optind < argc && !strcmp(argv[optind - 1], "--")) {
        *command = &argv[optind];
        return 0;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "frametap: %s takes a PID or '-- COMMAND ...' (see 'frametap %s --help')\n",
                cmd, cmd);
        return -1;
    }
    *pid = ft_parse_pid(argv[optind]);
    return *pid ? 0 : -1;
}

int ft_attach_or_launch(struct ft_session *s, int pid, char **command, pid_t *child,
                        int any_root)
{
    *child = 0;
    if (!command) {
        if (ft_session_open(s, pid, FT_DISC_AUTO) == 0)
            return 0;
        return any_root && ft_error_kind() == FT_E_NOTPY ? (ft_error_clear(), 1) : -1;
    }
    *child = launch(command);
    if (*child <= 0)
        return -1;
    int rc = open_when_ready(s, *child, *child);
    if (rc == 0 || (rc == 1 && any_root)) {
        ft_error_clear();
        return rc;
    }
    int status;
    if (!ft_child_exited(*child, &status)) {
        kill(*child, SIGTERM);
        ft_wait_child(*child, &status, NULL);
    }
    return -1;
}
