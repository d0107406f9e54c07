"""frametap on CPython compiled to WebAssembly: pyodide in node, read from
outside (no runtime cooperation, no DWARF). Every pyodide release of
pyodides.RELEASES is installed from npm by the tests (cached in
build/pyodide); one that cannot be installed fails."""
import json
import os
import re
import subprocess
import time

import pytest

import pyodides
from stacks import HERE, Target, frametap_binaries, marks, run_frametap

BINARIES = frametap_binaries()
WASM = os.path.join(HERE, "targets", "wasm")
RUNNER = os.path.join(WASM, "run_pyodide.js")
KNOWN = os.path.join(WASM, "wasm_known.py")
SPLIT = os.path.join(WASM, "wasm_split.py")
GUEST_DIR = "/home/pyodide/"          # where run_pyodide.js puts the program
VERSIONS = [v for v, _ in pyodides.RELEASES]


class Node(Target):
    """node running a Python program in pyodide; waits for `ready` READY lines
    (stopping and `with` as for Target)."""

    def __init__(self, pkg, program, workers=0, ready=1, node_args=(), timeout=120):
        cmd = [pyodides.node(), *node_args, RUNNER, pkg, program, str(workers)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.pid = self.proc.pid
        deadline, seen = time.time() + timeout, 0
        while seen < ready and time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen += line.startswith("READY")
        if seen < ready:
            self.stop()
            raise RuntimeError("pyodide target did not start: %s" % self.proc.stderr.read()[-3000:])


@pytest.fixture(params=VERSIONS)
def pyodide(request):
    version = request.param
    try:
        return version, pyodides.install(version)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        pytest.fail("pyodide %s could not be installed: %s" % (version, e))


def minor_of(version):
    return dict(pyodides.RELEASES)[version]


def own(frames, program):
    name = os.path.basename(program)
    return [(f["qualname"], f["line"]) for f in frames if f["file"] == GUEST_DIR + name]


def expected_known():
    m = marks(KNOWN)
    return [("leaf_wait", m["leaf"]), ("Outer.method", m["method"]), ("gen", m["gen"]),
            ("ünïcode_fünc", m["unicode"]), ("main", m["main"])]


def dump_until(binary, pid, want, program, timeout=20):
    """dump --json until every interpreter shows `want` (the program may be
    between READY and its parking spot); returns the last dump."""
    deadline = time.time() + timeout
    while True:
        rc, out, err = run_frametap(binary, "dump", "--json", pid)
        assert rc == 0, "dump failed (%d): %s" % (rc, err)
        d = json.loads(out)
        stacks = [own(t["frames"], program) for i in d["interpreters"] for t in i["threads"]]
        if (stacks and all(s == want for s in stacks)) or time.time() > deadline:
            return d
        time.sleep(0.3)


def test_wasm_dump_known_stacks(pyodide):
    version, pkg = pyodide
    minor = minor_of(version)
    want = expected_known()
    with Node(pkg, KNOWN) as target:
        d = dump_until(BINARIES["asan"], target.pid, want, KNOWN)
        rc, text, err = run_frametap(BINARIES["release"], "dump", target.pid)
    assert rc == 0, err
    assert d["pid"] == target.pid and d["paused"] is True
    assert len(d["interpreters"]) == 1, [i.get("wasm") for i in d["interpreters"]]
    it = d["interpreters"][0]
    py = it["python"]
    assert re.fullmatch(re.escape(minor) + r"\.\d+", py), py
    label = "wasm %s in node" % py
    assert it["wasm"] == label
    assert it["runtime_found_by"] == ("wasm-cookie" if int(minor.split(".")[1]) >= 13 else "wasm-shape")
    mem = it["memory"]
    assert mem["base"] > 0 and mem["base"] % 4096 == 0 and 0 < mem["size"] <= 1 << 32
    assert 0 < it["runtime_address"] < mem["size"]
    [thread] = it["threads"]
    assert thread["error"] is None and thread["native_id"] is None
    assert own(thread["frames"], KNOWN) == want
    # the rest of the stack is pyodide's own harness, outermost
    names = [f["qualname"] for f in thread["frames"]]
    assert names[len(want)] == "<module>" and "eval_code" in names
    # text: labelled, exact frames and lines
    assert "[%s]" % label in text
    lines = [l.strip() for l in text.splitlines()]
    for qualname, line in want:
        assert "%s (%s%s:%d)" % (qualname, GUEST_DIR, "wasm_known.py", line) in lines, text
    pyodides.covered[version] = py


def test_wasm_dump_refuses_prerelease():
    try:
        pkg = pyodides.install(pyodides.PRERELEASE)
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        pytest.fail("pyodide %s could not be installed: %s" % (pyodides.PRERELEASE, e))
    with Node(pkg, KNOWN) as target:
        time.sleep(0.5)
        rc, out, err = run_frametap(BINARIES["asan"], "dump", target.pid)
    assert rc == 6, (rc, out, err)
    assert "WebAssembly" in err and "pre-release" in err and "3.15.0rc1" in err, err
    assert out == ""


def legal_split_stack(frames):
    """Innermost first: the program's frames (under a <GC> marker while the
    collector runs), then pyodide's harness only."""
    m = marks(SPLIT)
    if frames and frames[0]["qualname"] == "<GC>":
        frames = frames[1:]
    prog = [(f["qualname"], f["line"]) for f in frames if f["file"].endswith("wasm_split.py")]
    rest = frames[len(prog):]
    if [f for f in frames[:len(prog)] if not f["file"].endswith("wasm_split.py")]:
        return False
    harness = all(f["file"] == "<exec>" or "/_pyodide/" in f["file"] for f in rest)
    near = lambda line, mark: m[mark] - 1 <= line <= m[mark] + 1
    if not harness or not prog or prog[-1][0] != "main":
        return False
    if len(prog) == 1:
        return prog[0][1] in (m["call_a"], m["call_b"]) or m["call_a"] - 2 <= prog[0][1] <= m["call_b"]
    if len(prog) != 2:
        return False
    (fn, line), (_, caller) = prog
    return (fn == "spin_a" and near(line, "a") and caller == m["call_a"]) or \
           (fn == "spin_b" and near(line, "b") and caller == m["call_b"])


FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")
FRAME_NO_LINE = re.compile(r"^(.*) \((.*)\)$")


def parse_collapsed(path):
    """(thread root, frames innermost first, count) of each line of a
    --threads collapsed profile."""
    stacks = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            body, count = line.rstrip("\n").rsplit(" ", 1)
            root, *frames = body.split(";")
            st = []
            for fr in reversed(frames):
                m = FRAME.match(fr)
                if not m and fr.startswith("<") and fr.endswith(">"):  # a marker: <GC>, <truncated..>
                    st.append({"qualname": fr, "file": "", "line": 0})
                    continue
                if not m:  # a frame with no line known: "name (file)"
                    m2 = FRAME_NO_LINE.match(fr)
                    assert m2, "frame without (file): %r" % fr
                    st.append({"qualname": m2.group(1), "file": m2.group(2), "line": -1})
                    continue
                st.append({"qualname": m.group(1), "file": m.group(2), "line": int(m.group(3))})
            stacks.append((root, st, int(count)))
    return stacks


def test_wasm_record_known_split(pyodide, tmp_path):
    version, pkg = pyodide
    out = tmp_path / "p.collapsed"
    with Node(pkg, SPLIT) as target:
        rc, _, err = run_frametap(BINARIES["release"], "record", "-d", "4", "-r", "250", "--threads",
                                  "-o", out, "-o", tmp_path / "p.speedscope.json", target.pid)
    assert rc == 0, err
    assert "wasm %s." % minor_of(version) in err
    assert "wasm %s." % minor_of(version) in (tmp_path / "p.speedscope.json").read_text()
    stacks = parse_collapsed(out)
    assert stacks, err
    total = sum(w for _, _, w in stacks)
    assert total >= 300, err  # enough samples for a share within a few points
    bad = [s for _, s, _ in stacks if not legal_split_stack(s)]
    assert not bad, "stacks that cannot happen: %s" % bad[:3]
    labels = {name for name, _, _ in stacks}
    assert all("[wasm %s." % minor_of(version) in l and " in node]" in l for l in labels), labels
    a = sum(w for _, s, w in stacks if any(f["qualname"] == "spin_a" for f in s))
    b = sum(w for _, s, w in stacks if any(f["qualname"] == "spin_b" for f in s))
    share_a = 100.0 * a / (a + b)
    assert abs(share_a - 30) <= 6, "spin_a had %.1f%% of %d samples (30%% expected)" % (share_a, a + b)
    pyodides.covered.setdefault(version, re.search(r"sampling wasm (\S+) in node", err).group(1))


def test_wasm_two_pyodides_in_worker_threads():
    version = "314.0.8"
    pkg = pyodides.install(version)
    want = expected_known()
    with Node(pkg, KNOWN, workers=2, ready=2) as target:
        d = dump_until(BINARIES["asan"], target.pid, want, KNOWN)
        rc, text, err = run_frametap(BINARIES["release"], "dump", target.pid)
    assert rc == 0, err
    its = d["interpreters"]
    assert len(its) == 2, [i.get("wasm") for i in its]
    assert len({i["memory"]["base"] for i in its}) == 2
    for it in its:
        assert it["wasm"].startswith("wasm 3.14.") and it["wasm"].endswith(" in node")
        [t] = it["threads"]
        assert own(t["frames"], KNOWN) == want
    assert text.count("[wasm 3.14.") >= 2


def test_wasm_two_pyodides_recorded():
    pkg = pyodides.install("0.29.5")
    with Node(pkg, SPLIT, workers=2, ready=2) as target:
        rc, out, err = run_frametap(BINARIES["release"], "record", "-d", "2", "--threads",
                                    "-f", "collapsed", "-o", "/dev/stdout", target.pid)
    assert rc == 0, err
    roots = {line.split(";")[0] for line in out.splitlines() if line}
    assert any("[wasm 3.13." in r and "#2]" in r for r in roots), roots
    assert any("[wasm 3.13." in r and "#2]" not in r for r in roots), roots


def test_wasm_dump_without_trap_handler():
    """--disable-wasm-trap-handler: no guard regions, the reservation is the
    memory's declared maximum (a different layout of the maps)."""
    pkg = pyodides.install("314.0.8")
    want = expected_known()
    with Node(pkg, KNOWN, node_args=("--disable-wasm-trap-handler",)) as target:
        d = dump_until(BINARIES["asan"], target.pid, want, KNOWN)
        maps = open("/proc/%d/maps" % target.pid).read()
    [it] = d["interpreters"]
    assert own(it["threads"][0]["frames"], KNOWN) == want
    base = "%x-" % it["memory"]["base"]
    assert any(l.startswith(base) for l in maps.splitlines()), "base is a mapping's start here"


def test_wasm_node_without_python_is_not_python():
    """A node process with a multi-GB heap and no Python: exit 5, saying what
    was scanned, and the scan stays bounded (never the whole heap)."""
    code = ("const a=[]; for (let i = 0; i < 24; i++) a.push(Buffer.alloc(100 << 20, 7));"
            "const o=[]; for (let i = 0; i < 3e6; i++) o.push({i, s: 'x' + i});"
            "console.log('READY'); setInterval(() => a.length + o.length, 1000);")
    p = subprocess.Popen([pyodides.node(), "--max-old-space-size=8192", "-e", code],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("READY")
        rss = int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % p.pid).read()).group(1))
        assert rss > 2 << 20, "the heap should be over 2 GB (VmRSS %d kB)" % rss
        for binary in BINARIES.values():
            rc, out, err = run_frametap(binary, "dump", p.pid)
            assert rc == 5, (rc, err)
            assert "is not a Python process" in err and "WebAssembly" in err, err
            scanned = float(re.search(r"scanned ([\d.]+) MiB", err).group(1))
            assert scanned <= 512, err  # FT_WASM_SCAN_BUDGET
        rc, _, err = run_frametap(BINARIES["release"], "record", "-d", "1", "-f", "collapsed", "-o", "/dev/null", p.pid)
        assert rc == 5 and "not a Python process" in err, err
    finally:
        p.kill()
        p.wait()


