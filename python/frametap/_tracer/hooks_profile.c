/*
 * Events on CPython 3.8-3.11: PyEval_SetProfile / PyEval_SetTrace with C
 * functions. These hooks are per thread, so starting installs them in every
 * existing thread state, and threading.setprofile/settrace get a small
 * bootstrap that installs them in each thread threading starts later.
 * The trace hook (lines, opcodes, exceptions) is installed only when one of
 * those is asked for: it makes every line cost a call.
 *
 * Frame fields differ by version; each difference is one small function
 * below with its #if, never an if-ladder inside a hook.
 */
#include "tracer.h"

#if PY_VERSION_HEX < 0x030C0000
#include <frameobject.h>
#include <opcode.h>
#define Py_BUILD_CORE 1
#if PY_VERSION_HEX >= 0x030B0000
#include "internal/pycore_frame.h"
#elif PY_VERSION_HEX < 0x03090000
#include "internal/pycore_pystate.h"
#endif
#undef Py_BUILD_CORE

/* ---- frame access, by version ---- */

#if PY_VERSION_HEX >= 0x030B0000
static PyObject *frame_code(PyFrameObject *f)    { return (PyObject *)f->f_frame->f_code; }
static PyObject *frame_globals(PyFrameObject *f) { return f->f_frame->f_globals; }
static int frame_lasti_units(PyFrameObject *f)   { return _PyInterpreterFrame_LASTI(f->f_frame); }
#else
static PyObject *frame_code(PyFrameObject *f)    { return (PyObject *)f->f_code; }
static PyObject *frame_globals(PyFrameObject *f) { return f->f_globals; }
#  if PY_VERSION_HEX >= 0x030A0000
static int frame_lasti_units(PyFrameObject *f)   { return f->f_lasti; }
#  else
static int frame_lasti_units(PyFrameObject *f)   { return f->f_lasti < 0 ? -1 : f->f_lasti / 2; }
#  endif
#endif

static uint32_t frame_offset(PyFrameObject *f)
{
    int units = frame_lasti_units(f);
    return units < 0 ? 0 : (uint32_t)units * 2;
}

/* A CALL event for a generator or coroutine that already ran: a resume. */
static int call_is_resume(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    int units = frame_lasti_units(f);        /* at RESUME; its oparg is 0 on first entry */
    PyCodeObject *co = f->f_frame->f_code;
    return units >= 0 && (_PyCode_CODE(co)[units] >> 8) != 0;
#else
    return frame_lasti_units(f) >= 0;
#endif
}

/* A RETURN event with a value: suspended at a yield (or await), or done? */
static int return_is_yield(PyFrameObject *f)
{
#if PY_VERSION_HEX >= 0x030B0000
    int units = frame_lasti_units(f);
    PyCodeObject *co = f->f_frame->f_code;
    return units >= 0 && (_PyCode_CODE(co)[units] & 0xff) == YIELD_VALUE;
#elif PY_VERSION_HEX >= 0x030A0000
    return f->f_state == FRAME_SUSPENDED;
#else
    return f->f_stacktop != NULL;
#endif
}

/* The value stack during an opcode trace event (the interpreter saved its
 * stack pointer into the frame before calling us). */
static Py_ssize_t frame_stack(PyFrameObject *f, PyObject ***items)
{
#if PY_VERSION_HEX >= 0x030B0000
    _PyInterpreterFrame *fr = f->f_frame;
    int nlocals = fr->f_code->co_nlocalsplus;
    *items = fr->localsplus + nlocals;
    return fr->stacktop >= nlocals ? fr->stacktop - nlocals : -1;
#elif PY_VERSION_HEX >= 0x030A0000
    *items = f->f_valuestack;
    return f->f_stackdepth;
#else
    *items = f->f_valuestack;
    return f->f_stacktop ? f->f_stacktop - f->f_valuestack : -1;
#endif
}

/* ---- installing hooks in a thread state other than our own ---- */

#if PY_VERSION_HEX >= 0x03090000
static void set_profile(PyThreadState *ts, Py_tracefunc fn)
{
    if (_PyEval_SetProfile(ts, fn, NULL) < 0)
        PyErr_Clear();
}
static void set_trace(PyThreadState *ts, Py_tracefunc fn)
{
    if (_PyEval_SetTrace(ts, fn, NULL) < 0)
        PyErr_Clear();
}
#else
/* 3.8 has no per-thread-state setter: do what PyEval_SetProfile/SetTrace do. */
static void set_profile(PyThreadState *ts, Py_tracefunc fn)
{
    Py_CLEAR(ts->c_profileobj);
    ts->c_profilefunc = fn;
    ts->use_tracing = (fn != NULL) || (ts->c_tracefunc != NULL);
}
static void set_trace(PyThreadState *ts, Py_tracefunc fn)
{
    _PyRuntime.ceval.tracing_possible += (fn != NULL) - (ts->c_tracefunc != NULL);
    Py_CLEAR(ts->c_traceobj);
    ts->c_tracefunc = fn;
    ts->use_tracing = (fn != NULL) || (ts->c_profilefunc != NULL);
}
#endif

