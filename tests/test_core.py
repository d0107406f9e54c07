"""`frametap dump --core` on every interpreter: cores written by gdb's
gcore and by the kernel show the same Python frames (and the same merged
native stack) as a live dump of the same process state; files found
under --lib-search-root; a build-id mismatch is warned about and the
file is never used; bad cores are one-line errors with their own exit
status. Kernel cores need root: the tests point kernel.core_pattern at a
temporary directory and restore it afterwards."""
import os
import resource
import shutil
import signal
import subprocess
import time

import pytest

from native import (core_of, gcore, interpreter_file, native_sequence, python_frames, settled,
                    small_env, start)
from stacks import Target, frametap_binaries, run_frametap
from native import CHAINS

FT = frametap_binaries()["asan"]
EXIT = {"usage": 2, "notpy": 5, "badcore": 10}
CORE_PATTERN = "/proc/sys/kernel/core_pattern"


def one_line_error(err):
    lines = [ln for ln in err.splitlines() if ln.strip() and "warning:" not in ln]
    assert len(lines) == 1, err
    assert lines[0].startswith("frametap: ")
    return lines[0]


@pytest.fixture
def kernel_cores(tmp_path):
    """Kernel cores go to tmp_path/core.PID while the test runs."""
    with open(CORE_PATTERN) as f:
        old = f.read()
    limit = resource.getrlimit(resource.RLIMIT_CORE)
    with open(CORE_PATTERN, "w") as f:
        f.write(str(tmp_path / "core.%p"))
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    try:
        yield tmp_path
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, limit)
        with open(CORE_PATTERN, "w") as f:
            f.write(old)


def kernel_core(target, directory):
    """Kills target with SIGABRT; the core the kernel wrote for it."""
    target.proc.send_signal(signal.SIGABRT)
    target.proc.wait(timeout=60)
    core = str(directory / ("core.%d" % target.pid))
    assert os.path.exists(core), os.listdir(directory)
    return core


def same_as_live(live, d, core):
    assert d["pid"] == live["pid"] and d["core"] == core
    assert d["python"] == live["python"] and d["runtime_address"] == live["runtime_address"]
    assert python_frames(d) == python_frames(live)
    assert native_sequence(d) == native_sequence(live)
    for t in d["threads"]:
        assert t["error"] is None and t["native"]["error"] is None
        assert t["native"]["merged"] and t["native"]["placed"]["order"] == 0


def test_gcore_same_as_live(python, minor, tmp_path):
    with start(python, env=small_env()) as target:
        live, _ = settled(FT, target.pid, "--native")
        core = gcore(target.pid, str(tmp_path))
    rc, d, err = core_of(FT, core, "--native")
    assert rc == 0, err
    assert d["written_by"] == "gdb" and d["signal"] == 0
    if "holds only zeros for the C stack" not in err:
        assert err == ""
        same_as_live(live, d, core)
        return
    # gdb 13 cannot read a thread stack whose first page is a guard region
    # (MADV_GUARD_INSTALL, glibc 2.41+: the /opt/pythons builds bring one) and
    # writes zeros for all of it: those threads are reported, never guessed
    assert minor >= 14 and len(err.splitlines()) == 1, err
    live_t = {t["native_id"]: t for t in live["threads"]}
    for t in d["threads"]:
        if t["native_id"] == d["pid"]:
            assert python_frames({"threads": [t]}) == python_frames({"threads": [live_t[t["native_id"]]]})
        else:
            assert t["frames"] == [] and "lost this thread's C stack" in t["error"], t


def test_kernel_core_same_as_live(python, kernel_cores):
    with start(python, env=small_env()) as target:
        live, _ = settled(FT, target.pid, "--native")
        core = kernel_core(target, kernel_cores)
    rc, d, err = core_of(FT, core, "--native")
    assert rc == 0 and err == "", err
    assert d["written_by"] == "kernel" and d["signal"] == signal.SIGABRT
    same_as_live(live, d, core)
    rc, text, err = run_frametap(FT, "dump", "--core", core)
    assert rc == 0 and text.startswith("Core file %s: Process %d: " % (core, target.pid))
    assert "killed by signal 6 (SIGABRT)" in text.splitlines()[0]
    # _PyRuntime found in the core's image each way discovery knows
    sections = subprocess.run(["readelf", "-S", "-W", d["binary"]], capture_output=True,
                              text=True).stdout
    for how in ("symbol", "section", "scan"):
        rc, by, err = core_of(FT, core, "--runtime-discovery", how)
        if how == "section" and ".PyRuntime" not in sections:
            assert rc == 5 and "no _PyRuntime" in err
            continue
        assert rc == 0, (how, err)
        assert by["runtime_found_by"] == how and by["runtime_address"] == d["runtime_address"]
        assert python_frames(by) == python_frames(live)


