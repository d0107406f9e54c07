/*
 * offset_fields.h - the one list of interpreter offsets frametap uses.
 *
 * Every field is a byte offset (or size) inside a CPython structure. The list
 * is an X-macro so that the runtime struct (struct ft_offsets), the generator
 * in tools/layout_probe.c and the _Py_DebugOffsets descriptors all name the
 * same fields in the same order. FT_ABSENT marks a field a version lacks.
 * Must never hold values: values live in layouts_generated.h or come from
 * the target's own _Py_DebugOffsets.
 */
#ifndef FT_OFFSET_FIELDS_H
#define FT_OFFSET_FIELDS_H

#include <stdint.h>

#define FT_ABSENT UINT64_MAX

#define FT_OFFSET_FIELDS(X)                                                    \
    X(runtime_interpreters_head) /* _PyRuntime.interpreters.head          */   \
    X(runtime_interpreters_main) /* _PyRuntime.interpreters.main          */   \
    X(runtime_tstate_current)    /* _PyRuntime.gilstate.tstate_current <=3.11 */ \
    X(runtime_main_interpreter)  /* _PyRuntime._main_interpreter (static), 3.11+ */ \
    X(interp_next)                                                             \
    X(interp_id)                                                               \
    X(interp_threads_head)                                                     \
    X(interp_runtime)            /* interp->runtime back-pointer, 3.9+    */   \
    X(interp_gil_locked)         /* interp->_gil.locked, 3.12+            */   \
    X(interp_gil_holder)         /* interp->_gil.last_holder, 3.12+       */   \
    X(interp_code_generation)    /* _code_object_generation: codes freed, 3.14+ */ \
    X(runtime_gc_collecting)     /* _PyRuntime.gc.collecting, 3.8         */   \
    X(interp_gc_collecting)      /* interp->gc.collecting, 3.9+           */   \
    X(interp_gc_frame)           /* interp->gc.frame: where it began, 3.15+ */ \
    X(tstate_next)                                                             \
    X(tstate_interp)                                                           \
    X(tstate_frame)              /* PyFrameObject *frame, <=3.10          */   \
    X(tstate_cframe)             /* _PyCFrame *cframe, 3.11-3.12          */   \
    X(cframe_current_frame)      /* cframe->current_frame, 3.11-3.12      */   \
    X(cframe_previous)           /* cframe->previous: the caller's, 3.11-3.12 */ \
    X(tstate_current_frame)      /* tstate->current_frame, 3.13+          */   \
    X(tstate_thread_id)          /* pthread_t                             */   \
    X(tstate_native_thread_id)   /* 3.11+                                 */   \
    X(tstate_datastack_chunk)    /* 3.11+                                 */   \
    X(tstate_datastack_top)      /* 3.11+: first free slot of the chunk   */   \
    X(tstate_datastack_limit)    /* 3.11+: end of the current chunk       */   \
    X(stackchunk_previous)       /* _PyStackChunk.previous, 3.11+         */   \
    X(stackchunk_size)           /* _PyStackChunk.size, 3.11+             */   \
    X(stackchunk_top)            /* _PyStackChunk.top (slots), 3.11+      */   \
    X(stackchunk_data)           /* _PyStackChunk.data, 3.11+             */   \
    X(pyframe_back)              /* PyFrameObject, <=3.10                 */   \
    X(pyframe_code)                                                            \
    X(pyframe_lasti)                                                           \
    X(pyframe_state)             /* f_executing <=3.9, f_state 3.10 (1 byte) */ \
    X(iframe_size)               /* _PyInterpreterFrame, 3.11+            */   \
    X(iframe_previous)                                                         \
    X(iframe_executable)                                                       \
    X(iframe_instr)              /* prev_instr 3.11-3.12, instr_ptr 3.13+ */   \
    X(iframe_owner)                                                            \
    X(iframe_is_entry)           /* 3.11: bool, first frame of an eval call */ \
    X(iframe_stacktop)           /* int stacktop, 3.11-3.13               */   \
    X(iframe_localsplus)                                                       \
    X(code_size)                                                               \
    X(code_filename)                                                           \
    X(code_name)                                                               \
    X(code_qualname)             /* 3.11+                                 */   \
    X(code_linetable)            /* co_lnotab <=3.9, co_linetable 3.10+   */   \
    X(code_firstlineno)                                                        \
    X(code_flags)                                                              \
    X(code_version)              /* co_version, unique per code, 3.12+    */   \
    X(code_code)                 /* co_code bytes object, <=3.10          */   \
    X(code_code_adaptive)        /* inline bytecode, 3.11+                */   \
    X(ob_refcnt)                                                               \
    X(ob_type)                                                                 \
    X(type_name)                 /* tp_name                               */   \
    X(unicode_state)                                                           \
    X(unicode_length)                                                          \
    X(unicode_ascii_size)        /* sizeof(PyASCIIObject)                 */   \
    X(unicode_compact_size)      /* sizeof(PyCompactUnicodeObject)        */   \
    X(bytes_size)                /* ob_size                               */   \
    X(bytes_sval)                                                              \
    X(type_flags)                /* tp_flags                              */   \
    X(type_basicsize)            /* tp_basicsize                          */   \
    X(type_dictoffset)           /* tp_dictoffset                         */   \
    X(heaptype_cached_keys)      /* PyHeapTypeObject.ht_cached_keys       */   \
    X(interp_modules)            /* sys.modules: modules <=3.11, imports.modules 3.12+ */ \
    X(module_dict)               /* PyModuleObject.md_dict                */   \
    X(dict_used)                 /* PyDictObject.ma_used                  */   \
    X(dict_keys)                 /* ma_keys                               */   \
    X(dict_values)               /* ma_values: split tables only          */   \
    X(dictkeys_size)             /* dk_size (slots), <=3.10               */   \
    X(dictkeys_log2_size)        /* dk_log2_size (1 byte), 3.11+          */   \
    X(dictkeys_log2_index_bytes) /* dk_log2_index_bytes (1 byte), 3.11+   */   \
    X(dictkeys_kind)             /* dk_kind (1 byte), 3.11+               */   \
    X(dictkeys_nentries)         /* dk_nentries                           */   \
    X(dictkeys_indices)          /* dk_indices[]: entries follow them     */   \
    X(dict_entry_key)            /* PyDictKeyEntry.me_key                 */   \
    X(dict_entry_value)          /* PyDictKeyEntry.me_value               */   \
    X(unicode_entry_key)         /* PyDictUnicodeEntry.me_key, 3.11+      */   \
    X(unicode_entry_value)       /* PyDictUnicodeEntry.me_value, 3.11+    */   \
    X(dictvalues_values)         /* values[] inside what ma_values points to */ \
    X(dictvalues_capacity)       /* _dictvalues.capacity (1 byte), 3.13+  */   \
    X(dictvalues_valid)          /* _dictvalues.valid (1 byte), 3.13+     */   \
    X(managed_dict_before)       /* bytes before an object: its managed dict, 3.11+ */ \
    X(managed_values_before)     /* bytes before an object: its values, 3.11 only */ \
    X(long_size)                 /* ob_size: sign and digit count, <=3.11 */   \
    X(long_tag)                  /* long_value.lv_tag, 3.12+              */   \
    X(long_digits)               /* ob_digit[]                            */   \
    X(float_value)               /* ob_fval                               */   \
    X(pyframe_localsplus)        /* f_localsplus[], <=3.10                */   \
    X(pyframe_valuestack)        /* f_valuestack, <=3.10                  */   \
    X(pyframe_stacktop)          /* f_stacktop (a pointer), 3.8-3.9       */   \
    X(pyframe_stackdepth)        /* f_stackdepth (int), 3.10              */   \
    X(iframe_stackpointer)       /* stackpointer, 3.14+                   */   \
    X(code_argcount)                                                           \
    X(code_posonlyargcount)                                                    \
    X(code_kwonlyargcount)                                                     \
    X(code_nlocals)                                                            \
    X(code_varnames)             /* tuple, <=3.10                         */   \
    X(code_cellvars)             /* tuple, <=3.10                         */   \
    X(code_freevars)             /* tuple, <=3.10                         */   \
    X(code_cell2arg)             /* Py_ssize_t *, <=3.10                  */   \
    X(code_localsplusnames)      /* tuple, 3.11+                          */   \
    X(code_localspluskinds)      /* bytes, 3.11+                          */   \
    X(tuple_size)                /* ob_size                               */   \
    X(tuple_items)               /* ob_item[]                             */   \
    X(list_size)                 /* ob_size                               */   \
    X(list_items)                /* ob_item: a pointer to the items       */   \
    X(set_used)                                                                \
    X(set_mask)                                                                \
    X(set_table)                                                               \
    X(setentry_key)                                                            \
    X(setentry_hash)                                                           \
    X(cell_ref)                  /* PyCellObject.ob_ref                   */   \
    X(weakref_object)            /* PyWeakReference.wr_object             */   \
    X(type_base)                 /* tp_base                               */   \
    X(gen_frame)                 /* gi_frame (PyFrameObject *), <=3.10    */   \
    X(gen_iframe)                /* gi_iframe (the frame itself), 3.11+   */   \
    X(gen_frame_state)           /* gi_frame_state (1 byte), 3.11+        */   \
    X(llist_next)                /* struct llist_node (asyncio task lists), 3.14+ */ \
    X(llist_prev)                                                              \
    X(task_fut_waiter)           /* _asyncio TaskObj, <=3.13 (mirror)     */   \
    X(task_loop)                                                               \
    X(task_coro)                                                               \
    X(task_name)                                                               \
    X(task_state)                /* fut_state (an enum)                   */   \
    X(task_size)                 /* sizeof(TaskObj), <=3.13               */

