/*
 * monitor.c - probes on CPython 3.12+: sys.monitoring LINE (and PY_START
 * for function-entry probes) turned on only for the code objects that hold
 * a probe (set_local_events), never globally. A line of such a code object
 * without a probe returns DISABLE the first time it runs, so it costs
 * nothing after; setting a code object's events again (0, then the new
 * set) re-arms lines disabled earlier. Never touches other code objects.
 */
#include "probe.h"
#include "../common/pyhelp.h"

#if PY_VERSION_HEX >= 0x030C0000
#include <string.h>

struct armed {
    PyObject *code;          /* strong reference; NULL: free slot */
    PyObject *lines;         /* dict: line (int) -> tuple of probes */
    PyObject *entry;         /* tuple of probes, or NULL */
};

static struct armed *table;
static size_t table_cap, table_used;
static PyObject *monitoring, *disable;
static int tool = -1;
static long ev_line, ev_start;

static struct armed *find(PyObject *code)
{
    if (!table_cap)
        return NULL;
    size_t i = ((uintptr_t)code >> 4) & (table_cap - 1);
    for (size_t n = 0; n < table_cap; n++, i = (i + 1) & (table_cap - 1)) {
        if (table[i].code == code)
            return &table[i];
        if (!table[i].code && !table[i].lines)
            return NULL;          /* never used: the end of the chain */
    }
    return NULL;
}

static struct armed *slot_for(PyObject *code)
{
    struct armed *a = find(code);
    if (a)
        return a;
    if ((table_used + 1) * 2 > table_cap) {
        size_t cap = table_cap ? table_cap * 2 : 64;
        struct armed *t = PyMem_RawCalloc(cap, sizeof *t);
        if (!t)
            return NULL;
        for (size_t i = 0; i < table_cap; i++) {
            if (!table[i].code)
                continue;
            size_t j = ((uintptr_t)table[i].code >> 4) & (cap - 1);
            while (t[j].code)
                j = (j + 1) & (cap - 1);
            t[j] = table[i];
        }
        PyMem_RawFree(table);
        table = t;
        table_cap = cap;
    }
    size_t i = ((uintptr_t)code >> 4) & (table_cap - 1);
    while (table[i].code)
        i = (i + 1) & (table_cap - 1);
    table_used++;
    table[i].code = Py_NewRef(code);
    return &table[i];
}

static void run_probes(PyObject *tuple, int entry)
{
    if (tuple && PyTuple_GET_SIZE(tuple))
        ftp_hit((ftp_probe *const *)&PyTuple_GET_ITEM(tuple, 0), PyTuple_GET_SIZE(tuple), entry);
}

static PyObject *on_line(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    struct armed *a = nargs >= 2 ? find(args[0]) : NULL;
    PyObject *probes = a && a->lines ? PyDict_GetItemWithError(a->lines, args[1]) : NULL;
    if (!probes) {
        PyErr_Clear();
        return Py_NewRef(disable);
    }
    run_probes(probes, 0);
    Py_RETURN_NONE;
}

static PyObject *on_start(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    struct armed *a = nargs >= 1 ? find(args[0]) : NULL;
    if (!a || !a->entry)
        return Py_NewRef(disable);
    run_probes(a->entry, 1);
    Py_RETURN_NONE;
}

static PyMethodDef line_def = { "frametap_probe_line", (PyCFunction)(void (*)(void))on_line,
                                METH_FASTCALL, NULL };
static PyMethodDef start_def = { "frametap_probe_start", (PyCFunction)(void (*)(void))on_start,
                                 METH_FASTCALL, NULL };


static int register_cb(long bit, PyMethodDef *def)
{
    PyObject *fn = PyCFunction_New(def, NULL);
    PyObject *r = fn ? PyObject_CallMethod(monitoring, "register_callback", "ilO", tool, bit, fn)
                     : NULL;
    Py_XDECREF(fn);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

static int prepare(void)
{
    if (tool >= 0)
        return 0;
    if (!monitoring) {
        monitoring = ft_sys_monitoring();
        if (!monitoring)
            return -1;
        disable = PyObject_GetAttrString(monitoring, "DISABLE");
        if (!disable)
            return -1;
    }
    static const int preferred[] = { 4, 3, 5, 2, 1 };   /* 0 is the debuggers' */
    tool = ft_monitoring_claim(monitoring, preferred, 5, "frametap-probe");
    if (tool < 0)
        return -1;
    ev_line = ft_monitoring_event(monitoring, "LINE");
    ev_start = ft_monitoring_event(monitoring, "PY_START");
    if (ev_line <= 0 || ev_start <= 0 || register_cb(ev_line, &line_def) < 0
        || register_cb(ev_start, &start_def) < 0) {
        ftp_monitor_stop();
        return -1;
    }
    return 0;
}

static int set_events(PyObject *code, long events)
{
    PyObject *r = PyObject_CallMethod(monitoring, "set_local_events", "iOl", tool, code, events);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

int ftp_monitor_set(PyObject *code, PyObject *lines, PyObject *entry)
{
    if (!PyCode_Check(code) || !PyDict_Check(lines) || (entry != Py_None && !PyTuple_Check(entry))) {
        PyErr_SetString(PyExc_TypeError, "monitor_set(code, {line: probes}, probes or None)");
        return -1;
    }
    if (prepare() < 0)
        return -1;
    struct armed *a = slot_for(code);
    if (!a)
        return -1;
    Py_XSETREF(a->lines, PyDict_Copy(lines));
    Py_CLEAR(a->entry);
    if (entry != Py_None && PyTuple_GET_SIZE(entry))
        a->entry = Py_NewRef(entry);
    long events = (PyDict_GET_SIZE(lines) ? ev_line : 0) | (a->entry ? ev_start : 0);
    /* 0 first: lines this tool DISABLEd earlier fire again */
    if (!a->lines || set_events(code, 0) < 0 || set_events(code, events) < 0)
        return -1;
    return 0;
}

int ftp_monitor_clear(PyObject *code)
{
    struct armed *a = find(code);
    if (!a)
        return 0;
    int rc = tool >= 0 ? set_events(code, 0) : 0;
    Py_CLEAR(a->lines);
    Py_CLEAR(a->entry);
    Py_CLEAR(a->code);
    a->lines = Py_NewRef(Py_None);     /* a tombstone keeps later chains reachable */
    table_used--;
    return rc;
}

void ftp_monitor_stop(void)
{
    if (tool < 0)
        return;
    for (size_t i = 0; i < table_cap; i++)
        if (table[i].code)
            ftp_monitor_clear(table[i].code);
    PyObject *r = PyObject_CallMethod(monitoring, "register_callback", "ilO", tool, ev_line, Py_None);
    Py_XDECREF(r);
    r = PyObject_CallMethod(monitoring, "register_callback", "ilO", tool, ev_start, Py_None);
    Py_XDECREF(r);
    r = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool);
    Py_XDECREF(r);
    PyErr_Clear();
    tool = -1;
}

#else
int ftp_monitor_set(PyObject *code, PyObject *lines, PyObject *entry)
{
    (void)code; (void)lines; (void)entry;
    PyErr_SetString(PyExc_RuntimeError, "sys.monitoring needs CPython 3.12+");
    return -1;
}
int ftp_monitor_clear(PyObject *code) { (void)code; return 0; }
void ftp_monitor_stop(void) {}
#endif
