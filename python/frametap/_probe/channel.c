/*
 * channel.c - the agent's connections to frametap: one I/O thread (a plain
 * pthread: invisible to threading, never running Python code except the
 * command handler, with the GIL taken for just that) serving the socket
 * frametap started the program with and/or a listening unix socket for
 * later `frametap probe PID` connections.
 *
 * Probe hits are queued here by the program's threads (ftp_send: a mutex
 * and a memcpy, never a system call, never waiting: past the queue's bound
 * a hit is dropped and counted). The thread drains the queues, reads
 * commands, passes them to the Python handler and sends its replies, and
 * sends --count totals once a second. A client that goes away takes its
 * probes with it (the handler removes them). In a forked child the thread
 * does not exist: the child keeps quiet (ftp_forked) and closes its copies
 * of the sockets.
 */

#include "probe.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_CLIENTS 8
#define OUT_MAX (8u << 20)         /* queued bytes per client before dropping */

struct client {
    int fd;
    uint32_t id;
    unsigned char *in;
    size_t in_len, in_cap;
    unsigned char *out;
    size_t out_len, out_cap, out_sent;
    uint64_t dropped, dropped_told;
    int gone;
};

static struct {
    pthread_mutex_t mu;
    pthread_t thread;
    int running;
    volatile int stop, pausing;
    int paused;           /* stopped across a fork (see ftp_channel_pause) */
    int wake;                      /* eventfd */
    int listen_fd;
    char listen_path[108];
    int once;                      /* stop listening when the first client has gone */
    struct client clients[MAX_CLIENTS];
    int nclients;
    uint32_t next_client;
    PyObject *handler;
    ftp_probe *live;               /* every probe object (for --count) */
} ch = { .mu = PTHREAD_MUTEX_INITIALIZER, .wake = -1, .listen_fd = -1, .next_client = 1 };

int ftp_forked;

void ftp_registry_add(ftp_probe *p)
{
    pthread_mutex_lock(&ch.mu);
    p->next_live = ch.live;
    ch.live = p;
    pthread_mutex_unlock(&ch.mu);
}

void ftp_registry_remove(ftp_probe *p)
{
    pthread_mutex_lock(&ch.mu);
    for (ftp_probe **pp = &ch.live; *pp; pp = &(*pp)->next_live)
        if (*pp == p) {
            *pp = p->next_live;
            break;
        }
    pthread_mutex_unlock(&ch.mu);
}

/* With ch.mu held. */
static void queue(struct client *c, const void *msg, size_t len)
{
    if (c->gone)
        return;
    if (c->out_len + len > OUT_MAX) {
        c->dropped++;
        return;
    }
    if (c->out_len + len > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 65536;
        while (cap < c->out_len + len)
            cap *= 2;
        unsigned char *n = realloc(c->out, cap);
        if (!n) {
            c->dropped++;
            return;
        }
        c->out = n;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, msg, len);
    c->out_len += len;
}

void ftp_send(uint32_t client, const void *msg, size_t len)
{
    if (ftp_forked)
        return;
    pthread_mutex_lock(&ch.mu);
    for (int i = 0; i < ch.nclients; i++)
        if (!client || ch.clients[i].id == client)
            queue(&ch.clients[i], msg, len);
    pthread_mutex_unlock(&ch.mu);
}

/* ---- the Python handler, called with the GIL taken here ---- */

static int finalizing(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing();
#else
    return _Py_IsFinalizing();
#endif
}

/* handler(kind, client, data) -> bytes to send back, or None. */
static void call_handler(const char *kind, struct client *c, const unsigned char *data, size_t len)
{
    if (!ch.handler || finalizing())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *r = PyObject_CallFunction(ch.handler, "sIy#", kind, c ? c->id : 0,
                                        (const char *)data, (Py_ssize_t)len);
    if (!r) {
        PyErr_WriteUnraisable(ch.handler);
    } else if (PyBytes_Check(r) && c && PyBytes_GET_SIZE(r)) {
        pthread_mutex_lock(&ch.mu);
        queue(c, PyBytes_AS_STRING(r), (size_t)PyBytes_GET_SIZE(r));
        pthread_mutex_unlock(&ch.mu);
    }
    Py_XDECREF(r);
    PyGILState_Release(g);
}