/* ---- the hooks ---- */

static int prof_hook(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);
static int trace_hook(PyObject *obj, PyFrameObject *f, int what, PyObject *arg);

static int need_trace(void)
{
    return (ftt.opt.events & (FT_EV_LINE | FT_EV_OPCODE | FT_EV_EXCEPTION)) != 0;
}

static int prof_hook(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    (void)obj;
    struct ftt_thread *t = ftt_thread();
    if (!t || t->in_hook)
        return 0;
    if (what == PyTrace_CALL || what == PyTrace_RETURN) {
        struct ftt_code *c = ftt_code(t, frame_code(f), frame_globals(f));
        if (!c)
            return 0;
        if (what == PyTrace_CALL) {
            t->last_unwind = 0;
            if (ftt_enter(t, c) && (ftt.opt.events & FT_EV_CALL))
                ftt_emit(t, call_is_resume(f) ? FT_REC_RESUME : FT_REC_CALL, c->id, 0);
            if (t->name_tries && (ftt.opt.events & FT_EV_THREAD))
                ftt_thread_set_name(t);
        } else {
            unsigned kind = arg == NULL ? FT_REC_UNWIND
                          : return_is_yield(f) ? FT_REC_YIELD : FT_REC_RETURN;
            t->last_unwind = kind == FT_REC_UNWIND;
            if (ftt_leave(t, c) && (ftt.opt.events & FT_EV_CALL))
                ftt_emit(t, kind, c->id, frame_offset(f));
        }
        return 0;
    }
    if (!(ftt.opt.events & FT_EV_C) || ftt_outside_within(t))
        return 0;
    uint32_t id = ftt_func_id(t, arg);
    unsigned kind = what == PyTrace_C_CALL ? FT_REC_C_CALL
                  : what == PyTrace_C_RETURN ? FT_REC_C_RETURN : FT_REC_C_RAISE;
    if (id)
        ftt_emit(t, kind, id, 0);
    return 0;
}

/* 3.8-3.11 report an exception in every frame it passes through; 3.12+
 * once where raised. Reported here the 3.12 way: a RAISE only where it
 * starts (not right after a frame was left by it), HANDLED when the frame
 * it is in carries on (next line, or a normal return). */
static void on_exception_event(struct ftt_thread *t, struct ftt_code *c, PyFrameObject *f,
                               PyObject *arg)
{
    if (!t->last_unwind && ftt_inside(t, c)) {
        PyObject *type = arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) > 0
                       ? PyTuple_GET_ITEM(arg, 0) : NULL;
        ftt_emit_exception(t, FT_REC_RAISE, c->id, frame_offset(f), type);
    }
    if (!t->last_unwind && arg && PyTuple_Check(arg) && PyTuple_GET_SIZE(arg) > 0) {
        PyObject *type = PyTuple_GET_ITEM(arg, 0);
        Py_INCREF(type);
        Py_XSETREF(t->exc_type, type);
    }
    t->last_unwind = 0;
    t->exc_frame = f;
}

static void maybe_handled(struct ftt_thread *t, struct ftt_code *c, PyFrameObject *f)
{
    if (t->exc_frame != f)
        return;
    t->exc_frame = NULL;
    if (ftt_inside(t, c))
        ftt_emit_exception(t, FT_REC_HANDLED, c->id, frame_offset(f), t->exc_type);
    Py_CLEAR(t->exc_type);
}

static int trace_hook(PyObject *obj, PyFrameObject *f, int what, PyObject *arg)
{
    (void)obj;
    struct ftt_thread *t = ftt_thread();
    if (!t || t->in_hook)
        return 0;
    struct ftt_code *c = ftt_code(t, frame_code(f), frame_globals(f));
    if (!c)
        return 0;
    uint32_t ev = ftt.opt.events;
    switch (what) {
    case PyTrace_CALL:
        f->f_trace_opcodes = (ev & FT_EV_OPCODE) != 0;
        f->f_trace_lines = (ev & (FT_EV_LINE | FT_EV_EXCEPTION)) != 0;
        break;
    case PyTrace_LINE:
        t->last_unwind = 0;
        if (ev & FT_EV_EXCEPTION)
            maybe_handled(t, c, f);
        if ((ev & FT_EV_LINE) && ftt_inside(t, c))
            ftt_emit(t, FT_REC_LINE, c->id, (uint32_t)PyFrame_GetLineNumber(f));
        break;
    case PyTrace_RETURN:
        if (t->exc_frame == f) {
            if (arg && (ev & FT_EV_EXCEPTION))
                maybe_handled(t, c, f);
            t->exc_frame = NULL;
        }
        break;
    case PyTrace_EXCEPTION:
        if (ev & FT_EV_EXCEPTION)
            on_exception_event(t, c, f, arg);
        break;
    case PyTrace_OPCODE:
        if (t->skip_opcode) {
            t->skip_opcode = 0;
            break;
        }
        if ((ev & FT_EV_OPCODE) && ftt_inside(t, c)) {
            PyObject **items;
            Py_ssize_t depth = frame_stack(f, &items);
            ftt_emit_opcode(t, c, frame_code(f), (int)frame_offset(f), items, depth);
        }
        break;
    }
    return 0;
}

