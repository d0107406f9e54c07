/*
 * attrs.c - reading attributes, keys and items of live objects without
 * running any of the program's code.
 *
 * Attributes come from the instance dict or inline values (read in place:
 * never materialising a dict on 3.11+), slots (member descriptors) and
 * plain class attributes; a property or other data descriptor, __getattr__
 * and __getattribute__ are never run, so such an attribute is an error.
 * Keys and items only on exact list, tuple, str, bytes and dict; dict keys
 * are compared natively (exact scalars), never with a key's __eq__.
 */
#include <patchlevel.h>
#if PY_VERSION_HEX >= 0x030B0000
/* instance values and dict keys are internal: this file is built as core */
#define Py_BUILD_CORE_MODULE 1
#endif
#include "probe.h"
#include "structmember.h"
#include <string.h>

#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_dict.h"
#include "internal/pycore_object.h"
#endif

#define DICT_SCAN_MAX 100000     /* entries searched for one key */

/* err = fmt with the attribute's name, then the type's name. */
static void say(char *err, size_t cap, const char *fmt, PyObject *name, PyTypeObject *tp)
{
    char tn[120];
    const char *n = name && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (!n)
        PyErr_Clear();
    snprintf(err, cap, fmt, n ? n : "?", tp ? ftp_type_name(tp, tn, sizeof tn) : "");
}

int ftp_str_eq(PyObject *a, PyObject *b)
{
    if (a == b)
        return 1;
    if (!PyUnicode_CheckExact(a) || !PyUnicode_CheckExact(b))
        return 0;
    Py_ssize_t n = PyUnicode_GET_LENGTH(a);
    if (n != PyUnicode_GET_LENGTH(b) || PyUnicode_KIND(a) != PyUnicode_KIND(b))
        return 0;
    return memcmp(PyUnicode_DATA(a), PyUnicode_DATA(b), (size_t)n * PyUnicode_KIND(a)) == 0;
}

int ftp_is_scalar(PyObject *o)
{
    return o == Py_None || PyBool_Check(o) || PyLong_CheckExact(o) || PyFloat_CheckExact(o)
        || PyComplex_CheckExact(o) || PyUnicode_CheckExact(o) || PyBytes_CheckExact(o);
}

int ftp_equal(PyObject *a, PyObject *b, char *err, size_t cap)
{
    if (a == b)
        return 1;
    if (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b))
        return ftp_str_eq(a, b);
    if (!ftp_is_scalar(a) || !ftp_is_scalar(b)) {
        if (a == Py_None || b == Py_None)
            return 0;
        char ta[120], tb[120];
        snprintf(err, cap, "cannot compare %s with %s without running their code",
                 ftp_type_name(Py_TYPE(a), ta, sizeof ta), ftp_type_name(Py_TYPE(b), tb, sizeof tb));
        return -1;
    }
    int r = PyObject_RichCompareBool(a, b, Py_EQ);    /* builtin scalars only */
    if (r < 0) {
        PyErr_Clear();
        snprintf(err, cap, "comparison failed");
    }
    return r;
}

PyObject *ftp_dict_get(PyObject *d, PyObject *key, char *err, size_t cap)
{
    Py_ssize_t pos = 0, seen = 0;
    PyObject *k, *v;
    if (!ftp_is_scalar(key)) {
        char tn[120];
        snprintf(err, cap, "a %s key would be compared by its own code",
                 ftp_type_name(Py_TYPE(key), tn, sizeof tn));
        return NULL;
    }
    while (PyDict_Next(d, &pos, &k, &v)) {
        if (++seen > DICT_SCAN_MAX) {
            snprintf(err, cap, "dict too large to search (over %d keys)", DICT_SCAN_MAX);
            return NULL;
        }
        if (k == key)
            return v;
        if (!ftp_is_scalar(k) || Py_TYPE(k) != Py_TYPE(key)) {
            /* 1 == 1.0 == True as dict keys: compare numbers across types */
            int num_k = PyLong_CheckExact(k) || PyFloat_CheckExact(k) || PyBool_Check(k);
            int num_key = PyLong_CheckExact(key) || PyFloat_CheckExact(key) || PyBool_Check(key);
            if (!(num_k && num_key))
                continue;
        }
        char ignore[8];
        if (ftp_equal(k, key, ignore, sizeof ignore) == 1)
            return v;
    }
    return NULL;
}

/* Borrowed value of name in a namespace dict (module globals, builtins,
 * type dicts): keys there are strings, looked up the interpreter's way. */
