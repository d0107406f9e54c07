/*
 * frametap._probe: the Python-facing side of in-process probes. The probe
 * manager (frametap/_probes.py) decides where probes go; this module holds
 * what must be C: probe objects and their hits, the sys.monitoring hooks
 * (3.12+), the callable sites put into rewritten bytecode (3.8-3.11), the
 * agent's I/O thread, and a few primitives the manager needs (putting a
 * code object into a constants tuple in place). Arguments are checked
 * here; nothing below trusts a caller.
 */
#include "probe.h"

static PyObject *py_site(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *probes;
    int entry = 0;
    if (!PyArg_ParseTuple(args, "O!|p:site", &PyTuple_Type, &probes, &entry))
        return NULL;
    return ftp_site_new(probes, entry);
}

static PyObject *py_site_set(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *site, *probes;
    if (!PyArg_ParseTuple(args, "OO:site_set", &site, &probes) || ftp_site_set(site, probes) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_monitor_set(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *code, *lines, *entry;
    if (!PyArg_ParseTuple(args, "OOO:monitor_set", &code, &lines, &entry)
        || ftp_monitor_set(code, lines, entry) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_monitor_clear(PyObject *self, PyObject *code)
{
    (void)self;
    if (ftp_monitor_clear(code) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_monitor_stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    ftp_monitor_stop();
    Py_RETURN_NONE;
}

/* tuple_set(t, i, v) -> the old item: a code object's constants are a
 * tuple the interpreter reads at each LOAD_CONST, so a nested function's
 * code can be swapped there for closures made later. */
static PyObject *py_tuple_set(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *t, *v;
    Py_ssize_t i;
    if (!PyArg_ParseTuple(args, "O!nO:tuple_set", &PyTuple_Type, &t, &i, &v))
        return NULL;
    if (i < 0 || i >= PyTuple_GET_SIZE(t)) {
        PyErr_SetString(PyExc_IndexError, "tuple_set: index out of range");
        return NULL;
    }
    if (!PyCode_Check(v) || !PyCode_Check(PyTuple_GET_ITEM(t, i))) {
        PyErr_SetString(PyExc_TypeError, "tuple_set: only a code object replaces a code object");
        return NULL;
    }
    PyObject *old = PyTuple_GET_ITEM(t, i);
    PyTuple_SET_ITEM(t, i, Py_NewRef(v));
    return old;                        /* the tuple's reference, now ours */
}

static PyObject *py_channel_start(PyObject *self, PyObject *args)
{
    (void)self;
    int fd, once = 0;
    const char *path;
    PyObject *handler;
    if (!PyArg_ParseTuple(args, "izO|p:channel_start", &fd, &path, &handler, &once))
        return NULL;
    if (!PyCallable_Check(handler)) {
        PyErr_SetString(PyExc_TypeError, "channel_start: handler must be callable");
        return NULL;
    }
    if (ftp_channel_start(fd, path, handler, once) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_channel_stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    ftp_channel_stop();
    Py_RETURN_NONE;
}

static PyObject *py_channel_pause(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    ftp_channel_pause();
    Py_RETURN_NONE;
}

static PyObject *py_channel_resume(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    ftp_channel_resume_later();
    Py_RETURN_NONE;
}

static PyObject *py_channel_active(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(ftp_channel_active());
}

static PyObject *py_send(PyObject *self, PyObject *args)
{
    (void)self;
    unsigned int client;
    Py_buffer b;
    if (!PyArg_ParseTuple(args, "Iy*:send", &client, &b))
        return NULL;
    ftp_send(client, b.buf, (size_t)b.len);
    PyBuffer_Release(&b);
    Py_RETURN_NONE;
}

static PyObject *py_hide(PyObject *self, PyObject *prefix)
{
    (void)self;
    if (!PyUnicode_Check(prefix)) {
        PyErr_SetString(PyExc_TypeError, "hide_frames_under(path prefix)");
        return NULL;
    }
    Py_XSETREF(ftp_hidden_prefix, Py_NewRef(prefix));
    Py_RETURN_NONE;
}

/* render(obj) -> the text frametap shows for obj (for tests and tools). */
static PyObject *py_render(PyObject *self, PyObject *obj)
{
    (void)self;
    char buf[FTP_MAX_VALUE + 8];
    struct ftp_text t = { buf, 0, FTP_MAX_VALUE, 0 };
    ftp_render(&t, obj, NULL);
    return PyUnicode_DecodeUTF8(buf, (Py_ssize_t)t.len, "replace");
}

static PyMethodDef methods[] = {
    { "Probe", (PyCFunction)(void (*)(void))ftp_probe_new, METH_VARARGS | METH_KEYWORDS,
      "Probe(id, action, client=0, template=None, when=None, limit=0, rate=0, expire=0, "
      "frames=0, budget=0.01, redact=())" },
    { "site", py_site, METH_VARARGS, "site(probes, entry=False) -> callable for bytecode" },
    { "site_set", py_site_set, METH_VARARGS, "site_set(site, probes)" },
    { "monitor_set", py_monitor_set, METH_VARARGS, "monitor_set(code, {line: probes}, probes|None)" },
    { "monitor_clear", py_monitor_clear, METH_O, "monitor_clear(code)" },
    { "monitor_stop", py_monitor_stop, METH_NOARGS, "turn sys.monitoring probes off" },
    { "tuple_set", py_tuple_set, METH_VARARGS, "tuple_set(consts, i, code) -> old code" },
    { "channel_start", py_channel_start, METH_VARARGS,
      "channel_start(fd, listen_path, handler, once=False)" },
    { "channel_stop", py_channel_stop, METH_NOARGS, "flush and stop the agent's thread" },
    { "channel_active", py_channel_active, METH_NOARGS, "is the agent's thread running?" },
    { "channel_pause", py_channel_pause, METH_NOARGS, "before fork: stop the thread" },
    { "channel_resume_later", py_channel_resume, METH_NOARGS,
      "after fork, in the parent: start it again once fork() has returned" },
    { "send", py_send, METH_VARARGS, "send(client, message)" },
    { "render", py_render, METH_O, "render(obj) -> str, as probes show values" },
    { "hide_frames_under", py_hide, METH_O,
      "snapshots stop at frames of code under this path (frametap's own)" },
    { NULL, NULL, 0, NULL },
};

static struct PyModuleDef module = { PyModuleDef_HEAD_INIT, "frametap._probe",
    "frametap's in-process probes (C). Use frametap.agent, not this.", -1, methods,
    NULL, NULL, NULL, NULL };

__attribute__((visibility("default"))) PyMODINIT_FUNC PyInit__probe(void)
{
    if (ftp_probe_type_init() < 0)
        return NULL;
    ftp_clock_init();
    PyObject *m = PyModule_Create(&module);
    if (!m)
        return NULL;
    const char *mech = PY_VERSION_HEX >= 0x030C0000 ? "sys.monitoring" : "bytecode";
    if (PyModule_AddStringConstant(m, "MECHANISM", mech) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
