"""Run inside an interpreter with its generated layout row (JSON, argv[1]):
checks with ctypes, against live objects, the offsets frametap uses to read
dicts, modules, ints, floats, types, instance storage, tuples, lists, sets,
cells, weak references, code objects' argument counts and names,
coroutines and asyncio tasks. Above all those tools/layout_probe.c takes
from local mirrors of structs no installed header has (3.8-3.10 dict keys
and entries, 3.8-3.9 PyModuleObject, the _asyncio Task of 3.8-3.13).
Prints OK or raises with the field that differs."""
import ctypes
import json
import sys

row = json.loads(sys.argv[1])
off, c = row["off"], row["consts"]
ABSENT = None


def u64(addr):
    return ctypes.c_uint64.from_address(addr).value


def i64(addr):
    return ctypes.c_int64.from_address(addr).value


def u8(addr):
    return ctypes.c_uint8.from_address(addr).value


def check(what, got, want):
    if got != want:
        raise AssertionError("%s: read %r, expected %r" % (what, got, want))


def entries_of(keys):
    """(address of entry 0, entry size, key offset, value offset, nentries)."""
    if off["dictkeys_log2_size"] is not ABSENT:
        log2, log2_ix, kind = (u8(keys + off[f]) for f in
                               ("dictkeys_log2_size", "dictkeys_log2_index_bytes", "dictkeys_kind"))
        index_bytes = 1 << log2_ix
        general = kind == c["dict_kind_general"]
        size = c["dict_entry_size"] if general else c["unicode_entry_size"]
        k = off["dict_entry_key"] if general else off["unicode_entry_key"]
        v = off["dict_entry_value"] if general else off["unicode_entry_value"]
    else:
        dk_size = i64(keys + off["dictkeys_size"])
        check("dk_size is a power of two", dk_size & (dk_size - 1), 0)
        width = 1 if dk_size <= 0xFF else 2 if dk_size <= 0xFFFF else 4 if dk_size <= 0xFFFFFFFF else 8
        index_bytes = dk_size * width
        size, k, v = c["dict_entry_size"], off["dict_entry_key"], off["dict_entry_value"]
    first = keys + off["dictkeys_indices"] + index_bytes
    return first, size, k, v, i64(keys + off["dictkeys_nentries"])


def check_dict(d, label):
    keys = u64(id(d) + off["dict_keys"])
    check(label + " ma_used", i64(id(d) + off["dict_used"]), len(d))
    check(label + " ma_values", u64(id(d) + off["dict_values"]), 0)
    first, size, k, v, n = entries_of(keys)
    check(label + " dk_nentries", n, len(d))
    for i, (key, value) in enumerate(d.items()):
        e = first + i * size
        check("%s entry %d key" % (label, i), u64(e + k), id(key))
        check("%s entry %d value" % (label, i), u64(e + v), id(value))


# Combined dicts: str keys and int keys, 1- and 2-byte (3.8-3.10) indices.
check_dict({"k%d" % i: object() for i in range(5)}, "small str dict")
check_dict({i * 7919: object() for i in range(200)}, "int dict of 200")
check_dict({"s%d" % i: i for i in range(300)}, "str dict of 300")

# Modules: md_dict (a mirror on 3.8-3.9), and where sys.modules lives is
# checked by the thread-name tests (that is how they find threading).
check("md_dict", u64(id(sys) + off["module_dict"]), id(sys.__dict__))

# Types.
for t in (int, dict, type("Heap", (), {})):
    check(t.__name__ + " tp_flags", u64(id(t) + off["type_flags"]), t.__flags__)
    check(t.__name__ + " tp_basicsize", i64(id(t) + off["type_basicsize"]), t.__basicsize__)
    check(t.__name__ + " tp_dictoffset", i64(id(t) + off["type_dictoffset"]), t.__dictoffset__)
check("heap type flag", bool(type("H", (), {}).__flags__ & c["tpflags_heaptype"]), True)
check("int subclass flag", bool(int.__flags__ & c["tpflags_long_subclass"]), True)
check("str subclass flag", bool(str.__flags__ & c["tpflags_unicode_subclass"]), True)
check("dict subclass flag", bool(dict.__flags__ & c["tpflags_dict_subclass"]), True)


# Instances: shared keys, and (3.11+) the managed dict before the object.
class Plain:
    def __init__(self):
        self.a, self.b = 1, 2


obj = Plain()
dict_of_obj = obj.__dict__  # materialised: a split dict over the shared keys
cached = u64(id(Plain) + off["heaptype_cached_keys"])
check("ht_cached_keys is the instance dict's keys", u64(id(dict_of_obj) + off["dict_keys"]), cached)
values = u64(id(dict_of_obj) + off["dict_values"]) + off["dictvalues_values"]
first, size, k, v, n = entries_of(cached)
names = {ctypes.cast(u64(first + i * size + k), ctypes.py_object).value: i for i in range(n)}
check("split value a", u64(values + 8 * names["a"]), id(obj.a))
check("split value b", u64(values + 8 * names["b"]), id(obj.b))
if off["managed_dict_before"] is not ABSENT:
    check("Plain has a managed dict", bool(Plain.__flags__ & c["tpflags_managed_dict"]), True)
    check("managed dict pointer", u64(id(obj) - off["managed_dict_before"]), id(dict_of_obj))
else:
    check("__dict__ at tp_dictoffset", u64(id(obj) + Plain.__dictoffset__), id(dict_of_obj))

