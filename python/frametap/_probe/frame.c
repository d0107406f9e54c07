/*
 * frame.c - the frame a probe fired in, and its callers, on each version:
 * PyFrameObject on 3.8-3.10, _PyInterpreterFrame on 3.11+ (stack
 * references from 3.14). Reads locals straight from the frame's slots:
 * never builds f_locals (that writes into the frame on 3.8-3.12), never
 * creates a frame object, never calls anything.
 */
#include "probe.h"

#if PY_VERSION_HEX >= 0x030B0000
#define Py_BUILD_CORE 1
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe.h"
#include "internal/pycore_stackref.h"
#endif
#include "internal/pycore_frame.h"
#include "internal/pycore_code.h"
#undef Py_BUILD_CORE
#else
#include <frameobject.h>
#endif

/* ---- 3.11+: interpreter frames ---- */
#if PY_VERSION_HEX >= 0x030B0000
typedef _PyInterpreterFrame FR;

static PyCodeObject *fr_code(FR *f)
{
#if PY_VERSION_HEX >= 0x030E0000
    PyObject *ex = PyStackRef_AsPyObjectBorrow(f->f_executable);
    return ex && PyCode_Check(ex) ? (PyCodeObject *)ex : NULL;
#elif PY_VERSION_HEX >= 0x030D0000
    return f->f_executable && PyCode_Check(f->f_executable) ? (PyCodeObject *)f->f_executable : NULL;
#else
    return f->f_code;
#endif
}

static int fr_skip(FR *f)
{
    if (!fr_code(f))
        return 1;
#if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
    if (f->owner == FRAME_OWNED_BY_CSTACK)
        return 1;
#endif
    return _PyFrame_IsIncomplete(f);
}

static PyObject *fr_slot(FR *f, int i)
{
#if PY_VERSION_HEX >= 0x030E0000
    _PyStackRef r = f->localsplus[i];
    if (PyStackRef_IsNull(r) || PyStackRef_IsTaggedInt(r))
        return NULL;
    return PyStackRef_AsPyObjectBorrow(r);
#else
    return f->localsplus[i];
#endif
}

int ftp_frame_current(struct ftp_frame *out)
{
    PyThreadState *ts = PyThreadState_Get();
#if PY_VERSION_HEX >= 0x030D0000
    FR *f = ts->current_frame;
#else
    FR *f = ts->cframe->current_frame;
#endif
    while (f && !fr_code(f))
        f = f->previous;
    out->f = f;
    return f != NULL;
}

int ftp_frame_back(struct ftp_frame *fr)
{
    FR *f = fr->f ? ((FR *)fr->f)->previous : NULL;
    while (f && fr_skip(f))
        f = f->previous;
    fr->f = f;
    return f != NULL;
}

PyCodeObject *ftp_frame_code(const struct ftp_frame *f) { return fr_code(f->f); }
PyObject *ftp_frame_globals(const struct ftp_frame *f) { return ((FR *)f->f)->f_globals; }
PyObject *ftp_frame_builtins(const struct ftp_frame *f) { return ((FR *)f->f)->f_builtins; }

int ftp_frame_line(const struct ftp_frame *f)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyUnstable_InterpreterFrame_GetLine(f->f);
#else
    FR *fr = f->f;
    return PyCode_Addr2Line(fr->f_code, _PyInterpreterFrame_LASTI(fr) * (int)sizeof(_Py_CODEUNIT));
#endif
}

static PyObject *slot_value(FR *f, PyCodeObject *co, int i)
{
    PyObject *v = fr_slot(f, i);
    unsigned char kind = (unsigned char)PyBytes_AS_STRING(co->co_localspluskinds)[i];
    if (v && (kind & (CO_FAST_CELL | CO_FAST_FREE)) && PyCell_Check(v))
        v = PyCell_GET(v);
    return v;
}

