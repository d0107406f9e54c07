"""`frametap dump --locals` shows every frame's arguments and locals exactly,
on every interpreter: each slot's kind, cells and free variables by their
contents, unset slots as unset, values as Python's repr() writes them
(ints of any size, shortest floats, str of every kind with escapes, bytes,
containers, a list holding itself, dicts with keys that are not str),
other objects as <Type at 0x...> without calling their __repr__, and each
limit (items, width, depth, int size) marked as a cut."""
import json
import os
import re

import pytest

from stacks import KNOWN, TARGETS, Target, dump_json, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
SCRIPT = os.path.join(TARGETS, "locals_known.py")


@pytest.fixture
def known(python, tmp_path):
    expected_file = tmp_path / "expected.json"
    with Target(python, SCRIPT, str(expected_file)) as t:
        with open(expected_file, encoding="utf-8") as f:
            yield t, json.load(f)


def own_frames(d):
    """{function: frame} of the target's own frames on the main thread."""
    for t in d["threads"]:
        frames = {f["qualname"].split(".")[-1]: f for f in t["frames"] if f["file"] == SCRIPT}
        if "park" in frames:
            return frames
    raise AssertionError("no thread is parked in locals_known.py: %r" % d)


def check_frames(frames, want):
    assert set(frames) >= set(want), sorted(frames)
    for func, names in want.items():
        f = frames[func]
        assert f["locals_error"] is None, (func, f["locals_error"])
        got = {v["name"]: v for v in f["locals"]}
        assert set(got) == set(names), (func, sorted(got), sorted(names))
        for name, (kind, cell, value, type_name, truncated, prefix) in names.items():
            g = got[name]
            where = "%s.%s" % (func, name)
            assert (g["kind"], g["cell"]) == (kind, cell), (where, g)
            assert g["type"] == type_name, (where, g)
            assert g["truncated"] == truncated, (where, g)
            if prefix:
                assert g["value"].startswith(value), (where, g)
            else:
                assert g["value"] == value, (where, g["value"], value)


def test_locals_json_exact(known):
    target, want = known
    d = dump_json(FT, target.pid, "--locals")
    assert d["locals_paused"] is True
    check_frames(own_frames(d), want)


def test_locals_nonblocking_says_so(known):
    target, want = known
    d = dump_json(FT, target.pid, "--locals", "--nonblocking")
    assert d["locals_paused"] is False
    check_frames(own_frames(d), want)  # the target is parked: nothing moves


def test_locals_text(known):
    target, want = known
    rc, text, err = run_frametap(FT, "dump", "--locals", target.pid)
    assert rc == 0, err
    lines = text.splitlines()
    assert "        arg(cell) captured = 3.5" in lines
    assert "        free empty_cell_later = <unset>" in lines
    assert "        *args rest = ('r1', ('r', 2))" in lines
    assert "        **kwargs options = {'opt': 'o', 'more': [1]}" in lines
    assert "        kwonly many = [%s, ...]" % ", ".join(map(str, range(16))) in lines
    assert "        local controls = 'tab\\tnl\\n\\x1b[31mred\\x7f\\x85 end'" in lines
    assert "        local bidi = '\\u202eevil\\u200b'" in lines
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f\x80-\x9f\u202e]", text), "raw control in text output"


def test_locals_width(known):
    target, want = known
    d = dump_json(FT, target.pid, "--locals-width", "600")
    limits = {v["name"]: v for v in own_frames(d)["limits"]["locals"]}
    assert limits["width_str"]["value"] == repr("w" * 500)
    assert limits["width_str"]["truncated"] is False


def test_locals_width_checked(known):
    target, _ = known
    rc, out, err = run_frametap(FT, "dump", "--locals-width", "3", target.pid)
    assert rc == 2 and "--locals-width" in err and out == ""


def test_locals_of_every_known_frame(python):
    """Every frame of known_stacks.py (1000-deep recursion, exec'd code,
    a generator, coroutines, non-ASCII names) has its locals read whole."""
    with Target(python, KNOWN) as t:
        d = dump_json(FT, t.pid, "--locals")
    frames = [f for th in d["threads"] for f in th["frames"]]
    assert len(frames) > 1000
    assert [f["qualname"] for f in frames if f["locals_error"]] == []
    bad = [(f["qualname"], v) for f in frames for v in f["locals"]
           if v["value"] is not None and "unreadable" in v["value"]]
    assert bad == []
    recurse = [f for f in frames if f["qualname"] == "recurse"]
    assert all(any(v["name"] == "n" and v["kind"] == "positional" for v in f["locals"]) for f in recurse)
