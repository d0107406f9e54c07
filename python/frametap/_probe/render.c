/*
 * render.c - a value as bounded text, the way frametap shows values:
 * numbers, str and bytes (repr-like, escaped, cut), None/bool, exact
 * builtin containers (bounded in items and depth), functions, classes and
 * modules by name, and every other object as <Type at 0x...>.
 *
 * Only exact builtin types are looked into, so no __repr__, __str__,
 * __len__ or __iter__ of the program ever runs. Output is valid UTF-8 on
 * one line (controls, separators and lone surrogates escaped); it never
 * grows past the buffer it is given.
 */
#include "probe.h"
#include <stdarg.h>
#if PY_VERSION_HEX >= 0x030D0000
/* moved out of the public headers in 3.13, still exported */
PyAPI_FUNC(int) _PySet_NextEntry(PyObject *set, Py_ssize_t *pos, PyObject **key, Py_hash_t *hash);
#endif
#include <string.h>

void ftp_text_put(struct ftp_text *t, const char *s, size_t n)
{
    if (t->len + n > t->cap) {
        n = t->cap > t->len ? t->cap - t->len : 0;
        /* never cut inside a UTF-8 sequence */
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
        t->cut = 1;
    }
    memcpy(t->p + t->len, s, n);
    t->len += n;
}

void ftp_text_printf(struct ftp_text *t, const char *fmt, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n > 0)
        ftp_text_put(t, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void put_cp(struct ftp_text *t, Py_UCS4 c)
{
    char b[4];
    size_t n;
    if (c < 0x80) { b[0] = (char)c; n = 1; }
    else if (c < 0x800) { b[0] = (char)(0xc0 | (c >> 6)); b[1] = (char)(0x80 | (c & 0x3f)); n = 2; }
    else if (c < 0x10000) {
        b[0] = (char)(0xe0 | (c >> 12)); b[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        b[2] = (char)(0x80 | (c & 0x3f)); n = 3;
    } else {
        b[0] = (char)(0xf0 | (c >> 18)); b[1] = (char)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (char)(0x80 | ((c >> 6) & 0x3f)); b[3] = (char)(0x80 | (c & 0x3f)); n = 4;
    }
    ftp_text_put(t, b, n);
}

static int ready(PyObject *s)
{
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(s) < 0) {
        PyErr_Clear();
        return 0;
    }
#endif
    (void)s;
    return 1;
}

/* Characters of s from the text rule's point of view: quote is the
 * delimiter to escape (0: none, names). */
static void put_chars(struct ftp_text *t, PyObject *s, Py_ssize_t max, Py_UCS4 quote, int repr)
{
    if (!ready(s)) {
        ftp_text_put(t, "?", 1);
        return;
    }
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    for (Py_ssize_t i = 0; i < n && i < max && !t->cut; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (repr && (c == quote || c == '\\')) {
            char e[2] = { '\\', (char)c };
            ftp_text_put(t, e, 2);
        } else if (c == '\n' && repr) {
            ftp_text_put(t, "\\n", 2);
        } else if (c == '\t' && repr) {
            ftp_text_put(t, "\\t", 2);
        } else if (c == '\r' && repr) {
            ftp_text_put(t, "\\r", 2);
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
            ftp_text_printf(t, "\\x%02x", (unsigned)c);
        } else if ((c >= 0xd800 && c < 0xe000) || c == 0x200e || c == 0x200f
                   || (c >= 0x2028 && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069)
                   || (repr && c >= 0x80 && !Py_UNICODE_ISPRINTABLE(c))) {
            if (c > 0xffff)
                ftp_text_printf(t, "\\U%08x", (unsigned)c);
            else
                ftp_text_printf(t, "\\u%04x", (unsigned)c);
        } else {
            put_cp(t, c);
        }
    }
}

void ftp_text_str(struct ftp_text *t, PyObject *s, Py_ssize_t max)
{
    if (!s || !PyUnicode_Check(s)) {
        ftp_text_put(t, "?", 1);
        return;
    }
    put_chars(t, s, max, 0, 0);
}

const char *ftp_type_name(PyTypeObject *tp, char *buf, size_t cap)
{
    if (tp->tp_flags & Py_TPFLAGS_HEAPTYPE) {
        PyObject *q = ((PyHeapTypeObject *)tp)->ht_qualname;
        struct ftp_text t = { buf, 0, cap - 1, 0 };
        if (q && PyUnicode_Check(q)) {
            put_chars(&t, q, 100, 0, 0);
            buf[t.len] = 0;
            return buf;
        }
    }
    snprintf(buf, cap, "%s", tp->tp_name);
    return buf;
}

static void put_str_repr(struct ftp_text *t, PyObject *s)
{
    if (!ready(s)) {
        ftp_text_put(t, "<str>", 5);
        return;
    }
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    /* Python's choice of quotes: ' unless the text has ' and no " */
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    int has_single = 0, has_double = 0;
    for (Py_ssize_t i = 0; i < n && i < FTP_MAX_STR; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        has_single |= c == '\'';
        has_double |= c == '"';
    }
    char q = has_single && !has_double ? '"' : '\'';
    ftp_text_put(t, &q, 1);
    put_chars(t, s, FTP_MAX_STR, (Py_UCS4)q, 1);
    ftp_text_put(t, &q, 1);
    if (n > FTP_MAX_STR)
        ftp_text_printf(t, "...(%zd chars)", n);
}

static void put_bytes_repr(struct ftp_text *t, const char *p, Py_ssize_t n)
{
    int has_single = memchr(p, '\'', (size_t)(n < FTP_MAX_STR ? n : FTP_MAX_STR)) != NULL;
    int has_double = memchr(p, '"', (size_t)(n < FTP_MAX_STR ? n : FTP_MAX_STR)) != NULL;
    char q = has_single && !has_double ? '"' : '\'';
    ftp_text_put(t, "b", 1);
    ftp_text_put(t, &q, 1);
    for (Py_ssize_t i = 0; i < n && i < FTP_MAX_STR && !t->cut; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == (unsigned char)q || c == '\\')
            ftp_text_printf(t, "\\%c", c);
        else if (c == '\n')
            ftp_text_put(t, "\\n", 2);
        else if (c == '\t')
            ftp_text_put(t, "\\t", 2);
        else if (c == '\r')
            ftp_text_put(t, "\\r", 2);
        else if (c < 0x20 || c >= 0x7f)
            ftp_text_printf(t, "\\x%02x", c);
        else
            ftp_text_put(t, (const char *)&c, 1);
    }
    ftp_text_put(t, &q, 1);
    if (n > FTP_MAX_STR)
        ftp_text_printf(t, "...(%zd bytes)", n);
}

