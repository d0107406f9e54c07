/*
 * layout_probe.c - prints one row of src/cpython/layouts_generated.h.
 *
 * Compiled once per CPython version against that version's own headers
 * (-DPy_BUILD_CORE, include/pythonX.Y/internal) by tools/gen_layouts.sh, so
 * every offset is the compiler's offsetof(), never a typed-in number. The
 * version differences live here, in #if blocks keyed on PY_VERSION_HEX; the
 * runtime reads only the generated table. Never run at frametap run time.
 */
#define Py_BUILD_CORE 1
#include <stddef.h>
#include <Python.h>
#include <frameobject.h>
#include <stdio.h>
#include <string.h>

#if PY_VERSION_HEX >= 0x030D0000
#  if PY_VERSION_HEX >= 0x030E0000
#    include "internal/pycore_debug_offsets.h"
#    include "internal/pycore_interpframe.h"
#    include "internal/pycore_stackref.h"
#  endif
#  include "internal/pycore_runtime.h"
#  include "internal/pycore_frame.h"
#elif PY_VERSION_HEX >= 0x03090000
#  include "internal/pycore_runtime.h"
#  include "internal/pycore_interp.h"
#  if PY_VERSION_HEX >= 0x030B0000
#    include "internal/pycore_frame.h"
#  endif
#else
#  include "internal/pycore_pystate.h"
#endif

#if PY_VERSION_HEX >= 0x030A0000
#  include "internal/pycore_moduleobject.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#  include "internal/pycore_dict.h"
#  include "internal/pycore_object.h"
#endif
#if PY_VERSION_HEX >= 0x030C0000
#  include "internal/pycore_long.h"
#endif
#if PY_VERSION_HEX >= 0x030B0000
#  include "internal/pycore_code.h"
#endif
#if PY_VERSION_HEX >= 0x030E0000
#  include "internal/pycore_genobject.h"
#  include "internal/pycore_llist.h"
#endif

#include "../src/cpython/offset_fields.h"

#if PY_VERSION_HEX < 0x030B0000
/* 3.8-3.10 keep the dict keys object and its entries in Objects/dict-common.h,
 * which is not installed with the headers. These mirror that file's
 * struct _dictkeysobject and PyDictKeyEntry field for field (only their
 * layout is used); tests/test_object_layouts.py checks every offset taken
 * from them against the real interpreter. */
struct mirror_dictkeys {
    Py_ssize_t dk_refcnt;
    Py_ssize_t dk_size;
    Py_ssize_t (*dk_lookup)(void);
    Py_ssize_t dk_usable;
    Py_ssize_t dk_nentries;
    char dk_indices[];
};

struct mirror_dictkeyentry {
    Py_hash_t me_hash;
    PyObject *me_key;
    PyObject *me_value;
};
#endif

#if PY_VERSION_HEX < 0x030A0000
/* 3.8-3.9 define PyModuleObject only in Objects/moduleobject.c: md_dict is
 * its first field after the object head. Checked against the interpreter by
 * tests/test_object_layouts.py. */
struct mirror_module {
    PyObject_HEAD
    PyObject *md_dict;
};
#endif

#if PY_VERSION_HEX < 0x030E0000
/* The C Task of the _asyncio module (Modules/_asynciomodule.c, not an
 * installed header): FutureObj_HEAD and TaskObj as each version's source
 * has them, field for field, up to the fields frametap reads. 3.14+ publish
 * these offsets themselves (the .AsyncioDebug section). Checked against
 * live tasks of every interpreter by tests/test_object_layouts.py. */
typedef enum { MIRROR_PENDING, MIRROR_CANCELLED, MIRROR_FINISHED } mirror_fut_state;

#  if PY_VERSION_HEX < 0x03090000
#    define MIRROR_FUTURE_HEAD                                                 \
    PyObject_HEAD                                                            \
    PyObject *loop, *callback0, *context0, *callbacks, *exception, *result,  \
        *source_tb;                                                          \
    mirror_fut_state state;                                                  \
    int log_tb, blocking;                                                    \
    PyObject *dict, *weakreflist;