/* ---- connections ---- */

static void add_client(int fd)
{
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    pthread_mutex_lock(&ch.mu);
    if (ch.nclients == MAX_CLIENTS) {
        pthread_mutex_unlock(&ch.mu);
        close(fd);
        return;
    }
    struct client *c = &ch.clients[ch.nclients++];
    memset(c, 0, sizeof *c);
    c->fd = fd;
    c->id = ch.next_client++;
    pthread_mutex_unlock(&ch.mu);
    call_handler("hello", c, (const unsigned char *)"", 0);
}

static void accept_one(void)
{
    int fd = accept4(ch.listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    char why[300];
    if (ftp_peer_allowed(fd, why, sizeof why) < 0) {
        char mem[512];
        struct ftw_buf b;
        ftw_init(&b, mem, sizeof mem);
        ftw_begin(&b, FTW_REPLY);
        ftw_field_str(&b, FTW_ERROR, why);
        size_t n = ftw_end(&b);
        if (write(fd, mem, n) < 0) { /* it is going away anyway */ }
        close(fd);
        return;
    }
    add_client(fd);
}

static void read_client(struct client *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 4096) {
            size_t cap = c->in_cap ? c->in_cap * 2 : 8192;
            if (cap > FTW_MAX_MESSAGE + 8) {
                c->gone = 1;
                return;
            }
            unsigned char *n = realloc(c->in, cap);
            if (!n) {
                c->gone = 1;
                return;
            }
            c->in = n;
            c->in_cap = cap;
        }
        ssize_t n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            c->gone = 1;
            break;
        }
        if (n < 0)
            break;
        c->in_len += (size_t)n;
    }
    size_t used = 0;
    for (;;) {
        long size = ftw_complete(c->in + used, c->in_len - used);
        if (size < 0) {
            c->gone = 1;
            break;
        }
        if (size == 0)
            break;
        call_handler("command", c, c->in + used, (size_t)size);
        used += (size_t)size;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
}

/* With ch.mu held: writes what can go without waiting. */
static void write_client(struct client *c)
{
    while (c->out_sent < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_sent, c->out_len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                c->gone = 1;
            break;
        }
        c->out_sent += (size_t)n;
    }
    if (c->out_sent == c->out_len)
        c->out_sent = c->out_len = 0;
}

/* Once a second: --count totals and drop counts, per client. */
static void periodic(void)
{
    pthread_mutex_lock(&ch.mu);
    for (int i = 0; i < ch.nclients; i++) {
        struct client *c = &ch.clients[i];
        unsigned char mem[8192];
        struct ftw_buf b;
        ftw_init(&b, mem, sizeof mem);
        ftw_begin(&b, FTW_COUNTS);
        int any = 0;
        for (ftp_probe *p = ch.live; p; p = p->next_live) {
            if (p->client != c->id || p->action != FTP_COUNT)
                continue;
            uint64_t n = __atomic_exchange_n(&p->count_pending, 0, __ATOMIC_RELAXED);
            ftw_field_u64(&b, FTW_ID, p->id);
            ftw_field_u64(&b, FTW_COUNT, n);
            any = 1;
        }
        size_t n = ftw_end(&b);
        if (any && n)
            queue(c, mem, n);
        if (c->dropped != c->dropped_told) {
            char text[160];
            snprintf(text, sizeof text, "%llu hits dropped: frametap did not read them fast "
                     "enough", (unsigned long long)c->dropped);
            ftw_init(&b, mem, sizeof mem);
            ftw_begin(&b, FTW_STATUS);
            ftw_field_str(&b, FTW_KIND, "dropped");
            ftw_field_str(&b, FTW_TEXT, text);
            n = ftw_end(&b);
            c->dropped_told = c->dropped;
            queue(c, mem, n);
        }
    }
    pthread_mutex_unlock(&ch.mu);
}