static void put_int(struct ftp_text *t, PyObject *v)
{
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (!overflow && !(x == -1 && PyErr_Occurred())) {
        ftp_text_printf(t, "%lld", x);
        return;
    }
    PyErr_Clear();
    size_t bits = _PyLong_NumBits(v);
    if (bits == (size_t)-1)
        PyErr_Clear();
    if (bits <= 2000) {
        PyObject *r = PyObject_Repr(v);      /* exact int: C code only */
        if (r) {
            ftp_text_str(t, r, 1000);
            Py_DECREF(r);
            return;
        }
        PyErr_Clear();
    }
    ftp_text_printf(t, "<int of %zu bits>", bits);
}

static void put_float(struct ftp_text *t, double d)
{
    char *s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (!s) {
        PyErr_Clear();
        ftp_text_put(t, "?", 1);
        return;
    }
    ftp_text_put(t, s, strlen(s));
    PyMem_Free(s);
}

static void put_named(struct ftp_text *t, const char *what, PyObject *name, const void *addr)
{
    ftp_text_printf(t, "<%s ", what);
    ftp_text_str(t, name, 100);
    if (addr)
        ftp_text_printf(t, " at %p", addr);
    ftp_text_put(t, ">", 1);
}

static void render(struct ftp_text *t, PyObject *v, const ftp_probe *p, int depth);

static void put_items(struct ftp_text *t, PyObject *seq, const ftp_probe *p, int depth,
                      const char *open, const char *close, Py_ssize_t n)
{
    ftp_text_put(t, open, strlen(open));
    Py_ssize_t shown = 0;
    if (PyAnySet_CheckExact(seq)) {
        Py_ssize_t pos = 0;
        PyObject *key;
        Py_hash_t hash;
        while (shown < FTP_MAX_ITEMS && !t->cut && _PySet_NextEntry(seq, &pos, &key, &hash)) {
            if (shown++)
                ftp_text_put(t, ", ", 2);
            render(t, key, p, depth + 1);
        }
    } else {
        for (; shown < n && shown < FTP_MAX_ITEMS && !t->cut; shown++) {
            if (shown)
                ftp_text_put(t, ", ", 2);
            render(t, PyList_CheckExact(seq) ? PyList_GET_ITEM(seq, shown)
                                              : PyTuple_GET_ITEM(seq, shown), p, depth + 1);
        }
        if (n == 1 && PyTuple_CheckExact(seq))
            ftp_text_put(t, ",", 1);
    }
    if (n > shown)
        ftp_text_printf(t, ", ...(%zd items)", n);
    ftp_text_put(t, close, strlen(close));
}