#  elif PY_VERSION_HEX < 0x030A0000
#    define MIRROR_FUTURE_HEAD                                                 \
    PyObject_HEAD                                                            \
    PyObject *loop, *callback0, *context0, *callbacks, *exception, *result,  \
        *source_tb, *cancel_msg;                                             \
    mirror_fut_state state;                                                  \
    int log_tb, blocking;                                                    \
    PyObject *dict, *weakreflist;                                            \
    _PyErr_StackItem cancelled_exc_state;
#  elif PY_VERSION_HEX < 0x030B0000
#    define MIRROR_FUTURE_HEAD                                                 \
    PyObject_HEAD                                                            \
    PyObject *loop, *callback0, *context0, *callbacks, *exception,           \
        *exception_tb, *result, *source_tb, *cancel_msg;                     \
    mirror_fut_state state;                                                  \
    int log_tb, blocking;                                                    \
    PyObject *dict, *weakreflist;                                            \
    _PyErr_StackItem cancelled_exc_state;
#  elif PY_VERSION_HEX < 0x030D0000
#    define MIRROR_FUTURE_HEAD                                                 \
    PyObject_HEAD                                                            \
    PyObject *loop, *callback0, *context0, *callbacks, *exception,           \
        *exception_tb, *result, *source_tb, *cancel_msg;                     \
    mirror_fut_state state;                                                  \
    int log_tb, blocking;                                                    \
    PyObject *dict, *weakreflist, *cancelled_exc;
#  else
#    define MIRROR_FUTURE_HEAD                                                 \
    PyObject_HEAD                                                            \
    PyObject *loop, *callback0, *context0, *callbacks, *exception,           \
        *exception_tb, *result, *source_tb, *cancel_msg, *cancelled_exc;     \
    mirror_fut_state state;                                                  \
    unsigned log_tb : 1;                                                     \
    unsigned blocking : 1;
#  endif

struct mirror_task {
    MIRROR_FUTURE_HEAD
#  if PY_VERSION_HEX >= 0x030D0000
    unsigned must_cancel : 1;
    unsigned log_destroy_pending : 1;
    int num_cancels_requested;
#  endif
    PyObject *task_fut_waiter, *task_coro, *task_name, *task_context;
#  if PY_VERSION_HEX < 0x030D0000
    int must_cancel, log_destroy_pending;
#    if PY_VERSION_HEX >= 0x030B0000
    int num_cancels_requested;
#    endif
#  endif
};
#endif

#define ABSENT FT_ABSENT
#define OFF(type, member) ((uint64_t)offsetof(type, member))
#define DBG(member) ((uint64_t)offsetof(_Py_DebugOffsets, member))

static void fill_runtime_and_threads(struct ft_offsets *o)
{
    o->runtime_interpreters_head = OFF(_PyRuntimeState, interpreters.head);
    o->runtime_interpreters_main = OFF(_PyRuntimeState, interpreters.main);
#if PY_VERSION_HEX >= 0x030B0000
    o->runtime_main_interpreter = OFF(_PyRuntimeState, _main_interpreter);
#endif
#if PY_VERSION_HEX < 0x030C0000
    o->runtime_tstate_current = OFF(_PyRuntimeState, gilstate.tstate_current);
#else
    o->interp_gil_locked = OFF(PyInterpreterState, _gil.locked);
    o->interp_gil_holder = OFF(PyInterpreterState, _gil.last_holder);
#endif
#if PY_VERSION_HEX >= 0x030E0000
    o->interp_code_generation = OFF(PyInterpreterState, _code_object_generation);
#endif
#if PY_VERSION_HEX >= 0x03090000
    o->interp_gc_collecting = OFF(PyInterpreterState, gc.collecting);
#else
    o->runtime_gc_collecting = OFF(_PyRuntimeState, gc.collecting);
#endif
#if PY_VERSION_HEX >= 0x030F0000
    o->interp_gc_frame = OFF(PyInterpreterState, gc.frame);
#endif
    o->interp_next = OFF(PyInterpreterState, next);
    o->interp_id = OFF(PyInterpreterState, id);
#if PY_VERSION_HEX >= 0x03090000
    o->interp_runtime = OFF(PyInterpreterState, runtime);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    o->interp_threads_head = OFF(PyInterpreterState, threads.head);
#else
    o->interp_threads_head = OFF(PyInterpreterState, tstate_head);
#endif
    o->tstate_next = OFF(PyThreadState, next);
    o->tstate_interp = OFF(PyThreadState, interp);
    o->tstate_thread_id = OFF(PyThreadState, thread_id);
#if PY_VERSION_HEX >= 0x030B0000
    o->tstate_native_thread_id = OFF(PyThreadState, native_thread_id);
    o->tstate_datastack_chunk = OFF(PyThreadState, datastack_chunk);
    o->tstate_datastack_top = OFF(PyThreadState, datastack_top);
    o->tstate_datastack_limit = OFF(PyThreadState, datastack_limit);
    o->stackchunk_previous = OFF(_PyStackChunk, previous);
    o->stackchunk_size = OFF(_PyStackChunk, size);
    o->stackchunk_top = OFF(_PyStackChunk, top);
    o->stackchunk_data = OFF(_PyStackChunk, data);
#endif
}

