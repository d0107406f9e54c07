/*
 * probe_obj.c - the Probe object: one probe's spec (action, template,
 * condition, limits, budget, redaction words), compiled once, and its
 * counters. Made by frametap._probes from a spec frametap sent; knows
 * nothing of where it is armed. A dead probe never fires again.
 */
#include "probe.h"
#include <ctype.h>
#include <string.h>

static PyObject *node_object(const struct ftx_expr *x, const struct ftx_node *n)
{
    switch (n->kind) {
    case FTX_NAME: case FTX_ATTR: {
        PyObject *s = PyUnicode_DecodeUTF8(ftx_str(x, n), n->len, "strict");
        if (s)
            PyUnicode_InternInPlace(&s);
        return s;
    }
    case FTX_STR: return PyUnicode_DecodeUTF8(ftx_str(x, n), n->len, "strict");
    case FTX_BYTES: return PyBytes_FromStringAndSize(ftx_str(x, n), n->len);
    case FTX_INT: return PyLong_FromLongLong(n->i);
    case FTX_FLOAT: return PyFloat_FromDouble(n->f);
    case FTX_NONE: return Py_NewRef(Py_None);
    case FTX_TRUE: return Py_NewRef(Py_True);
    case FTX_FALSE: return Py_NewRef(Py_False);
    default: return NULL;
    }
}

/* After the probe's redaction words are known: the secrecy of every name
 * and literal string is decided once here, not at each hit. */
int ftp_cexpr_init(struct ftp_cexpr *c, struct ftx_expr *x, const ftp_probe *p)
{
    memset(c, 0, sizeof *c);
    c->x = x;
    for (int i = 0; i < x->nnodes; i++) {
        const struct ftx_node *n = &x->nodes[i];
        int k = n->kind;
        if (k == FTX_NOT || k == FTX_AND || k == FTX_OR || k == FTX_CMP || k == FTX_INDEX
            || k == FTX_LEN || k == FTX_NEG || k == FTX_SEQ || k == FTX_ITEM)
            continue;
        c->obj[i] = node_object(x, n);
        if (!c->obj[i])
            return -1;
        if (k == FTX_NAME || k == FTX_ATTR || k == FTX_STR)
            c->secret[i] = (uint8_t)ftp_is_secret(p, ftx_str(x, n), n->len);
    }
    return 0;
}

void ftp_cexpr_clear(struct ftp_cexpr *c)
{
    for (int i = 0; i < FTX_MAX_NODES; i++)
        Py_CLEAR(c->obj[i]);
    c->x = NULL;
}

static void probe_dealloc(PyObject *self)
{
    ftp_probe *p = (ftp_probe *)self;
    ftp_registry_remove(p);
    for (int i = 0; i < FTX_MAX_PARTS; i++)
        ftp_cexpr_clear(&p->parts[i]);
    ftx_template_free(&p->tmpl);
    if (p->has_when) {
        ftp_cexpr_clear(&p->when);
        PyMem_RawFree(p->when.x);
    }
    Py_TYPE(self)->tp_free(self);
}

static int take_redact(ftp_probe *p, PyObject *seq)
{
    PyObject *fast = PySequence_Fast(seq, "redact must be a list of words");
    if (!fast)
        return -1;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(fast) && p->nredact < FTP_MAX_REDACT; i++) {
        const char *w = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(fast, i));
        if (!w) {
            Py_DECREF(fast);
            return -1;
        }
        char *out = p->redact[p->nredact];
        size_t n = 0;
        for (; *w && n + 1 < sizeof p->redact[0]; w++)
            if (*w != '_' && *w != '-')
                out[n++] = (char)tolower((unsigned char)*w);
        out[n] = 0;
        if (n)
            p->nredact++;
    }
    Py_DECREF(fast);
    return 0;
}

static int value_error(const char *what, const char *why)
{
    PyErr_Format(PyExc_ValueError, "%s: %s", what, why);
    return -1;
}

static int compile_spec(ftp_probe *p, const char *action, const char *tmpl, const char *when)
{
    /* p->redact is filled before this runs */
    char err[300];
    if (!strcmp(action, "log")) p->action = FTP_LOG;
    else if (!strcmp(action, "snapshot")) p->action = FTP_SNAPSHOT;
    else if (!strcmp(action, "count")) p->action = FTP_COUNT;
    else if (!strcmp(action, "call") && p->call) p->action = FTP_CALL;
    else return value_error("action", "log, snapshot or count");
    if (p->action == FTP_LOG) {
        if (ftx_template_parse(tmpl ? tmpl : "", &p->tmpl, err, sizeof err) < 0)
            return value_error("--log", err);
        for (int i = 0; i < p->tmpl.nparts; i++)
            if (p->tmpl.parts[i].expr
                && ftp_cexpr_init(&p->parts[i], p->tmpl.parts[i].expr, p) < 0)
                return -1;
    }
    if (when && *when) {
        struct ftx_expr *x = PyMem_RawMalloc(sizeof *x);
        if (!x) {
            PyErr_NoMemory();
            return -1;
        }
        if (ftx_parse(when, strlen(when), x, err, sizeof err) < 0) {
            PyMem_RawFree(x);
            return value_error("--when", err);
        }
        p->has_when = 1;
        if (ftp_cexpr_init(&p->when, x, p) < 0)
            return -1;
    }
    return 0;
}

