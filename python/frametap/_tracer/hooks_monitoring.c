/*
 * Events on CPython 3.12+: sys.monitoring with C callbacks (METH_FASTCALL
 * functions, ~12-15 ns each). sys.monitoring is per interpreter, so every
 * thread, including those started before tracing, is covered at once.
 *
 * Code that is excluded returns sys.monitoring.DISABLE, so it costs nothing
 * afterwards - unless a depth-based filter (--within, --max-depth) needs
 * every call and return to keep count.
 */
#include "tracer.h"
#include "../common/pyhelp.h"

#if PY_VERSION_HEX >= 0x030C0000
#define Py_BUILD_CORE 1
#if PY_VERSION_HEX >= 0x030E0000
#include "internal/pycore_interpframe.h"
#include "internal/pycore_stackref.h"
#endif
#include "internal/pycore_frame.h"
#undef Py_BUILD_CORE
#include <string.h>

#define TOOL_NAME "frametap"
static int tool_id = -1;
static PyObject *monitoring;              /* sys.monitoring */

/* Event numbers are looked up by name: 3.14 renumbered them. */
static long event_bit(const char *name)
{
    return ft_monitoring_event(monitoring, name);
}

static PyObject *maybe_disable(const struct ftt_code *c)
{
    if ((c->flags & FTT_CODE_EXCLUDED) && !ftt.opt.within && !ftt.opt.max_depth)
        return Py_NewRef(ftt.disable);
    Py_RETURN_NONE;
}

/* The calling thread's state and the code's entry, or NULL (no event). */
static inline struct ftt_code *hook_code(PyObject *code, struct ftt_thread **tp)
{
    struct ftt_thread *t = ftt_thread();
    *tp = t;
    if (!t || t->in_hook)
        return NULL;
    return ftt_code(t, code, NULL);
}

static PyObject *enter(PyObject *code, unsigned kind)
{
    struct ftt_thread *t;
    struct ftt_code *c = hook_code(code, &t);
    if (!c)
        Py_RETURN_NONE;
    t->last_unwind = 0;
    if (ftt_enter(t, c))
        ftt_emit(t, kind, c->id, 0);
    if (t->name_tries && (ftt.opt.events & FT_EV_THREAD))
        ftt_thread_set_name(t);
    return maybe_disable(c);
}

/* Instruction offsets are small ints: read them without a call. */
static inline uint32_t small_int(PyObject *v)
{
    if (PyLong_CheckExact(v) && PyUnstable_Long_IsCompact((PyLongObject *)v))
        return (uint32_t)PyUnstable_Long_CompactValue((PyLongObject *)v);
    long n = PyLong_AsLong(v);
    if (n == -1 && PyErr_Occurred())
        PyErr_Clear();
    return n < 0 ? 0 : (uint32_t)n;
}

static PyObject *leave(PyObject *code, PyObject *offset, unsigned kind)
{
    struct ftt_thread *t;
    struct ftt_code *c = hook_code(code, &t);
    if (!c)
        Py_RETURN_NONE;
    t->last_unwind = kind == FT_REC_UNWIND;
    if (ftt_leave(t, c))
        ftt_emit(t, kind, c->id, small_int(offset));
    return kind == FT_REC_UNWIND ? Py_NewRef(Py_None) : maybe_disable(c);
}

#define ARGS PyObject *self, PyObject *const *args, Py_ssize_t nargs
#define UNUSED (void)self; (void)nargs

static PyObject *on_start(ARGS)  { UNUSED; return enter(args[0], FT_REC_CALL); }
static PyObject *on_resume(ARGS) { UNUSED; return enter(args[0], FT_REC_RESUME); }
static PyObject *on_throw(ARGS)  { UNUSED; enter(args[0], FT_REC_RESUME); Py_RETURN_NONE; }
static PyObject *on_return(ARGS) { UNUSED; return leave(args[0], args[1], FT_REC_RETURN); }
static PyObject *on_yield(ARGS)  { UNUSED; return leave(args[0], args[1], FT_REC_YIELD); }
static PyObject *on_unwind(ARGS) { UNUSED; return leave(args[0], args[1], FT_REC_UNWIND); }

static PyObject *on_line(ARGS)
{
    UNUSED;
    struct ftt_thread *t;
    struct ftt_code *c = hook_code(args[0], &t);
    if (!c)
        Py_RETURN_NONE;
    if (ftt_inside(t, c))
        ftt_emit(t, FT_REC_LINE, c->id, small_int(args[1]));
    return maybe_disable(c);
}