static void fill_frames(struct ft_offsets *o, struct ft_consts *c)
{
#if PY_VERSION_HEX < 0x030B0000
    o->tstate_frame = OFF(PyThreadState, frame);
    o->pyframe_back = OFF(PyFrameObject, f_back);
    o->pyframe_code = OFF(PyFrameObject, f_code);
    o->pyframe_lasti = OFF(PyFrameObject, f_lasti);
    c->lasti_unit = PY_VERSION_HEX >= 0x030A0000 ? 2 : 1;
#  if PY_VERSION_HEX >= 0x030A0000
    o->pyframe_state = OFF(PyFrameObject, f_state);
    c->pyframe_running = (uint64_t)(uint8_t)FRAME_EXECUTING;
#  else
    o->pyframe_state = OFF(PyFrameObject, f_executing);
    c->pyframe_running = 1;
#  endif
#else
#  if PY_VERSION_HEX < 0x030D0000
    o->tstate_cframe = OFF(PyThreadState, cframe);
    o->cframe_current_frame = OFF(_PyCFrame, current_frame);
    o->cframe_previous = OFF(_PyCFrame, previous);
    o->iframe_executable = OFF(_PyInterpreterFrame, f_code);
    o->iframe_instr = OFF(_PyInterpreterFrame, prev_instr);
#    if PY_VERSION_HEX < 0x030C0000
    o->iframe_is_entry = OFF(_PyInterpreterFrame, is_entry);
#    endif
#  else
    o->tstate_current_frame = OFF(PyThreadState, current_frame);
    o->iframe_executable = OFF(_PyInterpreterFrame, f_executable);
    o->iframe_instr = OFF(_PyInterpreterFrame, instr_ptr);
#  endif
    o->iframe_size = sizeof(_PyInterpreterFrame);
#  if PY_VERSION_HEX < 0x030E0000
    o->iframe_stacktop = OFF(_PyInterpreterFrame, stacktop);
#  endif
#  if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030E0000
    /* A behaviour, not a layout: _PyFrame_GetStackPointer() sets stacktop
     * to -1 when a frame (re)starts running and _PyFrame_SetStackPointer()
     * stores its depth before it pushes a callee (pycore_frame.h). 3.11
     * never resets it; 3.14 keeps a pointer that is reset only in debug
     * builds. */
    c->stacktop_running = 1;
#  endif
    c->generator_owner = FRAME_OWNED_BY_GENERATOR;
    c->thread_owner = FRAME_OWNED_BY_THREAD;
    o->iframe_previous = OFF(_PyInterpreterFrame, previous);
    o->iframe_owner = OFF(_PyInterpreterFrame, owner);
    o->iframe_localsplus = OFF(_PyInterpreterFrame, localsplus);
#endif
#if PY_VERSION_HEX >= 0x030E0000
    c->first_shim_owner = FRAME_OWNED_BY_INTERPRETER;
    c->stackref_tag_bits = Py_TAG_BITS;
#elif PY_VERSION_HEX >= 0x030C0000
    c->first_shim_owner = FRAME_OWNED_BY_CSTACK;
#endif
}