def relocated_target(python, tmp_path):
    """The target run from a copy of the interpreter's executable, and the
    directory of that copy."""
    exe, prefix = interpreter_file(python)
    app = tmp_path / "app" / "bin"
    app.mkdir(parents=True)
    copy = str(app / os.path.basename(exe))
    shutil.copy2(exe, copy)
    return Target(copy, CHAINS, env=small_env(PYTHONHOME=prefix)), copy


def test_core_with_lib_search_root(python, tmp_path, kernel_cores):
    """A core whose executable is no longer where the process ran it: found
    under --lib-search-root as ROOT/path, or by name anywhere below it."""
    target, copy = relocated_target(python, tmp_path)
    with target:
        live, _ = settled(FT, target.pid)
        core = kernel_core(target, kernel_cores)
    root = tmp_path / "root"
    as_root = root / copy.lstrip("/")
    as_root.parent.mkdir(parents=True)
    shutil.move(copy, as_root)
    by_name = tmp_path / "elsewhere" / "deep" / "down"
    by_name.mkdir(parents=True)
    shutil.copy2(as_root, by_name / os.path.basename(copy))
    # without the root: the executable is missing
    rc, d, err = core_of(FT, core)
    assert "%s (mapped by the process) is not on this machine" % copy in err, err
    if rc == 0:  # pyenv: the interpreter is libpython, which is still here
        assert python_frames(d) == python_frames(live)
    else:        # a static interpreter cannot be read without its file
        assert rc == EXIT["notpy"] and "--lib-search-root" in one_line_error(err)
    for where in (root, tmp_path / "elsewhere"):
        rc, d, err = core_of(FT, core, "--lib-search-root", str(where))
        assert rc == 0, err
        assert copy not in err, err
        assert python_frames(d) == python_frames(live)


def test_core_build_id_mismatch(python, kernel_cores):
    """A file whose build-id is not the one the process mapped is named in a
    warning and never used."""
    with start(python, env=small_env()) as target:
        live, _ = settled(FT, target.pid)
        core = kernel_core(target, kernel_cores)
    wrong = shutil.which("true")
    rc, d, err = core_of(FT, core, "--executable", wrong)
    # the core has the build-id of most files; where it does not (its copy of
    # the file's first page lacks the note) that copy is compared instead
    warnings = [ln for ln in err.splitlines() if "warning: build-id mismatch" in ln or
                "warning: file mismatch" in ln]
    assert len(warnings) == 1 and wrong in warnings[0] and "--executable" in warnings[0], err
    if rc == 0:  # pyenv: the runtime is in libpython
        assert python_frames(d) == python_frames(live)
    else:
        msg = one_line_error(err)
        assert rc == EXIT["notpy"] and "build-id" in msg and "--executable" in msg, msg


@pytest.fixture(scope="module")
def sleep_core(tmp_path_factory):
    """A core of a process that is not Python."""
    d = tmp_path_factory.mktemp("sleep")
    with subprocess.Popen(["sleep", "1000"]) as p:
        try:
            time.sleep(0.2)
            core = gcore(p.pid, str(d))
        finally:
            p.kill()
    return core


def test_core_of_non_python_process(sleep_core):
    rc, out, err = run_frametap(FT, "dump", "--core", sleep_core)
    assert rc == EXIT["notpy"] and out == ""
    msg = one_line_error(err)
    assert "the process in core file %s" % sleep_core in msg and "not a Python process" in msg


def test_truncated_core(sleep_core, tmp_path):
    cut = tmp_path / "cut"
    with open(sleep_core, "rb") as f:
        data = f.read()
    for size in (len(data) // 2, 100, 64):
        cut.write_bytes(data[:size])
        rc, out, err = run_frametap(FT, "dump", "--core", cut)
        assert rc == EXIT["badcore"] and out == "", (size, err)
        msg = one_line_error(err)
        assert "truncated" in msg, msg


@pytest.mark.parametrize("kind", ["text", "executable", "empty", "missing", "directory"])
def test_not_a_core(kind, tmp_path):
    path = tmp_path / "file"
    expect = {"text": "not an ELF file", "executable": "not a core dump", "empty": "is empty",
              "missing": "cannot open core file", "directory": "not a regular file"}[kind]
    if kind == "text":
        path.write_text("hello\n")
    elif kind == "executable":
        shutil.copy2(shutil.which("true"), path)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "directory":
        path.mkdir()
    rc, out, err = run_frametap(FT, "dump", "--core", path)
    assert rc == EXIT["badcore"] and out == ""
    assert expect in one_line_error(err)


@pytest.mark.parametrize("args", [["--core", "x", "1"], ["--executable", "x", "1"],
                                  ["--lib-search-root", "x", "1"], ["--core", "x", "--nonblocking"]])
def test_core_usage_errors(args):
    rc, out, err = run_frametap(FT, "dump", *args)
    assert rc == EXIT["usage"]
    one_line_error(err)
