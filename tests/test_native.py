"""`frametap dump --native` on every interpreter: Python -> C -> Python
chains (sorted with a Python key, functools.reduce, a ctypes callback
called by qsort) and threads blocked in time.sleep and select.select,
checked for the exact interleaving of Python and native frames."""
import os
import subprocess

import pytest

from native import (C_LINK_SYMBOLS, CHAINS, THREADS, own, python_frames, settled, start,
                    tokens)
from stacks import frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]


def has_symbols(d, t):
    """Whether the interpreter's own functions have names in this build
    (pyenv: a .symtab; Debian's stripped builds: only exported ones)."""
    r = subprocess.run(["readelf", "-S", "-W", d["binary"]], capture_output=True, text=True)
    return " .symtab " in r.stdout


def own_runs(t):
    """The merged stack cut at the target's own frames: [(name, natives
    between it and the next own frame)]."""
    toks = tokens(t)
    names = {i: n for i, (n, _) in enumerate(own(t["frames"]))}
    own_idx = [i for i, f in enumerate(t["frames"]) if f["file"] == CHAINS]
    pos = [toks.index(("py", i)) for i in own_idx]
    assert pos == sorted(pos), "own frames out of order in %s" % toks
    out = []
    for k, p in enumerate(pos):
        end = pos[k + 1] if k + 1 < len(pos) else len(toks)
        between = [x for x in toks[p + 1:end] if x[0] != "py"]
        out.append((names[k], between))
    return out, toks, pos


def check_thread(d, t, minor):
    name = t["python_name"]
    nat = t["native"]
    assert nat["error"] is None and nat["merged"] is True, nat
    assert nat["note"] is None, nat["note"]
    # every run of Python frames is anchored: by the C-stack address of its
    # entry frame (3.11+) or by the frame object its activation keeps (3.8-3.10)
    assert nat["placed"]["order"] == 0 and nat["placed"]["after_end"] == 0, nat["placed"]
    key = "address" if minor >= 11 else "argument"
    assert nat["placed"][key] >= 1
    runs, toks, pos = own_runs(t)
    # the same Python frames as the Python-only stack, each once, in order
    assert sorted(x[1] for x in toks if x[0] == "py") == list(range(len(t["frames"])))
    assert [x[1] for x in toks if x[0] == "py"] == list(range(len(t["frames"])))
    # each run of Python frames sits just inside the eval-loop frame running it
    for i, x in enumerate(toks):
        if x[0] == "py" and (i + 1 == len(toks) or toks[i + 1][0] != "py"):
            assert toks[i + 1][0] == "c" and toks[i + 1][3] is True, toks[i:i + 3]
    symbols = has_symbols(d, t)
    links = dict(THREADS[name])
    for (fname, between) in runs:
        link = links[fname]
        if link == "py":
            # a direct Python call: nothing but the interpreter's own call
            # plumbing between the two frames, and nothing at all from 3.11 on
            assert all(c[3] or c[4] for c in between), (fname, between)
            if minor >= 11:
                assert between == [], (fname, between)
        elif link == "c":
            real = [c for c in between if not c[3] and not c[4]]
            assert real, (fname, between)
            names = [c[1] or "" for c in between]
            want = C_LINK_SYMBOLS[fname]
            if fname == "compare":  # libffi exports ffi_call; qsort is in libc
                assert any(n.startswith(want) for n in names), names
                assert any(os.path.basename(c[2] or "").startswith("libc.so") for c in between)
            elif symbols:
                assert any(n.startswith(want) for n in names), names
    # the C frames above the innermost Python frame: the blocking call
    first_py = next(i for i, x in enumerate(toks) if x[0] == "py")
    top = [x[1] or "" for x in toks[:first_py]]
    if name == "selecter" or minor <= 10:  # 3.8-3.10 sleep in select()
        assert any("select" in n for n in top), top
    else:
        assert any("nanosleep" in n for n in top), top
    if symbols:
        assert any(n.startswith(("time_sleep", "select_select")) for n in top), top


def test_native_interleaving(python, minor):
    with start(python) as target:
        d, err = settled(FT, target.pid, "--native")
    assert err == ""
    for t in d["threads"]:
        check_thread(d, t, minor)


def test_native_text(python, minor):
    with start(python) as target:
        d, _ = settled(FT, target.pid)
        rc, text, err = run_frametap(FT, "dump", "--native", target.pid)
    assert rc == 0, err
    blocks = text.split("\n\n")[1:]
    for t in d["threads"]:
        block = next(b for b in blocks if b.startswith("Thread %d " % t["native_id"]))
        lines = block.splitlines()[1:]
        py = ["    %s (%s:%d)" % (f["qualname"], f["file"], f["line"]) for f in t["frames"]]
        # the Python frames, in order, as the plain dump shows them
        assert [ln for ln in lines if not ln.startswith("    (C) ")] == py, block
        at = [lines.index(p) for p in py]
        links = dict(THREADS[t["python_name"]])
        for k, f in enumerate(t["frames"]):
            if f["file"] != CHAINS or k + 1 == len(t["frames"]):
                continue
            shown = lines[at[k] + 1:at[k + 1]]
            short = f["qualname"].rsplit(".", 1)[-1]
            if links.get(short) == "c":
                assert shown and all(s.startswith("    (C) ") for s in shown), block
            elif links.get(short) == "py":
                assert shown == [], block  # the interpreter's call plumbing is left out
        assert lines[0].startswith("    (C) "), block  # the blocking call is on top