def test_wasm_top_shows_the_split(pyodide):
    """top on a wasm target, driven in tmux like test_top.py."""
    import shutil
    version, pkg = pyodide
    assert shutil.which("tmux"), "tmux is not installed (make test-deps)"
    session = "frametap-wasm-top-%d" % os.getpid()
    env = "ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1"
    try:
        with Node(pkg, SPLIT) as target:
            r = subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "30",
                                "%s %s top -r 200 %d 2>/tmp/%s.err" % (env, BINARIES["asan"],
                                                                      target.pid, session)],
                               capture_output=True, text=True, timeout=30)
            assert r.returncode == 0, r.stderr
            deadline, s = time.time() + 20, ""
            while time.time() < deadline:
                s = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                   capture_output=True, text=True).stdout
                if "spin_b (" in s and "spin_a (" in s and re.search(r"Samples (\d{3,})", s):
                    break
                time.sleep(0.3)
            assert "[wasm %s." % minor_of(version) in s and " in node]" in s, s
            own = {}
            for ln in s.splitlines():
                m = re.match(r"\s*([\d.]+)%?\s+.*\b(spin_[ab]) \(", ln)
                if m:
                    own[m.group(2)] = float(m.group(1))
            assert set(own) == {"spin_a", "spin_b"}, s
            assert own["spin_b"] > own["spin_a"], s
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


