/*
 * peer.c - may the process connecting to the agent's socket control this
 * program? The same rules the kernel applies to ptrace (which is what
 * frametap's other commands need): the same user and a dumpable process,
 * or CAP_SYS_PTRACE; then Yama's ptrace_scope (1: only an ancestor or a
 * process with CAP_SYS_PTRACE, 2: CAP_SYS_PTRACE only, 3: nobody). Reads
 * /proc only; never trusts what the peer says about itself.
 */

#include "probe.h"
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define CAP_SYS_PTRACE_BIT 19

/* The start of /proc/PID/<what> into buf; 0 or -1. */
static int proc_read(pid_t pid, const char *what, char *buf, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/%s", (int)pid, what);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = 0;
    return 0;
}

static int has_ptrace_cap(pid_t pid)
{
    char buf[4096];
    const char *at = proc_read(pid, "status", buf, sizeof buf) == 0 ? strstr(buf, "CapEff:") : NULL;
    unsigned long long caps = 0;
    if (!at || sscanf(at, "CapEff: %llx", &caps) != 1)
        return 0;
    return (caps >> CAP_SYS_PTRACE_BIT) & 1;
}

static pid_t parent_of(pid_t pid)
{
    char buf[512];
    if (proc_read(pid, "stat", buf, sizeof buf) < 0)
        return 0;
    char *close = strrchr(buf, ')');       /* the name may hold spaces and ')' */
    int ppid = 0;
    if (!close || sscanf(close + 1, " %*c %d", &ppid) != 1)
        return 0;
    return (pid_t)ppid;
}

static int is_ancestor(pid_t who)
{
    pid_t p = getpid();
    for (int i = 0; i < 64 && p > 1; i++) {
        p = parent_of(p);
        if (p == who)
            return 1;
    }
    return 0;
}

static int yama_scope(void)
{
    FILE *f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
    int scope = 0;
    if (f) {
        if (fscanf(f, "%d", &scope) != 1)
            scope = 0;
        fclose(f);
    }
    return scope;
}

int ftp_peer_allowed(int fd, char *err, size_t cap)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
        snprintf(err, cap, "cannot tell who connected");
        return -1;
    }
    int privileged = has_ptrace_cap(cred.pid);
    int same = cred.uid == getuid() && cred.uid == geteuid();
    int dumpable = prctl(PR_GET_DUMPABLE) == 1;
    if (!privileged && !(same && dumpable)) {
        snprintf(err, cap, "uid %u may not trace this process (uid %u%s)", (unsigned)cred.uid,
                 (unsigned)getuid(), dumpable ? "" : ", not dumpable");
        return -1;
    }
    int scope = yama_scope();
    if (scope >= 3 || (scope == 2 && !privileged)
        || (scope == 1 && !privileged && !is_ancestor(cred.pid))) {
        snprintf(err, cap, "kernel.yama.ptrace_scope=%d forbids process %d to trace this one",
                 scope, (int)cred.pid);
        return -1;
    }
    return 0;
}