static void remove_gone(void)
{
    for (int i = 0; i < ch.nclients;) {
        struct client *c = &ch.clients[i];
        if (!c->gone) {
            i++;
            continue;
        }
        call_handler("gone", c, (const unsigned char *)"", 0);
        pthread_mutex_lock(&ch.mu);
        close(c->fd);
        free(c->in);
        free(c->out);
        ch.clients[i] = ch.clients[--ch.nclients];
        pthread_mutex_unlock(&ch.mu);
        if (ch.once && ch.listen_fd >= 0 && ch.nclients == 0) {
            close(ch.listen_fd);
            unlink(ch.listen_path);
            ch.listen_fd = -1;
        }
    }
}

static void flush_all(int ms)
{
    uint64_t deadline = ftp_mono_ns() + (uint64_t)ms * 1000000u;
    for (;;) {
        int pending = 0;
        pthread_mutex_lock(&ch.mu);
        for (int i = 0; i < ch.nclients; i++) {
            write_client(&ch.clients[i]);
            pending |= !ch.clients[i].gone && ch.clients[i].out_len > 0;
        }
        pthread_mutex_unlock(&ch.mu);
        if (!pending || ftp_mono_ns() > deadline)
            return;
        usleep(1000);
    }
}

static void *io_main(void *arg)
{
    (void)arg;
    uint64_t last_tick = ftp_mono_ns();
    while (!ch.stop && !ch.pausing) {
        struct pollfd pfd[MAX_CLIENTS + 2];
        int n = 0, first_client;
        pfd[n++] = (struct pollfd){ .fd = ch.wake, .events = POLLIN };
        if (ch.listen_fd >= 0)
            pfd[n++] = (struct pollfd){ .fd = ch.listen_fd, .events = POLLIN };
        first_client = n;
        pthread_mutex_lock(&ch.mu);
        int busy = ch.live != NULL;
        for (int i = 0; i < ch.nclients; i++) {
            short ev = POLLIN | (ch.clients[i].out_len ? POLLOUT : 0);
            pfd[n++] = (struct pollfd){ .fd = ch.clients[i].fd, .events = ev };
            busy |= ch.clients[i].out_len > 0;
        }
        int nc = ch.nclients;
        pthread_mutex_unlock(&ch.mu);
        int r = poll(pfd, (nfds_t)n, busy ? 20 : 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (pfd[0].revents & POLLIN) {
            uint64_t v;
            if (read(ch.wake, &v, sizeof v) < 0) { /* nothing to do */ }
        }
        if (ch.listen_fd >= 0 && first_client == 2 && (pfd[1].revents & POLLIN))
            accept_one();
        for (int i = 0; i < nc; i++) {
            short rev = pfd[first_client + i].revents;
            if (rev & (POLLIN | POLLHUP | POLLERR))
                read_client(&ch.clients[i]);
        }
        pthread_mutex_lock(&ch.mu);
        for (int i = 0; i < ch.nclients; i++)
            write_client(&ch.clients[i]);
        pthread_mutex_unlock(&ch.mu);
        uint64_t now = ftp_mono_ns();
        if (now - last_tick >= 1000000000u) {
            last_tick = now;
            periodic();
            call_handler("tick", NULL, (const unsigned char *)"", 0);
        }
        remove_gone();
        if (ch.once && ch.listen_fd < 0 && ch.nclients == 0) {
            /* loaded from outside and its frametap has gone: nothing stays */
            pthread_detach(pthread_self());
            ch.running = 0;
            return NULL;
        }
    }
    if (ch.stop) {
        periodic();
        flush_all(2000);
    }
    return NULL;
}

static void at_fork_child(void)
{
    ftp_forked = 1;
    ftp_hit_after_fork();
    pthread_mutex_init(&ch.mu, NULL);
    for (int i = 0; i < ch.nclients; i++)
        close(ch.clients[i].fd);
    ch.nclients = 0;
    if (ch.listen_fd >= 0)
        close(ch.listen_fd);         /* the parent's: not unlinked */
    if (ch.wake >= 0)
        close(ch.wake);
    ch.listen_fd = ch.wake = -1;
    ch.running = 0;
}

static int listen_on(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        PyErr_Format(PyExc_OSError, "frametap: socket path too long: %s", path);
        return -1;
    }
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 4) < 0) {
        PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    snprintf(ch.listen_path, sizeof ch.listen_path, "%s", path);
    return fd;
}