PyObject *ftp_probe_new(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *names[] = { "id", "action", "client", "template", "when", "limit", "rate",
                             "expire", "frames", "budget", "redact", "call", NULL };
    unsigned int id, client = 0;
    const char *action, *tmpl = NULL, *when = NULL;
    unsigned long long limit = 0;
    double rate = 0, expire = 0, budget = 0.01;
    int frames = 0;
    PyObject *redact = NULL, *call = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Is|IzzKddidOO:Probe", names, &id, &action,
                                     &client, &tmpl, &when, &limit, &rate, &expire, &frames,
                                     &budget, &redact, &call))
        return NULL;
    void *fn = NULL;
    if (call && call != Py_None) {
        fn = PyCapsule_GetPointer(call, "frametap._tracer.within_entered");
        if (!fn)
            return NULL;
    }
    if (rate < 0 || expire < 0 || frames < 0 || frames > FTP_MAX_STACK || !(budget > 0)
        || budget > 1) {
        PyErr_SetString(PyExc_ValueError, "bad probe limits");
        return NULL;
    }
    ftp_probe *p = PyObject_New(ftp_probe, &ftp_probe_type);
    if (!p)
        return NULL;
    memset((char *)p + sizeof(PyObject), 0, sizeof *p - sizeof(PyObject));
    p->id = id;
    p->client = client;
    p->limit = limit;
    p->rate = rate;
    p->tokens = rate;
    p->refill_ns = ftp_now_ns();
    p->expire_ns = expire > 0 ? ftp_now_ns() + (uint64_t)(expire * 1e9) : 0;
    p->frames = frames;
    p->budget = budget;
    p->call = (void (*)(void))fn;
    p->window_ns = ftp_now_ns();
    if ((redact && redact != Py_None && take_redact(p, redact) < 0)
        || compile_spec(p, action, tmpl, when) < 0) {
        Py_DECREF(p);
        return NULL;
    }
    ftp_registry_add(p);
    return (PyObject *)p;
}

static PyObject *probe_stats(PyObject *self, PyObject *unused)
{
    (void)unused;
    ftp_probe *p = (ftp_probe *)self;
    return Py_BuildValue("{s:K,s:K,s:K,s:K,s:K,s:K,s:i}", "hits", (unsigned long long)p->hits,
                         "false_when", (unsigned long long)p->false_when, "skipped_rate",
                         (unsigned long long)p->skipped_rate, "skipped_budget",
                         (unsigned long long)p->skipped_budget, "errors",
                         (unsigned long long)p->errors, "cpu_ns", (unsigned long long)p->cpu_ns,
                         "dead", p->dead);
}

static PyObject *probe_kill(PyObject *self, PyObject *unused)
{
    (void)unused;
    ((ftp_probe *)self)->dead = 1;
    Py_RETURN_NONE;
}

static PyObject *probe_get_id(PyObject *self, void *c) { (void)c; return PyLong_FromUnsignedLong(((ftp_probe *)self)->id); }
static PyObject *probe_get_client(PyObject *self, void *c) { (void)c; return PyLong_FromUnsignedLong(((ftp_probe *)self)->client); }
static PyObject *probe_get_dead(PyObject *self, void *c) { (void)c; return PyBool_FromLong(((ftp_probe *)self)->dead); }
static PyObject *probe_get_expired(PyObject *self, void *c)
{
    (void)c;
    ftp_probe *p = (ftp_probe *)self;
    return PyBool_FromLong(p->expire_ns && ftp_now_ns() >= p->expire_ns);
}

static PyMethodDef probe_methods[] = {
    { "stats", probe_stats, METH_NOARGS, "counters of this probe" },
    { "kill", probe_kill, METH_NOARGS, "never fire again" },
    { NULL, NULL, 0, NULL },
};

static PyGetSetDef probe_getset[] = {
    { "id", probe_get_id, NULL, NULL, NULL },
    { "client", probe_get_client, NULL, NULL, NULL },
    { "dead", probe_get_dead, NULL, NULL, NULL },
    { "expired", probe_get_expired, NULL, NULL, NULL },
    { NULL, NULL, NULL, NULL, NULL },
};

PyTypeObject ftp_probe_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "frametap._probe.Probe",
    .tp_basicsize = sizeof(ftp_probe),
    .tp_dealloc = probe_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "one probe: spec, limits and counters",
    .tp_methods = probe_methods,
    .tp_getset = probe_getset,
};

int ftp_probe_type_init(void)
{
    return PyType_Ready(&ftp_probe_type);
}