/* Constants that are not offsets: enum values and bitfield positions. */
#define FT_CONST_FIELDS(X)                                                     \
    X(first_shim_owner)   /* frames with owner >= this are not Python    */   \
    X(generator_owner)    /* owner of frames inside generators, 3.11+    */   \
    X(thread_owner)       /* owner of frames on the data stack, 3.11+    */   \
    X(stackref_tag_bits)  /* low bits to clear in f_executable, 3.14+    */   \
    X(lasti_unit)         /* bytes per f_lasti unit, <=3.10              */   \
    X(pyframe_running)    /* pyframe_state's value while the frame runs  */   \
    X(stacktop_running)   /* 3.12-3.13: stacktop is -1 while the frame runs, \
                             set (>= 0) while it waits for a callee       */   \
    X(generator_flags)    /* CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR */ \
    X(state_kind_shift)                                                        \
    X(state_kind_mask)                                                         \
    X(state_compact_bit)                                                       \
    X(state_ascii_bit)                                                         \
    X(tpflags_heaptype)          /* Py_TPFLAGS_HEAPTYPE                   */   \
    X(tpflags_long_subclass)     /* Py_TPFLAGS_LONG_SUBCLASS              */   \
    X(tpflags_unicode_subclass)  /* Py_TPFLAGS_UNICODE_SUBCLASS           */   \
    X(tpflags_dict_subclass)     /* Py_TPFLAGS_DICT_SUBCLASS              */   \
    X(tpflags_managed_dict)      /* Py_TPFLAGS_MANAGED_DICT, 3.11+ (0: none) */ \
    X(tpflags_inline_values)     /* Py_TPFLAGS_INLINE_VALUES, 3.13+ (0: none) */ \
    X(managed_values_tag)        /* 3.12: low bits marking values, not a dict */ \
    X(managed_values_delta)      /* 3.12: values = tagged word + this     */   \
    X(dict_entry_size)           /* sizeof(PyDictKeyEntry)                */   \
    X(unicode_entry_size)        /* sizeof(PyDictUnicodeEntry), 3.11+     */   \
    X(dict_kind_general)         /* DICT_KEYS_GENERAL, 3.11+              */   \
    X(dict_kind_unicode)         /* DICT_KEYS_UNICODE, 3.11+              */   \
    X(dict_kind_split)           /* DICT_KEYS_SPLIT, 3.11+                */   \
    X(long_shift)                /* PyLong_SHIFT: bits per digit          */   \
    X(long_digit_size)           /* sizeof(digit)                         */   \
    X(long_non_size_bits)        /* 3.12+: lv_tag bits below the digit count */ \
    X(long_sign_mask)            /* 3.12+: lv_tag bits holding the sign   */   \
    X(long_sign_zero)            /* 3.12+: sign bits of 0                 */   \
    X(long_sign_negative)        /* 3.12+: sign bits of a negative int    */   \
    X(co_varargs)                /* CO_VARARGS                            */   \
    X(co_varkeywords)            /* CO_VARKEYWORDS                        */   \
    X(fast_hidden)               /* CO_FAST_HIDDEN, 3.12+ (0: none)       */   \
    X(fast_local)                /* CO_FAST_LOCAL, 3.11+                  */   \
    X(fast_cell)                 /* CO_FAST_CELL, 3.11+                   */   \
    X(fast_free)                 /* CO_FAST_FREE, 3.11+                   */   \
    X(cell_not_an_arg)           /* CO_CELL_NOT_AN_ARG, <=3.10            */   \
    X(stackref_null)             /* bits of PyStackRef_NULL, 3.14+ (0 before) */ \
    X(stackref_int_tag)          /* Py_INT_TAG: low bits of a tagged int, 3.14+ */ \
    X(stackref_int_shift)        /* a tagged int is bits >> this, 3.14+   */   \
    X(stackref_refcnt_tag)       /* Py_TAG_REFCNT: the other tag of an object, 3.14+ */ \
    X(tpflags_tuple_subclass)                                                  \
    X(tpflags_list_subclass)                                                   \
    X(tpflags_bytes_subclass)                                                  \
    X(set_entry_size)            /* sizeof(setentry)                      */   \
    X(pyframe_suspended)         /* 3.10: f_state of a suspended generator */  \
    X(gen_awaiting)              /* 3.11+: gi_frame_state while in an await */ \
    X(gen_cleared)               /* 3.11+: FRAME_CLEARED                  */   \
    X(task_pending)              /* <=3.13: fut_state of a pending task   */

