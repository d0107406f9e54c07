/*
 * hit.c - what happens when a thread reaches a probe: expiry, budget,
 * condition, rate, then the action (a logpoint's message, a snapshot of
 * the stack and locals, or a count), sent as one message to frametap.
 *
 * Runs in the program's thread with the GIL held. Never re-enters itself,
 * never raises into the program (a pending exception is kept as it was),
 * reports an expression's error once per probe, and charges its own time
 * to the probe's CPU budget: past it, the probe pauses and says so.
 */
#include "probe.h"
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define WINDOW_NS 10000000000ull     /* the CPU budget's window: 10 s */


/* initial-exec: one %fs-relative access instead of a __tls_get_addr call */
#define TLS static _Thread_local __attribute__((tls_model("initial-exec")))
TLS int in_probe;
TLS char *hit_buf;                           /* FTP_MAX_HIT bytes, one per thread */
TLS pid_t tid_cache;
TLS int tid_fork_gen;
static int fork_gen;
PyObject *ftp_hidden_prefix;      /* frames of code under this path are frametap's */

static int hidden(const struct ftp_frame *f)
{
    PyObject *file = ftp_frame_code(f)->co_filename;
    if (!ftp_hidden_prefix || !PyUnicode_Check(file))
        return 0;
    int r = (int)PyUnicode_Tailmatch(file, ftp_hidden_prefix, 0, PY_SSIZE_T_MAX, -1);
    if (r < 0)
        PyErr_Clear();
    return r > 0;
}

uint64_t ftp_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#if defined(__x86_64__)
uint64_t ftp_tsc0, ftp_mono0;
double ftp_ns_per_tick = 1.0;

void ftp_clock_init(void)
{
    uint64_t m1 = ftp_mono_ns(), t1 = __rdtsc(), m2, t2;
    do {
        m2 = ftp_mono_ns();
        t2 = __rdtsc();
    } while (m2 - m1 < 2000000 && t2 > t1);
    ftp_ns_per_tick = t2 > t1 ? (double)(m2 - m1) / (double)(t2 - t1) : 1.0;
    ftp_tsc0 = t2;
    ftp_mono0 = m2;
}
#else
void ftp_clock_init(void) {}
#endif

static uint64_t wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static pid_t my_tid(void)
{
    if (!tid_cache || tid_fork_gen != fork_gen) {
        tid_cache = (pid_t)syscall(SYS_gettid);
        tid_fork_gen = fork_gen;
    }
    return tid_cache;
}

void ftp_hit_after_fork(void) { fork_gen++; }

