/*
 * Per-thread event buffers and the writer thread that drains them.
 *
 * Memory is bounded: at most opt.buffer_bytes of chunks exist. A thread
 * that fills its chunk queues it for the writer and takes a free one; when
 * none is free (the writer fell behind) its events are dropped and counted,
 * and it tries again a little later. Hooks never wait for the writer.
 * The writer never touches Python objects (it runs without the GIL).
 */

#include "tracer.h"
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_BYTES (256u * 1024u)
#define RETRY_EVERY 4096u
/* The writer wakes on its own every WRITER_NAP_NS; a producer signals it
 * only when this many chunks wait. Waking it for every chunk cost a futex
 * syscall per chunk on the traced thread (measured: ~5% of a traced run). */
#define WRITER_NAP_NS 10000000L
#define WAKE_AT_QUEUED 4u

struct ftt_state ftt = { .fd = -1, .extra_index = -1,
                         .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER };
_Thread_local struct ftt_tls ftt_tls __attribute__((tls_model("initial-exec")));
static pthread_key_t exit_key;
static pthread_once_t exit_key_once = PTHREAD_ONCE_INIT;

uint64_t ftt_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? errno : EIO;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Called with mu held. */
static struct ftt_chunk *take_free_chunk(void)
{
    struct ftt_chunk *c = ftt.free_chunks;
    if (c) {
        ftt.free_chunks = c->next;
    } else if (ftt.nchunks < ftt.max_chunks) {
        c = malloc(sizeof *c + CHUNK_BYTES);
        if (!c)
            return NULL;
        ftt.nchunks++;
        if (ftt.nchunks > ftt.peak_chunks)
            ftt.peak_chunks = ftt.nchunks;
    }
    return c;
}

/* Called with mu held: hand t's chunk (if it holds anything) to the writer. */
static void queue_chunk(struct ftt_thread *t)
{
    struct ftt_chunk *c = t->chunk;
    if (!c)
        return;
    t->chunk = NULL;
    size_t used = (size_t)(t->pos - c->data);
    t->pos = t->end = NULL;
    if (used == 0) {
        c->next = ftt.free_chunks;
        ftt.free_chunks = c;
        return;
    }
    c->hdr = (struct ft_trace_chunk){
        .magic = FT_TRACE_CHUNK_MAGIC, .nbytes = (uint32_t)used, .tid = t->tid,
        .seq = t->seq++, .ident = t->ident, .dropped = t->dropped,
    };
    t->dropped_queued = t->dropped;
    c->next = NULL;
#if defined(__x86_64__)
    _mm_sfence();                 /* this thread's streamed records are visible */
#endif
    if (ftt.full_tail)
        ftt.full_tail->next = c;
    else
        ftt.full_head = c;
    ftt.full_tail = c;
    if (++ftt.queued >= WAKE_AT_QUEUED || ftt.nchunks >= ftt.max_chunks)
        pthread_cond_signal(&ftt.cv);
}

static void nap(void)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += WRITER_NAP_NS;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&ftt.cv, &ftt.mu, &until);
}

static void *writer_main(void *arg)
{
    (void)arg;
    ftt.writer_tid = (int)syscall(SYS_gettid);
    pthread_mutex_lock(&ftt.mu);
    for (;;) {
        while (!ftt.full_head && !ftt.stopping)
            nap();
        struct ftt_chunk *list = ftt.full_head;
        ftt.full_head = ftt.full_tail = NULL;
        ftt.queued = 0;
        if (!list && ftt.stopping)
            break;
        pthread_mutex_unlock(&ftt.mu);
        struct ftt_chunk *done = NULL, *last = NULL;
        for (struct ftt_chunk *c = list; c; c = c->next) {
            c->hdr.ticks = ftt_ticks();
            c->hdr.ns = ftt_mono_ns();
            int err = ftt.write_error ? ftt.write_error
                    : write_all(ftt.fd, &c->hdr, sizeof c->hdr);
            if (!err)
                err = write_all(ftt.fd, c->data, c->hdr.nbytes);
            if (err && !ftt.write_error)
                ftt.write_error = err;
            if (err)
                ftt.write_dropped += c->hdr.nbytes / sizeof(struct ft_trace_record);
            last = c;
        }
        done = list;
        pthread_mutex_lock(&ftt.mu);
        if (last) {
            last->next = ftt.free_chunks;
            ftt.free_chunks = done;
        }
    }
    pthread_mutex_unlock(&ftt.mu);
    return NULL;
}

