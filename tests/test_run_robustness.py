"""A recording is never lost or garbled by what the target or the world does
during it: commands that are not Python or that fail, shells that start
Python later, deleted or replaced binaries, containers, reused pids, a
debugger that takes the process, and the CLI spellings py-spy users type."""
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from stacks import TARGETS, ROOT, Target, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
FT_RELEASE = frametap_binaries()["release"]
SPIN = "import time\ndef busy():\n    t = time.time()\n    while time.time() - t < %s: pass\nbusy()\n"


def collapsed_names(path):
    names = set()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            for frame in line.rsplit(" ", 1)[0].split(";"):
                names.add(frame.split(" (")[0])
    return names


def test_command_that_never_runs_python(tmp_path):
    start = time.time()
    rc, _, err = run_frametap(FT, "record", "-o", tmp_path / "x.svg", "--", "/bin/sleep", "30")
    assert rc == 5, err
    assert "no Python interpreter appeared" in err and "--subprocesses" in err, err
    assert time.time() - start < 5, "took %.1f s" % (time.time() - start)
    assert len(err.strip().splitlines()) == 1, err


def test_command_exit_status_and_duration(python, tmp_path):
    out = tmp_path / "p.txt"
    code = SPIN % "1.5" + "import sys\nsys.exit(3)\n"
    rc, _, err = run_frametap(FT_RELEASE, "record", "-d", "0.5", "-o", out, "--", python, "-c", code)
    assert rc == 3, err
    assert "goes on: waiting for it to exit" in err and "exited with status 3" in err, err
    assert "busy" in collapsed_names(out)


def test_command_whose_threads_exit_while_paused(python, tmp_path):
    """Whole-process pauses keep meeting threads that exit while being
    stopped, and the command exits during one: frametap must collect the
    exits it is owed as their tracer (or the kernel never reports the
    command's exit: a wasm run once waited for ever) and must not collect
    the command's own exit in a pause (its status was lost: rc 0 for 3)."""
    for run in range(2):
        start = time.time()
        rc, _, err = run_frametap(FT_RELEASE, "record", "--blocking", "-r", "500", "-f", "collapsed",
                                  "-o", tmp_path / "p.txt", "--", python,
                                  os.path.join(TARGETS, "thread_exits.py"), "2", timeout=60)
        assert rc == 3, "run %d: %s" % (run, err)
        assert "exited with status 3" in err, err
        assert time.time() - start < 30, "run %d took %.1f s" % (run, time.time() - start)


def test_command_that_exits_while_its_threads_are_held(python, tmp_path):
    """The program exits while `record --blocking` holds its threads: the
    threads that die held must be collected by frametap, their tracer, or
    the kernel never reports the command's exit and frametap waits for
    ever (the previous build hung in 7 of 8 runs on 3.15; this is how
    `record -- node ...` of pyodide hung at node's exit)."""
    start = time.time()
    rc, _, err = run_frametap(FT_RELEASE, "record", "--blocking", "-r", "2000", "-f", "collapsed",
                              "-o", tmp_path / "p.txt", "--", python,
                              os.path.join(TARGETS, "exit_while_busy.py"), timeout=60)
    assert rc == 3, err
    assert time.time() - start < 30, "took %.1f s" % (time.time() - start)


def test_command_killed_by_a_signal(tmp_path):
    code = SPIN % "0.5" + "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n"
    rc, _, err = run_frametap(FT_RELEASE, "record", "-o", tmp_path / "p.txt", "--", sys.executable,
                              "-c", code)
    assert rc == 128 + signal.SIGKILL, err
    assert "killed by signal 9" in err, err
    assert (tmp_path / "p.txt").exists(), "the profile is written anyway"


def test_shell_that_starts_python_later(tmp_path):
    script = tmp_path / "launch.sh"
    script.write_text("#!/bin/bash\nsleep 0.3\n%s -c '%s'\nexit 4\n" %
                      (sys.executable, (SPIN % "1").replace("'", "'\\''")))
    script.chmod(0o755)
    out = tmp_path / "p.txt"
    rc, _, err = run_frametap(FT_RELEASE, "record", "-s", "-d", "5", "-r", "200", "-o", out, "--",
                              str(script))
    assert rc == 4, err
    assert "runs no Python" in err and "sampling pid" in err, err
    assert "busy" in collapsed_names(out)
    rc, _, err = run_frametap(FT_RELEASE, "record", "-o", out, "--", str(script))
    assert rc == 5 and "--subprocesses" in err, err