struct ft_offsets {
#define FT_DECLARE(name) uint64_t name;
    FT_OFFSET_FIELDS(FT_DECLARE)
#undef FT_DECLARE
};

struct ft_consts {
#define FT_DECLARE(name) uint64_t name;
    FT_CONST_FIELDS(FT_DECLARE)
#undef FT_DECLARE
};

/*
 * One generated row per supported minor version. `off` always holds the
 * offsets compiled from that version's headers. For 3.13+ `dbg` says where
 * each field lives inside the target's own _Py_DebugOffsets (FT_ABSENT where
 * that version does not publish it); published values override `off`.
 */
struct ft_layout_row {
    int major, minor;
    int free_threaded;            /* generated with Py_GIL_DISABLED (3.13t+) */
    int ptr_size;                 /* sizeof(void *) of the ABI compiled for: 8 for
                                     the host, 4 for wasm32 (Py_ssize_t, size_t and
                                     long are as wide in both) */
    const char *generated_from;   /* full version of the headers used */
    uint64_t debug_offsets_size;  /* sizeof(_Py_DebugOffsets); 0 before 3.13 */
    uint64_t dbg_version;         /* where PY_VERSION_HEX lives in it        */
    uint64_t dbg_free_threaded;   /* where the free_threaded flag lives      */
    struct ft_offsets off;
    struct ft_offsets dbg;
    struct ft_consts consts;
};

#endif