static void fill_objects(struct ft_offsets *o)
{
    o->code_size = sizeof(PyCodeObject);
    o->code_filename = OFF(PyCodeObject, co_filename);
    o->code_name = OFF(PyCodeObject, co_name);
    o->code_firstlineno = OFF(PyCodeObject, co_firstlineno);
    o->code_flags = OFF(PyCodeObject, co_flags);
#if PY_VERSION_HEX >= 0x030C0000
    o->code_version = OFF(PyCodeObject, co_version);
#endif
#if PY_VERSION_HEX >= 0x030B0000
    o->code_qualname = OFF(PyCodeObject, co_qualname);
    o->code_code_adaptive = OFF(PyCodeObject, co_code_adaptive);
#else
    o->code_code = OFF(PyCodeObject, co_code);
#endif
#if PY_VERSION_HEX >= 0x030A0000
    o->code_linetable = OFF(PyCodeObject, co_linetable);
#else
    o->code_linetable = OFF(PyCodeObject, co_lnotab);
#endif
    o->ob_refcnt = OFF(PyObject, ob_refcnt);
    o->ob_type = OFF(PyObject, ob_type);
    o->type_name = OFF(PyTypeObject, tp_name);
    o->unicode_state = OFF(PyASCIIObject, state);
    o->unicode_length = OFF(PyASCIIObject, length);
    o->unicode_ascii_size = sizeof(PyASCIIObject);
    o->unicode_compact_size = sizeof(PyCompactUnicodeObject);
    o->bytes_size = OFF(PyVarObject, ob_size);
    o->bytes_sval = OFF(PyBytesObject, ob_sval);
}

static void fill_types_and_modules(struct ft_offsets *o, struct ft_consts *c)
{
    o->type_flags = OFF(PyTypeObject, tp_flags);
    o->type_basicsize = OFF(PyTypeObject, tp_basicsize);
    o->type_dictoffset = OFF(PyTypeObject, tp_dictoffset);
    o->heaptype_cached_keys = OFF(PyHeapTypeObject, ht_cached_keys);
    c->tpflags_heaptype = Py_TPFLAGS_HEAPTYPE;
    c->tpflags_long_subclass = Py_TPFLAGS_LONG_SUBCLASS;
    c->tpflags_unicode_subclass = Py_TPFLAGS_UNICODE_SUBCLASS;
    c->tpflags_dict_subclass = Py_TPFLAGS_DICT_SUBCLASS;
#if PY_VERSION_HEX >= 0x030B0000
    c->tpflags_managed_dict = Py_TPFLAGS_MANAGED_DICT;
#endif
#if PY_VERSION_HEX >= 0x030D0000
    c->tpflags_inline_values = Py_TPFLAGS_INLINE_VALUES;
#endif
#if PY_VERSION_HEX >= 0x030C0000
    o->interp_modules = OFF(PyInterpreterState, imports.modules);
#else
    o->interp_modules = OFF(PyInterpreterState, modules);
#endif
#if PY_VERSION_HEX >= 0x030A0000
    o->module_dict = OFF(PyModuleObject, md_dict);
#else
    o->module_dict = OFF(struct mirror_module, md_dict);
#endif
}

static void fill_dicts(struct ft_offsets *o, struct ft_consts *c)
{
    o->dict_used = OFF(PyDictObject, ma_used);
    o->dict_keys = OFF(PyDictObject, ma_keys);
    o->dict_values = OFF(PyDictObject, ma_values);
#if PY_VERSION_HEX >= 0x030B0000
    o->dictkeys_log2_size = OFF(PyDictKeysObject, dk_log2_size);
    o->dictkeys_log2_index_bytes = OFF(PyDictKeysObject, dk_log2_index_bytes);
    o->dictkeys_kind = OFF(PyDictKeysObject, dk_kind);
    o->dictkeys_nentries = OFF(PyDictKeysObject, dk_nentries);
    o->dictkeys_indices = OFF(PyDictKeysObject, dk_indices);
    o->dict_entry_key = OFF(PyDictKeyEntry, me_key);
    o->dict_entry_value = OFF(PyDictKeyEntry, me_value);
    o->unicode_entry_key = OFF(PyDictUnicodeEntry, me_key);
    o->unicode_entry_value = OFF(PyDictUnicodeEntry, me_value);
    o->dictvalues_values = OFF(PyDictValues, values);
    c->dict_entry_size = sizeof(PyDictKeyEntry);
    c->unicode_entry_size = sizeof(PyDictUnicodeEntry);
    c->dict_kind_general = DICT_KEYS_GENERAL;
    c->dict_kind_unicode = DICT_KEYS_UNICODE;
    c->dict_kind_split = DICT_KEYS_SPLIT;
#else
    o->dictkeys_size = OFF(struct mirror_dictkeys, dk_size);
    o->dictkeys_nentries = OFF(struct mirror_dictkeys, dk_nentries);
    o->dictkeys_indices = OFF(struct mirror_dictkeys, dk_indices);
    o->dict_entry_key = OFF(struct mirror_dictkeyentry, me_key);
    o->dict_entry_value = OFF(struct mirror_dictkeyentry, me_value);
    c->dict_entry_size = sizeof(struct mirror_dictkeyentry);
    /* ma_values is a PyObject ** here: it points at the values themselves. */
    o->dictvalues_values = 0;
#endif
#if PY_VERSION_HEX >= 0x030D0000
    o->dictvalues_capacity = OFF(PyDictValues, capacity);
    o->dictvalues_valid = OFF(PyDictValues, valid);
#endif
}

