"""Run inside an interpreter with its generated layout row (JSON, argv[1]):
checks with ctypes, against live objects, the offsets frametap uses to read
dicts, modules, ints, floats, types and instance storage. Above all those
tools/layout_probe.c takes from local mirrors of structs no installed header
has (3.8-3.10 dict keys and entries, 3.8-3.9 PyModuleObject). Prints OK or
raises with the field that differs."""
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
print("OK")
