/*
 * site.c - probes on CPython 3.8-3.11: the callable that frametap's
 * bytecode rewriting (frametap/_rewrite.py) puts into a code object's
 * constants and calls at the probed line. Calling it runs the site's
 * probes for the calling frame and returns None; it cannot fail. Its
 * probe list can be emptied, so copies of the code still running after a
 * probe is removed call a site that does nothing.
 */
#include "probe.h"

typedef struct {
    PyObject_HEAD
    PyObject *probes;       /* tuple of ftp_probe */
    int entry;
} site_obj;

static void site_dealloc(PyObject *self)
{
    Py_XDECREF(((site_obj *)self)->probes);
    Py_TYPE(self)->tp_free(self);
}

static PyTypeObject site_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "frametap._probe.Site",
    .tp_basicsize = sizeof(site_obj),
    .tp_dealloc = site_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "the probes at one place of a rewritten code object",
};

static PyObject *site_call(PyObject *self, PyObject *unused)
{
    (void)unused;
    PyObject *probes = ((site_obj *)self)->probes;
    if (probes && PyTuple_GET_SIZE(probes))
        ftp_hit((ftp_probe *const *)&PyTuple_GET_ITEM(probes, 0), PyTuple_GET_SIZE(probes),
                ((site_obj *)self)->entry);
    Py_RETURN_NONE;
}

static PyMethodDef site_def = { "frametap_probe", site_call, METH_NOARGS,
                                "frametap probe site (does nothing to the program)" };

static int check_probes(PyObject *probes)
{
    if (!PyTuple_Check(probes))
        return -1;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(probes); i++)
        if (Py_TYPE(PyTuple_GET_ITEM(probes, i)) != &ftp_probe_type)
            return -1;
    return 0;
}

PyObject *ftp_site_new(PyObject *probes, int entry)
{
    if (!site_type.tp_flags || !(site_type.tp_flags & Py_TPFLAGS_READY)) {
        if (PyType_Ready(&site_type) < 0)
            return NULL;
    }
    if (check_probes(probes) < 0) {
        PyErr_SetString(PyExc_TypeError, "site: a tuple of probes");
        return NULL;
    }
    site_obj *s = PyObject_New(site_obj, &site_type);
    if (!s)
        return NULL;
    s->probes = Py_NewRef(probes);
    s->entry = entry;
    PyObject *fn = PyCFunction_New(&site_def, (PyObject *)s);
    Py_DECREF(s);
    return fn;
}

int ftp_site_set(PyObject *fn, PyObject *probes)
{
    PyObject *self = PyCFunction_Check(fn) ? PyCFunction_GET_SELF(fn) : NULL;
    if (!self || Py_TYPE(self) != &site_type || check_probes(probes) < 0) {
        PyErr_SetString(PyExc_TypeError, "site_set(site, tuple of probes)");
        return -1;
    }
    Py_XSETREF(((site_obj *)self)->probes, Py_NewRef(probes));
    return 0;
}