#if PY_VERSION_HEX >= 0x030B0000
/* Where an instance keeps its managed dict (and, 3.11, its values): asked of
 * the headers' own accessors on a stand-in object whose type has the flag,
 * as a distance back from the object. */
static uint64_t before(const void *obj, const void *field)
{
    return (uint64_t)((const char *)obj - (const char *)field);
}

static void fill_managed_dict(struct ft_offsets *o, struct ft_consts *c)
{
    static PyTypeObject type;
    static void *words[16];
    PyObject *obj = (PyObject *)&words[8];
    type.tp_flags = Py_TPFLAGS_MANAGED_DICT;
    obj->ob_type = &type;
#  if PY_VERSION_HEX >= 0x030C0000 && PY_VERSION_HEX < 0x030D0000
    o->managed_dict_before = before(obj, _PyObject_DictOrValuesPointer(obj));
    /* The word holds a dict, or values marked by the bits that
     * _PyDictOrValues_IsValues() tests; _GetValues() says how to unmark. */
    for (unsigned bit = 0; bit < 3; bit++) {
        PyDictOrValues d = {.values = (char *)(uintptr_t)(1u << bit)};
        if (_PyDictOrValues_IsValues(d))
            c->managed_values_tag |= 1u << bit;
    }
    PyDictOrValues tagged = {.values = (char *)(uintptr_t)(0x1000 | c->managed_values_tag)};
    c->managed_values_delta = (uint64_t)((char *)_PyDictOrValues_GetValues(tagged) - tagged.values);
#  else
    o->managed_dict_before = before(obj, _PyObject_ManagedDictPointer(obj));
#  endif
#  if PY_VERSION_HEX < 0x030C0000
    o->managed_values_before = before(obj, _PyObject_ValuesPointer(obj));
#  endif
    (void)c;
}
#endif

static void fill_numbers(struct ft_offsets *o, struct ft_consts *c)
{
    o->float_value = OFF(PyFloatObject, ob_fval);
    c->long_shift = PyLong_SHIFT;
    c->long_digit_size = sizeof(digit);
#if PY_VERSION_HEX >= 0x030C0000
    o->long_tag = OFF(PyLongObject, long_value.lv_tag);
    o->long_digits = OFF(PyLongObject, long_value.ob_digit);
    c->long_non_size_bits = _PyLong_NON_SIZE_BITS;
    c->long_sign_mask = _PyLong_SIGN_MASK;
    c->long_sign_zero = SIGN_ZERO;
    c->long_sign_negative = SIGN_NEGATIVE;
#else
    o->long_size = OFF(PyVarObject, ob_size);
    o->long_digits = OFF(PyLongObject, ob_digit);
#endif
}

static unsigned lowest_bit_u64(uint64_t v);