/* The OS thread is exiting: give its partial chunk to the writer. */
static void on_thread_exit(void *p)
{
    struct ftt_thread *t = p;
    pthread_mutex_lock(&ftt.mu);
    if (t->session == ftt.session && ftt.active)
        queue_chunk(t);
    t->dead = 1;
    pthread_mutex_unlock(&ftt.mu);
}

static void make_exit_key(void)
{
    pthread_key_create(&exit_key, on_thread_exit);
}

/* First event of this thread in this session. Needs the GIL. */
struct ftt_thread *ftt_thread_slow(void)
{
    if (!ftt.active)
        return NULL;
    struct ftt_thread *t = NULL;
    PyObject *stale = NULL;
    pthread_once(&exit_key_once, make_exit_key);
    pthread_mutex_lock(&ftt.mu);
    if (ftt_tls.thread && !ftt_tls.thread->dead) {
        t = ftt_tls.thread;           /* known from an earlier session */
    } else {
        for (struct ftt_thread *x = ftt.threads; x; x = x->next)
            if (x->dead) { t = x; break; }
        if (!t) {
            t = calloc(1, sizeof *t);
            if (t) {
                t->next = ftt.threads;
                ftt.threads = t;
            }
        }
    }
    if (t) {
        struct ftt_thread *next = t->next;
        stale = t->exc_type;
        memset(t, 0, sizeof *t);
        t->next = next;
        t->session = ftt.session;
        t->tid = (uint32_t)syscall(SYS_gettid);
        t->ident = (uint64_t)PyThread_get_thread_ident();
        t->within_depth = -1;
        t->name_tries = 64;
    }
    pthread_mutex_unlock(&ftt.mu);
    Py_XDECREF(stale);
    if (!t)
        return NULL;
    pthread_setspecific(exit_key, t);
    ftt_tls.thread = t;
    ftt_tls.session = ftt.session;
    if (ftt.opt.events & FT_EV_THREAD)
        ftt_thread_set_name(t);
    return t;
}

/* Looks the thread up in threading._active (no import, no Python code
 * run) and records its name; unnamed threads are retried a few times, as
 * a new thread runs Python code before threading registers it. */
void ftt_thread_set_name(struct ftt_thread *t)
{
    const char *name = NULL;
    PyObject *modules = PySys_GetObject("modules");          /* borrowed */
    PyObject *threading = modules ? PyDict_GetItemString(modules, "threading") : NULL;
    PyObject *active = threading ? PyObject_GetAttrString(threading, "_active") : NULL;
    if (!active)
        PyErr_Clear();
    PyObject *key = PyLong_FromUnsignedLongLong(t->ident);
    PyObject *th = (active && key && PyDict_Check(active)) ? PyDict_GetItem(active, key) : NULL;
    PyObject *pyname = th ? PyObject_GetAttrString(th, "_name") : NULL;
    if (!pyname)
        PyErr_Clear();
    if (pyname && PyUnicode_Check(pyname))
        name = PyUnicode_AsUTF8(pyname);
    if (!name)
        PyErr_Clear();
    if (name || t->name_tries == 64) {
        size_t n = name ? strlen(name) : 0;
        if (n > 200)
            n = 200;
        char *p = ftt_emit_blob(t, FT_REC_THREAD, t->tid, sizeof t->ident + n + 1);
        if (p) {
            memcpy(p, &t->ident, sizeof t->ident);
            if (n)
                memcpy(p + sizeof t->ident, name, n);
            p[sizeof t->ident + n] = 0;
        }
    }
    t->name_tries = name ? 0 : t->name_tries - 1;
    Py_XDECREF(pyname);
    Py_XDECREF(key);
    Py_XDECREF(active);
}

void *ftt_reserve_slow(struct ftt_thread *t, size_t bytes)
{
    if (bytes > CHUNK_BYTES || !ftt.active || ftt.forked_child) {
        t->dropped++;
        return NULL;
    }
    if (!t->chunk && t->retry_in) {
        t->retry_in--;
        t->dropped++;
        return NULL;
    }
    if (ftt.writer_resume_pending)
        ftt_writer_resume();
    pthread_mutex_lock(&ftt.mu);
    queue_chunk(t);
    struct ftt_chunk *c = take_free_chunk();
    pthread_mutex_unlock(&ftt.mu);
    if (!c) {
        t->retry_in = RETRY_EVERY;
        t->dropped++;
        return NULL;
    }
    t->chunk = c;
    t->pos = c->data;
    t->end = c->data + CHUNK_BYTES;
    void *r = t->pos;
    t->pos += bytes;
    t->events++;
    return r;
}

