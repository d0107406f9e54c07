/*
 * frametap._tracer: the Python-facing side of the in-process tracer.
 * start() / stop() one session at a time, after_fork_child() for a forked
 * child, and floor_start() / floor_stop(): a hook that only counts events,
 * the cost floor bench/ compares against. Argument checking happens here;
 * nothing below trusts a caller.
 */
#include "tracer.h"
#include <string.h>
#include <unistd.h>

static void free_options(struct ftt_options *o)
{
    free(o->within);
    free(o->path);
    for (int i = 0; i < o->ninclude; i++)
        free(o->include[i]);
    for (int i = 0; i < o->nexclude; i++)
        free(o->exclude[i]);
    memset(o, 0, sizeof *o);
}

static int take_globs(PyObject *seq, char **out, int *n, const char *what)
{
    PyObject *fast = PySequence_Fast(seq, "frametap: include/exclude must be a list of globs");
    if (!fast)
        return -1;
    Py_ssize_t len = PySequence_Fast_GET_SIZE(fast);
    if (len > FTT_MAX_GLOBS) {
        PyErr_Format(PyExc_ValueError, "frametap: at most %d %s globs", FTT_MAX_GLOBS, what);
        Py_DECREF(fast);
        return -1;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
        const char *s = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(fast, i));
        if (!s) {
            Py_DECREF(fast);
            return -1;
        }
        out[(*n)++] = strdup(s);
    }
    Py_DECREF(fast);
    return 0;
}

static int emit_opnames(void)
{
    PyObject *dis = PyImport_ImportModule("dis");
    PyObject *names = dis ? PyObject_GetAttrString(dis, "opname") : NULL;
    Py_XDECREF(dis);
    if (!names || !PyList_Check(names)) {
        Py_XDECREF(names);
        PyErr_Clear();
        return 0;
    }
    char buf[256 * 40];
    size_t used = 0;
    for (Py_ssize_t i = 0; i < 256; i++) {
        PyObject *s = i < PyList_GET_SIZE(names) ? PyList_GET_ITEM(names, i) : NULL;
        const char *u = s && PyUnicode_Check(s) ? PyUnicode_AsUTF8(s) : NULL;
        size_t n = u ? strnlen(u, 38) : 0;
        if (n)
            memcpy(buf + used, u, n);
        used += n;
        buf[used++] = 0;
    }
    PyErr_Clear();
    Py_DECREF(names);
    struct ftt_thread *t = ftt_thread();
    void *p = t ? ftt_emit_blob(t, FT_REC_OPNAMES, 0, used) : NULL;
    if (p)
        memcpy(p, buf, used);
    return 0;
}

static int load_helpers(void)
{
    PyObject *mod = PyImport_ImportModule("frametap._codeinfo");
    if (!mod)
        return -1;
    Py_XSETREF(ftt.describe, PyObject_GetAttrString(mod, "describe"));
    Py_XSETREF(ftt.stack_depths, PyObject_GetAttrString(mod, "stack_depths"));
    Py_DECREF(mod);
    return ftt.describe && ftt.stack_depths ? 0 : -1;
}

/* Opens the file and turns the hooks on; on failure leaves nothing on. */
static int begin(uint32_t parent_pid)
{
    ftt.session++;
    ftt_codes_reset();
    if (ftt_buffers_open(ftt.opt.path, parent_pid) < 0)
        return -1;
    ftt.active = 1;
    if (ftt.opt.events & FT_EV_OPCODE)
        emit_opnames();
    if (ftt_misc_start() < 0 || ftt_hooks_start() < 0) {
        ftt_hooks_stop();
        ftt_misc_stop();
        ftt.active = 0;
        ftt_buffers_close();
        return -1;
    }
    return 0;
}

static PyObject *start(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *names[] = { "path", "events", "max_depth", "within", "include", "exclude",
                             "buffer_mb", "parent_pid", "lazy_within", NULL };
    const char *path, *within = NULL;
    unsigned int events = FT_EV_DEFAULT;
    int max_depth = 0;
    Py_ssize_t buffer_mb = 64;
    unsigned int parent_pid = 0;
    int lazy_within = 0;
    PyObject *include = NULL, *exclude = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "s|IizOOnIp:start", names, &path, &events,
                                     &max_depth, &within, &include, &exclude, &buffer_mb,
                                     &parent_pid, &lazy_within))
        return NULL;
    if (ftt.active) {
        PyErr_SetString(PyExc_RuntimeError, "frametap: a trace is already running in this process");
        return NULL;
    }
    if (max_depth < 0 || buffer_mb < 1 || buffer_mb > 65536) {
        PyErr_SetString(PyExc_ValueError,
                        "frametap: max_depth must be >= 0 and buffer_mb between 1 and 65536");
        return NULL;
    }
    free_options(&ftt.opt);
    ftt.opt.events = events;
    ftt.opt.max_depth = max_depth;
    ftt.opt.within = within && *within ? strdup(within) : NULL;
    ftt.opt.lazy_within = lazy_within && ftt.opt.within;
    ftt.opt.path = strdup(path);
    ftt.opt.buffer_bytes = (size_t)buffer_mb << 20;
    if ((include && include != Py_None
         && take_globs(include, ftt.opt.include, &ftt.opt.ninclude, "include") < 0)
        || (exclude && exclude != Py_None
            && take_globs(exclude, ftt.opt.exclude, &ftt.opt.nexclude, "exclude") < 0)
        || ftt_codes_init() < 0 || load_helpers() < 0 || begin(parent_pid) < 0) {
        free_options(&ftt.opt);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (!ftt.active)
        Py_RETURN_NONE;
    ftt_hooks_stop();
    ftt_misc_stop();
    ftt.active = 0;
    ftt_buffers_close();
    PyObject *r = Py_BuildValue("{s:K,s:K,s:n,s:s,s:s}", "events",
                                (unsigned long long)ftt_total_events(), "dropped",
                                (unsigned long long)ftt_total_dropped(), "buffer_peak_kb",
                                (Py_ssize_t)(ftt_buffer_peak_bytes() >> 10), "path", ftt.opt.path,
                                "write_error", ftt.write_error ? strerror(ftt.write_error) : "");
    return r;
}