static PyObject *namespace_get(PyObject *d, PyObject *name)
{
    PyObject *v = PyDict_GetItemWithError(d, name);
    if (!v)
        PyErr_Clear();
    return v;
}

/* ---- instance attributes: dict, or 3.11+ values stored in the object ---- */

#if PY_VERSION_HEX >= 0x030B0000
/* Values kept in the object with the type's shared keys (no dict made). */
static PyDictValues *inline_values(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
    if (!(tp->tp_flags & Py_TPFLAGS_MANAGED_DICT))
        return NULL;
#if PY_VERSION_HEX >= 0x030D0000
    if (!(tp->tp_flags & Py_TPFLAGS_INLINE_VALUES))
        return NULL;
    PyDictValues *v = _PyObject_InlineValues(obj);
    return v->valid ? v : NULL;
#elif PY_VERSION_HEX >= 0x030C0000
    PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
    return _PyDictOrValues_IsValues(dorv) ? _PyDictOrValues_GetValues(dorv) : NULL;
#else
    return *_PyObject_ValuesPointer(obj);
#endif
}

static Py_ssize_t values_capacity(PyDictValues *v, PyDictKeysObject *keys)
{
#if PY_VERSION_HEX >= 0x030D0000
    (void)keys;
    return v->capacity;
#else
    (void)v;
    return keys->dk_nentries;
#endif
}
#endif

/* The instance's dict without creating one; NULL if it has none. */
static PyObject *instance_dict(PyObject *obj)
{
    PyTypeObject *tp = Py_TYPE(obj);
#if PY_VERSION_HEX >= 0x030B0000
    if (tp->tp_flags & Py_TPFLAGS_MANAGED_DICT) {
#if PY_VERSION_HEX >= 0x030D0000
        return (PyObject *)_PyObject_GetManagedDict(obj);
#elif PY_VERSION_HEX >= 0x030C0000
        PyDictOrValues dorv = *_PyObject_DictOrValuesPointer(obj);
        return _PyDictOrValues_IsValues(dorv) ? NULL : _PyDictOrValues_GetDict(dorv);
#else
        return *_PyObject_ManagedDictPointer(obj);
#endif
    }
#endif
    if (tp->tp_dictoffset == 0)
        return NULL;
    PyObject **dp = _PyObject_GetDictPtr(obj);
    if (!dp)
        PyErr_Clear();
    return dp && *dp && PyDict_Check(*dp) ? *dp : NULL;
}

void ftp_instance_attrs(PyObject *obj, int (*fn)(void *, PyObject *, PyObject *), void *arg)
{
#if PY_VERSION_HEX >= 0x030B0000
    PyDictValues *values = inline_values(obj);
    if (values) {
        PyDictKeysObject *keys = ((PyHeapTypeObject *)Py_TYPE(obj))->ht_cached_keys;
        if (!keys)
            return;
        PyDictUnicodeEntry *ent = DK_UNICODE_ENTRIES(keys);
        Py_ssize_t n = keys->dk_nentries, cap = values_capacity(values, keys);
        for (Py_ssize_t i = 0; i < n && i < cap; i++)
            if (ent[i].me_key && values->values[i] && fn(arg, ent[i].me_key, values->values[i]))
                return;
        return;
    }
#endif
    PyObject *d = instance_dict(obj);
    Py_ssize_t pos = 0;
    PyObject *k, *v;
    while (d && PyDict_Next(d, &pos, &k, &v))
        if (PyUnicode_CheckExact(k) && fn(arg, k, v))
            return;
}

struct find { PyObject *name, *value; };

static int find_one(void *arg, PyObject *k, PyObject *v)
{
    struct find *f = arg;
    if (!ftp_str_eq(k, f->name))
        return 0;
    f->value = v;
    return 1;
}

static PyObject *instance_get(PyObject *obj, PyObject *name)
{
    struct find f = { name, NULL };
    ftp_instance_attrs(obj, find_one, &f);
    return f.value;
}

static PyObject *member_get(PyObject *obj, PyObject *descr, PyObject *name, char *err, size_t cap)
{
    PyMemberDef *m = ((PyMemberDescrObject *)descr)->d_member;
    if (!PyObject_TypeCheck(obj, PyDescr_TYPE(descr))) {
        say(err, cap, "slot '%s' does not belong to %s", name, Py_TYPE(obj));
        return NULL;
    }
    PyObject *v = PyMember_GetOne((const char *)obj, m);   /* C only: reads the slot */
    if (!v) {
        PyErr_Clear();
        say(err, cap, "attribute '%s' of %s is not set", name, Py_TYPE(obj));
    }
    return v;
}