def test_pid_of_a_shell_with_subprocesses(tmp_path):
    shell = subprocess.Popen(["/bin/bash", "-c", "sleep 0.5; %s -c '%s'" %
                              (sys.executable, (SPIN % "2").replace("'", "'\\''"))])
    try:
        out = tmp_path / "p.txt"
        rc, _, err = run_frametap(FT_RELEASE, "record", "-s", "-d", "2", "-o", out, "--pid", shell.pid)
        assert rc == 0, err
        assert "busy" in collapsed_names(out), err
    finally:
        shell.kill()
        shell.wait()


def copy_python(python, dest):
    """A copy of the interpreter that runs from dest (home set for the static
    Debian builds, whose copies would not find their stdlib)."""
    real = os.path.realpath(python)
    shutil.copy(real, dest)
    env = dict(os.environ)
    if real.startswith("/opt/pythons/"):
        env["PYTHONHOME"] = "/opt/pythons/root/usr"
    elif real.startswith("/usr/bin/"):
        env["PYTHONHOME"] = "/usr"
    return env


@pytest.mark.parametrize("how", ["deleted", "replaced"])
def test_binary_deleted_or_replaced_on_disk(python, how, tmp_path):
    """A package upgrade removes or replaces the interpreter while it runs:
    frametap reads the mapped file through /proc, never the new one."""
    exe = tmp_path / "python-copy"
    env = copy_python(python, exe)
    with Target(str(exe), os.path.join(TARGETS, "idle.py"), env=env) as t:
        if how == "deleted":
            exe.unlink()
        else:
            (tmp_path / "new").write_bytes(b"#!/bin/sh\necho an upgrade\n")
            os.replace(tmp_path / "new", exe)
        rc, out, err = run_frametap(FT, "dump", t.pid)
    assert rc == 0, err
    assert "idle.py" in out, out


