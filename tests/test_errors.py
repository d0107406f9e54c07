"""Bad input to `frametap dump`: each cause gets one line naming the cause
and the fix, a distinct non-zero exit status, and no crash."""
import os
import re
import shutil
import subprocess
import time

import pytest

import interpreters
from stacks import TARGETS, Target, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
IDLE = os.path.join(TARGETS, "idle.py")
PY315 = "/opt/pythons/bin/python3.15"
EXIT = {"usage": 2, "noproc": 3, "perm": 4, "notpy": 5, "version": 6, "exited": 7}


def one_line_error(err):
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("frametap: ")
    return lines[0]


def unused_pid():
    pid = 4000000
    while os.path.exists("/proc/%d" % pid):
        pid -= 1
    return pid


def test_no_such_process():
    rc, out, err = run_frametap(FT, "dump", unused_pid())
    assert rc == EXIT["noproc"] and out == ""
    assert "no process with pid" in one_line_error(err)


@pytest.mark.parametrize("arg", ["abc", "-5", "0", ""])
def test_bad_pid_argument(arg):
    rc, out, err = run_frametap(FT, "dump", arg)
    assert rc == EXIT["usage"]
    assert "is not a process id" in one_line_error(err)


def test_not_a_python_process():
    with subprocess.Popen(["sleep", "100"]) as p:
        try:
            time.sleep(0.1)
            rc, out, err = run_frametap(FT, "dump", p.pid)
        finally:
            p.kill()
    assert rc == EXIT["notpy"]
    assert "is not a Python process" in one_line_error(err)


@pytest.mark.parametrize("version", ["2.7", "3.6", "3.7"])
def test_too_old_python(version):
    paths = [p for p in interpreters.too_old() if "/%s." % version in p]
    assert paths, "pyenv %s is not installed here (pyenv install %s)" % (version, version)
    with Target(paths[0], IDLE) as t:
        rc, out, err = run_frametap(FT, "dump", t.pid)
    line = one_line_error(err)
    assert rc == EXIT["version"], err
    assert "CPython %s is too old" % version in line and "guessed nothing" in line


def patched_python(tmp_path, hexversion):
    """A copy of Debian's python3.15 whose _Py_DebugOffsets claims another
    version: the binary is real, only the version it publishes differs."""
    exe = os.path.realpath("/opt/pythons/root/usr/bin/python3.15")
    copy = tmp_path / "python3.15"
    shutil.copy(exe, copy)
    sections = subprocess.run(["readelf", "-SW", str(copy)], capture_output=True, text=True).stdout
    m = re.search(r"\.PyRuntime\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)", sections)
    with open(copy, "r+b") as f:
        f.seek(int(m.group(1), 16))
        assert f.read(8) == b"xdebugpy"
        f.write(hexversion.to_bytes(8, "little"))
    wrapper = tmp_path / "run"
    wrapper.write_text("#!/bin/sh\nPYTHONHOME=/opt/pythons/root/usr exec %s \"$@\"\n" % copy)
    wrapper.chmod(0o755)
    return str(wrapper)


@pytest.mark.parametrize("hexversion,expect", [
    (0x031000F0, "CPython 3.16.0 is newer than this frametap"),
    (0x030F00B4, "CPython 3.15.0b4 is a pre-release"),
])
def test_version_without_layout(tmp_path, hexversion, expect):
    assert os.path.exists(PY315), "needs ../shared/pythons/install.sh /opt/pythons"
    with Target(patched_python(tmp_path, hexversion), IDLE) as t:
        rc, out, err = run_frametap(FT, "dump", t.pid)
    line = one_line_error(err)
    assert rc == EXIT["version"], err
    assert expect in line and "nothing was guessed" in line.replace("guessed nothing", "nothing was guessed")


def test_permission_denied():
    assert os.geteuid() == 0, "this test runs the target as root and frametap as nobody"
    with Target(PY315 if os.path.exists(PY315) else "/usr/bin/python3.11", IDLE) as t:
        rc, out, err = run_frametap(FT, "dump", t.pid, user=65534)
    line = one_line_error(err)
    assert rc == EXIT["perm"], err
    for word in ("permission denied", "ptrace", "CAP_SYS_PTRACE", "kernel.yama.ptrace_scope", "uid 0"):
        assert word in line


def test_zombie_process():
    p = subprocess.Popen(["/usr/bin/python3.11", "-c", "pass"])
    deadline = time.time() + 10
    while time.time() < deadline:
        with open("/proc/%d/stat" % p.pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.05)
    try:
        rc, out, err = run_frametap(FT, "dump", p.pid)
    finally:
        p.wait()
    assert rc == EXIT["exited"], err
    assert "has exited" in one_line_error(err)


def test_process_exits_while_being_read(python):
    """Dump a churning process again and again while it exits: every run is
    either a good dump or one clean error line; never a crash or a hang."""
    outcomes = set()
    for delay in (0.05, 0.1, 0.2, 0.3):
        code = ("import sys, time, threading\n"
                "def f(n): return f(n - 1) if n else time.sleep(0)\n"
                "end = time.time() + %f\n"
                "while time.time() < end: f(200)\n") % delay
        p = subprocess.Popen([python, "-c", code])
        while p.poll() is None:
            rc, out, err = run_frametap(FT, "dump", "--nonblocking", p.pid)
            if rc == 0:
                outcomes.add("ok")
            else:
                one_line_error(err)
                assert rc in (EXIT["noproc"], EXIT["exited"], EXIT["notpy"]), err
                outcomes.add(rc)
        p.wait()
    assert outcomes, "no dump ran"


def test_already_traced_process():
    """Another tracer holds the target: dump names it and offers --nonblocking,
    which still works."""
    with Target("/usr/bin/python3.11", IDLE) as t:
        tracer = subprocess.Popen(["strace", "-q", "-o", "/dev/null", "-p", str(t.pid)])
        try:
            deadline = time.time() + 10
            while time.time() < deadline and "TracerPid:\t0" in open("/proc/%d/status" % t.pid).read():
                time.sleep(0.05)
            rc, out, err = run_frametap(FT, "dump", t.pid)
            line = one_line_error(err)
            assert rc == EXIT["perm"], err
            assert "already traced by process %d" % tracer.pid in line and "--nonblocking" in line
            rc, out, err = run_frametap(FT, "dump", "--nonblocking", t.pid)
            assert rc == 0 and "idle.py" in out, err
        finally:
            tracer.kill()
            tracer.wait()
