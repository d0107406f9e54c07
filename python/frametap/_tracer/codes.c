/*
 * Code objects and C functions as the tracer names them.
 *
 * A code object gets a small id the first time an event mentions it; the
 * id lives in the code object's co_extra slot, so a later event finds it in
 * a few nanoseconds and a freed code object whose address is reused can
 * never be mistaken for the old one. The first sighting also writes an
 * FT_REC_CODE_DEF (names, file, module, line ranges) built by
 * frametap._codeinfo, and decides the code's filters (include, exclude,
 * --within) once. C functions get ids from a pointer table.
 */
#include "tracer.h"
#include <fnmatch.h>
#include <string.h>

static void free_code_extra(void *p)
{
    struct ftt_code *c = p;
    if (!c)
        return;
    PyMem_RawFree(c->depths);
    Py_XDECREF(c->bytecode);
    PyMem_RawFree(c);
}

int ftt_codes_init(void)
{
    if (ftt.extra_index < 0)
        ftt.extra_index = ftt_request_extra(free_code_extra);
    return ftt.extra_index < 0 ? -1 : 0;
}

static int glob_any(char *const *globs, int n, const char *file, const char *module)
{
    for (int i = 0; i < n; i++)
        if (fnmatch(globs[i], file, 0) == 0 || (module && fnmatch(globs[i], module, 0) == 0))
            return 1;
    return 0;
}

static const char *utf8_attr(PyObject *obj, const char *name, PyObject **hold)
{
    *hold = PyObject_GetAttrString(obj, name);
    const char *s = (*hold && PyUnicode_Check(*hold)) ? PyUnicode_AsUTF8(*hold) : NULL;
    if (!s)
        PyErr_Clear();
    return s ? s : "";
}

static int matches_within(PyObject *code)
{
    PyObject *hq = NULL, *hn = NULL;
    const char *qual = utf8_attr(code, "co_qualname", &hq);
    const char *name = utf8_attr(code, "co_name", &hn);
    const char *want = ftt.opt.within;
    int hit = strcmp(qual, want) == 0 || strcmp(name, want) == 0;
    Py_XDECREF(hq);
    Py_XDECREF(hn);
    return hit;
}

/* Code objects never shown whatever the globs say: the runner's callers
 * (the -c bootstrap of `frametap trace --`), set by exclude_code(). */
#define MAX_EXCLUDED_CODES 16
static PyObject *excluded_codes[MAX_EXCLUDED_CODES];
static int nexcluded_codes;

int ftt_exclude_code(PyObject *code)
{
    if (!PyCode_Check(code) || nexcluded_codes == MAX_EXCLUDED_CODES)
        return -1;
    Py_INCREF(code);
    excluded_codes[nexcluded_codes++] = code;
    return 0;
}

static uint32_t decide_flags(PyObject *code, const char *module)
{
    uint32_t flags = 0;
    for (int i = 0; i < nexcluded_codes; i++)
        if (excluded_codes[i] == code)
            return FTT_CODE_EXCLUDED;
    PyObject *hf = NULL;
    const char *file = utf8_attr(code, "co_filename", &hf);
    if (ftt.opt.ninclude && !glob_any(ftt.opt.include, ftt.opt.ninclude, file, module))
        flags |= FTT_CODE_EXCLUDED;
    if (ftt.opt.nexclude && glob_any(ftt.opt.exclude, ftt.opt.nexclude, file, module))
        flags |= FTT_CODE_EXCLUDED;
    if (ftt.opt.within && matches_within(code))
        flags |= FTT_CODE_WITHIN;
    Py_XDECREF(hf);
    return flags;
}

/* Writes the FT_REC_CODE_DEF; 0 when it made it into the buffer. */
static int write_def(struct ftt_thread *t, struct ftt_code *c, PyObject *code, PyObject *module)
{
    PyObject *blob = PyObject_CallFunctionObjArgs(ftt.describe, code,
                                                  module ? module : Py_None, NULL);
    if (!blob || !PyBytes_Check(blob)) {
        PyErr_Clear();
        Py_XDECREF(blob);
        return -1;
    }
    size_t n = (size_t)PyBytes_GET_SIZE(blob);
    void *p = ftt_emit_blob(t, FT_REC_CODE_DEF, c->id, n);
    if (p)
        memcpy(p, PyBytes_AS_STRING(blob), n);
    Py_DECREF(blob);
    return p ? 0 : -1;
}

