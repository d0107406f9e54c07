"""frametap trace (in-process tracing) on every interpreter: exact event
sequences of a known program, the value stack at known opcodes, filters,
gc and import events, Chrome traces opened by speedscope, the program's
own output and exit status unchanged, fork, os._exit, a thread that was
running before tracing began, and the errors a user can meet."""
import json
import os
import re
import subprocess

from consumers import speedscope_open
from stacks import ROOT, TARGETS, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
PKG = os.path.join(ROOT, "build", "python")
KNOWN = os.path.join(TARGETS, "trace_known.py")
BEHAVIOUR = os.path.join(TARGETS, "trace_behaviour.py")
LINE = re.compile(r"^\s*(\d+\.\d+) (.*?)\((\d+)\): (\s*)(.*)$")


def trace(python, tmp_path, *options, target=KNOWN, args=(), out="t.txt"):
    path = str(tmp_path / out)
    rc, stdout, err = run_frametap(FT, "trace", "-q", "-o", path, *options, "--", python,
                                   target, *args, timeout=120)
    return rc, stdout, err, path


def events(path):
    """[(thread name, indent, text)] of a text trace, the header skipped."""
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = LINE.match(line.rstrip("\n"))
            assert m, "not a trace line: %r" % line
            out.append((m.group(2), len(m.group(4)), m.group(5)))
    return out


def own(evs, thread, filename="trace_known.py"):
    """Events of one thread in filename, as 'kind name' (no paths, no lines)."""
    seq = []
    for name, _, text in evs:
        if name != thread or filename not in text or "StopIteration" in text:
            continue
        text = re.sub(r" in \S*%s:\d+" % re.escape(filename), "", text)
        text = re.sub(r" at (\S+)$", r" at \1", text)
        seq.append(text)
    return seq


EXPECTED_MAIN = [
    "=> <module>",
    "=> main",
    "=> add", "<= add",
    "=> squares", "<= squares (yield)", "=> squares (resumed)", "<= squares (yield)",
    "=> squares (resumed)", "<= squares",
    "=> catch", "=> fail", "!  raise ValueError at fail", "<= fail (exception)",
    "!  handled ValueError at catch", "<= catch",
    "=> parent", "=> child", "<= child (yield)", "<= parent (yield)",
    "=> parent (resumed)", "=> child (resumed)", "<= child", "<= parent",
    "<= main",
    "<= <module>",
]


def test_known_event_sequence(python, tmp_path):
    rc, stdout, err, path = trace(python, tmp_path)
    assert rc == 0, err
    assert stdout == "done 1\n"
    evs = events(path)
    assert own(evs, "MainThread") == EXPECTED_MAIN
    assert own(evs, "trace-worker") == ["=> worker", "=> add", "<= add", "<= worker"]
    texts = [t for _, _, t in evs]
    assert "*  import colorsys" in texts
    assert "*  gc start (generation 2)" in texts
    assert any(t.startswith("*  gc done (collected ") for t in texts)
    assert any(t.startswith("*  thread trace-worker") for t in texts) or \
        any(n == "trace-worker" for n, _, _ in evs)
    # lines: calls show the def line, the raise its own line
    body = open(path, encoding="utf-8").read()
    assert re.search(r"=> fail in \S*trace_known.py:19\n", body), body[:3000]
    assert re.search(r"raise ValueError at fail in \S*trace_known.py:20\n", body)
    assert re.search(r"handled ValueError at catch in \S*trace_known.py:2[67]\n", body)
    # indentation follows the call depth
    depth = {t: d for n, d, t in evs if n == "MainThread" and "trace_known" in t}
    main_d = [d for n, d, t in evs if n == "MainThread" and t.startswith("=> main in")][0]
    fail_d = [d for n, d, t in evs if n == "MainThread" and t.startswith("=> fail in")][0]
    assert fail_d == main_d + 2, depth