void *ftt_emit_blob(struct ftt_thread *t, unsigned kind, uint32_t a, size_t len)
{
    if (len > FT_TRACE_MAX_PAYLOAD)
        return NULL;
    size_t padded = (len + 15u) & ~(size_t)15u;
    struct ft_trace_record *r = ftt_reserve(t, sizeof *r + padded);
    if (!r)
        return NULL;
    r->ts = ftt_ticks();
    r->a = a;
    r->kind_c = FT_REC_MAKE(kind, len);
    unsigned char *payload = (unsigned char *)(r + 1);
    memset(payload + len, 0, padded - len);
    return payload;
}

void ftt_emit_strings(struct ftt_thread *t, unsigned kind, uint32_t a,
                      const char *s1, const char *s2)
{
    size_t n1 = strnlen(s1, 1024), n2 = s2 ? strnlen(s2, 4096) : 0;
    char *p = ftt_emit_blob(t, kind, a, n1 + 1 + (s2 ? n2 + 1 : 0));
    if (!p)
        return;
    memcpy(p, s1, n1);
    p[n1] = 0;
    if (s2) {
        memcpy(p + n1 + 1, s2, n2);
        p[n1 + 1 + n2] = 0;
    }
}

static int write_header(uint32_t parent_pid)
{
    struct ft_trace_header h = {
        .header_size = sizeof h, .flags = FTT_TS_FLAGS, .pid = (uint32_t)getpid(),
        .python_hex = PY_VERSION_HEX, .start_ticks = ftt.start_ticks,
        .start_ns = ftt.start_ns, .events_mask = ftt.opt.events, .parent_pid = parent_pid,
    };
    memcpy(h.magic, FT_TRACE_MAGIC, sizeof h.magic);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    h.start_unix_ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
    return write_all(ftt.fd, &h, sizeof h);
}

/* Around fork() the writer thread is stopped (after writing what is
 * queued) and started again after: Python 3.12+ warns on stderr when a
 * process with more than one OS thread forks, and the program's output must
 * be what it would be without frametap. */
void ftt_writer_pause(void)
{
    if (!ftt.writer_running)
        return;
    pthread_mutex_lock(&ftt.mu);
    ftt.stopping = 1;
    pthread_cond_broadcast(&ftt.cv);
    pthread_mutex_unlock(&ftt.mu);
    pthread_join(ftt.writer, NULL);
    ftt.writer_running = 0;
    ftt.stopping = 0;
    /* pthread_join returns when the thread's tid is cleared, a moment
     * before the kernel stops counting it in /proc/self/stat, which is
     * what Python's warning reads. Wait (at most 20 ms) for that too. */
    char task[64];
    snprintf(task, sizeof task, "/proc/self/task/%d", ftt.writer_tid);
    for (int i = 0; i < 200 && access(task, F_OK) == 0; i++)
        usleep(100);
}

int ftt_writer_resume(void)
{
    ftt.writer_resume_pending = 0;
    if (ftt.writer_running || ftt.fd < 0)
        return 0;
    if (pthread_create(&ftt.writer, NULL, writer_main, NULL) != 0)
        return -1;
    ftt.writer_running = 1;
    return 0;
}

int ftt_buffers_open(const char *path, uint32_t parent_pid)
{
    ftt.fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ftt.fd < 0) {
        PyErr_Format(PyExc_OSError, "frametap: cannot write the trace to %s: %s",
                     path, strerror(errno));
        return -1;
    }
    ftt.start_ticks = ftt_ticks();
    ftt.start_ns = ftt_mono_ns();
    ftt.parent_pid = parent_pid;
    ftt.write_error = write_header(parent_pid);
    ftt.write_dropped = 0;
    ftt.max_chunks = ftt.opt.buffer_bytes / CHUNK_BYTES;
    if (ftt.max_chunks < 4)
        ftt.max_chunks = 4;
    ftt.stopping = 0;
    ftt.peak_chunks = 0;
    if (pthread_create(&ftt.writer, NULL, writer_main, NULL) != 0) {
        close(ftt.fd);
        ftt.fd = -1;
        PyErr_SetString(PyExc_OSError, "frametap: cannot start the trace writer thread");
        return -1;
    }
    ftt.writer_running = 1;
    return 0;
}

size_t ftt_buffer_peak_bytes(void)
{
    return ftt.peak_chunks * (size_t)CHUNK_BYTES;
}

uint64_t ftt_total_events(void)
{
    uint64_t n = 0;
    for (struct ftt_thread *t = ftt.threads; t; t = t->next)
        if (t->session == ftt.session)
            n += t->events;
    return n;
}