void ftp_status(ftp_probe *p, const char *kind, const char *fmt, ...)
{
    char text[600], mem[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct ftw_buf b;
    ftw_init(&b, mem, sizeof mem);
    ftw_begin(&b, FTW_STATUS);
    if (p)
        ftw_field_u64(&b, FTW_ID, p->id);
    ftw_field_str(&b, FTW_KIND, kind);
    ftw_field_str(&b, FTW_TEXT, text);
    size_t n = ftw_end(&b);
    if (n)
        ftp_send(p ? p->client : 0, mem, n);
}

/* ---- the parts of a hit message ---- */

static void put_text_field(struct ftw_buf *b, unsigned tag, PyObject *s, Py_ssize_t max)
{
    char tmp[1024];
    struct ftp_text t = { tmp, 0, sizeof tmp, 0 };
    ftp_text_str(&t, s, max);
    ftw_field(b, tag, tmp, t.len);
}

/* threading's name for this thread, read from threading._active in place. */
static void put_thread_name(struct ftw_buf *b)
{
    PyObject *mods = PyImport_GetModuleDict();
    PyObject *threading = mods ? PyDict_GetItemString(mods, "threading") : NULL;
    PyObject *d = threading && PyModule_Check(threading) ? PyModule_GetDict(threading) : NULL;
    PyObject *active = d ? PyDict_GetItemString(d, "_active") : NULL;
    PyObject *key = active && PyDict_CheckExact(active)
                  ? PyLong_FromUnsignedLong(PyThread_get_thread_ident()) : NULL;
    PyObject *thread = key ? PyDict_GetItemWithError(active, key) : NULL;
    Py_XDECREF(key);
    static PyObject *name_attr;
    if (!name_attr)
        name_attr = PyUnicode_InternFromString("_name");
    char err[8];
    PyObject *name = thread && name_attr ? ftp_getattr(thread, name_attr, err, sizeof err) : NULL;
    PyErr_Clear();
    if (name && PyUnicode_CheckExact(name))
        put_text_field(b, FTW_THREAD, name, 100);
    Py_XDECREF(name);
}

static void put_frame(struct ftw_buf *b, const struct ftp_frame *f, int frame_tag)
{
    PyCodeObject *co = ftp_frame_code(f);
    char tmp[1024];
    struct ftp_text t = { tmp, 0, sizeof tmp, 0 };
    ftp_text_str(&t, ftp_code_qualname(co), 200);
    ftw_field(b, frame_tag ? FTW_FRAME : FTW_FUNC, tmp, t.len);
    put_text_field(b, FTW_FILE, co->co_filename, 500);
    ftw_field_i64(b, FTW_LINE, ftp_frame_line(f));
}

static void put_head(struct ftw_buf *b, ftp_probe *p, const struct ftp_frame *f)
{
    ftw_begin(b, FTW_HIT);
    ftw_field_u64(b, FTW_ID, p->id);
    ftw_field_u64(b, FTW_TIME, wall_ns());
    ftw_field_u64(b, FTW_PID, (uint64_t)getpid());
    ftw_field_u64(b, FTW_TID, (uint64_t)my_tid());
    put_thread_name(b);
    put_frame(b, f, 0);
}

/* Reserve for the TRUNCATED mark: fields stop this far from the end. */
#define TAIL 16

/* Closes the hit (marked when it was cut at the size bound) and queues it. */
static void send_hit(ftp_probe *p, struct ftw_buf *b)
{
    b->cap += TAIL;
    if (b->overflow) {
        b->overflow = 0;
        ftw_field_str(b, FTW_TRUNCATED, "1");
    }
    size_t n = ftw_end(b);
    if (n)
        ftp_send(p->client, hit_buf, n);
}

static void render_value(ftp_probe *p, const struct ftp_value *v, struct ftp_text *t)
{
    if (v->redacted)
        ftp_text_put(t, "<redacted>", 10);
    else
        ftp_render(t, v->v, p);
}

static void error_once(ftp_probe *p, const char *where, const char *err)
{
    p->errors++;
    if (p->reported & FTP_REPORTED_ERROR)
        return;
    p->reported |= FTP_REPORTED_ERROR;
    ftp_status(p, "error", "%s: %s (reported once; the program is not affected)", where, err);
}

static void send_log(ftp_probe *p, const struct ftp_frame *f)
{
    struct ftw_buf b;
    ftw_init(&b, hit_buf, FTP_MAX_HIT - TAIL);
    put_head(&b, p, f);
    char msg[4096], val[FTP_MAX_VALUE + 8];
    struct ftp_text m = { msg, 0, sizeof msg, 0 };
    /* values first into the message, each also as its own field */
    size_t field_start = b.len;
    (void)field_start;
    for (int i = 0; i < p->tmpl.nparts; i++) {
        const struct ftx_part *part = &p->tmpl.parts[i];
        if (!part->expr) {
            ftp_text_put(&m, part->text, part->len);
            continue;
        }
        struct ftp_value v;
        char err[300];
        struct ftp_text t = { val, 0, FTP_MAX_VALUE, 0 };
        if (ftp_eval(p, &p->parts[i], f, &v, err, sizeof err) < 0) {
            error_once(p, part->expr->source, err);
            ftp_text_printf(&t, "<error: %s>", err);
        } else {
            render_value(p, &v, &t);
            Py_DECREF(v.v);
        }
        ftp_text_put(&m, val, t.len);
        ftw_field_str(&b, FTW_EXPR, part->expr->source);
        ftw_field(&b, FTW_VALUE, val, t.len);
    }
    ftw_field(&b, FTW_MESSAGE, msg, m.len);
    send_hit(p, &b);
}

struct locals_ctx { ftp_probe *p; struct ftw_buf *b; int count; };

static int put_local(void *arg, PyObject *name, PyObject *value)
{
    struct locals_ctx *c = arg;
    if (c->count++ >= FTP_MAX_LOCALS || c->b->overflow)
        return 1;
    char val[FTP_MAX_VALUE + 8];
    struct ftp_text t = { val, 0, FTP_MAX_VALUE, 0 };
    if (ftp_is_secret_obj(c->p, name))
        ftp_text_put(&t, "<redacted>", 10);
    else
        ftp_render(&t, value, c->p);
    put_text_field(c->b, FTW_LOCAL, name, 200);
    ftw_field(c->b, FTW_LOCAL_VALUE, val, t.len);
    return 0;
}

static void send_snapshot(ftp_probe *p, const struct ftp_frame *top)
{
    struct ftw_buf b;
    ftw_init(&b, hit_buf, FTP_MAX_HIT - TAIL);
    put_head(&b, p, top);
    struct ftp_frame f = *top;
    for (int depth = 0; depth < FTP_MAX_STACK && !b.overflow; depth++) {
        if (hidden(&f))
            break;                   /* the runner's frames: not the program's */
        put_frame(&b, &f, 1);
        if (depth <= p->frames) {
            struct locals_ctx c = { p, &b, 0 };
            ftp_frame_locals(&f, put_local, &c);
        }
        if (!ftp_frame_back(&f))
            break;
    }
    send_hit(p, &b);
}

/* ---- limits ---- */

static void charge(ftp_probe *p, uint64_t t0)
{
    uint64_t now = ftp_now_ns(), spent = now - t0;
    p->cpu_ns += spent;
    if (now - p->window_ns >= WINDOW_NS) {
        p->window_ns = now;
        p->window_spent = 0;
    }
    p->window_spent += spent;
    double allowed = p->budget * (double)WINDOW_NS;
    if ((double)p->window_spent > allowed && !p->paused_until) {
        p->paused_until = p->window_ns + WINDOW_NS;
        p->reported |= FTP_REPORTED_PAUSE;
        ftp_status(p, "paused", "paused: used %.1f ms of CPU in %.1f s (budget %g%% of a core); "
                   "resumes in %.1f s", (double)p->window_spent / 1e6,
                   (double)(now - p->window_ns) / 1e9 + 0.001, p->budget * 100,
                   (double)(p->paused_until - now) / 1e9);
    }
}

static int rate_allows(ftp_probe *p, uint64_t now)
{
    double add = (double)(now - p->refill_ns) / 1e9 * p->rate;
    p->refill_ns = now;
    p->tokens = p->tokens + add > p->rate ? (p->rate < 1 ? 1 : p->rate) : p->tokens + add;
    if (p->tokens >= 1) {
        p->tokens -= 1;
        return 1;
    }
    p->skipped_rate++;
    if (!(p->reported & FTP_REPORTED_RATE)) {
        p->reported |= FTP_REPORTED_RATE;
        ftp_status(p, "rate", "hits above --rate %g/s are skipped (counted in the summary)",
                   p->rate);
    }
    return 0;
}

static void finish(ftp_probe *p, const char *kind, const char *text)
{
    p->dead = 1;
    if (!(p->reported & FTP_REPORTED_DONE)) {
        p->reported |= FTP_REPORTED_DONE;
        ftp_status(p, kind, "%s", text);
    }
}

static void one(ftp_probe *p, const struct ftp_frame *f)
{
    if (p->dead)
        return;
    uint64_t t0 = ftp_now_ns();
    if (p->expire_ns && t0 >= p->expire_ns) {
        finish(p, "expired", "expired (--expire)");
        return;
    }
    if (p->paused_until) {
        if (t0 < p->paused_until) {
            p->skipped_budget++;
            return;
        }
        p->paused_until = 0;
        p->window_ns = t0;
        p->window_spent = 0;
        ftp_status(p, "resumed", "resumed after its CPU budget pause (%llu hits skipped so far)",
                   (unsigned long long)p->skipped_budget);
    }
    if (p->has_when) {
        struct ftp_value v;
        char err[300];
        int t = -1;
        if (ftp_eval(p, &p->when, f, &v, err, sizeof err) == 0) {
            t = ftp_truth(v.v, err, sizeof err);
            Py_DECREF(v.v);
        }
        if (t <= 0) {
            if (t < 0)
                error_once(p, "--when", err);
            else
                p->false_when++;
            charge(p, t0);
            return;
        }
    }
    if (p->rate > 0 && !rate_allows(p, t0)) {
        charge(p, t0);
        return;
    }
    p->hits++;
    if (p->action == FTP_CALL)
        p->call();
    else if (p->action == FTP_COUNT)
        __atomic_add_fetch(&p->count_pending, 1, __ATOMIC_RELAXED);
    else if (hit_buf || (hit_buf = PyMem_RawMalloc(FTP_MAX_HIT)) != NULL)
        (p->action == FTP_LOG ? send_log : send_snapshot)(p, f);
    if (p->limit && p->hits >= p->limit) {
        char text[100];
        snprintf(text, sizeof text, "reached its limit of %llu hits (--limit)",
                 (unsigned long long)p->limit);
        finish(p, "limit", text);
    }
    charge(p, t0);
}

/* Called by the interpreter with no exception set (a sys.monitoring
 * callback, or the call frametap put into the bytecode), so there is none
 * of the program's to keep; any of ours is cleared before returning. */
void ftp_hit(ftp_probe *const *probes, Py_ssize_t n, int entry)
{
    (void)entry;
    if (in_probe || ftp_forked)
        return;
    in_probe = 1;
    struct ftp_frame f;
    if (ftp_frame_current(&f))
        for (Py_ssize_t i = 0; i < n; i++)
            one(probes[i], &f);
    if (PyErr_Occurred())
        PyErr_Clear();
    in_probe = 0;
}
