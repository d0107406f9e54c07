/*
 * frametap's in-process probes: what the files of frametap._probe share.
 *
 * A probe hit runs inside the program's own thread with the GIL held. It
 * must never call the program's code (no __repr__, __eq__, __getattr__,
 * properties, descriptors), never raise into the program, never block, and
 * stay within its CPU budget. Values are read from live objects of exact
 * builtin types, instance dicts and slots only; everything is bounded.
 *
 * Files: module.c (Python API), probe_obj.c (the probe object: spec,
 * limits, budget), hit.c (one hit, start to record), frame.c (frames of
 * each version), attrs.c (attribute/key/index reads), eval.c (expressions),
 * render.c (values as bounded text), redact.c (secret names), monitor.c
 * (3.12+: sys.monitoring), site.c (3.8-3.11: the callable injected into
 * bytecode), channel.c (the agent's I/O thread and socket), peer.c (who may
 * connect).
 */
#ifndef FTP_PROBE_H
#define FTP_PROBE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include "../../../src/probe/expr.h"
#include "../../../src/probe/wire.h"

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o) { Py_INCREF(o); return o; }
#endif
#ifndef Py_IS_TYPE
#define Py_IS_TYPE(o, t) (Py_TYPE(o) == (t))
#endif

enum ftp_action { FTP_LOG = 1, FTP_SNAPSHOT = 2, FTP_COUNT = 3, FTP_CALL = 4 };

/* Bounds of rendering: per value, and for a whole hit. */
#define FTP_MAX_ITEMS      20
#define FTP_MAX_DEPTH      3
#define FTP_MAX_STR        200     /* characters of one str/bytes shown */
#define FTP_MAX_VALUE      1024    /* bytes of one rendered value */
#define FTP_MAX_HIT        32768   /* bytes of one hit message */
#define FTP_MAX_STACK      50      /* frames listed in a snapshot */
#define FTP_MAX_LOCALS     64      /* names shown per snapshot frame */
#define FTP_EVAL_STEPS     10000   /* work units of one evaluation */

#define FTP_MAX_REDACT     64

/* An expression ready to evaluate: the parsed tree, plus a Python object
 * per node made once (interned names, literal values). */
struct ftp_cexpr {
    struct ftx_expr *x;
    PyObject *obj[FTX_MAX_NODES];
    uint8_t secret[FTX_MAX_NODES];   /* a name or literal key that looks secret */
};

typedef struct ftp_probe {
    PyObject_HEAD
    uint32_t id, client;
    int action;
    struct ftx_template tmpl;
    struct ftp_cexpr parts[FTX_MAX_PARTS];   /* the template's expressions */
    struct ftp_cexpr when;
    int has_when;
    uint64_t limit;               /* 0: none */
    double rate;                  /* hits per second, 0: none */
    double tokens;
    uint64_t refill_ns;
    uint64_t expire_ns;           /* CLOCK_MONOTONIC deadline, 0: none */
    int frames;                   /* snapshot: callers with their locals */
    void (*call)(void);           /* FTP_CALL: frametap's own C hook (trace --within) */
    double budget;                /* share of one core, e.g. 0.01 */
    uint64_t window_ns, window_spent, paused_until;
    char redact[FTP_MAX_REDACT][32];
    int nredact;
    /* state, under the GIL */
    int dead;                     /* removed, expired, or at its limit */
    int reported;                 /* FTP_REPORTED_* bits: said once */
    uint64_t hits, false_when, skipped_rate, skipped_budget, errors;
    uint64_t cpu_ns;
    volatile uint64_t count_pending;   /* --count: hits the I/O thread has not sent */
    struct ftp_probe *next_live;  /* registry the I/O thread walks (channel.c) */
} ftp_probe;

#define FTP_REPORTED_ERROR  1
#define FTP_REPORTED_RATE   2
#define FTP_REPORTED_PAUSE  4
#define FTP_REPORTED_DONE   8

extern PyTypeObject ftp_probe_type;

/* probe_obj.c */
int ftp_probe_type_init(void);
PyObject *ftp_probe_new(PyObject *self, PyObject *args, PyObject *kw);
/* Compiles x into c (names interned, literals made); -1 with an exception. */
int ftp_cexpr_init(struct ftp_cexpr *c, struct ftx_expr *x, const struct ftp_probe *p);
void ftp_cexpr_clear(struct ftp_cexpr *c);

/* hit.c: runs the probes of one site for the frame that reached it. */
void ftp_hit(ftp_probe *const *probes, Py_ssize_t n, int entry);
uint64_t ftp_mono_ns(void);
/* A cheap clock for a probe's own accounting (budget, rate, expiry): the
 * TSC scaled to CLOCK_MONOTONIC nanoseconds (calibrated by ftp_clock_init
 * at import); about 10 ns a read here against 22 for clock_gettime. */