uint64_t ftt_total_dropped(void)
{
    uint64_t n = ftt.write_dropped;
    for (struct ftt_thread *t = ftt.threads; t; t = t->next)
        if (t->session == ftt.session)
            n += t->dropped;
    return n;
}

/* Hooks are already off: queue every thread's last chunk, let the writer
 * finish, then write the closing chunk with the totals. */
void ftt_buffers_close(void)
{
    if (ftt.writer_resume_pending)
        ftt_writer_resume();
    pthread_mutex_lock(&ftt.mu);
    for (struct ftt_thread *t = ftt.threads; t; t = t->next)
        if (t->session == ftt.session)
            queue_chunk(t);
    ftt.stopping = 1;
    pthread_cond_broadcast(&ftt.cv);
    pthread_mutex_unlock(&ftt.mu);
    if (ftt.writer_running)
        pthread_join(ftt.writer, NULL);
    ftt.writer_running = 0;
    /* Events a thread lost after its last chunk: an empty chunk says how
     * many, so the reader can mark the gap where it is. */
    for (struct ftt_thread *t = ftt.threads; t; t = t->next) {
        if (t->session != ftt.session || t->dropped <= t->dropped_queued || ftt.write_error)
            continue;
        struct ft_trace_chunk gap = {
            .magic = FT_TRACE_CHUNK_MAGIC, .nbytes = 0, .tid = t->tid, .seq = t->seq++,
            .ident = t->ident, .ticks = ftt_ticks(), .ns = ftt_mono_ns(), .dropped = t->dropped,
        };
        ftt.write_error = write_all(ftt.fd, &gap, sizeof gap);
        t->dropped_queued = t->dropped;
    }
    struct {
        struct ft_trace_chunk hdr;
        struct ft_trace_record rec;
        uint64_t totals[2];
    } last = {
        .hdr = { .magic = FT_TRACE_CHUNK_MAGIC, .nbytes = sizeof last.rec + sizeof last.totals,
                 .ticks = ftt_ticks(), .ns = ftt_mono_ns() },
        .rec = { .ts = ftt_ticks(), .kind_c = FT_REC_MAKE(FT_REC_STOP, sizeof last.totals) },
        .totals = { ftt_total_events(), ftt_total_dropped() },
    };
    if (!ftt.write_error)
        ftt.write_error = write_all(ftt.fd, &last, sizeof last);
    close(ftt.fd);
    ftt.fd = -1;
    while (ftt.free_chunks) {
        struct ftt_chunk *c = ftt.free_chunks;
        ftt.free_chunks = c->next;
        free(c);
        ftt.nchunks--;
    }
}

/* fork(): the forking thread holds mu across it, so the child never
 * inherits a lock some other thread (the writer) held at that instant.
 * Until frametap's Python-level after-fork hook sets the child up, its
 * events are dropped (they are Python's own at-fork handlers). */
static void fork_prepare(void)
{
    pthread_mutex_lock(&ftt.mu);
}

static void fork_parent(void)
{
    pthread_mutex_unlock(&ftt.mu);
}

static void fork_child(void)
{
    pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t fresh_cv = PTHREAD_COND_INITIALIZER;
    ftt.mu = fresh;
    ftt.cv = fresh_cv;
    ftt.writer_running = 0;
    if (ftt.active)
        ftt.forked_child = 1;
}

void ftt_buffers_install_fork_handlers(void)
{
    static int done;
    if (!done && pthread_atfork(fork_prepare, fork_parent, fork_child) == 0)
        done = 1;
}

/* In a child after fork(): the parent writes what the buffers held; the
 * child starts empty. The writer thread did not survive the fork. */
void ftt_buffers_after_fork(void)
{
    ftt.forked_child = 0;
    for (struct ftt_thread *t = ftt.threads; t; t = t->next) {
        if (t->chunk) {
            t->chunk->next = ftt.free_chunks;
            ftt.free_chunks = t->chunk;
        }
        t->chunk = NULL;
        t->pos = t->end = NULL;
        t->dead = 1;                 /* only the forking thread lives on */
        t->session = 0;
    }
    for (struct ftt_chunk *c = ftt.full_head; c; ) {
        struct ftt_chunk *next = c->next;
        c->next = ftt.free_chunks;
        ftt.free_chunks = c;
        c = next;
    }
    ftt.full_head = ftt.full_tail = NULL;
    ftt.queued = 0;
    if (ftt.fd >= 0)
        close(ftt.fd);
    ftt.fd = -1;
}