def test_process_in_another_pid_namespace(python, tmp_path):
    """A container: the target reports thread ids of its own namespace;
    frametap shows the host's, reads names and CPU state through them, and
    cpu mode samples the busy thread."""
    script = tmp_path / "spin.py"
    script.write_text("import threading, time\n"
                      "def spin():\n    while True: sum(range(100))\n"
                      "threading.Thread(target=spin, name='spinner').start()\n"
                      "print('READY', flush=True)\ntime.sleep(60)\n")
    p = subprocess.Popen(["unshare", "-p", "-f", "--mount-proc", python, str(script)],
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith("READY")
        pid = int(subprocess.run(["pgrep", "-f", "-n", str(script)], capture_output=True,
                                 text=True).stdout.split()[0])
        ns = open("/proc/%d/status" % pid).read().split("NSpid:")[1].split("\n")[0].split()
        assert len(ns) == 2 and ns[1] == "1", ns
        host_tids = set(int(x) for x in os.listdir("/proc/%d/task" % pid))
        rc, out, err = run_frametap(FT, "dump", "--json", pid)
        assert rc == 0, err
        import json
        d = json.loads(out)
        assert {t["native_id"] for t in d["threads"]} <= host_tids, (d, host_tids)
        spinner = [t for t in d["threads"] if t["frames"] and t["frames"][0]["name"] == "spin"]
        assert len(spinner) == 1 and spinner[0]["on_cpu"], d
        out_file = tmp_path / "p.txt"
        rc, _, err = run_frametap(FT_RELEASE, "record", "-d", "1", "-r", "200", "-o", out_file, pid)
        assert rc == 0, err
        assert "spin" in collapsed_names(out_file), err
    finally:
        p.kill()
        p.wait()
        subprocess.run(["pkill", "-9", "-f", str(script)])


def test_reused_pid_ends_the_run(python, tmp_path):
    """The target exits and its pid is given to a new process at once (both
    without ASLR, so that its memory looks alike): the run ends cleanly with
    what it had, and never samples the newcomer."""
    first = tmp_path / "first.py"
    second = tmp_path / "second.py"
    first.write_text("import time\ndef first_program():\n    while True: sum(range(100))\n"
                     "print('READY', flush=True)\nfirst_program()\n")
    second.write_text("import time\ndef second_program():\n    while True: sum(range(100))\n"
                      "print('READY', flush=True)\nsecond_program()\n")
    t = subprocess.Popen(["setarch", "-R", python, str(first)], stdout=subprocess.PIPE, text=True)
    assert t.stdout.readline().startswith("READY")
    out = tmp_path / "p.txt"
    rec = subprocess.Popen([FT_RELEASE, "record", "-d", "8", "-r", "500", "-o", str(out), str(t.pid)],
                           stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    pid = t.pid
    t.kill()
    t.wait()
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    newcomer = subprocess.Popen(["setarch", "-R", python, str(second)], stdout=subprocess.PIPE, text=True)
    try:
        _, err = rec.communicate(timeout=30)
        assert rec.returncode == 0, err
        names = collapsed_names(out)
        assert "first_program" in names and "second_program" not in names, (newcomer.pid, pid, names)
    finally:
        newcomer.kill()
        newcomer.wait()


def test_debugger_takes_the_process_during_blocking_record(tmp_path):
    """strace attaches in the middle of `record --blocking`: those samples
    are errors with their cause, the run goes on and writes its profile."""
    code = "import time\nprint('READY', flush=True)\nwhile True: sum(range(1000))\n"
    t = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert t.stdout.readline().startswith("READY")
    out = tmp_path / "p.txt"
    try:
        rec = subprocess.Popen([FT_RELEASE, "record", "-b", "-d", "6", "-r", "200", "-o", str(out),
                                str(t.pid)], stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        # strace's attach fails when it lands while frametap holds the
        # process: try again until strace held it for its second
        for _ in range(20):
            r = subprocess.run(["timeout", "1", "strace", "-q", "-o", "/dev/null", "-p", str(t.pid)],
                               capture_output=True, text=True)
            if r.returncode == 124:
                break
        assert r.returncode == 124, "strace never attached: %s" % r.stderr
        _, err = rec.communicate(timeout=30)
    finally:
        t.kill()
        t.wait()
    assert rec.returncode == 0, err
    assert "already traced by process" in err and "errors" in err, err
    assert out.exists()


def test_bad_outputs_are_refused_before_sampling(tmp_path):
    with Target(sys.executable, os.path.join(TARGETS, "idle.py")) as t:
        for bad, why in (([tmp_path / "missing" / "x.svg"], "does not exist"),
                         ([tmp_path / "x.speedscope"], "known extensions"),
                         (["-f", "bogus", tmp_path / "x"], "--format takes")):
            args = ["-o", bad[-1]] if len(bad) == 1 else [bad[0], bad[1], "-o", bad[2]]
            start = time.time()
            rc, _, err = run_frametap(FT, "record", "-d", "30", *args, "-o", tmp_path / "ok.txt", t.pid)
            assert rc == 2 and why in err, err
            assert time.time() - start < 5 and not (tmp_path / "ok.txt").exists()


def test_cli_spellings(tmp_path):
    rc, out, _ = run_frametap(FT, "-V")
    assert rc == 0 and re.match(r"frametap \d", out), out
    with Target(sys.executable, os.path.join(TARGETS, "spinner.py")) as t:
        for args in (["-f", "flamegraph", "-o", tmp_path / "a.out"], ["-f", "raw", "-o", tmp_path / "b.out"]):
            rc, _, err = run_frametap(FT, "record", "-d", "0.3", *args, "--pid", t.pid)
            assert rc == 0, err
    assert (tmp_path / "a.out").read_text().startswith("<?xml") or "<svg" in (tmp_path / "a.out").read_text()
    assert " " in (tmp_path / "b.out").read_text().splitlines()[0]
    with Target(sys.executable, os.path.join(TARGETS, "idle.py")) as t:
        for cmd in ("dump", "tasks"):
            for args in (["--pid", t.pid], ["-p", t.pid]):
                rc, out, err = run_frametap(FT, cmd, *args)
                assert rc == 0 and out, (cmd, args, err)
            rc, _, err = run_frametap(FT, cmd, "--pid", t.pid, t.pid)
            assert rc == 2 and "exactly one process" in err, (cmd, err)


def test_every_help_has_examples():
    for cmd in ("dump", "record", "top", "trace", "tasks"):
        rc, out, _ = run_frametap(FT, cmd, "--help")
        assert rc == 0 and "usage:" in out and "example" in out, (cmd, out)


def test_man_page_matches_help(tmp_path):
    """frametap.1 is generated from the --help texts (make man); a help text
    changed without regenerating it would make them drift."""
    fresh = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "gen-man.py"), FT_RELEASE],
                           capture_output=True, text=True, check=True).stdout
    with open(os.path.join(ROOT, "frametap.1"), encoding="utf-8") as f:
        assert f.read() == fresh, "frametap.1 is stale: run 'make man'"
    r = subprocess.run(["man", "-l", os.path.join(ROOT, "frametap.1")], capture_output=True, text=True,
                       env=dict(os.environ, MANPAGER="cat", MANWIDTH="100"))
    assert r.returncode == 0 and "--subprocesses" in r.stdout and "EXIT STATUS" in r.stdout, r.stderr