void ftp_clock_init(void);
#if defined(__x86_64__)
#include <x86intrin.h>
extern uint64_t ftp_tsc0, ftp_mono0;
extern double ftp_ns_per_tick;
static inline uint64_t ftp_now_ns(void)
{
    return ftp_mono0 + (uint64_t)((double)(__rdtsc() - ftp_tsc0) * ftp_ns_per_tick);
}
#else
static inline uint64_t ftp_now_ns(void) { return ftp_mono_ns(); }
#endif
/* Sends a STATUS about probe p (p may be NULL) to its client. */
void ftp_status(ftp_probe *p, const char *kind, const char *fmt, ...);
void ftp_hit_after_fork(void);
extern PyObject *ftp_hidden_prefix;

/* frame.c: the frame of the running probe and its callers. */
struct ftp_frame { void *f; };
int ftp_frame_current(struct ftp_frame *out);
int ftp_frame_back(struct ftp_frame *f);
PyCodeObject *ftp_frame_code(const struct ftp_frame *f);
int ftp_frame_line(const struct ftp_frame *f);
PyObject *ftp_frame_globals(const struct ftp_frame *f);
PyObject *ftp_frame_builtins(const struct ftp_frame *f);
/* Borrowed value of local (or cell/free) variable name; NULL if unbound
 * or absent (*found says which). */
PyObject *ftp_frame_local(const struct ftp_frame *f, PyObject *name, int *found);
/* Calls fn for each bound local in order (arguments first); stops when fn
 * returns non-zero. */
void ftp_frame_locals(const struct ftp_frame *f, int (*fn)(void *, PyObject *, PyObject *),
                      void *arg);
PyObject *ftp_code_qualname(PyCodeObject *co);

/* attrs.c: reads that never run the program's code. Each returns a new
 * reference, or NULL with a reason in err (no exception set). */
PyObject *ftp_getattr(PyObject *obj, PyObject *name, char *err, size_t cap);
PyObject *ftp_subscript(PyObject *obj, PyObject *key, char *err, size_t cap);
/* Borrowed d[key] for an exact dict, compared natively; NULL if absent
 * (*err set when the search was not possible). */
PyObject *ftp_dict_get(PyObject *d, PyObject *key, char *err, size_t cap);
/* Instance attributes (dict or inline values): fn(name, value) each. */
void ftp_instance_attrs(PyObject *obj, int (*fn)(void *, PyObject *, PyObject *), void *arg);
/* Exact builtin scalars whose comparison and truth run no user code. */
int ftp_is_scalar(PyObject *o);
/* Two exact str objects with the same characters (no user code). */
int ftp_str_eq(PyObject *a, PyObject *b);
/* Equality without user code: 1, 0, or -1 (cannot say; err set). */
int ftp_equal(PyObject *a, PyObject *b, char *err, size_t cap);

/* eval.c */
struct ftp_value { PyObject *v; int redacted; };
/* Evaluates c in frame f: 0 (out->v a new reference) or -1 with err. */
int ftp_eval(const ftp_probe *p, const struct ftp_cexpr *c, const struct ftp_frame *f,
             struct ftp_value *out, char *err, size_t cap);
/* Truth without user code: 1, 0, -1 (err). */
int ftp_truth(PyObject *v, char *err, size_t cap);

/* render.c: a bounded, escaped text of v appended to out. */
struct ftp_text { char *p; size_t len, cap; int cut; };
void ftp_render(struct ftp_text *t, PyObject *v, const ftp_probe *p);
void ftp_text_put(struct ftp_text *t, const char *s, size_t n);
void ftp_text_printf(struct ftp_text *t, const char *fmt, ...);
/* A str written as UTF-8, escaped by the text rule (no quotes), cut at max chars. */
void ftp_text_str(struct ftp_text *t, PyObject *s, Py_ssize_t max);
const char *ftp_type_name(PyTypeObject *tp, char *buf, size_t cap);

/* redact.c */
int ftp_is_secret(const ftp_probe *p, const char *name, size_t len);
int ftp_is_secret_obj(const ftp_probe *p, PyObject *name);

/* monitor.c (3.12+) */
int ftp_monitor_set(PyObject *code, PyObject *lines, PyObject *entry);
int ftp_monitor_clear(PyObject *code);
void ftp_monitor_stop(void);

/* site.c (3.8-3.11) */
PyObject *ftp_site_new(PyObject *probes, int entry);
int ftp_site_set(PyObject *site, PyObject *probes);

/* channel.c: the agent's connection(s) to frametap */
int ftp_channel_start(int fd, const char *listen_path, PyObject *handler, int once);
void ftp_channel_stop(void);
void ftp_channel_pause(void);
void ftp_channel_resume_later(void);
int ftp_channel_active(void);
/* Queues one whole message for client (0: every client). Never blocks. */
void ftp_send(uint32_t client, const void *msg, size_t len);
void ftp_registry_add(ftp_probe *p);
void ftp_registry_remove(ftp_probe *p);
extern int ftp_forked;           /* in a forked child: probes report nothing */

/* peer.c */
/* May the process at the other end of fd control this one? 0, or -1 with
 * a reason in err. */
int ftp_peer_allowed(int fd, char *err, size_t cap);

#endif
