/*
 * agent_client.c - connecting to a program's probe agent and speaking the
 * message format of src/probe/wire.h (agent_client.h).
 *
 * Attaching: the socket a running agent listens on is in the target
 * user's private directory; frametap checks it is owned by that user
 * before connecting. On CPython 3.14+ a program without an agent gets one
 * through the interpreter's own remote debugging (PEP 768): frametap
 * writes a small bootstrap script into that directory and asks the
 * target's interpreter, with sys.remote_exec run by that same interpreter
 * binary, to execute it at its next safe point. Before 3.14 that is not
 * possible without unsafe code injection, and frametap says so instead.
 */
#include "agent_client.h"

#include "../cpython/session.h"
#include "../util/error.h"
#include "pyrun.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BOOT_TIMEOUT_MS 10000
#define REPLY_TIMEOUT_MS 60000

void ft_agent_adopt(struct ft_agent *a, int fd)
{
    memset(a, 0, sizeof *a);
    a->fd = fd;
}

void ft_agent_close(struct ft_agent *a)
{
    if (a->fd >= 0)
        close(a->fd);
    free(a->buf);
    a->fd = -1;
    a->buf = NULL;
}

int ft_agent_send(struct ft_agent *a, const void *msg, size_t len)
{
    const char *p = msg;
    while (len) {
        ssize_t n = send(a->fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ft_agent_recv(struct ft_agent *a, int timeout_ms, struct ftw_msg *m)
{
    if (a->used) {
        memmove(a->buf, a->buf + a->used, a->len - a->used);
        a->len -= a->used;
        a->used = 0;
    }
    uint64_t deadline = timeout_ms < 0 ? 0 : now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        long size = ftw_complete(a->buf, a->len);
        if (size < 0)
            return -1;
        if (size > 0) {
            ftw_open(a->buf, (size_t)size, m);
            a->used = (size_t)size;
            return 1;
        }
        int wait = -1;
        if (timeout_ms >= 0) {
            uint64_t t = now_ms();
            if (t >= deadline)
                return 0;
            wait = (int)(deadline - t);
        }
        struct pollfd pfd = { .fd = a->fd, .events = POLLIN };
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno == EINTR)
            return 0;               /* a signal: let the caller look at it */
        if (r <= 0)
            continue;
        if (a->cap - a->len < 65536) {
            size_t cap = a->cap ? a->cap * 2 : 1 << 17;
            unsigned char *n = realloc(a->buf, cap);
            if (!n)
                return -1;
            a->buf = n;
            a->cap = cap;
        }
        ssize_t n = read(a->fd, a->buf + a->len, a->cap - a->len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return -1;
        a->len += (size_t)n;
    }
}

static void field_text(const struct ftw_msg *m, unsigned tag, char *out, size_t cap)
{
    ftw_get(m, tag, out, cap);
}

int ft_agent_request(struct ft_agent *a, const void *msg, size_t len,
                     void (*other)(void *, const struct ftw_msg *), void *arg,
                     char *text, size_t cap, unsigned *id)
{
    if (ft_agent_send(a, msg, len) < 0)
        return -1;
    uint64_t deadline = now_ms() + REPLY_TIMEOUT_MS;
    for (;;) {
        struct ftw_msg m;
        int r = ft_agent_recv(a, 1000, &m);
        if (r < 0)
            return -1;
        if (r == 0) {
            if (now_ms() > deadline)
                return -1;
            continue;
        }
        if (m.type != FTW_REPLY) {
            if (other)
                other(arg, &m);
            continue;
        }
        char num[32];
        if (id && ftw_get(&m, FTW_ID, num, sizeof num))
            *id = (unsigned)strtoul(num, NULL, 10);
        if (ftw_get(&m, FTW_OK, text, cap))
            return 1;
        field_text(&m, FTW_ERROR, text, cap);
        return 0;
    }
}

int ft_agent_hello(struct ft_agent *a)
{
    struct ftw_msg m;
    for (;;) {
        int r = ft_agent_recv(a, BOOT_TIMEOUT_MS, &m);
        if (r <= 0) {
            ft_fail(FT_E_SYSTEM, "the program's probe agent did not answer");
            return -1;
        }
        if (m.type == FTW_REPLY) {       /* refused at the door */
            char why[300];
            ftw_get(&m, FTW_ERROR, why, sizeof why);
            ft_fail(FT_E_PERM, "the program's agent refused frametap: %s", why);
            return -1;
        }
        if (m.type != FTW_HELLO)
            continue;
        char num[32];
        ftw_get(&m, FTW_PID, num, sizeof num);
        a->pid = (pid_t)strtol(num, NULL, 10);
        ftw_get(&m, FTW_VERSION, a->version, sizeof a->version);
        ftw_get(&m, FTW_MECHANISM, a->mechanism, sizeof a->mechanism);
        return 0;
    }
}

/* ---- attaching ---- */

static int target_uid(pid_t pid, uid_t *uid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) {
        ft_fail(FT_E_NOPROC, "no process %d", (int)pid);
        return -1;
    }
    unsigned real = 0, eff = 0;
    int found = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Uid: %u %u", &real, &eff) == 2) {
            found = 1;
            break;
        }
    fclose(f);
    if (!found) {
        ft_fail(FT_E_NOPROC, "no process %d", (int)pid);
        return -1;
    }
    *uid = (uid_t)eff;
    return 0;
}