/* What locals, containers and coroutines are read with. */
static void fill_locals_and_containers(struct ft_offsets *o, struct ft_consts *c)
{
    o->code_argcount = OFF(PyCodeObject, co_argcount);
    o->code_posonlyargcount = OFF(PyCodeObject, co_posonlyargcount);
    o->code_kwonlyargcount = OFF(PyCodeObject, co_kwonlyargcount);
    o->code_nlocals = OFF(PyCodeObject, co_nlocals);
    c->co_varargs = CO_VARARGS;
    c->co_varkeywords = CO_VARKEYWORDS;
#if PY_VERSION_HEX < 0x030B0000
    o->pyframe_localsplus = OFF(PyFrameObject, f_localsplus);
    o->pyframe_valuestack = OFF(PyFrameObject, f_valuestack);
#  if PY_VERSION_HEX < 0x030A0000
    o->pyframe_stacktop = OFF(PyFrameObject, f_stacktop);
#  else
    o->pyframe_stackdepth = OFF(PyFrameObject, f_stackdepth);
    c->pyframe_suspended = (uint64_t)(uint8_t)FRAME_SUSPENDED;
#  endif
    o->code_varnames = OFF(PyCodeObject, co_varnames);
    o->code_cellvars = OFF(PyCodeObject, co_cellvars);
    o->code_freevars = OFF(PyCodeObject, co_freevars);
    o->code_cell2arg = OFF(PyCodeObject, co_cell2arg);
    c->cell_not_an_arg = (uint64_t)(int64_t)CO_CELL_NOT_AN_ARG;
    o->gen_frame = OFF(PyGenObject, gi_frame);
#else
    o->code_localsplusnames = OFF(PyCodeObject, co_localsplusnames);
    o->code_localspluskinds = OFF(PyCodeObject, co_localspluskinds);
    c->fast_local = CO_FAST_LOCAL;
    c->fast_cell = CO_FAST_CELL;
    c->fast_free = CO_FAST_FREE;
#  if PY_VERSION_HEX >= 0x030C0000
    c->fast_hidden = CO_FAST_HIDDEN;
#  endif
    o->gen_iframe = OFF(PyGenObject, gi_iframe);
    o->gen_frame_state = OFF(PyGenObject, gi_frame_state);
    c->gen_cleared = (uint64_t)(uint8_t)FRAME_CLEARED;
#  if PY_VERSION_HEX >= 0x030D0000
    c->gen_awaiting = (uint64_t)(uint8_t)FRAME_SUSPENDED_YIELD_FROM;
#  else
    c->gen_awaiting = (uint64_t)(uint8_t)FRAME_SUSPENDED;
#  endif
#endif
#if PY_VERSION_HEX >= 0x030E0000
    o->iframe_stackpointer = OFF(_PyInterpreterFrame, stackpointer);
    {
        _PyStackRef one = PyStackRef_TagInt(1);
        c->stackref_null = PyStackRef_NULL.bits;
        c->stackref_int_tag = Py_INT_TAG;
        c->stackref_refcnt_tag = Py_TAG_REFCNT;
        c->stackref_int_shift = lowest_bit_u64(one.bits & ~(uint64_t)Py_INT_TAG);
    }
#endif
    o->tuple_size = OFF(PyVarObject, ob_size);
    o->tuple_items = OFF(PyTupleObject, ob_item);
    o->list_size = OFF(PyVarObject, ob_size);
    o->list_items = OFF(PyListObject, ob_item);
    o->set_used = OFF(PySetObject, used);
    o->set_mask = OFF(PySetObject, mask);
    o->set_table = OFF(PySetObject, table);
    o->setentry_key = OFF(setentry, key);
    o->setentry_hash = OFF(setentry, hash);
    c->set_entry_size = sizeof(setentry);
    o->cell_ref = OFF(PyCellObject, ob_ref);
    o->weakref_object = OFF(PyWeakReference, wr_object);
    o->type_base = OFF(PyTypeObject, tp_base);
    c->tpflags_tuple_subclass = Py_TPFLAGS_TUPLE_SUBCLASS;
    c->tpflags_list_subclass = Py_TPFLAGS_LIST_SUBCLASS;
    c->tpflags_bytes_subclass = Py_TPFLAGS_BYTES_SUBCLASS;
}

/* asyncio: 3.14+ keep every task on a list of its thread, linked by
 * llist nodes (where the lists and the C Task's fields are, the target's
 * .AsyncioDebug section says); before, the C Task's layout comes from the
 * mirror above. */
static void fill_asyncio(struct ft_offsets *o, struct ft_consts *c)
{
#if PY_VERSION_HEX >= 0x030E0000
    o->llist_next = OFF(struct llist_node, next);
    o->llist_prev = OFF(struct llist_node, prev);
    (void)c;
#else
    o->task_fut_waiter = OFF(struct mirror_task, task_fut_waiter);
    o->task_coro = OFF(struct mirror_task, task_coro);
    o->task_name = OFF(struct mirror_task, task_name);
    o->task_loop = OFF(struct mirror_task, loop);
    o->task_state = OFF(struct mirror_task, state);
    c->task_pending = MIRROR_PENDING;
    o->task_size = sizeof(struct mirror_task);
#endif
}