def test_native_equals_python_only(python):
    """--native changes nothing about the Python frames or their order."""
    with start(python) as target:
        plain, _ = settled(FT, target.pid)
        native, _ = settled(FT, target.pid, "--native")
    assert python_frames(plain) == python_frames(native)
    assert "native" not in plain["threads"][0]


def test_native_usage_errors():
    rc, out, err = run_frametap(FT, "dump", "--native", "--nonblocking", "1")
    assert rc == 2 and "--nonblocking" in err and len(err.splitlines()) == 1


def test_record_native(python, tmp_path):
    """record --native: every sample merged; between a Python frame and the
    Python code it reaches through C, the C frames (collapsed output)."""
    out = tmp_path / "p.txt"
    with start(python) as target:
        settled(FT, target.pid)
        rc, _, err = run_frametap(FT, "record", "--native", "--mode", "wall", "-r", "100", "-d",
                                  "1", "-o", out, target.pid, timeout=120)
    assert rc == 0, err
    assert "without their C frames" not in err and "paused per sample" in err, err
    stacks = [ln.rsplit(" ", 1)[0].split(";") for ln in out.read_text().splitlines()]
    assert stacks
    for outer, inner in (("sort_caller", "sort_key"), ("reduce_caller", "reduce_step"),
                         ("ctypes_caller", "compare")):
        seen = 0
        for st in stacks:
            names = [f.split(" (")[0].rsplit(".", 1)[-1] for f in st]
            if outer in names and inner in names:
                between = st[names.index(outer) + 1:names.index(inner)]
                assert between and not any(CHAINS in f for f in between), st
                seen += 1
        assert seen, (outer, stacks)


def test_record_native_usage():
    rc, out, err = run_frametap(FT, "record", "--native", "--nonblocking", "1")
    assert rc == 2 and "--nonblocking" in err and len(err.splitlines()) == 1


def test_record_native_library_loaded_later(python, tmp_path):
    """A library mapped after record --native began (sqlite3 imported, then
    calling back into Python from sqlite3_step): the session reports the
    target's modules again and the samples hold its C frames."""
    import subprocess
    import time
    script = os.path.join(os.path.dirname(CHAINS), "late_library.py")
    out = tmp_path / "p.txt"
    target = subprocess.Popen([python, script], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert target.stdout.readline().startswith("READY")
        rec = subprocess.Popen([FT, "record", "--native", "--mode", "wall", "-r", "50", "-d", "4",
                                "-o", str(out), str(target.pid)], stderr=subprocess.PIPE, text=True)
        time.sleep(1.5)  # sampling with the modules of before
        target.stdin.write("go\n")
        target.stdin.flush()
        assert target.stdout.readline().startswith("LOADED")
        err = rec.communicate(timeout=60)[1]
    finally:
        target.kill()
        target.wait()
    assert rec.returncode == 0, err
    assert "without their C frames" not in err, err
    stacks = [ln.rsplit(" ", 1)[0].split(";") for ln in out.read_text().splitlines()]
    late = [st for st in stacks if any(f.startswith("in_sql ") for f in st)]
    assert late, stacks
    for st in late:
        names = [f.split(" (")[0].rsplit(".", 1)[-1] for f in st]
        between = st[names.index("main") + 1:names.index("in_sql")]
        assert any("sqlite" in f for f in between), st


def test_native_known_stacks(python, minor):
    """The known-stacks program (1000-deep recursion, exec'd code, a
    coroutine chain, non-ASCII names): every run of Python frames anchored."""
    import time
    from stacks import KNOWN, Target, classify, dump_json, expected_known_stacks, own_frames
    want = expected_known_stacks(minor)
    with Target(python, KNOWN) as target:
        deadline = time.time() + 20
        while True:
            d = dump_json(FT, target.pid, "--native")
            got = {classify(own_frames(t)): own_frames(t) for t in d["threads"]}
            if all(got.get(k) == v for k, v in want.items()) or time.time() > deadline:
                break
            time.sleep(0.2)
    assert all(got.get(k) == v for k, v in want.items())
    for t in d["threads"]:
        nat = t["native"]
        assert nat["merged"] and nat["note"] is None and nat["error"] is None, nat
        assert nat["placed"]["order"] == 0 and nat["placed"]["after_end"] == 0, nat["placed"]
        assert [x[1] for x in tokens(t) if x[0] == "py"] == list(range(len(t["frames"])))