static PyObject *on_exception(PyObject *const *args, unsigned kind)
{
    struct ftt_thread *t;
    struct ftt_code *c = hook_code(args[0], &t);
    if (!c)
        Py_RETURN_NONE;
    /* An exception passing into a caller is reported as RAISE there too;
     * it is the same exception, already shown where it started. */
    int propagating = kind == FT_REC_RAISE && t->last_unwind;
    t->last_unwind = 0;
    if (!propagating && ftt_inside(t, c))
        ftt_emit_exception(t, kind, c->id, small_int(args[1]), args[2]);
    Py_RETURN_NONE;
}

static PyObject *on_raise(ARGS)   { UNUSED; return on_exception(args, FT_REC_RAISE); }
static PyObject *on_reraise(ARGS) { UNUSED; return on_exception(args, FT_REC_RERAISE); }
static PyObject *on_handled(ARGS) { UNUSED; return on_exception(args, FT_REC_HANDLED); }

static int is_python_callable(PyObject *f)
{
    if (PyMethod_Check(f))
        f = PyMethod_GET_FUNCTION(f);
    return PyFunction_Check(f);
}

static PyObject *on_c(PyObject *const *args, unsigned kind)
{
    struct ftt_thread *t = ftt_thread();
    if (!t || t->in_hook || is_python_callable(args[2]))
        Py_RETURN_NONE;
    if (ftt_outside_within(t))
        Py_RETURN_NONE;
    uint32_t id = ftt_func_id(t, args[2]);
    if (id)
        ftt_emit(t, kind, id, 0);
    Py_RETURN_NONE;
}

static PyObject *on_call(ARGS)     { UNUSED; return on_c(args, FT_REC_C_CALL); }
static PyObject *on_c_return(ARGS) { UNUSED; return on_c(args, FT_REC_C_RETURN); }
static PyObject *on_c_raise(ARGS)  { UNUSED; return on_c(args, FT_REC_C_RAISE); }

/* The value stack of the running frame. 3.14+ keeps its stack pointer in
 * the frame during an INSTRUCTION event; 3.12/3.13 do not (stacktop is -1
 * there), so the depth comes from the compiler's own stack effects, worked
 * out once per code object by frametap._codeinfo.stack_depths. */
#if PY_VERSION_HEX < 0x030E0000
static Py_ssize_t stack_depth_static(struct ftt_code *c, PyObject *code, int offset)
{
    if (!c->depths) {
        PyObject *b = PyObject_CallOneArg(ftt.stack_depths, code);
        if (!b || !PyBytes_Check(b)) {
            PyErr_Clear();
            Py_XDECREF(b);
            return -1;
        }
        c->ndepths = PyBytes_GET_SIZE(b) / 2;
        c->depths = PyMem_RawMalloc((size_t)c->ndepths * 2 + 2);
        if (c->depths)
            memcpy(c->depths, PyBytes_AS_STRING(b), (size_t)c->ndepths * 2);
        Py_DECREF(b);
        if (!c->depths)
            return -1;
    }
    Py_ssize_t unit = offset / 2;
    if (unit < 0 || unit >= c->ndepths || c->depths[unit] == 0xffff)
        return -1;
    return c->depths[unit];
}
#endif

static PyObject *on_instruction(ARGS)
{
    UNUSED;
    struct ftt_thread *t;
    struct ftt_code *c = hook_code(args[0], &t);
    if (!c)
        Py_RETURN_NONE;
    if (!ftt_inside(t, c))
        return maybe_disable(c);
    int offset = (int)small_int(args[1]);
    PyThreadState *ts = PyThreadState_Get();
    PyCodeObject *co = (PyCodeObject *)args[0];
    PyObject *items[64];
    Py_ssize_t depth = -1;
#if PY_VERSION_HEX >= 0x030E0000
    _PyInterpreterFrame *f = ts->current_frame;
    if (f && f->stackpointer) {
        _PyStackRef *base = f->localsplus + co->co_nlocalsplus;
        depth = f->stackpointer - base;
        if (depth < 0 || depth > 4096)
            depth = -1;
        Py_ssize_t first = depth > 64 ? depth - 64 : 0;
        for (Py_ssize_t i = first; i < depth; i++) {
            _PyStackRef r = base[i];
            items[i - first] = PyStackRef_IsNull(r) ? NULL
                             : PyStackRef_IsTaggedInt(r) ? (PyObject *)1
                             : PyStackRef_AsPyObjectBorrow(r);
        }
        if (depth > 64)
            depth = 64;
    }
#else
#  if PY_VERSION_HEX >= 0x030D0000
    _PyInterpreterFrame *f = ts->current_frame;
#  else
    _PyInterpreterFrame *f = ts->cframe->current_frame;
#  endif
    depth = stack_depth_static(c, args[0], offset);
    if (f && depth >= 0 && depth <= co->co_stacksize) {
        PyObject **base = f->localsplus + co->co_nlocalsplus;
        Py_ssize_t first = depth > 64 ? depth - 64 : 0;
        for (Py_ssize_t i = first; i < depth; i++)
            items[i - first] = base[i];
        if (depth > 64)
            depth = 64;
    } else {
        depth = -1;
    }
#endif
    ftt_emit_opcode(t, c, args[0], offset, items, depth);
    Py_RETURN_NONE;
}