static void put_dict(struct ftp_text *t, PyObject *d, const ftp_probe *p, int depth)
{
    Py_ssize_t pos = 0, shown = 0, n = PyDict_GET_SIZE(d);
    PyObject *k, *v;
    ftp_text_put(t, "{", 1);
    while (shown < FTP_MAX_ITEMS && !t->cut && PyDict_Next(d, &pos, &k, &v)) {
        if (shown++)
            ftp_text_put(t, ", ", 2);
        render(t, k, p, depth + 1);
        ftp_text_put(t, ": ", 2);
        if (PyUnicode_CheckExact(k) && ftp_is_secret_obj(p, k))
            ftp_text_put(t, "<redacted>", 10);
        else
            render(t, v, p, depth + 1);
    }
    if (n > shown)
        ftp_text_printf(t, ", ...(%zd items)", n);
    ftp_text_put(t, "}", 1);
}

static void render(struct ftp_text *t, PyObject *v, const ftp_probe *p, int depth)
{
    char tn[120];
    if (t->cut)
        return;
    if (v == Py_None) { ftp_text_put(t, "None", 4); return; }
    if (v == Py_True) { ftp_text_put(t, "True", 4); return; }
    if (v == Py_False) { ftp_text_put(t, "False", 5); return; }
    if (v == Py_Ellipsis) { ftp_text_put(t, "Ellipsis", 8); return; }
    PyTypeObject *tp = Py_TYPE(v);
    if (PyLong_CheckExact(v)) { put_int(t, v); return; }
    if (PyFloat_CheckExact(v)) { put_float(t, PyFloat_AS_DOUBLE(v)); return; }
    if (PyComplex_CheckExact(v)) {
        ftp_text_put(t, "(", 1);
        put_float(t, PyComplex_RealAsDouble(v));
        ftp_text_put(t, "+", 1);
        put_float(t, PyComplex_ImagAsDouble(v));
        ftp_text_put(t, "j)", 2);
        return;
    }
    if (PyUnicode_CheckExact(v)) { put_str_repr(t, v); return; }
    if (PyBytes_CheckExact(v)) { put_bytes_repr(t, PyBytes_AS_STRING(v), PyBytes_GET_SIZE(v)); return; }
    if (PyByteArray_CheckExact(v)) {
        ftp_text_put(t, "bytearray(", 10);
        put_bytes_repr(t, PyByteArray_AS_STRING(v), PyByteArray_GET_SIZE(v));
        ftp_text_put(t, ")", 1);
        return;
    }
    int container = PyList_CheckExact(v) || PyTuple_CheckExact(v) || PyDict_CheckExact(v)
                 || PyAnySet_CheckExact(v);
    if (container && depth >= FTP_MAX_DEPTH) {
        ftp_text_printf(t, "<%s of %zd items>", tp->tp_name, PyObject_Length(v));
        return;
    }
    if (PyList_CheckExact(v)) { put_items(t, v, p, depth, "[", "]", PyList_GET_SIZE(v)); return; }
    if (PyTuple_CheckExact(v)) { put_items(t, v, p, depth, "(", ")", PyTuple_GET_SIZE(v)); return; }
    if (PyDict_CheckExact(v)) { put_dict(t, v, p, depth); return; }
    if (Py_IS_TYPE(v, &PySet_Type)) {
        if (PySet_GET_SIZE(v) == 0) { ftp_text_put(t, "set()", 5); return; }
        put_items(t, v, p, depth, "{", "}", PySet_GET_SIZE(v));
        return;
    }
    if (PyFrozenSet_CheckExact(v)) {
        if (PySet_GET_SIZE(v) == 0) { ftp_text_put(t, "frozenset()", 11); return; }
        put_items(t, v, p, depth, "frozenset({", "})", PySet_GET_SIZE(v));
        return;
    }
    if (PyFunction_Check(v)) { put_named(t, "function", ((PyFunctionObject *)v)->func_qualname, v); return; }
    if (PyType_Check(v)) {
        ftp_text_printf(t, "<class '%s'>", ftp_type_name((PyTypeObject *)v, tn, sizeof tn));
        return;
    }
    if (PyModule_Check(v)) {
        const char *m = PyModule_GetName(v);      /* reads its dict: no code runs */
        if (!m)
            PyErr_Clear();
        ftp_text_printf(t, "<module '%.100s'>", m ? m : "?");
        return;
    }
    if (PyCFunction_Check(v)) {
        ftp_text_printf(t, "<built-in function %s>", ((PyCFunctionObject *)v)->m_ml->ml_name);
        return;
    }
    if (PyCode_Check(v)) { put_named(t, "code", ((PyCodeObject *)v)->co_name, v); return; }
    ftp_text_printf(t, "<%s at %p>", ftp_type_name(tp, tn, sizeof tn), (void *)v);
}

void ftp_render(struct ftp_text *t, PyObject *v, const ftp_probe *p)
{
    render(t, v, p, 0);
    if (t->cut && t->cap >= 3) {
        /* mark the cut: the last bytes become "..." (whole characters) */
        size_t keep = t->cap - 3;
        while (keep > 0 && ((unsigned char)t->p[keep] & 0xc0) == 0x80)
            keep--;
        memcpy(t->p + keep, "...", 3);
        t->len = keep + 3;
    }
}