static void socket_dir(uid_t uid, char *out, size_t cap)
{
    const char *base = getenv("FRAMETAP_SOCKET_DIR");
    snprintf(out, cap, "%s/frametap-%u", base && *base ? base : "/tmp", (unsigned)uid);
}

/* 1 connected, 0 no agent listening, -1 refused (ft_fail set). */
static int try_connect(struct ft_agent *a, const char *path, uid_t uid)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return 0;
    if (!S_ISSOCK(st.st_mode) || st.st_uid != uid) {
        ft_fail(FT_E_PERM, "%s is not a socket of the program's user (uid %u): not connecting",
                path, (unsigned)uid);
        return -1;
    }
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        close(fd);
        return 0;                  /* stale: its program is gone or not listening */
    }
    ft_agent_adopt(a, fd);
    return 1;
}

static int private_dir(const char *dir, uid_t uid)
{
    if (mkdir(dir, 0700) == 0) {
        if (getuid() != uid && chown(dir, uid, (gid_t)-1) < 0) {
            ft_fail(FT_E_SYSTEM, "cannot give %s to uid %u: %s", dir, (unsigned)uid, strerror(errno));
            return -1;
        }
    }
    struct stat st;
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077)) {
        ft_fail(FT_E_PERM, "%s is not a private directory of uid %u: remove it", dir, (unsigned)uid);
        return -1;
    }
    return 0;
}

static int write_boot_script(const char *path, const char *pkg, uid_t uid)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        ft_fail(FT_E_SYSTEM, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    FILE *f = fdopen(fd, "w");
    /* repr-free quoting: the package path is written as a bytes literal */
    fprintf(f, "# frametap: loads the probe agent into this process (PEP 768)\n"
               "import os as _os, sys as _sys\n_p = _os.fsdecode(b\"");
    for (const unsigned char *c = (const unsigned char *)pkg; *c; c++)
        fprintf(f, "\\x%02x", *c);
    fprintf(f, "\")\n_sys.path.insert(0, _p)\n"
               "try:\n    import frametap.agent as _agent\n"
               "finally:\n    try:\n        _sys.path.remove(_p)\n    except ValueError:\n"
               "        pass\n"
               "_agent.start(_once=True)\n");
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        ft_fail(FT_E_SYSTEM, "cannot write %s", path);
        return -1;
    }
    if (getuid() != uid && chown(path, uid, (gid_t)-1) < 0) {
        ft_fail(FT_E_SYSTEM, "cannot give %s to uid %u: %s", path, (unsigned)uid, strerror(errno));
        return -1;
    }
    return 0;
}

