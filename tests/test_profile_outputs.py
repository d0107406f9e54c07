"""`frametap record` outputs on every interpreter: a stack deeper than
frametap reads is marked `<truncated at 8192 frames>` at its root side in
every format (never rooted at an inner frame); collapsed output merges
identical stacks across threads unless --threads; format spellings
(-f flamegraph, -f raw) and unknown formats."""
import gzip
import json
import os
import re
import xml.etree.ElementTree as ET

import pytest

from stacks import TARGETS, Target, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
DEEP = os.path.join(TARGETS, "deep_recursion.py")
IDLE = os.path.join(TARGETS, "idle_threads.py")
MARKER = "<truncated at 8192 frames>"
SVG_NS = "{http://www.w3.org/2000/svg}"


def collapsed(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^(.*) (\d+)$", line.rstrip("\n"))
            assert m, "not a collapsed line: %r" % line[:200]
            out.append((m.group(1).split(";"), int(m.group(2))))
    return out


def check_deep_collapsed(path):
    stacks = collapsed(path)
    deep = [frames for frames, _ in stacks if len(frames) > 8000]
    assert deep, [len(f) for f, _ in stacks]
    for frames in deep:
        assert frames[0] == MARKER and len(frames) == 8193, frames[:3]
        assert frames[1].startswith("rec (") and frames[-1].startswith("rec ("), frames[:3]
    assert not any(frames[0].startswith("rec (") for frames, _ in stacks)


def check_deep_speedscope(path):
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    names = [fr["name"] for fr in doc["shared"]["frames"]]
    marker = names.index(MARKER)
    deep = [s for p in doc["profiles"] for s in p["samples"] if len(s) > 8000]
    assert deep and all(s[0] == marker and len(s) == 8193 for s in deep)


def check_deep_chrome(path):
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    first_b = {}
    for e in events:
        if e["ph"] == "B":
            first_b.setdefault(e["tid"], e["name"])
    assert MARKER in first_b.values(), first_b
    assert "rec" not in first_b.values(), first_b


def check_deep_svg(path):
    root = ET.parse(path).getroot()
    gs = [g for g in root.iter(SVG_NS + "g") if g.get("data-label")]
    marked = [g for g in gs if g.get("data-label") == MARKER]
    assert marked and all(g.get("data-d") == "1" for g in marked)
    assert not any(g.get("data-d") == "1" and g.get("data-label").startswith("rec (") for g in gs)
    texts = "".join(t.text or "" for t in root.iter(SVG_NS + "text"))
    assert "on stacks cut at their outer end" in texts


def check_deep_pprof(path):
    with gzip.open(path) as f:
        data = f.read()
    assert "\u2039truncated at 8192 frames\u203a".encode() in data


def test_deep_stack_marked_in_every_format(python, tmp_path):
    """--blocking: the non-blocking reader (src/cpython) reports a stack this
    deep as torn on every read, so only a paused read reaches the writers."""
    base = str(tmp_path / "deep")
    exts = (".txt", ".speedscope.json", ".trace.json", ".svg", ".pb.gz")
    args = []
    for ext in exts:
        args += ["-o", base + ext]
    with Target(python, DEEP, "60", timeout=60) as t:
        rc, text, err = run_frametap(FT, "dump", t.pid)
        assert rc == 0, err
        assert "\n    %s\n" % MARKER in text
        rc, _, err = run_frametap(FT, "record", "--blocking", "--mode", "wall", "-r", "50", "-d", "1.5", *args,
                                  t.pid, timeout=120)
    assert rc == 0, err
    check_deep_collapsed(base + ".txt")
    check_deep_speedscope(base + ".speedscope.json")
    check_deep_chrome(base + ".trace.json")
    check_deep_svg(base + ".svg")
    check_deep_pprof(base + ".pb.gz")


def idle_lines(path):
    return [(frames, n) for frames, n in collapsed(path) if any("idle_worker (" in f for f in frames)]


def test_collapsed_merges_identical_stacks_across_threads(python, tmp_path):
    merged, split = tmp_path / "m.txt", tmp_path / "s.txt"
    with Target(python, IDLE, "1000", timeout=60) as t:
        for out, extra in ((merged, []), (split, ["--threads"])):
            rc, _, err = run_frametap(FT, "record", "--mode", "wall", "-r", "10", "-d", "1",
                                      *extra, "-o", out, t.pid, timeout=120)
            assert rc == 0, err
    lines = idle_lines(merged)
    assert len(lines) == 1 and lines[0][1] >= 1000, [(f[-1], n) for f, n in lines]
    assert len(idle_lines(split)) == 1000


def test_format_spellings(tmp_path):
    """flamegraph is svg and raw is collapsed, whatever the extension says."""
    with Target("/usr/bin/python3.11", os.path.join(TARGETS, "spinner.py")) as t:
        rc, _, err = run_frametap(FT, "record", "-d", "0.5", "-f", "flamegraph",
                                  "-o", tmp_path / "a.out", t.pid)
        assert rc == 0 and "(svg)" in err, err
        rc, _, err = run_frametap(FT, "record", "-d", "0.5", "-f", "raw",
                                  "-o", tmp_path / "b.out", t.pid)
        assert rc == 0 and "(collapsed)" in err, err
    assert (tmp_path / "a.out").read_text().startswith("<?xml")
    assert all(re.match(r"^.* \d+$", ln) for ln in (tmp_path / "b.out").read_text().splitlines())


def test_unknown_format_name_is_refused():
    rc, _, err = run_frametap(FT, "record", "-f", "bogus", "-o", "x.svg", "1")
    assert rc == 2 and "--format" in err and "bogus" in err, err


def test_unknown_extension_is_refused_before_sampling(tmp_path):
    with Target("/usr/bin/python3.11", os.path.join(TARGETS, "spinner.py")) as t:
        rc, _, err = run_frametap(FT, "record", "-d", "5", "-o", tmp_path / "out.speedscope",
                                  t.pid)
    assert rc == 2 and ".speedscope.json" in err and "samples" not in err, err
    assert not (tmp_path / "out.speedscope").exists()
