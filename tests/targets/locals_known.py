"""Frames whose arguments and locals `frametap dump --locals` must show
exactly: every kind of slot (positional, positional-only, keyword-only,
*args, **kwargs, plain locals, cells, free variables, an argument inner
functions use, unset and deleted locals, an empty cell) and values of every
type the renderer knows (ints small, huge and negative; floats such as 0.1,
1e300, nan, inf, -0.0; str of every kind with controls, quotes, bidi
controls and lone surrogates; bytes; bool; None; nested containers; a list
holding itself; a dict with keys that are not str), plus objects it must
show as <Type at 0x...> without calling anything (a __repr__ that raises, a
list subclass), and values that hit each limit (items, width, depth, an int
too long to show).

Usage: locals_known.py EXPECTED_JSON. Writes, for each function of the
parked stack, {name: [kind, cell, value text or None, type or None]} as
frametap must report it (values: Python's own repr, which the renderer
matches; other objects by type name and id), then prints READY and parks.
"""
import json
import sys
import threading

EXPECTED = {}
stop = threading.Event()
SHOWN = (int, bool, float, str, bytes, type(None), tuple, list, dict, set, frozenset)
UNSET = object()


class Evil:
    def __repr__(self):
        raise RuntimeError("frametap must never call __repr__")

    __str__ = __repr__


class MyList(list):
    pass


class Shown:
    """A value whose text a limit cuts: the text frametap must show."""

    def __init__(self, text, type_name, prefix=False):
        self.text, self.type_name, self.prefix = text, type_name, prefix


def expected(value):
    """[value text or None, type or None, truncated, text is a prefix]."""
    if value is UNSET:
        return [None, None, False, False]
    if isinstance(value, Shown):
        return [value.text, value.type_name, True, value.prefix]
    if type(value) in SHOWN:
        return [repr(value), type(value).__name__, False, False]
    return ["<%s at %s>" % (type(value).__name__, hex(id(value))), type(value).__name__, False, False]


def expect(func, entries):
    """entries: (name, kind, cell, value)."""
    EXPECTED[func] = {name: [kind, cell] + expected(value) for name, kind, cell, value in entries}


def write_expected(path):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(EXPECTED, f, ensure_ascii=True)


def park(path):
    expect("park", [("path", "positional", False, path)])
    write_expected(path)
    print("READY", flush=True)
    stop.wait()


def closures(captured, plain, path):
    in_cell = [1, "two"]
    empty_cell_later = None
    del empty_cell_later  # a cell with nothing in it

    def inner(own):
        captured, in_cell  # free variables: read here, so inner has them
        if own is None:
            print(empty_cell_later)
        expect("inner", [("own", "positional", False, own), ("captured", "free", True, captured),
                         ("in_cell", "free", True, in_cell), ("path", "free", True, path),
                         ("empty_cell_later", "free", True, UNSET)])
        park(path)

    expect("closures", [("captured", "positional", True, captured), ("plain", "positional", False, plain),
                        ("path", "positional", True, path), ("in_cell", "cell", True, in_cell),
                        ("empty_cell_later", "cell", True, UNSET), ("inner", "local", False, inner)])
    inner(("own", 1))


def limits(path, /, deep=None, *, width_str, many, huge):
    deep = [[[[[1]]]]]
    self_ref = [1, 2]
    self_ref.append(self_ref)
    expect("limits", [
        ("path", "positional", False, path),
        ("deep", "positional", False, Shown("[[[[<list at %s>]]]]" % hex(id(deep[0][0][0][0])), "list")),
        ("width_str", "keyword_only", False, Shown("'" + "w" * 199 + "...", "str")),
        ("many", "keyword_only", False, Shown("[" + ", ".join(map(str, range(16))) + ", ...]", "list")),
        ("huge", "keyword_only", False, Shown("<int of about ", "int", prefix=True)),
        ("self_ref", "local", False, self_ref)])
    closures(3.5, "plain", path)


def describe(names, skip):
    return [(k, "local", False, v) for k, v in names.items() if k not in skip]


def values(first, *rest, **options):
    small, zero, negative = 7, 0, -12345
    huge_int, huge_negative, edge = 2 ** 200 + 1, -(10 ** 50), 2 ** 63
    tenth, big_float, not_a_number = 0.1, 1e300, float("nan")
    infinite, minus_infinite, minus_zero, e16, tiny = float("inf"), float("-inf"), -0.0, 1e16, 1e-5
    ascii_str, latin1, ucs2, ucs4 = "plain", "w\xf6rd \xe9", "\u7ebf\u7a0b\u540d", "emoji \U0001F9F5"
    controls = "tab\tnl\n\x1b[31mred\x7f\x85 end"
    surrogates, quote, both_quotes = "bad\udcff\ud800", "it's", "'\""
    bidi, nbsp = "\u202eevil\u200b", "a\xa0b\u2028c"
    raw_bytes, empty_bytes = b"\x00\xffab'\n", b""
    flag, off, nothing = True, False, None
    nested = [1, (2, 3), {"k": [4, {5}]}, frozenset({6}), b"x"]
    one_tuple, empty_tuple, empty_list, empty_dict = (1,), (), [], {}
    empty_set, empty_frozenset = set(), frozenset()
    odd_keys = {1: "a", (2, 3): "b", None: "c", 4.5: "d", b"k": "e", frozenset(): "f"}
    evil, subclass = Evil(), MyList([1])
    deleted = 1
    del deleted
    expect("values", [("first", "positional", False, first), ("rest", "var_positional", False, rest),
                      ("options", "var_keyword", False, options), ("deleted", "local", False, UNSET),
                      ("assigned_later", "local", False, UNSET)]
           + describe(locals(), ("first", "rest", "options")))
    limits(first, width_str="w" * 500, many=list(range(100)), huge=10 ** 5000)
    assigned_later = 1  # only after the park: unset while parked
    return assigned_later


def main():
    values(sys.argv[1], "r1", ("r", 2), opt="o", more=[1])


main()