/* In a forked child: a file of its own (PATH.PID), the same options. */
static PyObject *after_fork_child(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (!ftt.active)
        Py_RETURN_NONE;
    uint32_t parent = ftt.parent_pid ? ftt.parent_pid : (uint32_t)getppid();
    ftt_buffers_after_fork();
    ftt.active = 0;
    ftt_hooks_stop();
    ftt_misc_stop();
    char *base = ftt.opt.path, child[4096];
    snprintf(child, sizeof child, "%s.%d", base, (int)getpid());
    ftt.opt.path = strdup(child);
    free(base);
    if (begin(parent) < 0)
        return NULL;
    return PyUnicode_FromString(ftt.opt.path);
}

static PyObject *before_fork(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (ftt.active) {
        Py_BEGIN_ALLOW_THREADS
        ftt_writer_pause();
        Py_END_ALLOW_THREADS
    }
    Py_RETURN_NONE;
}

static PyObject *after_fork_parent(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    /* Not now: 3.13 counts threads for its fork warning after the parent's
     * at-fork hooks; the writer starts again when a buffer next fills. */
    if (ftt.active)
        ftt.writer_resume_pending = 1;
    Py_RETURN_NONE;
}

static PyObject *floor_start(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (ftt.active) {
        PyErr_SetString(PyExc_RuntimeError, "frametap: stop the trace first");
        return NULL;
    }
    if (ftt_floor_start() < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *floor_stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromLongLong(ftt_floor_stop());
}

static PyObject *is_active(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(ftt.active);
}

static PyObject *exclude_code(PyObject *self, PyObject *code)
{
    (void)self;
    if (ftt_exclude_code(code) < 0) {
        PyErr_SetString(PyExc_ValueError, "frametap: exclude_code takes a code object");
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *within_code(PyObject *self, PyObject *code)
{
    (void)self;
    if (!ftt.active || !ftt.opt.lazy_within || ftt_within_code(code) < 0) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "frametap: no lazy --within trace is running");
        return NULL;
    }
    Py_RETURN_NONE;
}

/* What frametap._probe calls at a --within function's entry (3.8-3.11). */
static PyObject *within_capsule(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyCapsule_New((void *)ftt_within_entered, "frametap._tracer.within_entered", NULL);
}

static PyMethodDef methods[] = {
    { "start", (PyCFunction)(void (*)(void))start, METH_VARARGS | METH_KEYWORDS,
      "start(path, events=DEFAULT, max_depth=0, within=None, include=(), exclude=(), buffer_mb=64)" },
    { "stop", stop, METH_NOARGS, "stop() -> dict of totals; writes the end of the file" },
    { "after_fork_child", after_fork_child, METH_NOARGS, "continue tracing in a forked child" },
    { "before_fork", before_fork, METH_NOARGS, "stop the writer thread for a fork" },
    { "after_fork_parent", after_fork_parent, METH_NOARGS, "let it start again in the parent" },
    { "floor_start", floor_start, METH_NOARGS, "bench: install a hook that only counts" },
    { "floor_stop", floor_stop, METH_NOARGS, "bench: remove it; returns the count" },
    { "active", is_active, METH_NOARGS, "is a trace running?" },
    { "exclude_code", exclude_code, METH_O, "never show events of this code object" },
    { "within_code", within_code, METH_O, "3.12+: watch a --within code object's start" },
    { "within_capsule", within_capsule, METH_NOARGS,
      "the C function a probe calls at a --within function's entry (3.8-3.11)" },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = { PyModuleDef_HEAD_INIT, "frametap._tracer",
    "frametap's in-process tracer (C). Use the frametap package, not this.", -1, methods,
    NULL, NULL, NULL, NULL };

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__tracer(void)
{
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    ftt_buffers_install_fork_handlers();
    static const struct { const char *name; long value; } consts[] = {
        { "EV_CALL", FT_EV_CALL }, { "EV_C", FT_EV_C }, { "EV_LINE", FT_EV_LINE },
        { "EV_OPCODE", FT_EV_OPCODE }, { "EV_EXCEPTION", FT_EV_EXCEPTION },
        { "EV_GC", FT_EV_GC }, { "EV_IMPORT", FT_EV_IMPORT }, { "EV_AUDIT", FT_EV_AUDIT },
        { "EV_THREAD", FT_EV_THREAD }, { "EV_DEFAULT", FT_EV_DEFAULT },
    };
    for (size_t i = 0; i < sizeof consts / sizeof consts[0]; i++)
        if (PyModule_AddIntConstant(m, consts[i].name, consts[i].value) < 0) {
            Py_DECREF(m);
            return NULL;
        }
    return m;
}
