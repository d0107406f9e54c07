/*
 * eval.c - evaluating a probe expression (src/probe/expr.h) over a live
 * frame, in C. Names are the frame's locals, cells and free variables,
 * then its globals and builtins; every step goes through attrs.c, so the
 * program's code never runs. Work is bounded (FTP_EVAL_STEPS); a value
 * reached through a secret-looking name is marked redacted.
 */
#include "probe.h"
#include <string.h>

struct ev {
    const ftp_probe *p;
    const struct ftp_cexpr *c;
    const struct ftp_frame *f;
    char *err;
    size_t cap;
    int steps;
};

static int step(struct ev *e, int n)
{
    e->steps += n;
    if (e->steps > FTP_EVAL_STEPS) {
        snprintf(e->err, e->cap, "expression took more than %d steps", FTP_EVAL_STEPS);
        return -1;
    }
    return 0;
}

static int eval(struct ev *e, int n, struct ftp_value *out);

static int lookup_name(struct ev *e, PyObject *name, int secret, struct ftp_value *out)
{
    int found;
    PyObject *v = ftp_frame_local(e->f, name, &found);
    const char *s = v ? "" : PyUnicode_AsUTF8(name);    /* only for messages */
    if (!s) {
        PyErr_Clear();
        s = "?";
    }
    if (found && !v) {
        snprintf(e->err, e->cap, "local '%s' has no value yet", s);
        return -1;
    }
    PyObject *ns[2] = { ftp_frame_globals(e->f), ftp_frame_builtins(e->f) };
    for (int i = 0; !v && i < 2; i++) {
        if (ns[i] && PyDict_Check(ns[i])) {
            v = PyDict_GetItemWithError(ns[i], name);
            if (!v)
                PyErr_Clear();
        }
    }
    if (!v) {
        snprintf(e->err, e->cap, "name '%s' is not defined here", s);
        return -1;
    }
    out->v = Py_NewRef(v);
    out->redacted = secret;
    return 0;
}

static int numeric(PyObject *o)
{
    return PyLong_CheckExact(o) || PyFloat_CheckExact(o) || PyBool_Check(o);
}

static int order(struct ev *e, int op, PyObject *a, PyObject *b)
{
    int ok = (numeric(a) && numeric(b)) || (PyUnicode_CheckExact(a) && PyUnicode_CheckExact(b))
          || (PyBytes_CheckExact(a) && PyBytes_CheckExact(b));
    if (!ok) {
        char ta[120], tb[120];
        snprintf(e->err, e->cap, "cannot order %s and %s without running their code",
                 ftp_type_name(Py_TYPE(a), ta, sizeof ta), ftp_type_name(Py_TYPE(b), tb, sizeof tb));
        return -1;
    }
    static const int pyop[] = { [FTX_LT] = Py_LT, [FTX_LE] = Py_LE, [FTX_GT] = Py_GT,
                                [FTX_GE] = Py_GE };
    int r = PyObject_RichCompareBool(a, b, pyop[op]);   /* builtin scalars only */
    if (r < 0) {
        PyErr_Clear();
        snprintf(e->err, e->cap, "comparison failed");
    }
    return r;
}

static int contains(struct ev *e, PyObject *item, PyObject *box)
{
    char tn[120];
    if (PyUnicode_CheckExact(box) || PyBytes_CheckExact(box)) {
        int same = PyUnicode_CheckExact(box) ? PyUnicode_CheckExact(item) : PyBytes_CheckExact(item);
        if (!same) {
            snprintf(e->err, e->cap, "'in %s' needs a %s on the left", Py_TYPE(box)->tp_name,
                     Py_TYPE(box)->tp_name);
            return -1;
        }
        if (step(e, (int)(PyUnicode_CheckExact(box) ? PyUnicode_GET_LENGTH(box)
                                                      : PyBytes_GET_SIZE(box)) / 64) < 0)
            return -1;
        int r = PySequence_Contains(box, item);          /* str/bytes: C only */
        if (r < 0)
            PyErr_Clear();
        return r;
    }
    if (PyDict_CheckExact(box)) {
        if (step(e, (int)(PyDict_GET_SIZE(box) / 16)) < 0)
            return -1;
        char why[200] = "";
        PyObject *v = ftp_dict_get(box, item, why, sizeof why);
        if (!v && why[0]) {
            snprintf(e->err, e->cap, "%s", why);
            return -1;
        }
        return v != NULL;
    }
    if (PyList_CheckExact(box) || PyTuple_CheckExact(box) || PyAnySet_CheckExact(box)) {
        PyObject *it = PyObject_GetIter(box);           /* exact builtin: C iterator */
        PyObject *x;
        int r = 0;
        while (it && r == 0 && (x = PyIter_Next(it)) != NULL) {
            char ignore[8];
            if (step(e, 1) < 0)
                r = -1;
            else if (x == item || ftp_equal(x, item, ignore, sizeof ignore) == 1)
                r = 1;
            Py_DECREF(x);
        }
        Py_XDECREF(it);
        PyErr_Clear();
        return r;
    }
    snprintf(e->err, e->cap, "'in' on %s would run its code",
             ftp_type_name(Py_TYPE(box), tn, sizeof tn));
    return -1;
}