/* sys.remote_exec(pid, script), run by the target's own interpreter binary. */
static int remote_exec(pid_t pid, const char *script)
{
    char exe[PATH_MAX + 32], link[64], pidtext[16], err[2048];
    snprintf(link, sizeof link, "/proc/%d/exe", (int)pid);
    ssize_t n = readlink(link, exe, sizeof exe - 1);
    if (n <= 0) {
        ft_fail(FT_E_PERM, "cannot read %s: %s", link, strerror(errno));
        return -1;
    }
    exe[n] = 0;
    /* a replaced or deleted binary is still reachable through /proc */
    if (access(exe, X_OK) != 0)
        snprintf(exe, sizeof exe, "%s", link);
    snprintf(pidtext, sizeof pidtext, "%d", (int)pid);
    char *argv[] = { exe, "-I", "-S", "-c",
                     "import sys; sys.remote_exec(int(sys.argv[1]), sys.argv[2])",
                     pidtext, (char *)script, NULL };
    int rc = ft_run_quiet(argv, err, sizeof err);
    if (rc == 0)
        return 0;
    if (rc < 0) {
        ft_fail(FT_E_SYSTEM, "cannot run %s", exe);
        return -1;
    }
    ft_fail(FT_E_PERM, "the interpreter refused to run frametap's agent in process %d (%s)",
            (int)pid, ft_last_line(err));
    return -1;
}

int ft_agent_attach(struct ft_agent *a, pid_t pid, const char *pkg)
{
    uid_t uid;
    char dir[PATH_MAX], path[PATH_MAX + 64], script[PATH_MAX + 64];
    if (target_uid(pid, &uid) < 0)
        return -1;
    socket_dir(uid, dir, sizeof dir);
    snprintf(path, sizeof path, "%s/agent-%d.sock", dir, (int)pid);
    int r = try_connect(a, path, uid);
    if (r)
        return r < 0 ? -1 : ft_agent_hello(a);
    /* no agent: which Python is it? (this also checks we may ptrace it) */
    struct ft_session s;
    if (ft_session_open(&s, pid, FT_DISC_AUTO) < 0)
        return -1;
    int major = s.rt.layout.major, minor = s.rt.layout.minor;
    ft_session_close(&s);
    if (major == 3 && minor < 14) {
        ft_fail(FT_E_VERSION, "process %d runs Python %d.%d, which can only take probes from "
                "frametap's agent: start it with 'frametap probe -- python ...' or call "
                "frametap.agent.start() in it (before 3.14 loading it from outside would need "
                "unsafe code injection)", (int)pid, major, minor);
        return -1;
    }
    if (!pkg) {
        ft_fail(FT_E_SYSTEM, "frametap's Python package was not found beside this frametap");
        return -1;
    }
    char exe[64];
    snprintf(exe, sizeof exe, "/proc/%d/exe", (int)pid);
    if (ft_check_python(exe, pkg, "_probe") < 0)
        return -1;
    snprintf(script, sizeof script, "%s/attach-%d.py", dir, (int)pid);
    if (private_dir(dir, uid) < 0 || write_boot_script(script, pkg, uid) < 0)
        return -1;
    int rc = remote_exec(pid, script);
    uint64_t deadline = now_ms() + BOOT_TIMEOUT_MS;
    while (rc == 0 && (r = try_connect(a, path, uid)) == 0) {
        if (kill(pid, 0) < 0 && errno == ESRCH) {
            ft_fail(FT_E_EXITED, "process %d exited", (int)pid);
            rc = -1;
        } else if (now_ms() > deadline) {
            ft_fail(FT_E_SYSTEM, "process %d did not run frametap's agent within %d s: it runs "
                    "it when its main thread next executes Python code (blocked in a call?)",
                    (int)pid, BOOT_TIMEOUT_MS / 1000);
            rc = -1;
        } else {
            usleep(20000);
        }
    }
    unlink(script);
    if (rc < 0 || r < 0)
        return -1;
    return ft_agent_hello(a);
}