/* Bitfield positions cannot be taken with offsetof: set each one in a zeroed
 * object and see which bits of the state word moved. */
static unsigned state_bits(PyASCIIObject *a)
{
    unsigned bits = 0;
    memcpy(&bits, (char *)a + offsetof(PyASCIIObject, state), sizeof bits);
    return bits;
}

static unsigned lowest_bit(unsigned v)
{
    unsigned i = 0;
    while (i < 32 && !(v & (1u << i)))
        i++;
    return i;
}

static unsigned lowest_bit_u64(uint64_t v)
{
    unsigned i = 0;
    while (i < 64 && !(v & (1ull << i)))
        i++;
    return i;
}

static void fill_unicode_bits(struct ft_consts *c)
{
    PyASCIIObject a;
    memset(&a, 0, sizeof a);
    a.state.kind = 7;
    unsigned kind = state_bits(&a);
    c->state_kind_shift = lowest_bit(kind);
    c->state_kind_mask = kind >> c->state_kind_shift;
    memset(&a, 0, sizeof a);
    a.state.compact = 1;
    c->state_compact_bit = lowest_bit(state_bits(&a));
    memset(&a, 0, sizeof a);
    a.state.ascii = 1;
    c->state_ascii_bit = lowest_bit(state_bits(&a));
}

#if PY_VERSION_HEX >= 0x030D0000
/* Where each published field sits inside _Py_DebugOffsets. Fields this
 * version does not publish stay ABSENT and fall back to the header value. */
static void fill_debug_descriptor(struct ft_offsets *d)
{
    d->runtime_interpreters_head = DBG(runtime_state.interpreters_head);
    d->interp_next = DBG(interpreter_state.next);
    d->interp_id = DBG(interpreter_state.id);
    d->interp_threads_head = DBG(interpreter_state.threads_head);
    d->interp_gil_locked = DBG(interpreter_state.gil_runtime_state_locked);
    d->interp_gil_holder = DBG(interpreter_state.gil_runtime_state_holder);
#  if PY_VERSION_HEX >= 0x030E0000
    d->interp_code_generation = DBG(interpreter_state.code_object_generation);
#  endif
    d->tstate_next = DBG(thread_state.next);
    d->tstate_interp = DBG(thread_state.interp);
    d->tstate_current_frame = DBG(thread_state.current_frame);
    d->tstate_thread_id = DBG(thread_state.thread_id);
    d->tstate_native_thread_id = DBG(thread_state.native_thread_id);
    d->tstate_datastack_chunk = DBG(thread_state.datastack_chunk);
    d->iframe_size = DBG(interpreter_frame.size);
    d->iframe_previous = DBG(interpreter_frame.previous);
    d->iframe_executable = DBG(interpreter_frame.executable);
    d->iframe_instr = DBG(interpreter_frame.instr_ptr);
    d->iframe_owner = DBG(interpreter_frame.owner);
    d->iframe_localsplus = DBG(interpreter_frame.localsplus);
    d->code_size = DBG(code_object.size);
    d->code_filename = DBG(code_object.filename);
    d->code_name = DBG(code_object.name);
    d->code_qualname = DBG(code_object.qualname);
    d->code_linetable = DBG(code_object.linetable);
    d->code_firstlineno = DBG(code_object.firstlineno);
    d->code_code_adaptive = DBG(code_object.co_code_adaptive);
    d->ob_type = DBG(pyobject.ob_type);
    d->type_name = DBG(type_object.tp_name);
    d->unicode_state = DBG(unicode_object.state);
    d->unicode_length = DBG(unicode_object.length);
    d->unicode_ascii_size = DBG(unicode_object.asciiobject_size);
#  if PY_VERSION_HEX >= 0x030F0000
    d->unicode_compact_size = DBG(unicode_object.compactunicodeobject_size);
#  endif
    d->bytes_size = DBG(bytes_object.ob_size);
    d->bytes_sval = DBG(bytes_object.ob_sval);
    d->interp_modules = DBG(interpreter_state.imports_modules);
    d->type_flags = DBG(type_object.tp_flags);
#  if PY_VERSION_HEX >= 0x030F0000
    d->type_basicsize = DBG(type_object.tp_basicsize);
    d->type_dictoffset = DBG(type_object.tp_dictoffset);
    d->heaptype_cached_keys = DBG(heap_type_object.ht_cached_keys);
#  endif
    d->dict_keys = DBG(dict_object.ma_keys);
    d->dict_values = DBG(dict_object.ma_values);
    d->long_tag = DBG(long_object.lv_tag);
    d->long_digits = DBG(long_object.ob_digit);
    d->float_value = DBG(float_object.ob_fval);
    d->code_argcount = DBG(code_object.argcount);
    d->code_localsplusnames = DBG(code_object.localsplusnames);
    d->code_localspluskinds = DBG(code_object.localspluskinds);
    d->tuple_items = DBG(tuple_object.ob_item);
    d->tuple_size = DBG(tuple_object.ob_size);
    d->list_items = DBG(list_object.ob_item);
    d->list_size = DBG(list_object.ob_size);
#  if PY_VERSION_HEX >= 0x030E0000
    d->set_used = DBG(set_object.used);
    d->set_table = DBG(set_object.table);
    d->set_mask = DBG(set_object.mask);
    d->gen_iframe = DBG(gen_object.gi_iframe);
    d->gen_frame_state = DBG(gen_object.gi_frame_state);
    d->iframe_stackpointer = DBG(interpreter_frame.stackpointer);
    d->llist_next = DBG(llist_node.next);
    d->llist_prev = DBG(llist_node.prev);
#  endif
}
#endif