/* ---- threads threading starts later: a one-shot bootstrap ---- */

static PyObject *bootstrap(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *frame, *event, *arg;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    if (!ftt.active)
        Py_RETURN_NONE;
    PyThreadState *ts = PyThreadState_Get();
    if (need_trace())
        set_trace(ts, trace_hook);
    set_profile(ts, prof_hook);
    /* The event that brought us here: a trace bootstrap sees it before the
     * profile hook does (which now is ours and will see it too). */
    if (PyFrame_Check(frame) && PyUnicode_Check(event)
        && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        trace_hook(NULL, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

static PyMethodDef bootstrap_def = { "_frametap_thread_bootstrap", bootstrap, METH_VARARGS, NULL };
static PyObject *bootstrap_fn;

static int threading_hooks(PyObject *fn)
{
    PyObject *threading = PyImport_ImportModule("threading");
    if (!threading)
        return -1;
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", fn);
    Py_XDECREF(r);
    if (r && (need_trace() || fn == Py_None)) {
        r = PyObject_CallMethod(threading, "settrace", "O", fn);
        Py_XDECREF(r);
    }
    Py_DECREF(threading);
    return r ? 0 : -1;
}

static void for_all_threads(Py_tracefunc prof, Py_tracefunc trace, int do_trace)
{
    PyInterpreterState *interp = PyThreadState_Get()->interp;
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts)) {
        if (do_trace)
            set_trace(ts, trace);
        set_profile(ts, prof);
    }
}

/* ---- a lazy --within: hooks on a thread only while it is inside ---- */

void ftt_window_open(struct ftt_thread *t)
{
    (void)t;
    PyThreadState *ts = PyThreadState_Get();
    if (need_trace())
        set_trace(ts, trace_hook);
    set_profile(ts, prof_hook);
}

void ftt_window_close(struct ftt_thread *t)
{
    (void)t;
    PyThreadState *ts = PyThreadState_Get();
    set_profile(ts, NULL);
    if (need_trace())
        set_trace(ts, NULL);
}

int ftt_within_code(PyObject *code)
{
    (void)code;
    return 0;
}

/* The probe at a --within function's entry: the call already began, so
 * its event is made here; the hooks then see the rest of the window. */
void ftt_within_entered(void)
{
    struct ftt_thread *t = ftt_thread();
    PyFrameObject *f = PyEval_GetFrame();
    if (!ftt.active || !t || t->in_hook || !f || t->within_depth >= 0)
        return;
    struct ftt_code *c = ftt_code(t, frame_code(f), frame_globals(f));
    if (!c || !(c->flags & FTT_CODE_WITHIN))
        return;
    t->depth = 0;
    t->last_unwind = 0;
    if (ftt_enter(t, c) && (ftt.opt.events & FT_EV_CALL))   /* opens the window */
        ftt_emit(t, FT_REC_CALL, c->id, 0);                  /* at its entry: a call */
    if (need_trace())
        trace_hook(NULL, f, PyTrace_CALL, Py_None);          /* line events in this frame */
    if ((ftt.opt.events & FT_EV_LINE) && ftt_inside(t, c))  /* we are at its first line */
        ftt_emit(t, FT_REC_LINE, c->id, (uint32_t)PyFrame_GetLineNumber(f));
    t->skip_opcode = 1;            /* the POP_TOP after this call is frametap's */
}

int ftt_hooks_start(void)
{
    if (ftt.opt.lazy_within)
        return 0;              /* hooks come with the first --within call */
    if (!bootstrap_fn)
        bootstrap_fn = PyCFunction_New(&bootstrap_def, NULL);
    if (!bootstrap_fn || threading_hooks(bootstrap_fn) < 0)
        return -1;
    for_all_threads(prof_hook, trace_hook, need_trace());
    return 0;
}

void ftt_hooks_stop(void)
{
    for_all_threads(NULL, NULL, 1);
    if (threading_hooks(Py_None) < 0)
        PyErr_Clear();
}

/* ---- the floor: a C profile function that only counts (for bench/) ---- */
static long long floor_count;
static int floor_hook(PyObject *o, PyFrameObject *f, int what, PyObject *arg)
{
    (void)o; (void)f; (void)what; (void)arg;
    floor_count++;
    return 0;
}

int ftt_floor_start(void)
{
    floor_count = 0;
    PyEval_SetProfile(floor_hook, NULL);
    return 0;
}

long long ftt_floor_stop(void)
{
    PyEval_SetProfile(NULL, NULL);
    return floor_count;
}
#endif