static int compare(struct ev *e, int op, PyObject *a, PyObject *b)
{
    switch (op) {
    case FTX_IS: return a == b;
    case FTX_IS_NOT: return a != b;
    case FTX_EQ: case FTX_NE: {
        int r = ftp_equal(a, b, e->err, e->cap);
        return r < 0 ? -1 : op == FTX_EQ ? r : !r;
    }
    case FTX_IN: case FTX_NOT_IN: {
        int r = contains(e, a, b);
        return r < 0 ? -1 : op == FTX_IN ? r : !r;
    }
    default:
        return order(e, op, a, b);
    }
}

static int length(struct ev *e, PyObject *v, struct ftp_value *out)
{
    Py_ssize_t n = -1;
    if (PyList_CheckExact(v)) n = PyList_GET_SIZE(v);
    else if (PyTuple_CheckExact(v)) n = PyTuple_GET_SIZE(v);
    else if (PyDict_CheckExact(v)) n = PyDict_GET_SIZE(v);
    else if (PyAnySet_CheckExact(v)) n = PySet_GET_SIZE(v);
    else if (PyUnicode_CheckExact(v)) n = PyUnicode_GET_LENGTH(v);
    else if (PyBytes_CheckExact(v)) n = PyBytes_GET_SIZE(v);
    else if (PyByteArray_CheckExact(v)) n = PyByteArray_GET_SIZE(v);
    if (n < 0) {
        char tn[120];
        snprintf(e->err, e->cap, "len() of %s would run its code",
                 ftp_type_name(Py_TYPE(v), tn, sizeof tn));
        return -1;
    }
    out->v = PyLong_FromSsize_t(n);
    return out->v ? 0 : (PyErr_Clear(), snprintf(e->err, e->cap, "out of memory"), -1);
}