struct callback { const char *name; PyCFunction fn; const char *event; uint32_t when; };
static const struct callback callbacks[] = {
    { "py_start",  (PyCFunction)(void (*)(void))on_start,  "PY_START",  FT_EV_CALL },
    { "py_resume", (PyCFunction)(void (*)(void))on_resume, "PY_RESUME", FT_EV_CALL },
    { "py_throw",  (PyCFunction)(void (*)(void))on_throw,  "PY_THROW",  FT_EV_CALL },
    { "py_return", (PyCFunction)(void (*)(void))on_return, "PY_RETURN", FT_EV_CALL },
    { "py_yield",  (PyCFunction)(void (*)(void))on_yield,  "PY_YIELD",  FT_EV_CALL },
    { "py_unwind", (PyCFunction)(void (*)(void))on_unwind, "PY_UNWIND", FT_EV_CALL },
    { "line",      (PyCFunction)(void (*)(void))on_line,   "LINE",      FT_EV_LINE },
    { "instruction", (PyCFunction)(void (*)(void))on_instruction, "INSTRUCTION", FT_EV_OPCODE },
    { "raise",     (PyCFunction)(void (*)(void))on_raise,   "RAISE",   FT_EV_EXCEPTION },
    { "reraise",   (PyCFunction)(void (*)(void))on_reraise, "RERAISE", FT_EV_EXCEPTION },
    { "handled",   (PyCFunction)(void (*)(void))on_handled, "EXCEPTION_HANDLED", FT_EV_EXCEPTION },
    { "call",      (PyCFunction)(void (*)(void))on_call,     "CALL",     FT_EV_C },
    { "c_return",  (PyCFunction)(void (*)(void))on_c_return, "C_RETURN", FT_EV_C },
    { "c_raise",   (PyCFunction)(void (*)(void))on_c_raise,  "C_RAISE",  FT_EV_C },
};
#define NCALLBACKS (sizeof callbacks / sizeof callbacks[0])
static PyMethodDef defs[NCALLBACKS];

/* Depth filters need calls and returns even when only lines are asked for. */
static uint32_t wanted_events(void)
{
    uint32_t ev = ftt.opt.events;
    if (ev & (FT_EV_LINE | FT_EV_OPCODE | FT_EV_EXCEPTION | FT_EV_C))
        if (ftt.opt.within || ftt.opt.max_depth)
            ev |= FT_EV_CALL;
    return ev;
}

static int claim_tool(void)
{
    static const int preferred[] = { 2, 5, 4, 3 };   /* PROFILER_ID first */
    return ft_monitoring_claim(monitoring, preferred, 4, TOOL_NAME);
}

static int register_all(uint32_t want, long *mask)
{
    *mask = 0;
    for (size_t i = 0; i < NCALLBACKS; i++) {
        if (!(want & callbacks[i].when))
            continue;
        defs[i] = (PyMethodDef){ callbacks[i].name, callbacks[i].fn, METH_FASTCALL, NULL };
        long bit = event_bit(callbacks[i].event);
        PyObject *fn = bit > 0 ? PyCFunction_New(&defs[i], NULL) : NULL;
        PyObject *r = fn ? PyObject_CallMethod(monitoring, "register_callback", "ilO",
                                               tool_id, bit, fn) : NULL;
        Py_XDECREF(fn);
        if (!r)
            return -1;
        Py_DECREF(r);
        *mask |= bit;
    }
    return 0;
}

static int ftt_hooks_prepare(void)
{
    if (!monitoring) {
        monitoring = ft_sys_monitoring();
        if (!monitoring)
            return -1;
    }
    Py_XSETREF(ftt.disable, PyObject_GetAttrString(monitoring, "DISABLE"));
    if (!ftt.disable)
        return -1;
    tool_id = claim_tool();
    return tool_id < 0 ? -1 : 0;
}