def test_value_stack_before_add(python, tmp_path, minor):
    rc, _, err, path = trace(python, tmp_path, "-e", "call,opcode,line", "--within", "add")
    assert rc == 0, err
    body = open(path, encoding="utf-8").read()
    op = "BINARY_OP" if minor >= 11 else "BINARY_ADD"
    # a + b with a=1, b=2 (main) and a=10, b=20 (worker): both operands on the stack
    assert re.search(r"op %s @\d+ in add in \S+:11 stack=\[int 1, int 2\]" % op, body), body[:4000]
    assert re.search(r"op %s @\d+ in add in \S+:11 stack=\[int 10, int 20\]" % op, body)
    # and the result after it, before RETURN_VALUE
    assert re.search(r"op RETURN_VALUE @\d+ in add in \S+:11 stack=\[int 3\]", body)
    assert ".  line 11 of add" in body
    # --within add: nothing outside a function named add (ours, WeakSet.add) was recorded
    calls = {t.split(" in ")[0] for _, _, t in events(path) if t.startswith("=> ")}
    assert "=> add" in calls and not calls & {"=> main", "=> <module>", "=> catch", "=> worker"}


def test_within_and_depth_filters(python, tmp_path):
    rc, _, err, path = trace(python, tmp_path, "--within", "catch")
    assert rc == 0, err
    calls = [t.split(" in ")[0] for _, _, t in events(path) if t.startswith("=>")]
    assert calls == ["=> catch", "=> fail"], calls
    rc, _, err, path = trace(python, tmp_path, "--within", "main", "--max-depth", "1", out="d.txt")
    assert rc == 0, err
    calls = [t.split(" in ")[0] for _, _, t in events(path) if t.startswith("=>")]
    assert calls == ["=> main"], calls
    rc, _, err, path = trace(python, tmp_path, "--include", "*trace_known.py", out="i.txt")
    assert rc == 0, err
    files = {re.sub(r".* in (\S+):\d+.*", r"\1", t) for _, _, t in events(path)
             if t.startswith("=> ") and " in " in t}
    assert files and all(f.endswith("trace_known.py") for f in files), files
    rc, _, err, path = trace(python, tmp_path, "--exclude", "*trace_known.py", out="x.txt")
    assert rc == 0, err
    assert not [t for _, _, t in events(path) if "trace_known.py" in t and t.startswith("=>")]


def test_chrome_trace_opens_in_speedscope(python, tmp_path):
    rc, _, err, path = trace(python, tmp_path, out="t.json")
    assert rc == 0, err
    with open(path, encoding="utf-8") as f:
        evs = json.load(f)["traceEvents"]
    stacks, last = {}, {}
    for e in evs:
        if e["ph"] not in "BE":
            continue
        key = (e["pid"], e["tid"])
        assert e["ts"] >= last.get(key, 0)
        last[key] = e["ts"]
        st = stacks.setdefault(key, [])
        if e["ph"] == "B":
            st.append(e["name"])
        else:
            assert st and st.pop() == e["name"]
    assert all(not s for s in stacks.values())
    names = {e["name"] for e in evs if e["ph"] == "B"}
    assert {"main", "add", "catch", "fail", "worker"} <= names
    threads = {e["args"]["name"] for e in evs if e["name"] == "thread_name"}
    assert any(t.startswith("trace-worker(") for t in threads), threads
    dom = speedscope_open(path)
    assert "Time Order" in dom, dom[-3000:]


