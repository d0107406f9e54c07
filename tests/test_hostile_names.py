"""Hostile names on every interpreter: a function whose name holds ESC
sequences, a newline, a tab, DEL, a C1 control and a byte that is not UTF-8,
under a file name made of controls and every byte from 1 to 255 (see
targets/nasty_names.py). Every text output (dump text, collapsed, trace text,
top, pprof's strings, SVG under XML) shows it escaped by the one rule of
src/util/escape.h (tests/escaping.py); every JSON output parses and gives
the name back."""
import gzip
import importlib.util
import json
import os
import re
import xml.etree.ElementTree as ET

import escaping
from consumers import speedscope_validate
from stacks import TARGETS, Target, dump_json, frametap_binaries, run_frametap
from test_top import screen, session, tmux, wait_for  # noqa: F401 (session is a fixture)

FT = frametap_binaries()["asan"]
NASTY = os.path.join(TARGETS, "nasty_names.py")


def _load_target():
    spec = importlib.util.spec_from_file_location("nasty_names", NASTY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


nasty = _load_target()
NAME, FILE, THREAD = nasty.HOSTILE_NAME, nasty.HOSTILE_FILE, nasty.HOSTILE_THREAD


def raw(text):
    """The bytes frametap wrote (run_frametap decodes with surrogateescape)."""
    return text.encode("utf-8", "surrogateescape")


def text_frame(also=""):
    """The start of the hostile frame's label in a text output, up to the line."""
    return "%s (%s:" % (escaping.text(NAME, also), escaping.text(FILE, also))


def test_dump_text_escapes(python):
    with Target(python, NASTY, "60") as t:
        rc, out, err = run_frametap(FT, "dump", t.pid)
    assert rc == 0, err
    s = escaping.assert_clean_text(raw(out), "dump text")
    lines = s.splitlines()
    assert any(ln.startswith("    " + text_frame()) for ln in lines), s[:3000]
    assert not any(ln.startswith("forged") for ln in lines)
    headers = [ln for ln in lines if ln.startswith("Thread ")]
    assert len(headers) == 3 and all(ln.endswith(")") or ln.endswith("]") for ln in headers), headers


def test_dump_json_gives_names_back(python):
    with Target(python, NASTY, "60") as t:
        d = dump_json(FT, t.pid)
    frames = [(f["qualname"], f["file"]) for th in d["threads"] for f in th["frames"]]
    assert (escaping.json_value(NAME), escaping.json_value(FILE)) in frames, frames


def pprof_strings(path):
    """The string table of a gzipped profile.proto (field 6 of Profile)."""
    with gzip.open(path) as f:
        data = f.read()
    out, i = [], 0

    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value

    while i < len(data):
        key = varint()
        field, kind = key >> 3, key & 7
        if kind == 0:
            varint()
        elif kind == 2:
            n = varint()
            if field == 6:
                out.append(data[i:i + n])
            i += n
        else:
            raise AssertionError("unexpected wire type %d in the profile" % kind)
    return out


def check_collapsed(path, per_thread):
    with open(path, "rb") as f:
        s = escaping.assert_clean_text(f.read(), "collapsed")
    leaves = []
    for line in s.splitlines():
        m = re.match(r"^(.*) (\d+)$", line)
        assert m, "not a collapsed line: %r" % line
        frames = m.group(1).split(";")
        leaves.append(frames[-1])
        if per_thread:
            assert frames[0].startswith("thread "), frames
    want = text_frame(";")
    assert any(leaf.startswith(want) and re.match(r"\d+\)$", leaf[len(want):]) for leaf in leaves), \
        (want, leaves)


def check_svg(path):
    with open(path, "rb") as f:
        data = f.read()
    escaping.assert_clean_text(data, "svg")
    root = ET.fromstring(data)                      # well-formed XML
    labels = [g.get("data-label") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert any(lb and lb.startswith(text_frame()) for lb in labels), labels[:20]


def check_speedscope(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    frames = [(fr["name"], fr.get("file")) for fr in doc["shared"]["frames"]]
    assert (escaping.json_value(NAME), escaping.json_value(FILE)) in frames
    rc, out = speedscope_validate(path)
    assert rc == 0, out


def check_chrome(path):
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    assert any(e["ph"] == "B" and e["name"] == escaping.json_value(NAME) and
               e["args"]["file"] == escaping.json_value(FILE) for e in events)


def check_pprof(path):
    strings = pprof_strings(path)
    for s in strings:
        escaping.assert_clean_text(s, "pprof string %r" % s[:40])
    assert escaping.text(NAME).encode() in strings and escaping.text(FILE).encode() in strings


def test_record_outputs_escape(python, tmp_path):
    base = str(tmp_path / "h")
    exts = (".txt", ".svg", ".speedscope.json", ".trace.json", ".pb.gz")
    with Target(python, NASTY, "60") as t:
        for per_thread in (0, 1):
            args = ["--threads"] if per_thread else []
            for ext in exts:
                args += ["-o", "%s%d%s" % (base, per_thread, ext)]
            rc, _, err = run_frametap(FT, "record", "-r", "300", "-d", "1.2", "--mode", "wall",
                                      *args, t.pid)
            assert rc == 0, err
            escaping.assert_clean_text(raw(err), "record's messages")
    for per_thread in (0, 1):
        b = "%s%d" % (base, per_thread)
        check_collapsed(b + ".txt", per_thread)
        check_svg(b + ".svg")
        check_speedscope(b + ".speedscope.json")
        check_chrome(b + ".trace.json")
        check_pprof(b + ".pb.gz")


def test_trace_text_escapes(python, tmp_path):
    txt, js = str(tmp_path / "t.txt"), str(tmp_path / "t.json")
    rc, _, err = run_frametap(FT, "trace", "-q", "-o", txt, "-o", js, "--", python, NASTY, "0.3",
                              timeout=120)
    assert rc == 0, err
    with open(txt, "rb") as f:
        s = escaping.assert_clean_text(f.read(), "trace text")
    calls = []
    for line in s.splitlines():
        if line.startswith("#"):
            continue
        m = re.match(r"^\s*(\d+\.\d+) (.*?)\((\d+)\): (\s*)(.*)$", line)
        assert m, "not a trace line: %r" % line
        calls.append(m.group(5))
    want = "=> %s in %s:" % (escaping.text(NAME), escaping.text(FILE))
    assert any(c.startswith(want) for c in calls), [c[:80] for c in calls if "evil" in c]
    with open(js, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    assert any(e.get("name") == escaping.json_value(NAME) for e in events)


def test_top_shows_names_escaped(python, session):  # noqa: F811 (session is a fixture)
    with Target(python, NASTY, "60") as t:
        env = "ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1"
        r = tmux("new-session", "-d", "-s", session, "-x", "240", "-y", "30",
                 "%s %s top -r 200 %d 2>/dev/null" % (env, FT, t.pid))
        assert r.returncode == 0, r.stderr
        s = wait_for(session, escaping.text(NAME)[:40])
        assert not any(ln.startswith("forged") for ln in s.splitlines()), s
        tmux("send-keys", "-t", session, "q")
