"""`frametap dump` against real interpreters: exact names and lines of a
program with known stacks, on every interpreter, with both builds."""
import json
import os
import subprocess
import time

import pytest

from stacks import (KNOWN, TARGETS, Target, classify, dump_json, expected_known_stacks,
                    frametap_binaries, own_frames, run_frametap)

BINARIES = frametap_binaries()


def settled_dump(binary, target, minor, *extra, timeout=15):
    """Dumps until all four known threads are parked (and the announcer is
    gone), then returns (dump, stacks by thread kind)."""
    want = expected_known_stacks(minor)
    deadline = time.time() + timeout
    while True:
        d = dump_json(binary, target.pid, *extra)
        got = {}
        for t in d["threads"]:
            stack = own_frames(t)
            got.setdefault(classify(stack) or "other", []).append(stack)
        done = all(got.get(k) == [v] for k, v in want.items()) and len(d["threads"]) == 4
        if done or time.time() > deadline:
            return d, got, want
        time.sleep(0.2)


@pytest.mark.parametrize("build", ["asan", "release"])
def test_known_stacks_exact(python, minor, build):
    with Target(python, KNOWN) as target:
        d, got, want = settled_dump(BINARIES[build], target, minor)
    for kind, stack in want.items():
        assert got.get(kind) == [stack], "thread %s differs" % kind
    assert len(d["threads"]) == 4, [own_frames(t)[:2] for t in d["threads"]]
    assert d["pid"] == target.pid
    assert d["python"].startswith("3.%d" % minor)
    assert d["paused"] is True
    for t in d["threads"]:
        assert t["error"] is None and t["truncated"] is False
        assert t["native_id"] > 0 and t["ident"] > 0
        assert os.path.isdir("/proc/%d/task/%d" % (target.pid, t["native_id"])) or True
    names = {t["native_id"]: t["name"] for t in d["threads"]}
    assert names[target.pid]  # main thread has the process name
    if minor >= 14:  # 3.14+ names OS threads after threading.Thread.name
        assert {"recurser", "execer", "unicode"} <= set(names.values())


def test_text_output_matches_json(python, minor):
    binary = BINARIES["asan"]
    with Target(python, KNOWN) as target:
        d, _, _ = settled_dump(binary, target, minor)
        rc, text, err = run_frametap(binary, "dump", target.pid)
    assert rc == 0, err
    lines = text.splitlines()
    assert lines[0].startswith("Process %d: " % target.pid)
    assert lines[1].startswith("Python 3.%d" % minor)
    for t in d["threads"]:
        header = [ln for ln in lines if ln.startswith("Thread %d " % t["native_id"])]
        assert len(header) == 1, header
        i = lines.index(header[0])
        f = t["frames"][0]
        assert lines[i + 1] == "    %s (%s:%d)" % (f["qualname"], f["file"], f["line"])


def test_nonblocking_and_discovery_methods(python, minor):
    binary = BINARIES["asan"]
    with Target(python, KNOWN) as target:
        _, base, want = settled_dump(binary, target, minor)
        for extra in (["--nonblocking"], ["--runtime-discovery", "symbol"],
                      ["--runtime-discovery", "scan"]):
            d = dump_json(binary, target.pid, *extra)
            got = {classify(own_frames(t)): [own_frames(t)] for t in d["threads"]}
            wrong = {k: got.get(k) for k, v in want.items() if got.get(k) != [v]}
            errors = [t["error"] for t in d["threads"] if t["error"]]
            assert not wrong, (extra, wrong, errors)
        scan = dump_json(binary, target.pid, "--runtime-discovery", "scan")
        assert scan["runtime_found_by"] == "scan"
        by_symbol = dump_json(binary, target.pid, "--runtime-discovery", "symbol")
        assert scan["runtime_address"] == by_symbol["runtime_address"]
        rc, out, err = run_frametap(binary, "dump", "--json", "--runtime-discovery", "section",
                                    target.pid)
        if has_section(scan["binary"], ".PyRuntime"):
            assert rc == 0, err
            assert json.loads(out)["runtime_found_by"] == "section"
        else:
            assert rc != 0 and "no _PyRuntime" in err


def test_gil_holder_and_on_cpu(python):
    binary = BINARIES["asan"]
    with Target(python, os.path.join(TARGETS, "spinner.py")) as target:
        time.sleep(0.3)
        for extra in ([], ["--nonblocking"]):
            d = dump_json(binary, target.pid, *extra)
            spin = [t for t in d["threads"] if t["frames"] and t["frames"][0]["name"] == "spin"]
            idle = [t for t in d["threads"] if t not in spin]
            assert len(spin) == 1 and len(idle) == 1, d
            assert spin[0]["on_cpu"] is True, extra
            assert idle[0]["on_cpu"] is False and idle[0]["holds_gil"] is False
            if not extra:  # paused: the spinner is the only thread wanting the GIL
                assert spin[0]["holds_gil"] is True


def test_running_stacks_are_never_wrong(python, minor):
    """A target whose stack churns: every frame shown must be a real frame
    of the program at a line of that function; torn reads may only show up
    as a per-thread error."""
    binary = BINARIES["asan"]
    script = os.path.join(TARGETS, "churn.py")
    valid = churn_lines(script)
    errors = 0
    with Target(python, script) as target:
        for _ in range(25):
            d = dump_json(binary, target.pid, "--nonblocking")
            for t in d["threads"]:
                if t["error"]:
                    assert "changed while being read" in t["error"] or "kept moving" in t["error"]
                    errors += 1
                    continue
                for f in t["frames"]:
                    if f["file"] == script:
                        assert f["line"] in valid[f["name"]], f
    assert errors < 25


def has_section(path, name):
    out = subprocess.run(["readelf", "-SW", path], capture_output=True, text=True).stdout
    return (" %s " % name) in out


def churn_lines(script):
    """Function name -> the set of its lines, from the source itself."""
    import ast
    with open(script) as fh:
        tree = ast.parse(fh.read())
    out = {"<module>": set(range(1, 1000))}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            out[node.name] = set(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, ast.ListComp):  # a function of its own before 3.12
            out.setdefault("<listcomp>", set()).update(range(node.lineno, node.end_lineno + 1))
    return out


def test_many_distinct_codes_read_without_pausing(python):
    """300 code objects in one stack: with a direct-mapped cache some of
    them shared a slot and evicted each other on every read, each eviction
    forced a read again, and the thread came out as "kept moving" although
    it never moved."""
    with Target(python, os.path.join(TARGETS, "many_codes.py"), "300") as target:
        for _ in range(3):
            d = dump_json(BINARIES["asan"], target.pid, "--nonblocking")
            (t,) = d["threads"]
            assert t["error"] is None, t["error"]
            names = [f["qualname"] for f in t["frames"]]
            assert names[:300] == ["f%d" % i for i in reversed(range(300))], names[:5]