def test_wasm_memory_growth_followed():
    """Memory grows by 256 MiB while recorded (no error sample); then a
    300-deep stack whose frames were allocated after the growth, most likely
    past the memory's first extent (which is then found again in the maps)."""
    pkg = pyodides.install("314.0.8")
    grow = os.path.join(WASM, "wasm_grow.py")
    m = marks(grow)
    with Node(pkg, grow) as target:
        first = json.loads(run_frametap(BINARIES["release"], "dump", "--json", target.pid)[1])
        size0 = first["interpreters"][0]["memory"]["size"]
        rc, out, err = run_frametap(BINARIES["asan"], "record", "-d", "4", "-r", "200", "-f",
                                    "collapsed", "-o", "/dev/stdout", target.pid)
        assert rc == 0, err
        assert " 0.00% errors" in err, err
        deadline = time.time() + 60
        while time.time() < deadline:
            d = json.loads(run_frametap(BINARIES["asan"], "dump", "--json", target.pid)[1])
            [it] = d["interpreters"]
            stack = own(it["threads"][0]["frames"], grow)
            if len(stack) > 300:
                break
            time.sleep(0.5)
    assert it["memory"]["base"] == first["interpreters"][0]["memory"]["base"]  # V8 grows in place
    assert it["memory"]["size"] >= size0 + (200 << 20), (size0, it["memory"])
    assert stack[-1] == ("main", m["main"])
    assert stack[-301:-1] == [("deep", m["deep"])] * 300, stack[-4:]
    assert stack[-302] == ("deep", m["leaf"]), stack[:4]
    assert all(f == "spin" and abs(line - m["spin"]) <= 2 for f, line in stack[:-302]), stack[:4]