/* ---- a lazy --within: global events only while a window is open ---- */
static long window_mask;           /* the events of an open window */
static int windows;                /* threads inside a --within call */
static PyObject *watched;          /* list: code objects with local events */

static int set_global(long mask)
{
    PyObject *r = PyObject_CallMethod(monitoring, "set_events", "il", tool_id, mask);
    Py_XDECREF(r);
    if (!r)
        PyErr_Clear();
    return r ? 0 : -1;
}

void ftt_window_open(struct ftt_thread *t)
{
    if (windows++ == 0) {
        t->in_hook++;
        set_global(window_mask);
        t->in_hook--;
    }
}

void ftt_window_close(struct ftt_thread *t)
{
    if (windows > 0 && --windows == 0) {
        t->in_hook++;
        set_global(0);
        t->in_hook--;
    }
}

int ftt_within_code(PyObject *code)
{
    if (tool_id < 0 || !PyCode_Check(code))
        return -1;
    long ev = ft_monitoring_event(monitoring, "PY_START") | ft_monitoring_event(monitoring, "PY_RESUME");
    PyObject *r = PyObject_CallMethod(monitoring, "set_local_events", "iOl", tool_id, code, ev);
    Py_XDECREF(r);
    if (!r)
        return -1;
    if (!watched && !(watched = PyList_New(0)))
        return -1;
    return PyList_Append(watched, code);
}

void ftt_within_entered(void) {}

static void unwatch(void)
{
    for (Py_ssize_t i = 0; watched && i < PyList_GET_SIZE(watched); i++) {
        PyObject *r = PyObject_CallMethod(monitoring, "set_local_events", "iOi", tool_id,
                                          PyList_GET_ITEM(watched, i), 0);
        Py_XDECREF(r);
    }
    Py_CLEAR(watched);
    PyErr_Clear();
}

int ftt_hooks_start(void)
{
    if (ftt_hooks_prepare() < 0)
        return -1;
    long mask;
    PyObject *r = PyObject_CallMethod(monitoring, "restart_events", NULL);
    Py_XDECREF(r);
    if (!r || register_all(wanted_events(), &mask) < 0)
        return -1;
    window_mask = mask;
    windows = 0;
    /* lazy --within: nothing global until a --within call starts */
    return set_global(ftt.opt.lazy_within ? 0 : mask);
}

void ftt_hooks_stop(void)
{
    if (tool_id < 0)
        return;
    unwatch();
    windows = 0;
    PyObject *r = PyObject_CallMethod(monitoring, "set_events", "ii", tool_id, 0);
    Py_XDECREF(r);
    for (size_t i = 0; i < NCALLBACKS; i++) {
        long bit = event_bit(callbacks[i].event);
        r = bit > 0 ? PyObject_CallMethod(monitoring, "register_callback", "ilO", tool_id,
                                          bit, Py_None) : NULL;
        Py_XDECREF(r);
    }
    r = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool_id);
    Py_XDECREF(r);
    PyErr_Clear();
    tool_id = -1;
}

/* ---- the floor: a C callback that only counts (for bench/) ---- */
static long long floor_count;
static PyObject *floor_cb(ARGS) { UNUSED; (void)args; floor_count++; Py_RETURN_NONE; }
static PyMethodDef floor_def = { "floor", (PyCFunction)(void (*)(void))floor_cb, METH_FASTCALL, NULL };

int ftt_floor_start(void)
{
    if (ftt_hooks_prepare() < 0)
        return -1;
    static const char *const events[] = { "PY_START", "PY_RESUME", "PY_RETURN", "PY_YIELD",
                                          "PY_UNWIND" };
    long mask = 0;
    for (size_t i = 0; i < sizeof events / sizeof events[0]; i++) {
        long bit = event_bit(events[i]);
        PyObject *fn = bit > 0 ? PyCFunction_New(&floor_def, NULL) : NULL;
        PyObject *r = fn ? PyObject_CallMethod(monitoring, "register_callback", "ilO",
                                               tool_id, bit, fn) : NULL;
        Py_XDECREF(fn);
        if (!r)
            return -1;
        Py_DECREF(r);
        mask |= bit;
    }
    floor_count = 0;
    PyObject *r = PyObject_CallMethod(monitoring, "set_events", "il", tool_id, mask);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

long long ftt_floor_stop(void)
{
    ftt_hooks_stop();
    return floor_count;
}
#endif