int ftp_channel_start(int fd, const char *listen_path, PyObject *handler, int once)
{
    static int fork_handler;
    if (ch.running || ch.paused) {
        PyErr_SetString(PyExc_RuntimeError, "frametap: the agent is already running");
        return -1;
    }
    if (!fork_handler) {
        pthread_atfork(NULL, NULL, at_fork_child);
        fork_handler = 1;
    }
    ch.wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (ch.wake < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        return -1;
    }
    if (listen_path && (ch.listen_fd = listen_on(listen_path)) < 0) {
        close(ch.wake);
        ch.wake = -1;
        return -1;
    }
    Py_XSETREF(ch.handler, Py_NewRef(handler));
    ch.once = once;
    ch.stop = 0;
    if (fd >= 0)
        add_client(fd);
    if (pthread_create(&ch.thread, NULL, io_main, NULL) != 0) {
        PyErr_SetString(PyExc_OSError, "frametap: cannot start the agent's thread");
        return -1;
    }
    ch.running = 1;
    return 0;
}

/* Sets *flag, wakes the thread and waits for it to end (without the GIL:
 * it may be waiting for it to run a command). */
static void end_thread(volatile int *flag)
{
    *flag = 1;
    uint64_t one = 1;
    if (write(ch.wake, &one, sizeof one) < 0) { /* the thread polls anyway */ }
    Py_BEGIN_ALLOW_THREADS
    pthread_join(ch.thread, NULL);
    Py_END_ALLOW_THREADS
    ch.running = 0;
}

void ftp_channel_stop(void)
{
    if (ch.paused && !ftp_forked) {      /* forked and never resumed: send from here */
        ch.paused = 0;
        periodic();
        flush_all(2000);
    } else if (!ch.running) {
        return;
    } else {
        end_thread(&ch.stop);
    }
    ch.running = 0;
    pthread_mutex_lock(&ch.mu);
    for (int i = 0; i < ch.nclients; i++) {
        close(ch.clients[i].fd);
        free(ch.clients[i].in);
        free(ch.clients[i].out);
    }
    ch.nclients = 0;
    pthread_mutex_unlock(&ch.mu);
    if (ch.listen_fd >= 0) {
        close(ch.listen_fd);
        unlink(ch.listen_path);
        ch.listen_fd = -1;
    }
    close(ch.wake);
    ch.wake = -1;
}

/* Before fork(): 3.12+ warns on stderr when a process with more than one
 * thread forks, so the thread stops (connections and queues are kept)... */
void ftp_channel_pause(void)
{
    if (!ch.running)
        return;
    end_thread(&ch.pausing);
    ch.pausing = 0;
    ch.paused = 1;
}

static int resume(void *arg)
{
    (void)arg;
    if (!ch.paused || ftp_forked)
        return 0;
    ch.paused = 0;
    if (pthread_create(&ch.thread, NULL, io_main, NULL) == 0)
        ch.running = 1;
    return 0;
}

/* ...and starts again once fork() has returned in the parent (3.13 counts
 * threads after the at-fork hooks, so not from the hook itself). */
void ftp_channel_resume_later(void)
{
    if (ch.paused && Py_AddPendingCall(resume, NULL) < 0)
        resume(NULL);
}

int ftp_channel_active(void)
{
    return ch.running;
}