def test_wasm_permission_denied_as_for_native():
    """frametap as nobody on a root-owned node running pyodide: exit 4 with
    the same advice as for a native Python process, for dump and record."""
    assert os.geteuid() == 0, "this test runs the target as root and frametap as nobody"
    pkg = pyodides.install("314.0.8")
    with Node(pkg, KNOWN) as target:
        for args in (("dump",), ("record", "-d", "1", "-f", "collapsed", "-o", "/tmp/ft-wasm-perm.txt")):
            rc, out, err = run_frametap(BINARIES["release"], *args, target.pid, user=65534)
            assert rc == 4, (args, rc, err)
            for word in ("permission denied", "CAP_SYS_PTRACE"):
                assert word in err, err


def test_wasm_record_launched_node(tmp_path):
    """record -- node ...: the command maps no Python binary, so its wasm
    memories are looked at until pyodide's runtime appears; sampled until
    the command exits, with its exit status."""
    pkg = pyodides.install("314.0.8")
    out = tmp_path / "p.collapsed"
    # -d only bounds a failure: node's exit once went unreported for ever
    # (a worker thread that died while held was left for its tracer to
    # collect; fixed, see test_command_that_exits_while_its_threads_are_held)
    rc, _, err = run_frametap(BINARIES["asan"], "record", "--threads", "-d", "90", "-o", out, "--",
                              pyodides.node(), RUNNER, pkg, os.path.join(WASM, "wasm_finite.py"), "0",
                              timeout=180)
    assert rc == 0, err
    assert "sampling wasm 3.14." in err, err
    stacks = parse_collapsed(out)
    spins = sum(c for _, s, c in stacks if any(f["qualname"] in ("spin_a", "spin_b") for f in s))
    assert spins >= 100, err
    assert all("[wasm 3.14." in root for root, _, _ in stacks)
