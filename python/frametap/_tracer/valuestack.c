/*
 * Opcode events with the frame's value stack: each item's type and a
 * bounded repr.
 *
 * The repr here is our own and only for types whose text needs no Python
 * code (numbers, str, bytes, None, bools, sizes of containers, names of
 * functions, classes and code); anything else shows as <Type object>.
 * Calling repr() on a user's object from inside an opcode hook could run
 * arbitrary code, re-enter the tracer or change the program's behaviour.
 */
#include "tracer.h"
#include <string.h>

#define MAX_ITEMS   16
#define REPR_CHARS  60

const char *ftt_type_name(PyObject *o)
{
    if (o == NULL)
        return "NULL";
    if (o == (PyObject *)1)
        return "int";         /* a tagged int on 3.14+ stacks, not an object */
    return Py_TYPE(o)->tp_name;
}

static size_t put_str(PyObject *s, char *buf, size_t cap)
{
    Py_ssize_t len = PyUnicode_GET_LENGTH(s);
    PyObject *head = len > REPR_CHARS ? PyUnicode_Substring(s, 0, REPR_CHARS) : (Py_INCREF(s), s);
    Py_ssize_t n = 0;
    const char *u = head ? PyUnicode_AsUTF8AndSize(head, &n) : NULL;
    size_t out = 0;
    if (u) {
        out = (size_t)snprintf(buf, cap, "'%.*s'%s", (int)n, u, len > REPR_CHARS ? "..." : "");
    } else {
        PyErr_Clear();
        out = (size_t)snprintf(buf, cap, "<str of %zd chars>", len);
    }
    Py_XDECREF(head);
    return out;
}

static size_t put_bytes(PyObject *b, char *buf, size_t cap)
{
    Py_ssize_t len = PyBytes_GET_SIZE(b), n = len > 32 ? 32 : len;
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(b);
    size_t out = (size_t)snprintf(buf, cap, "b'");
    for (Py_ssize_t i = 0; i < n && out + 5 < cap; i++)
        out += (size_t)snprintf(buf + out, cap - out, p[i] >= 32 && p[i] < 127 && p[i] != '\''
                                && p[i] != '\\' ? "%c" : "\\x%02x", p[i]);
    if (out + 5 < cap)
        out += (size_t)snprintf(buf + out, cap - out, "'%s", len > n ? "..." : "");
    return out;
}

static size_t put_name_attr(PyObject *o, const char *what, PyObject *name, char *buf, size_t cap)
{
    const char *s = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (!s)
        PyErr_Clear();
    return (size_t)snprintf(buf, cap, "<%s %s>", what, s ? s : Py_TYPE(o)->tp_name);
}

/* Writes a bounded, side-effect-free repr of o into buf; returns its length. */
size_t ftt_safe_repr(PyObject *o, char *buf, size_t cap)
{
    size_t n;
    if (o == NULL)
        n = (size_t)snprintf(buf, cap, "NULL");
    else if (o == (PyObject *)1)
        n = (size_t)snprintf(buf, cap, "<tagged int>");
    else if (o == Py_None || o == Py_True || o == Py_False || o == Py_Ellipsis)
        n = (size_t)snprintf(buf, cap, "%s", o == Py_None ? "None" : o == Py_True ? "True"
                             : o == Py_False ? "False" : "Ellipsis");
    else if (PyLong_CheckExact(o)) {
        int overflow = 0;
        long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow || (v == -1 && PyErr_Occurred())) {
            PyErr_Clear();
            n = (size_t)snprintf(buf, cap, "<int beyond 64 bits>");
        } else {
            n = (size_t)snprintf(buf, cap, "%lld", v);
        }
    } else if (PyFloat_CheckExact(o))
        n = (size_t)snprintf(buf, cap, "%.17g", PyFloat_AS_DOUBLE(o));
    else if (PyUnicode_CheckExact(o))
        n = put_str(o, buf, cap);
    else if (PyBytes_CheckExact(o))
        n = put_bytes(o, buf, cap);
    else if (PyTuple_CheckExact(o) || PyList_CheckExact(o) || PyDict_CheckExact(o)
             || PyAnySet_CheckExact(o))
        n = (size_t)snprintf(buf, cap, "<%s of %zd items>", Py_TYPE(o)->tp_name,
                             PyObject_Length(o));
    else if (PyFunction_Check(o))
        n = put_name_attr(o, "function", ((PyFunctionObject *)o)->func_qualname, buf, cap);
    else if (PyCode_Check(o))
        n = put_name_attr(o, "code", ((PyCodeObject *)o)->co_name, buf, cap);
    else if (PyType_Check(o))
        n = (size_t)snprintf(buf, cap, "<class %s>", ((PyTypeObject *)o)->tp_name);
    else if (PyCFunction_Check(o))
        n = (size_t)snprintf(buf, cap, "<built-in %s>", ((PyCFunctionObject *)o)->m_ml->ml_name);
    else if (PyModule_Check(o)) {
        const char *m = PyModule_GetName(o);
        if (!m)
            PyErr_Clear();
        n = (size_t)snprintf(buf, cap, "<module %s>", m ? m : "?");
    } else
        n = (size_t)snprintf(buf, cap, "<%s object>", Py_TYPE(o)->tp_name);
    return n >= cap ? cap - 1 : n;
}

static int opcode_at(struct ftt_code *c, PyObject *code, int offset)
{
    if (!c->bytecode) {
#if PY_VERSION_HEX >= 0x030B0000
        c->bytecode = PyCode_GetCode((PyCodeObject *)code);
#else
        c->bytecode = ((PyCodeObject *)code)->co_code;
        Py_XINCREF(c->bytecode);
#endif
        if (!c->bytecode) {
            PyErr_Clear();
            return -1;
        }
    }
    if (offset < 0 || offset >= PyBytes_GET_SIZE(c->bytecode))
        return -1;
    return (unsigned char)PyBytes_AS_STRING(c->bytecode)[offset];
}

/* items[0..depth) is the stack, bottom first; depth < 0 means unknown. */
void ftt_emit_opcode(struct ftt_thread *t, struct ftt_code *c, PyObject *code,
                     int offset, PyObject *const *items, Py_ssize_t depth)
{
    char body[MAX_ITEMS * (64 + REPR_CHARS * 4 + 8)];
    size_t used = 0;
    Py_ssize_t first = depth > MAX_ITEMS ? depth - MAX_ITEMS : 0;
    uint16_t shown = 0;
    t->in_hook++;
    for (Py_ssize_t i = first; i < depth; i++, shown++) {
        const char *type = ftt_type_name(items[i]);
        size_t tn = strnlen(type, 63);
        memcpy(body + used, type, tn);
        used += tn;
        body[used++] = 0;
        used += ftt_safe_repr(items[i], body + used, REPR_CHARS * 4 + 8);
        body[used++] = 0;
    }
    t->in_hook--;
    struct ft_trace_opcode head = {
        .offset = (uint32_t)offset,
        .opcode = (uint16_t)(opcode_at(c, code, offset) & 0xffff), .nitems = shown,
        .depth = depth < 0 ? 0xffff : (uint16_t)(depth > 0xfffe ? 0xfffe : depth),
    };
    unsigned char *p = ftt_emit_blob(t, FT_REC_OPCODE, c->id, sizeof head + used);
    if (!p)
        return;
    memcpy(p, &head, sizeof head);
    memcpy(p + sizeof head, body, used);
}
