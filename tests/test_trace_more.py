"""frametap trace, the defects a new user found, on every interpreter: a
program that replaces itself with os.execv keeps its trace and the new
Python program is traced too (also after a fork); the runner's own frames
never show; __file__, tracebacks and sys.orig_argv are what python alone
gives; the default output is named after the program's pid; --from a
directory and a missing interpreter get a one-line message that says what
is wrong."""
import os
import re
import subprocess

from stacks import TARGETS, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
BEHAVIOUR = os.path.join(TARGETS, "trace_behaviour.py")
KNOWN = os.path.join(TARGETS, "trace_known.py")


def trace_text(python, tmp_path, *args, target=BEHAVIOUR, cwd=None):
    out = str(tmp_path / "t.txt")
    r = subprocess.run([FT, "trace", "-q", "-o", out, "--", python, target, *args],
                       capture_output=True, text=True, timeout=120, cwd=cwd)
    body = open(out, encoding="utf-8").read() if os.path.exists(out) else ""
    return r, body


def test_exec_keeps_the_trace_and_follows_python(python, tmp_path):
    r, body = trace_text(python, tmp_path, "exec")
    assert r.returncode == 0, r.stderr
    assert r.stdout == "stdout: exec [] True\nstdout: after_exec [] True\n"
    header = body.split("\n# microseconds")[0]
    assert "ended without its closing record" not in header, header
    assert re.search(r"^# frametap trace: pid (\d+), .*\n# frametap trace: pid \1 \(after exec\)",
                     header, re.M), header
    assert "=> in_parent in" in body and "=> last_words in" in body
    assert not [f for f in os.listdir(str(tmp_path)) if f.startswith("t.txt.")]


def test_fork_then_exec(python, tmp_path):
    r, body = trace_text(python, tmp_path, "fork_exec")
    assert r.returncode == 0, r.stderr
    assert "child status 0" in r.stdout
    header = body.split("\n# microseconds")[0]
    assert "(forked)" in header and "(after exec)" in header, header
    assert "ended without its closing record" not in header, header
    assert "=> in_child in" in body and "=> last_words in" in body


def test_runner_frames_never_show(python, tmp_path):
    r, body = trace_text(python, tmp_path, target=KNOWN)
    assert r.returncode == 0, r.stderr
    # the runner's bootstrap is the bottom frame (depth 0) of the main thread
    assert not re.search(r"MainThread\(\d+\): [<=]= <module> in <string>:1$", body, re.M), \
        body[-800:]


def test_paths_and_orig_argv_like_python(python, tmp_path):
    want = subprocess.run([python, "trace_behaviour.py", "paths"], capture_output=True,
                          text=True, timeout=60, cwd=TARGETS)
    r, _ = trace_text(python, tmp_path, "paths", target="trace_behaviour.py", cwd=TARGETS)
    assert (r.returncode, r.stdout) == (want.returncode, want.stdout)
    assert "frametap" not in r.stdout


def test_default_output_named_after_the_program(python, tmp_path):
    r = subprocess.run([FT, "trace", "-q", "--", python, "-c", "import os; print(os.getpid())"],
                       capture_output=True, text=True, timeout=60, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    assert os.path.exists(str(tmp_path / ("frametap-trace-%s.txt" % r.stdout.strip()))), \
        os.listdir(str(tmp_path))


def test_messages_say_what_is_wrong(tmp_path):
    rc, _, err = run_frametap(FT, "trace", "--from", str(tmp_path))
    assert rc == 2 and "takes a raw trace file" in err and err.count("\n") == 1, err
    rc, _, err = run_frametap(FT, "trace", "--", "/nonexistent/python", "x.py")
    assert rc == 2 and err == "frametap: cannot run /nonexistent/python: No such file or " \
                              "directory\n", err
    rc, _, err = run_frametap(FT, "trace", str(os.getpid()), "-d", "1")
    assert rc == 2 and err == "frametap trace: options go before the PID: frametap trace " \
                              "[OPTIONS] %d\n" % os.getpid(), err


def test_within_costs_nothing_outside_its_window(python, tmp_path, minor):
    """--within a function never called: no global events (3.12+), no hooks
    (3.8-3.11), so a hot loop of calls records nothing; the one call of it
    is traced, and the window closes after it."""
    from stacks import ROOT
    pkg = os.path.join(ROOT, "build", "python")
    r = subprocess.run([python, os.path.join(TARGETS, "trace_within_cost.py"), pkg,
                        str(tmp_path / "w.ftt")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    m = re.match(r"ratio ([\d.]+) events (\d+) (-?\d+) (-?\d+)", r.stdout)
    assert m, r.stdout
    events, glob, after = int(m.group(2)), int(m.group(3)), int(m.group(4))
    # the ratio is printed, not asserted (timings are noisy here; the
    # figures are in bench/RESULTS.md): what is checked is the structure
    assert 4 <= events < 100, r.stdout              # never_called and f inside it, not 10^6
    if minor >= 12:
        assert glob == 0 and after == 0, r.stdout
    out = str(tmp_path / "w.txt")
    rc, _, err = run_frametap(FT, "trace", "-q", "--from", str(tmp_path / "w.ftt"), "-o", out)
    assert rc == 0, err
    calls = [ln.split(" in ")[0].split(": ")[-1].strip() for ln in open(out)
             if "=> " in ln and not ln.startswith("#")]
    assert calls == ["=> never_called", "=> f"], calls