struct ftt_code *ftt_code_slow(struct ftt_thread *t, PyObject *code, PyObject *globals)
{
    if (ftt.extra_index < 0 || !PyCode_Check(code))
        return NULL;
    void *extra = NULL;
    if (ftt_code_get_extra(code, ftt.extra_index, &extra) < 0) {
        PyErr_Clear();
        return NULL;
    }
    struct ftt_code *c = extra;
    if (!c || c->session != ftt.session) {
        if (!c) {
            c = PyMem_RawCalloc(1, sizeof *c);
            if (!c || ftt_code_set_extra(code, ftt.extra_index, c) < 0) {
                PyErr_Clear();
                PyMem_RawFree(c);
                return NULL;
            }
        }
        if (!globals)
            globals = PyEval_GetGlobals();
        PyObject *module = globals ? PyDict_GetItemString(globals, "__name__") : NULL;
        const char *mod = module && PyUnicode_Check(module) ? PyUnicode_AsUTF8(module) : NULL;
        if (!mod)
            PyErr_Clear();
        c->session = ftt.session;
        c->id = ftt.next_code_id++;
        c->flags = decide_flags(code, mod);
        c->defined = 0;
        t->in_hook++;
        c->defined = write_def(t, c, code, module && PyUnicode_Check(module) ? module : NULL) == 0;
        t->in_hook--;
        return c;
    }
    /* Known, but its definition was dropped: try again unless dropping. */
    if (!t->chunk && t->retry_in)
        return c;
    t->in_hook++;
    c->defined = write_def(t, c, code, NULL) == 0;
    t->in_hook--;
    return c;
}

/* ---- C functions: pointer -> id, open addressing, never shrinks ---- */
struct func_slot { const void *key; uint32_t session; uint32_t id; };
static struct func_slot *funcs;
static size_t funcs_cap, funcs_used;

static const void *func_key(PyObject *f)
{
    if (PyCFunction_Check(f))
        return ((PyCFunctionObject *)f)->m_ml;
    return f;
}

static void func_name(PyObject *f, char *buf, size_t cap)
{
    if (PyCFunction_Check(f)) {
        PyCFunctionObject *cf = (PyCFunctionObject *)f;
        PyObject *self = cf->m_self;
        if (self && PyModule_Check(self)) {
            const char *m = PyModule_GetName(self);
            if (!m)
                PyErr_Clear();
            snprintf(buf, cap, "%s.%s", m ? m : "?", cf->m_ml->ml_name);
        } else if (self && self != Py_None) {
            snprintf(buf, cap, "%s.%s", Py_TYPE(self)->tp_name, cf->m_ml->ml_name);
        } else {
            snprintf(buf, cap, "%s", cf->m_ml->ml_name);
        }
    } else if (PyType_Check(f)) {
        snprintf(buf, cap, "%s", ((PyTypeObject *)f)->tp_name);
    } else {
        PyObject *q = PyObject_GetAttrString(f, "__qualname__");
        const char *s = q && PyUnicode_Check(q) ? PyUnicode_AsUTF8(q) : NULL;
        if (!s)
            PyErr_Clear();
        snprintf(buf, cap, "%s", s ? s : Py_TYPE(f)->tp_name);
        Py_XDECREF(q);
    }
}

static int funcs_grow(void)
{
    size_t cap = funcs_cap ? funcs_cap * 2 : 1024;
    struct func_slot *n = PyMem_RawCalloc(cap, sizeof *n);
    if (!n)
        return -1;
    for (size_t i = 0; i < funcs_cap; i++) {
        if (!funcs[i].key)
            continue;
        size_t j = ((uintptr_t)funcs[i].key >> 4) & (cap - 1);
        while (n[j].key)
            j = (j + 1) & (cap - 1);
        n[j] = funcs[i];
    }
    PyMem_RawFree(funcs);
    funcs = n;
    funcs_cap = cap;
    return 0;
}

uint32_t ftt_func_id(struct ftt_thread *t, PyObject *f)
{
    const void *key = func_key(f);
    if (funcs_used * 2 >= funcs_cap && funcs_grow() < 0)
        return 0;
    size_t j = ((uintptr_t)key >> 4) & (funcs_cap - 1);
    while (funcs[j].key && funcs[j].key != key)
        j = (j + 1) & (funcs_cap - 1);
    struct func_slot *s = &funcs[j];
    if (s->key == key && s->session == ftt.session)
        return s->id;
    if (!s->key)
        funcs_used++;
    s->key = key;
    s->session = ftt.session;
    s->id = ftt.next_func_id++;
    char name[256];
    t->in_hook++;
    func_name(f, name, sizeof name);
    t->in_hook--;
    ftt_emit_strings(t, FT_REC_FUNC_DEF, s->id, name, NULL);
    return s->id;
}

void ftt_codes_reset(void)
{
    ftt.next_code_id = 1;
    ftt.next_func_id = 1;
}
