"""`frametap dump` reports threading's names for every thread it knows,
exactly, on every interpreter: JSON `python_name` (null for a thread
threading never saw), and the text header's quoted name."""
import json
import os

import pytest

from stacks import TARGETS, Target, dump_json, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
SCRIPT = os.path.join(TARGETS, "thread_names.py")


BIDI = {0x200E, 0x200F, *range(0x2028, 0x202F), *range(0x2066, 0x206A)}


def text_quoted(s):
    """What the text dump shows for s (src/util/escape.h, quoted)."""
    out = []
    for ch in s:
        c = ord(ch)
        if ch == '"' or c < 0x20 or c == 0x7F:
            out.append("\\x%02x" % c)
        elif 0x80 <= c <= 0x9F or c in BIDI or c in (0xFFFE, 0xFFFF):
            out.append("\\u%04x" % c)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@pytest.fixture
def named_target(python, tmp_path):
    expected_file = tmp_path / "expected.json"
    with Target(python, SCRIPT, str(expected_file)) as t:
        with open(expected_file, encoding="utf-8") as f:
            yield t, json.load(f)


@pytest.mark.parametrize("mode", [[], ["--nonblocking"]])
def test_json_names_exact(named_target, mode):
    target, want = named_target
    d = dump_json(FT, target.pid, *mode)
    got = {str(t["ident"]): t["python_name"] for t in d["threads"]}
    for ident, name in want["names"].items():
        assert got.get(ident) == name, (name, got.get(ident))
    assert got[str(want["unnamed"])] is None
    assert len(d["threads"]) == len(want["names"]) + 1


def test_text_shows_python_and_os_names(named_target):
    target, want = named_target
    d = dump_json(FT, target.pid)
    rc, text, err = run_frametap(FT, "dump", target.pid)
    assert rc == 0, err
    headers = {int(line.split()[1]): line for line in text.splitlines() if line.startswith("Thread ")}
    for t in d["threads"]:
        line = headers[t["native_id"]]
        rest = line[len("Thread %d " % t["native_id"]):]
        if t["python_name"] is None:
            assert rest.startswith(text_quoted(t["name"]) + " (ident"), line
        elif t["name"] and t["name"] != t["python_name"]:
            assert rest.startswith("%s [%s] (ident" % (text_quoted(t["python_name"]),
                                                     text_quoted(t["name"]))), line
        else:
            assert rest.startswith(text_quoted(t["python_name"]) + " (ident"), line
