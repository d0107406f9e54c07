/*
 * pyhelp.h - small helpers both in-process extensions (_tracer, _probe)
 * need the same way: keeping the program's pending exception untouched
 * around a hook, and sys.monitoring's module, tool ids and event numbers
 * (looked up by name: 3.14 renumbered them). Header-only (static inline):
 * each extension is its own .so.
 */
#ifndef FT_PYHELP_H
#define FT_PYHELP_H

#include <Python.h>

#if PY_VERSION_HEX >= 0x030C0000
#define FT_SAVE_ERROR    PyObject *ft_saved_exc = PyErr_GetRaisedException()
#define FT_RESTORE_ERROR PyErr_SetRaisedException(ft_saved_exc)
#else
#define FT_SAVE_ERROR    PyObject *ft_saved_t, *ft_saved_v, *ft_saved_tb; \
                         PyErr_Fetch(&ft_saved_t, &ft_saved_v, &ft_saved_tb)
#define FT_RESTORE_ERROR PyErr_Restore(ft_saved_t, ft_saved_v, ft_saved_tb)
#endif

/* sys.monitoring.events.<name>, or -1. */
static inline long ft_monitoring_event(PyObject *monitoring, const char *name)
{
    PyObject *events = PyObject_GetAttrString(monitoring, "events");
    PyObject *v = events ? PyObject_GetAttrString(events, name) : NULL;
    long bit = v ? PyLong_AsLong(v) : -1;
    Py_XDECREF(v);
    Py_XDECREF(events);
    if (bit < 0)
        PyErr_Clear();
    return bit;
}

/* sys.monitoring (a new reference), or NULL with an exception. */
static inline PyObject *ft_sys_monitoring(void)
{
    PyObject *sys = PyImport_ImportModule("sys");
    PyObject *m = sys ? PyObject_GetAttrString(sys, "monitoring") : NULL;
    Py_XDECREF(sys);
    return m;
}

/* The first free tool id of preferred[0..n), claimed as name; -1 with an
 * exception when every one is taken. */
static inline int ft_monitoring_claim(PyObject *monitoring, const int *preferred, int n,
                                      const char *name)
{
    for (int i = 0; i < n; i++) {
        PyObject *r = PyObject_CallMethod(monitoring, "use_tool_id", "is", preferred[i], name);
        if (r) {
            Py_DECREF(r);
            return preferred[i];
        }
        PyErr_Clear();
    }
    PyErr_SetString(PyExc_RuntimeError,
                    "frametap: every sys.monitoring tool id is taken by other tools");
    return -1;
}

#endif