PyObject *ftp_frame_local(const struct ftp_frame *fr, PyObject *name, int *found)
{
    FR *f = fr->f;
    PyCodeObject *co = fr_code(f);
    PyObject *names = co->co_localsplusnames;
    Py_ssize_t n = PyTuple_GET_SIZE(names);
    *found = 0;
    for (int pass = 0; pass < 2; pass++)
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *s = PyTuple_GET_ITEM(names, i);
            if (pass == 0 ? s != name : !ftp_str_eq(s, name))
                continue;
            *found = 1;
            return slot_value(f, co, (int)i);
        }
    return NULL;
}

void ftp_frame_locals(const struct ftp_frame *fr, int (*fn)(void *, PyObject *, PyObject *),
                      void *arg)
{
    FR *f = fr->f;
    PyCodeObject *co = fr_code(f);
    PyObject *names = co->co_localsplusnames;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(names); i++) {
        PyObject *v = slot_value(f, co, (int)i);
        if (v && fn(arg, PyTuple_GET_ITEM(names, i), v))
            return;
    }
}

PyObject *ftp_code_qualname(PyCodeObject *co) { return co->co_qualname; }

/* ---- 3.8-3.10: frame objects ---- */
#else
typedef PyFrameObject FR;

int ftp_frame_current(struct ftp_frame *out)
{
    out->f = PyEval_GetFrame();
    return out->f != NULL;
}

int ftp_frame_back(struct ftp_frame *f)
{
    f->f = f->f ? ((FR *)f->f)->f_back : NULL;
    return f->f != NULL;
}

PyCodeObject *ftp_frame_code(const struct ftp_frame *f) { return ((FR *)f->f)->f_code; }
PyObject *ftp_frame_globals(const struct ftp_frame *f) { return ((FR *)f->f)->f_globals; }
PyObject *ftp_frame_builtins(const struct ftp_frame *f) { return ((FR *)f->f)->f_builtins; }
int ftp_frame_line(const struct ftp_frame *f) { return PyFrame_GetLineNumber(f->f); }

/* Slot i of f_localsplus and its name: varnames, then cells, then frees. */
static PyObject *slot_name(PyCodeObject *co, Py_ssize_t i, int *is_cell)
{
    Py_ssize_t nl = co->co_nlocals, nc = PyTuple_GET_SIZE(co->co_cellvars);
    *is_cell = i >= nl;
    if (i < nl)
        return PyTuple_GET_ITEM(co->co_varnames, i);
    if (i < nl + nc)
        return PyTuple_GET_ITEM(co->co_cellvars, i - nl);
    return PyTuple_GET_ITEM(co->co_freevars, i - nl - nc);
}

static Py_ssize_t nslots(PyCodeObject *co)
{
    return co->co_nlocals + PyTuple_GET_SIZE(co->co_cellvars) + PyTuple_GET_SIZE(co->co_freevars);
}

static PyObject *slot_value(FR *f, Py_ssize_t i, int is_cell)
{
    PyObject *v = f->f_localsplus[i];
    if (v && is_cell && PyCell_Check(v))
        v = PyCell_GET(v);
    return v;
}

PyObject *ftp_frame_local(const struct ftp_frame *fr, PyObject *name, int *found)
{
    FR *f = fr->f;
    PyCodeObject *co = f->f_code;
    *found = 0;
    for (int pass = 0; pass < 2; pass++)
        for (Py_ssize_t i = 0; i < nslots(co); i++) {
            int cell;
            PyObject *s = slot_name(co, i, &cell);
            if (pass == 0 ? s != name : !ftp_str_eq(s, name))
                continue;
            PyObject *v = slot_value(f, i, cell);
            if (!v && !cell)
                continue;        /* an argument moved into its cell */
            *found = 1;
            return v;
        }
    return NULL;
}

void ftp_frame_locals(const struct ftp_frame *fr, int (*fn)(void *, PyObject *, PyObject *),
                      void *arg)
{
    FR *f = fr->f;
    PyCodeObject *co = f->f_code;
    for (Py_ssize_t i = 0; i < nslots(co); i++) {
        int cell;
        PyObject *s = slot_name(co, i, &cell);
        PyObject *v = slot_value(f, i, cell);
        if (v && fn(arg, s, v))
            return;
    }
}

PyObject *ftp_code_qualname(PyCodeObject *co) { return co->co_name; }
#endif
