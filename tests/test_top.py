"""`frametap top` driven like a person would: in tmux, with keys typed and
the screen read back (capture-pane), including a terminal resize."""
import os
import re
import shutil
import subprocess
import time

import pytest

from stacks import TARGETS, Target, frametap_binaries

FT = frametap_binaries()["asan"]


def tmux(*args):
    return subprocess.run(["tmux", *args], capture_output=True, text=True, timeout=30)


def screen(session):
    return tmux("capture-pane", "-p", "-t", session).stdout


def wait_for(session, text, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        s = screen(session)
        if text in s:
            return s
        time.sleep(0.2)
    raise AssertionError("%r never appeared; screen:\n%s" % (text, screen(session)))


@pytest.fixture
def session():
    assert shutil.which("tmux"), "tmux is not installed (make test-deps)"
    name = "frametap-top-%d" % os.getpid()
    yield name
    tmux("kill-session", "-t", name)


def test_top_live_table_keys_and_resize(python, session):
    with Target(python, os.path.join(TARGETS, "spinner.py")) as t:
        env = "ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1"
        r = tmux("new-session", "-d", "-s", session, "-x", "140", "-y", "30",
                 "%s %s top -r 200 %d 2>/tmp/frametap-top-%s.err" % (env, FT, t.pid, session))
        assert r.returncode == 0, r.stderr
        s = wait_for(session, "spin (")
        assert "frametap top  pid %d" % t.pid in s and "Python 3." in s
        assert "%Own" in s and "Threads 2" in s
        line = [ln for ln in s.splitlines() if "spin (" in ln][0]
        assert float(line.split()[0]) > 90.0, s       # the spinner owns the samples
        tmux("send-keys", "-t", session, "l")
        s = wait_for(session, "By: line")
        tmux("send-keys", "-t", session, "2")
        s = wait_for(session, "Sort: %Total")
        assert "Thread: all" in s
        tmux("send-keys", "-t", session, "t")
        s = wait_for(session, "Sort: %Total")
        deadline = time.time() + 10
        while "Thread: all" in s and time.time() < deadline:
            time.sleep(0.2)
            s = screen(session)
        assert re.search(r"Thread: \d+ \(", s), s
        tmux("send-keys", "-t", session, " ")
        wait_for(session, "[PAUSED]")
        tmux("send-keys", "-t", session, " ")
        tmux("send-keys", "-t", session, "r")
        tmux("resize-window", "-t", session, "-x", "70", "-y", "12")
        s = wait_for(session, "frametap top")
        assert max(len(ln) for ln in s.splitlines()) <= 70
        tmux("send-keys", "-t", session, "q")
        deadline = time.time() + 10
        while time.time() < deadline and tmux("has-session", "-t", session).returncode == 0:
            time.sleep(0.1)
        assert tmux("has-session", "-t", session).returncode != 0, "top did not quit on q"
    with open("/tmp/frametap-top-%s.err" % session) as f:
        err = f.read()
    assert "runtime error" not in err and "AddressSanitizer" not in err, err


def test_top_needs_a_terminal():
    r = subprocess.run([FT, "top", "1"], capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert r.returncode == 2 and "needs a terminal" in r.stderr