# Numbers.
for value in (0, 1, -1, 2**30 - 1, 2**30, -(2**45) + 3, 2**62 + 12345, 2**64 - 1):
    a = id(value)
    if off["long_tag"] is not ABSENT:
        tag = u64(a + off["long_tag"])
        ndigits, sign = tag >> c["long_non_size_bits"], tag & c["long_sign_mask"]
        negative = sign == c["long_sign_negative"]
        if sign == c["long_sign_zero"]:
            ndigits = 0
    else:
        size = i64(a + off["long_size"])
        ndigits, negative = abs(size), size < 0
    mag = 0
    for i in range(ndigits):
        digit = int.from_bytes(ctypes.string_at(a + off["long_digits"] + i * c["long_digit_size"],
                                                c["long_digit_size"]), "little")
        mag |= digit << (i * c["long_shift"])
    check("int %d" % value, -mag if negative else mag, value)
f = 2.5e-3
check("ob_fval", ctypes.c_double.from_address(id(f) + off["float_value"]).value, f)


def obj(addr):
    return ctypes.cast(addr, ctypes.py_object).value


# Containers, cells, weak references.
tup, lst = (1, "two", 3.0), [4, 5]
check("tuple size", i64(id(tup) + off["tuple_size"]), 3)
check("tuple items", [u64(id(tup) + off["tuple_items"] + 8 * i) for i in range(3)], [id(x) for x in tup])
check("list size", i64(id(lst) + off["list_size"]), 2)
check("list items", [u64(u64(id(lst) + off["list_items"]) + 8 * i) for i in range(2)], [id(x) for x in lst])
st = {"a", "b", 7}
st.discard(7)
mask, table = i64(id(st) + off["set_mask"]), u64(id(st) + off["set_table"])
check("set used", i64(id(st) + off["set_used"]), 2)
live = set()
for i in range(mask + 1):
    e = table + i * c["set_entry_size"]
    key, h = u64(e + off["setentry_key"]), i64(e + off["setentry_hash"])
    if key and h != -1:
        live.add(key)
check("set keys", live, {id(x) for x in st})


def closure():
    held = [1]

    def inner():
        return held
    return inner


cell = closure().__closure__[0]
check("cell content", u64(id(cell) + off["cell_ref"]), id(cell.cell_contents))
import weakref
wr = weakref.ref(Plain)
check("weakref referent", u64(id(wr) + off["weakref_object"]), id(Plain))
check("tp_base", u64(id(bool) + off["type_base"]), id(int))


# Code objects: argument counts and slot names.
def sample(a, b, /, c, *args, d, **kw):
    e = 1
    return lambda: e


co = sample.__code__
i32 = lambda a: ctypes.c_int32.from_address(a).value
check("co_argcount", i32(id(co) + off["code_argcount"]), co.co_argcount)
check("co_posonlyargcount", i32(id(co) + off["code_posonlyargcount"]), co.co_posonlyargcount)
check("co_kwonlyargcount", i32(id(co) + off["code_kwonlyargcount"]), co.co_kwonlyargcount)
check("co_nlocals", i32(id(co) + off["code_nlocals"]), co.co_nlocals)
if off["code_localsplusnames"] is not ABSENT:
    names = obj(u64(id(co) + off["code_localsplusnames"]))
    kinds = obj(u64(id(co) + off["code_localspluskinds"]))
    check("localsplusnames", names, co.co_varnames + tuple(n for n in co.co_cellvars if n not in co.co_varnames)
          + co.co_freevars)
    check("localspluskinds length", len(kinds), len(names))
    check("e is a cell", bool(kinds[names.index("e")] & c["fast_cell"]), True)
else:
    check("co_varnames", u64(id(co) + off["code_varnames"]), id(co.co_varnames))
    check("co_cellvars", u64(id(co) + off["code_cellvars"]), id(co.co_cellvars))
    check("co_freevars", u64(id(co) + off["code_freevars"]), id(co.co_freevars))


# Coroutines and asyncio tasks.
import asyncio


class Wait:
    def __await__(self):
        yield


async def waiting():
    await Wait()


coro = waiting()
coro.send(None)
if off["gen_iframe"] is not ABSENT:
    check("gi_frame_state while awaiting", ctypes.c_uint8.from_address(id(coro) + off["gen_frame_state"]).value,
          c["gen_awaiting"])
else:
    check("gi_frame", u64(id(coro) + off["gen_frame"]), id(coro.cr_frame))
coro.close()


async def task_fields():
    fut = asyncio.get_running_loop().create_future()

    async def child():
        await fut
    t = asyncio.ensure_future(child())
    await asyncio.sleep(0)
    if off["task_coro"] is not ABSENT:
        check("task_coro", u64(id(t) + off["task_coro"]), id(t.get_coro()))
        check("task_loop", u64(id(t) + off["task_loop"]), id(t.get_loop()))
        check("task_fut_waiter", u64(id(t) + off["task_fut_waiter"]), id(fut))
        name = obj(u64(id(t) + off["task_name"]))
        check("task_name", name if isinstance(name, str) else "Task-%d" % name, t.get_name())
        check("TaskObj size", type(t).__basicsize__, off["task_size"])
        check("pending task state", ctypes.c_int.from_address(id(t) + off["task_state"]).value,
              c["task_pending"])
    fut.set_result(None)
    await t
    if off["task_state"] is not ABSENT:
        check("done task state", ctypes.c_int.from_address(id(t) + off["task_state"]).value == c["task_pending"],
              False)


asyncio.run(task_fields())
print("OK")