static int eval(struct ev *e, int n, struct ftp_value *out)
{
    const struct ftx_node *node = &e->c->x->nodes[n];
    struct ftp_value a = { 0 }, b = { 0 };
    int r = -1;
    out->v = NULL;
    out->redacted = 0;
    if (step(e, 1) < 0)
        return -1;
    switch (node->kind) {
    case FTX_NAME:
        return lookup_name(e, e->c->obj[n], e->c->secret[n], out);
    case FTX_INT: case FTX_FLOAT: case FTX_STR: case FTX_BYTES:
    case FTX_NONE: case FTX_TRUE: case FTX_FALSE:
        out->v = Py_NewRef(e->c->obj[n]);
        return 0;
    case FTX_ATTR:
        if (eval(e, node->a, &a) < 0)
            return -1;
        out->v = ftp_getattr(a.v, e->c->obj[n], e->err, e->cap);
        out->redacted = a.redacted || e->c->secret[n];
        r = out->v ? 0 : -1;
        break;
    case FTX_INDEX:
        if (eval(e, node->a, &a) < 0 || eval(e, node->b, &b) < 0)
            break;
        out->v = ftp_subscript(a.v, b.v, e->err, e->cap);
        out->redacted = a.redacted || (e->c->x->nodes[node->b].kind == FTX_STR
                                       ? e->c->secret[node->b]
                                       : PyUnicode_CheckExact(b.v) && ftp_is_secret_obj(e->p, b.v));
        r = out->v ? 0 : -1;
        break;
    case FTX_LEN:
        if (eval(e, node->a, &a) < 0)
            return -1;
        r = length(e, a.v, out);
        break;
    case FTX_SEQ: {
        PyObject *list = PyList_New(0);
        r = list ? 0 : -1;
        for (int it = node->a; r == 0 && it >= 0; it = e->c->x->nodes[it].b) {
            struct ftp_value v;
            if (eval(e, e->c->x->nodes[it].a, &v) < 0) {
                r = -1;
                break;
            }
            if (PyList_Append(list, v.v) < 0)
                r = -1;
            out->redacted |= v.redacted;
            Py_DECREF(v.v);
        }
        if (r == 0)
            out->v = node->op ? Py_NewRef(list) : PyList_AsTuple(list);
        Py_XDECREF(list);
        if (r == 0 && !out->v)
            r = -1;
        if (r < 0 && !e->err[0])
            snprintf(e->err, e->cap, "out of memory");
        PyErr_Clear();
        return r;
    }
    case FTX_NEG:
        if (eval(e, node->a, &a) < 0)
            return -1;
        if (!numeric(a.v)) {
            snprintf(e->err, e->cap, "unary - on %s would run its code", Py_TYPE(a.v)->tp_name);
            break;
        }
        out->v = PyNumber_Negative(a.v);               /* int/float: C only */
        if (!out->v)
            PyErr_Clear();
        r = out->v ? 0 : -1;
        break;
    case FTX_NOT:
        if (eval(e, node->a, &a) < 0)
            return -1;
        r = ftp_truth(a.v, e->err, e->cap);
        if (r >= 0) {
            out->v = Py_NewRef(r ? Py_False : Py_True);
            r = 0;
        }
        break;
    case FTX_AND: case FTX_OR: {
        if (eval(e, node->a, &a) < 0)
            return -1;
        int t = ftp_truth(a.v, e->err, e->cap);
        if (t < 0)
            break;
        if ((node->kind == FTX_AND) != (t != 0)) {     /* decided by the left side */
            *out = a;
            return 0;
        }
        Py_DECREF(a.v);
        return eval(e, node->b, out);
    }
    case FTX_CMP:
        if (eval(e, node->a, &a) < 0 || eval(e, node->b, &b) < 0)
            break;
        r = compare(e, node->op, a.v, b.v);
        if (r >= 0) {
            out->v = Py_NewRef(r ? Py_True : Py_False);
            r = 0;
        }
        break;
    default:
        snprintf(e->err, e->cap, "unknown expression node");
    }
    Py_XDECREF(a.v);
    Py_XDECREF(b.v);
    if (r < 0)
        Py_CLEAR(out->v);
    return r;
}

int ftp_eval(const ftp_probe *p, const struct ftp_cexpr *c, const struct ftp_frame *f,
             struct ftp_value *out, char *err, size_t cap)
{
    struct ev e = { p, c, f, err, cap, 0 };
    err[0] = 0;
    int r = eval(&e, c->x->root, out);
    if (r < 0 && !err[0])
        snprintf(err, cap, "evaluation failed");
    PyErr_Clear();
    return r;
}

/* A type whose truth is decided by Python code of the program. */
static int truth_runs_code(PyTypeObject *tp)
{
    if (!(tp->tp_flags & Py_TPFLAGS_HEAPTYPE))
        return 0;
    static PyObject *names[2];
    if (!names[0]) {
        names[0] = PyUnicode_InternFromString("__bool__");
        names[1] = PyUnicode_InternFromString("__len__");
        if (!names[0] || !names[1]) {
            PyErr_Clear();
            return 1;
        }
    }
    for (int i = 0; i < 2; i++) {
        PyObject *d = _PyType_Lookup(tp, names[i]);
        if (d && Py_TYPE(d) != &PyWrapperDescr_Type)
            return 1;
    }
    return 0;
}

int ftp_truth(PyObject *v, char *err, size_t cap)
{
    if (v == Py_True) return 1;
    if (v == Py_False || v == Py_None) return 0;
    if (truth_runs_code(Py_TYPE(v))) {
        char tn[120];
        snprintf(err, cap, "the truth of a %s would run its code",
                 ftp_type_name(Py_TYPE(v), tn, sizeof tn));
        return -1;
    }
    int r = PyObject_IsTrue(v);       /* builtin slots only (checked above) */
    if (r < 0) {
        PyErr_Clear();
        snprintf(err, cap, "truth value failed");
    }
    return r;
}
