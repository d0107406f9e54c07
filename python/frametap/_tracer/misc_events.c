/*
 * Events that are not frame events: garbage collections (gc.callbacks),
 * imports and other audit events (one audit hook, installed once: CPython
 * cannot remove audit hooks, so it stays inert between sessions), and the
 * exception records shared by both hook flavours.
 */
#include "tracer.h"
#include <string.h>

#include "../common/pyhelp.h"

static int audit_installed;
static PyObject *gc_callback;        /* our entry in gc.callbacks */

void ftt_emit_exception(struct ftt_thread *t, unsigned kind, uint32_t code_id,
                        uint32_t offset, PyObject *exc)
{
    PyTypeObject *type = exc ? (PyExceptionInstance_Check(exc) ? Py_TYPE(exc)
                                : PyType_Check(exc) ? (PyTypeObject *)exc : NULL) : NULL;
    const char *name = type ? type->tp_name : "?";
    size_t n = strnlen(name, 200);
    char *p = ftt_emit_blob(t, kind, code_id, 4 + n + 1);
    if (!p)
        return;
    memcpy(p, &offset, 4);
    memcpy(p + 4, name, n);
    p[4 + n] = 0;
}

/* ---- audit: imports and the rest ---- */

static void args_repr(PyObject *args, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = 0;
    if (!args || !PyTuple_Check(args))
        return;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args) && i < 6 && used + 80 < cap; i++) {
        if (i)
            buf[used++] = ',', buf[used++] = ' ';
        used += ftt_safe_repr(PyTuple_GET_ITEM(args, i), buf + used, cap - used - 1);
    }
    buf[used] = 0;
}

static int audit_hook(const char *event, PyObject *args, void *data)
{
    (void)data;
    if (!ftt.active || !(ftt.opt.events & (FT_EV_IMPORT | FT_EV_AUDIT)))
        return 0;
    FT_SAVE_ERROR;                      /* never disturb a pending error */
    struct ftt_thread *t = ftt_thread();
    if (t && !t->in_hook && !ftt_outside_within(t)) {
        t->in_hook++;
        if (strcmp(event, "import") == 0) {
            if ((ftt.opt.events & FT_EV_IMPORT) && args && PyTuple_Check(args)
                && PyTuple_GET_SIZE(args) > 0 && PyUnicode_Check(PyTuple_GET_ITEM(args, 0))) {
                const char *m = PyUnicode_AsUTF8(PyTuple_GET_ITEM(args, 0));
                if (m)
                    ftt_emit_strings(t, FT_REC_IMPORT, 0, m, NULL);
            }
        } else if (ftt.opt.events & FT_EV_AUDIT) {
            char repr[1024];
            args_repr(args, repr, sizeof repr);
            ftt_emit_strings(t, FT_REC_AUDIT, 0, event, repr);
        }
        t->in_hook--;
    }
    PyErr_Clear();
    FT_RESTORE_ERROR;
    return 0;
}

/* ---- gc.callbacks ---- */

static long info_long(PyObject *info, const char *key)
{
    PyObject *v = info && PyDict_Check(info) ? PyDict_GetItemString(info, key) : NULL;
    long n = v && PyLong_Check(v) ? PyLong_AsLong(v) : 0;
    if (n == -1 && PyErr_Occurred())
        PyErr_Clear();
    return n < 0 ? 0 : n;
}

static PyObject *on_gc(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (!ftt.active || nargs < 2 || !(ftt.opt.events & FT_EV_GC))
        Py_RETURN_NONE;
    struct ftt_thread *t = ftt_thread();
    if (!t || t->in_hook || !PyUnicode_Check(args[0]) || ftt_outside_within(t))
        Py_RETURN_NONE;
    if (PyUnicode_CompareWithASCIIString(args[0], "start") == 0)
        ftt_emit(t, FT_REC_GC_START, 0, (uint32_t)info_long(args[1], "generation"));
    else
        ftt_emit(t, FT_REC_GC_STOP, (uint32_t)info_long(args[1], "collected"),
                 (uint32_t)info_long(args[1], "uncollectable"));
    Py_RETURN_NONE;
}

static PyMethodDef gc_def = { "_frametap_gc_callback", (PyCFunction)(void (*)(void))on_gc,
                              METH_FASTCALL, NULL };

static PyObject *gc_callbacks(void)
{
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *list = gc ? PyObject_GetAttrString(gc, "callbacks") : NULL;
    Py_XDECREF(gc);
    return list;
}

int ftt_misc_start(void)
{
    if (!audit_installed && (ftt.opt.events & (FT_EV_IMPORT | FT_EV_AUDIT))) {
        if (PySys_AddAuditHook(audit_hook, NULL) < 0)
            return -1;
        audit_installed = 1;
    }
    if (ftt.opt.events & FT_EV_GC) {
        if (!gc_callback)
            gc_callback = PyCFunction_New(&gc_def, NULL);
        PyObject *list = gc_callbacks();
        if (!gc_callback || !list || PyList_Append(list, gc_callback) < 0) {
            Py_XDECREF(list);
            return -1;
        }
        Py_DECREF(list);
    }
    return 0;
}

void ftt_misc_stop(void)
{
    PyObject *list = gc_callback ? gc_callbacks() : NULL;
    if (list && PyList_Check(list)) {
        for (Py_ssize_t i = PyList_GET_SIZE(list) - 1; i >= 0; i--)
            if (PyList_GET_ITEM(list, i) == gc_callback)
                PySequence_DelItem(list, i);
    }
    Py_XDECREF(list);
    PyErr_Clear();
}