static void print_offsets(const char *name, const struct ft_offsets *o)
{
    printf("        .%s = {\n", name);
#define FT_PRINT(f)                                                          \
    if (o->f == ABSENT)                                                      \
        printf("            .%s = FT_ABSENT,\n", #f);                       \
    else                                                                     \
        printf("            .%s = %llu,\n", #f, (unsigned long long)o->f);
    FT_OFFSET_FIELDS(FT_PRINT)
#undef FT_PRINT
    printf("        },\n");
}

static void print_consts(const struct ft_consts *c)
{
    printf("        .consts = {\n");
#define FT_PRINT(f) printf("            .%s = %llu%s,\n", #f, (unsigned long long)c->f, \
                               c->f > INT64_MAX ? "ull" : "");
    FT_CONST_FIELDS(FT_PRINT)
#undef FT_PRINT
    printf("        },\n");
}

int main(void)
{
    struct ft_offsets off, dbg;
    struct ft_consts consts;
    memset(&off, 0xff, sizeof off);
    memset(&dbg, 0xff, sizeof dbg);
    memset(&consts, 0, sizeof consts);
    uint64_t dbg_size = 0, dbg_version = 0, dbg_free_threaded = 0;

    fill_runtime_and_threads(&off);
    fill_frames(&off, &consts);
    fill_objects(&off);
    fill_unicode_bits(&consts);
    fill_types_and_modules(&off, &consts);
    fill_dicts(&off, &consts);
    fill_numbers(&off, &consts);
    fill_locals_and_containers(&off, &consts);
    fill_asyncio(&off, &consts);
#if PY_VERSION_HEX >= 0x030B0000
    fill_managed_dict(&off, &consts);
#endif
    consts.generator_flags = CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR;
#if PY_VERSION_HEX >= 0x030D0000
    fill_debug_descriptor(&dbg);
    dbg_size = sizeof(_Py_DebugOffsets);
    dbg_version = DBG(version);
    dbg_free_threaded = DBG(free_threaded);
#endif

    printf("    {\n");
#ifdef Py_GIL_DISABLED
    int free_threaded = 1;
#else
    int free_threaded = 0;
#endif
    printf("        .major = %d, .minor = %d, .free_threaded = %d, .ptr_size = %d, "
           ".generated_from = \"%s\",\n",
           PY_MAJOR_VERSION, PY_MINOR_VERSION, free_threaded, (int)sizeof(void *), PY_VERSION);
    printf("        .debug_offsets_size = %llu, .dbg_version = %llu, "
           ".dbg_free_threaded = %llu,\n",
           (unsigned long long)dbg_size, (unsigned long long)dbg_version,
           (unsigned long long)dbg_free_threaded);
    print_offsets("off", &off);
    print_offsets("dbg", &dbg);
    print_consts(&consts);
    printf("    },\n");
    return 0;
}