PyObject *ftp_getattr(PyObject *obj, PyObject *name, char *err, size_t cap)
{
    PyObject *v;
    if (PyModule_Check(obj)) {
        PyObject *d = PyModule_GetDict(obj);
        v = d ? namespace_get(d, name) : NULL;
        if (v)
            return Py_NewRef(v);
        say(err, cap, "module has no attribute '%s'%s", name, NULL);
        return NULL;
    }
    if (PyType_Check(obj)) {
        v = _PyType_Lookup((PyTypeObject *)obj, name);
        if (v)
            return Py_NewRef(v);
        say(err, cap, "class has no attribute '%s'%s", name, NULL);
        return NULL;
    }
    PyTypeObject *tp = Py_TYPE(obj);
    PyObject *descr = _PyType_Lookup(tp, name);
    if (descr && Py_TYPE(descr) == &PyMemberDescr_Type)
        return member_get(obj, descr, name, err, cap);
    if (descr && Py_TYPE(descr)->tp_descr_set) {
        say(err, cap, "'%s' of %s is a property or descriptor: not evaluated (it would run code)",
            name, tp);
        return NULL;
    }
    v = instance_get(obj, name);
    if (v)
        return Py_NewRef(v);
    if (descr)
        return Py_NewRef(descr);      /* a class attribute, unbound */
    char tn[120];
    const char *n = PyUnicode_AsUTF8(name);
    if (!n)
        PyErr_Clear();
    snprintf(err, cap, "%s has no attribute '%s' in its dict or slots (__getattr__ is never run)",
             ftp_type_name(tp, tn, sizeof tn), n ? n : "?");
    return NULL;
}

static int as_index(PyObject *key, Py_ssize_t len, Py_ssize_t *out, char *err, size_t cap)
{
    if (!PyLong_CheckExact(key) && !PyBool_Check(key)) {
        char tn[120];
        snprintf(err, cap, "index must be an int, not %s", ftp_type_name(Py_TYPE(key), tn, sizeof tn));
        return -1;
    }
    Py_ssize_t i = PyLong_AsSsize_t(key);
    if (i == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        snprintf(err, cap, "index out of range");
        return -1;
    }
    if (i < 0)
        i += len;
    if (i < 0 || i >= len) {
        snprintf(err, cap, "index %zd out of range (length %zd)", PyLong_AsSsize_t(key), len);
        return -1;
    }
    *out = i;
    return 0;
}

PyObject *ftp_subscript(PyObject *obj, PyObject *key, char *err, size_t cap)
{
    Py_ssize_t i;
    if (PyList_CheckExact(obj)) {
        if (as_index(key, PyList_GET_SIZE(obj), &i, err, cap) < 0)
            return NULL;
        return Py_NewRef(PyList_GET_ITEM(obj, i));
    }
    if (PyTuple_CheckExact(obj)) {
        if (as_index(key, PyTuple_GET_SIZE(obj), &i, err, cap) < 0)
            return NULL;
        return Py_NewRef(PyTuple_GET_ITEM(obj, i));
    }
    if (PyUnicode_CheckExact(obj)) {
        if (as_index(key, PyUnicode_GET_LENGTH(obj), &i, err, cap) < 0)
            return NULL;
        return PyUnicode_Substring(obj, i, i + 1);
    }
    if (PyBytes_CheckExact(obj)) {
        if (as_index(key, PyBytes_GET_SIZE(obj), &i, err, cap) < 0)
            return NULL;
        return PyLong_FromLong((unsigned char)PyBytes_AS_STRING(obj)[i]);
    }
    if (PyDict_CheckExact(obj)) {
        err[0] = 0;
        PyObject *v = ftp_dict_get(obj, key, err, cap);
        if (v)
            return Py_NewRef(v);
        if (!err[0]) {
            char shown[120];
            struct ftp_text t = { shown, 0, sizeof shown, 0 };
            ftp_render(&t, key, NULL);
            snprintf(err, cap, "key %.*s not in dict", (int)t.len, shown);
        }
        return NULL;
    }
    char tn[120];
    snprintf(err, cap, "%s[...] would run its code (only list, tuple, str, bytes, dict)",
             ftp_type_name(Py_TYPE(obj), tn, sizeof tn));
    return NULL;
}