def plain(python, *args):
    r = subprocess.run([python, *args], capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def test_program_output_and_status_unchanged(python, tmp_path):
    for mode_args in (["exit", "3"], ["exit", "0"], ["raise"], ["fork"]):
        want = plain(python, BEHAVIOUR, *mode_args)
        rc, stdout, err, _ = trace(python, tmp_path, target=BEHAVIOUR, args=mode_args)
        assert (rc, stdout, err) == want, mode_args
    # -m and -c run as python runs them, argv included
    data = tmp_path / "d.json"
    data.write_text('{"b": [1, 2], "a": "x"}')
    want = plain(python, "-m", "json.tool", "--sort-keys", str(data))
    rc, out, err = run_frametap(FT, "trace", "-q", "-o", str(tmp_path / "m.txt"), "--", python,
                                "-m", "json.tool", "--sort-keys", str(data))
    assert (rc, out, err) == want
    code = "import sys; print(sys.argv, __name__)"
    want = plain(python, "-c", code, "a", "b")
    rc, out, err = run_frametap(FT, "trace", "-q", "-o", str(tmp_path / "c.txt"), "--", python,
                                "-c", code, "a", "b")
    assert (rc, out, err) == want


def test_os_exit_keeps_the_trace(python, tmp_path):
    rc, stdout, err, path = trace(python, tmp_path, target=BEHAVIOUR, args=["os_exit"])
    assert rc == 5, err
    body = open(path, encoding="utf-8").read()
    assert "=> last_words in" in body and "<= last_words in" in body
    assert "without its closing record" not in body


def test_fork_traces_both_processes(python, tmp_path):
    rc, stdout, err, path = trace(python, tmp_path, target=BEHAVIOUR, args=["fork"])
    assert rc == 0, err
    assert "child status 0" in stdout
    evs = events(path)
    child = [n for n, _, t in evs if t.startswith("=> in_child in")]
    parent = [n for n, _, t in evs if t.startswith("=> in_parent in")]
    assert child and parent, evs[-20:]
    pid_of = lambda n: re.match(r"\[pid (\d+)\]", n).group(1)  # noqa: E731
    assert pid_of(child[0]) != pid_of(parent[0])
    header = open(path, encoding="utf-8").read().split("\n# microseconds")[0]
    assert "(forked)" in header and "without its closing record" not in header
    assert not [f for f in os.listdir("/tmp") if f.startswith("frametap-trace-") and
                os.path.basename(path) in f]


def test_api_traces_threads_started_before(python, tmp_path):
    raw = str(tmp_path / "api.ftt")
    r = subprocess.run([python, os.path.join(TARGETS, "trace_api.py"), PKG, raw],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert re.match(r"events \d+ dropped 0", r.stdout), r.stdout
    out = str(tmp_path / "api.txt")
    rc, _, err = run_frametap(FT, "trace", "-q", "--from", raw, "-o", out)
    assert rc == 0, err
    ticks = [n for n, _, t in events(out) if t.startswith("=> tick in")]
    assert ticks and all(n == "early-bird" for n in ticks), ticks[:5]


def test_slow_writer_drops_and_says_so(python, tmp_path):
    """The trace file drains at ~1 MB/s: the program must not wait for it;
    events beyond the 1 MB of buffers are dropped, counted and reported."""
    import threading
    import time
    fifo = str(tmp_path / "slow.ftt")
    os.mkfifo(fifo)
    saved = tmp_path / "saved.ftt"

    def slow_reader():
        with open(fifo, "rb") as src, open(saved, "wb") as dst:
            while True:
                block = src.read(64 * 1024)
                if not block:
                    return
                dst.write(block)
                time.sleep(0.05)

    reader = threading.Thread(target=slow_reader)
    reader.start()
    r = subprocess.run([python, os.path.join(TARGETS, "trace_flood.py"), PKG, fifo],
                       capture_output=True, text=True, timeout=120)
    reader.join(timeout=120)
    assert r.returncode == 0, r.stderr
    m = re.match(r"events (\d+) dropped (\d+) seconds ([\d.]+)", r.stdout)
    assert m, r.stdout
    events, dropped = int(m.group(1)), int(m.group(2))
    assert dropped > 0 and events > 0, r.stdout
    rc, _, err = run_frametap(FT, "trace", "--from", str(saved), "-o", str(tmp_path / "s.txt"))
    assert rc == 0, err
    assert "events were dropped because the writer fell behind" in err, err
    assert "raise --buffer-mb" in err
    # where events were lost the text says so and starts its indentation again
    body = open(str(tmp_path / "s.txt"), encoding="utf-8").read()
    gaps = re.findall(r"^\s*\d+\.\d+ \S+: ~~ (\d+) events of this thread dropped here", body, re.M)
    assert gaps and sum(map(int, gaps)) <= dropped, body[:2000]


def test_counts_view(python, tmp_path):
    rc, _, err, path = trace(python, tmp_path, "--include", "*trace_known.py", out="t.counts.txt")
    assert rc == 0, err
    body = open(path, encoding="utf-8").read()
    assert body.startswith("second 0: ")
    m = re.search(r"^\s+(\d+)  add \(\S+trace_known.py:10\)$", body, re.M)
    assert m and int(m.group(1)) == 2, body[-3000:]


def sanitized_env():
    libs = []
    for lib in ("libasan.so", "libubsan.so"):
        path = subprocess.run(["gcc", "-print-file-name=" + lib], capture_output=True,
                              text=True).stdout.strip()
        assert os.path.isabs(path), "gcc does not know where %s is" % lib
        libs.append(path)
    return dict(os.environ, LD_PRELOAD=" ".join(libs),
                FRAMETAP_PYTHONPATH=os.path.join(ROOT, "build", "asan-python"),
                ASAN_OPTIONS="detect_leaks=0:abort_on_error=0",
                UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")


def test_extension_under_sanitizers(python, tmp_path, minor):
    """Every hook (all event kinds, value stacks), fork and os._exit, with
    the extension built with ASan+UBSan inside the traced interpreter."""
    env = sanitized_env()
    runs = [([KNOWN], 0, "all"), ([BEHAVIOUR, "fork"], 0, "default"),
            ([BEHAVIOUR, "os_exit"], 5, "default")]
    for target, want, kinds in runs:
        out = str(tmp_path / ("%s.txt" % kinds))
        r = subprocess.run([FT, "trace", "-e", kinds, "-o", out, "--", python, *target],
                           capture_output=True, text=True, timeout=300, env=env)
        for mark in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert mark not in r.stderr, r.stderr[-4000:]
        assert r.returncode == want, r.stderr[-2000:]
    assert "=> last_words in" in open(out, encoding="utf-8").read()
    body = open(str(tmp_path / "all.txt"), encoding="utf-8").read()
    op = "BINARY_OP" if minor >= 11 else "BINARY_ADD"
    assert re.search(r"op %s @\d+ in add in \S+:11 stack=\[int 1, int 2\]" % op, body)
    assert "*  audit " in body and ".  line " in body and "=> [C] " in body


def test_interpreter_without_the_extension(python, tmp_path):
    """A frametap whose package has no extension built for the interpreter
    says so, in one line, with no internal error (the package's own
    ImportError, a namespace package's AttributeError)."""
    import shutil
    os.makedirs(str(tmp_path / "bin"))
    shutil.copy(FT, str(tmp_path / "bin" / "frametap"))
    pkg = tmp_path / "python" / "frametap"
    os.makedirs(str(pkg))
    src = os.path.join(ROOT, "build", "python", "frametap")
    for name in os.listdir(src):
        if name.endswith(".py"):
            shutil.copy(os.path.join(src, name), str(pkg / name))
    for cmd in ("trace", "probe"):
        rc, _, err = run_frametap(str(tmp_path / "bin" / "frametap"), cmd, "--", python, BEHAVIOUR,
                                  "exit", "0")
        assert rc == 6 and "cannot load frametap's in-process extension (not built for " \
            "Python 3." in err and "make python PYTHON=%s" % python in err, err
        assert err.count("\n") == 1 and "Error" not in err, err


def test_errors_are_one_line(tmp_path):
    import interpreters
    rc, _, err = run_frametap(FT, "trace", "-e", "calls", "--", "python3", "x.py")
    assert rc == 2 and "unknown event kind 'calls'" in err
    rc, _, err = run_frametap(FT, "trace", "--", "python3")
    assert rc == 2 and "give the program as" in err
    bad = tmp_path / "bad.ftt"
    bad.write_bytes(b"not a trace at all")
    rc, _, err = run_frametap(FT, "trace", "--from", str(bad), "-o", str(tmp_path / "x.txt"))
    assert rc == 8 and "not a frametap trace" in err and err.count("\n") == 1
    old = interpreters.too_old()
    assert old, "no interpreter older than 3.8 here to check the refusal with"
    rc, _, err = run_frametap(FT, "trace", "--", old[0], BEHAVIOUR, "exit", "0")
    assert rc == 6 and "cannot load frametap's in-process extension" in err, err
    assert err.count("\n") == 1, err
