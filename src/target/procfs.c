/*
 * procfs.c - /proc readers and the permission/exit advice. Bounds every file
 * it reads; never follows data from the target into paths it opens.
 */
#include "procfs.h"

#include "../util/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *ft_read_small_file(const char *path, size_t max)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        if (len == cap) {
            if (cap >= max)
                break;
            cap = cap * 2 > max ? max : cap * 2;
            char *nb = realloc(buf, cap + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                errno = ENOMEM;
                break;
            }
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0) {
            int e = errno;
            free(buf);
            buf = NULL;
            errno = e;
            break;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    int e = errno;
    close(fd);
    if (buf)
        buf[len] = '\0';
    errno = e;
    return buf;
}

static unsigned owner_uid(pid_t pid)
{
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    return stat(path, &st) == 0 ? (unsigned)st.st_uid : (unsigned)-1;
}

static void yama_advice(char *buf, size_t size)
{
    char *s = ft_read_small_file("/proc/sys/kernel/yama/ptrace_scope", 64);
    if (!s) {
        snprintf(buf, size, "kernel.yama.ptrace_scope is not in use on this kernel");
        return;
    }
    int scope = atoi(s);
    free(s);
    static const char *meaning[] = {
        "0: the same user may attach",
        "1: even the same user needs CAP_SYS_PTRACE (or: sysctl kernel.yama.ptrace_scope=0)",
        "2: only CAP_SYS_PTRACE may attach",
        "3: ptrace is disabled until reboot",
    };
    snprintf(buf, size, "kernel.yama.ptrace_scope is %s", meaning[scope >= 0 && scope <= 3 ? scope : 3]);
}

void ft_proc_fail_errno(pid_t pid, int err, const char *what)
{
    switch (err) {
    case ENOENT:
    case ESRCH:
        ft_fail(FT_E_EXITED, "process %d exited while frametap tried to %s", (int)pid, what);
        break;
    case EPERM:
    case EACCES: {
        char yama[160];
        yama_advice(yama, sizeof yama);
        ft_fail(FT_E_PERM,
                "permission denied: cannot %s of process %d (owned by uid %u; reading another "
                "process needs ptrace access): run frametap as that user or as root, or give "
                "it CAP_SYS_PTRACE (setcap cap_sys_ptrace+ep frametap); %s",
                what, (int)pid, owner_uid(pid), yama);
        break;
    }
    default:
        ft_fail(FT_E_SYSTEM, "could not %s of process %d: %s", what, (int)pid, strerror(err));
    }
}

ssize_t ft_list_threads(pid_t pid, pid_t *out, size_t max)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
    DIR *d = opendir(path);
    if (!d) {
        ft_proc_fail_errno(pid, errno, "list the threads");
        return -1;
    }
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < max) {
        char *end;
        long tid = strtol(e->d_name, &end, 10);
        if (*end == '\0' && tid > 0)
            out[n++] = (pid_t)tid;
    }
    closedir(d);
    return (ssize_t)n;
}

void ft_thread_name(pid_t pid, pid_t tid, char *buf, size_t size)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
    char *s = ft_read_small_file(path, 256);
    buf[0] = '\0';
    if (!s)
        return;
    s[strcspn(s, "\n")] = '\0';
    snprintf(buf, size, "%s", s);
    free(s);
}

char ft_thread_state(pid_t pid, pid_t tid)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    char *s = ft_read_small_file(path, 4096);
    if (!s)
        return '?';
    /* The name field may hold spaces and parentheses: state follows the last ')'. */
    char *close = strrchr(s, ')');
    char state = (close && close[1] == ' ' && close[2]) ? close[2] : '?';
    free(s);
    return state;
}

int ft_proc_is_exiting(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
    char *maps = ft_read_small_file(path, 4096);
    int empty = !maps || !maps[0];
    free(maps);
    char state = ft_thread_state(pid, pid);
    return empty || state == 'Z' || state == 'X' || state == 'x' || state == '?';
}

/* Numeric field number (counted from 1) of /proc/PID/stat, 0 if pid is
 * gone. Fields are counted from the name's closing parenthesis: the name
 * may hold spaces and ')'. */
static uint64_t stat_field(pid_t pid, int number)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    char *stat = ft_read_small_file(path, 4096);
    char *p = stat ? strrchr(stat, ')') : NULL;
    uint64_t value = 0;
    for (int field = 2; p && *p && field < number; field++) {
        p = strchr(p + 1, ' ');
        if (p && field == number - 1)
            value = strtoull(p + 1, NULL, 10);
    }
    free(stat);
    return value;
}

uint64_t ft_proc_start_time(pid_t pid)
{
    return stat_field(pid, 22);
}

pid_t ft_proc_parent(pid_t pid)
{
    return (pid_t)stat_field(pid, 4);
}

int ft_open_task_file(pid_t pid, int64_t tid, const char *name)
{
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%lld/%s", (int)pid, (long long)tid, name);
    return open(path, O_RDONLY | O_CLOEXEC);
}

/* The first and last ids of the NSpid line of a status file. */
static int nspid_of(const char *status, pid_t *first, pid_t *last)
{
    const char *line = status ? strstr(status, "\nNSpid:") : NULL;
    if (!line)
        return -1;
    char *p = (char *)line + 7, *end;
    long v = strtol(p, &end, 10), l = v;
    if (end == p)
        return -1;
    *first = (pid_t)v;
    for (p = end; *p && *p != '\n'; p = end) {
        long w = strtol(p, &end, 10);
        if (end == p)
            break;
        l = w;
    }
    *last = (pid_t)l;
    return 0;
}

size_t ft_ns_tids(pid_t pid, struct ft_nspid *out, size_t max)
{
    pid_t tids[4096];
    ssize_t n = ft_list_threads(pid, tids, sizeof tids / sizeof tids[0]);
    size_t k = 0;
    int nested = 0;
    for (ssize_t i = 0; i < n && k < max; i++) {
        char path[96];
        snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tids[i]);
        char *status = ft_read_small_file(path, 16384);
        pid_t first, last;
        if (nspid_of(status, &first, &last) == 0) {
            out[k++] = (struct ft_nspid){last, first};
            nested |= last != first;
        }
        free(status);
    }
    ft_error_clear();
    return nested ? k : 0;
}
