"""Helpers for frametap's integration tests: run targets, run frametap, and
derive expected stacks from the `# MARK:` comments in the target files."""
import json
import os
import re
import signal
import subprocess
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TARGETS = os.path.join(HERE, "targets")
KNOWN = os.path.join(TARGETS, "known_stacks.py")
UNICODE_MOD = os.path.join(TARGETS, "mödulé_ñ.py")
ODD_FILENAME = "<odd file: spaces & ünï \\ \"quotes\">"
SANITIZER_MARKS = ("AddressSanitizer", "runtime error:", "LeakSanitizer", "UndefinedBehavior")


def frametap_binaries():
    return {
        "asan": os.environ.get("FRAMETAP_ASAN", os.path.join(ROOT, "build/asan/frametap")),
        "release": os.environ.get("FRAMETAP", os.path.join(ROOT, "build/frametap")),
    }


def marks(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.search(r"MARK: (\w+)", line)
            if m:
                out[m.group(1)] = n
    return out


class Target:
    """A Python process started from a target script; waits for READY."""

    def __init__(self, python, script, *args, ready="READY", timeout=30, env=None):
        self.proc = subprocess.Popen([python, script, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=env)
        self.pid = self.proc.pid
        if ready:
            deadline = time.time() + timeout
            line = ""
            while time.time() < deadline:
                line = self.proc.stdout.readline()
                if line.startswith(ready) or not line:
                    break
            if not line.startswith(ready):
                self.stop()
                raise RuntimeError("target %s did not start: %s" % (script, self.proc.stderr.read()))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_frametap(binary, *args, user=None, timeout=60):
    cmd = [binary, *map(str, args)]
    if user is not None:
        cmd = ["setpriv", "--reuid", str(user), "--regid", str(user), "--clear-groups"] + cmd
    env = dict(os.environ, ASAN_OPTIONS="detect_leaks=1:abort_on_error=0",
               UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1")
    r = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env)
    out = r.stdout.decode("utf-8", "surrogateescape")
    err = r.stderr.decode("utf-8", "surrogateescape")
    for mark in SANITIZER_MARKS:
        assert mark not in err, "sanitizer report from %s:\n%s" % (cmd, err)
    return r.returncode, out, err


def dump_json(binary, pid, *extra):
    rc, out, err = run_frametap(binary, "dump", "--json", *extra, pid)
    assert rc == 0, "frametap dump failed (%d): %s" % (rc, err)
    return json.loads(out)


def own_frames(thread):
    files = {KNOWN, UNICODE_MOD, ODD_FILENAME}
    return [(f["qualname"], os.path.basename(f["file"]) if f["file"] != ODD_FILENAME else f["file"],
             f["line"]) for f in thread["frames"] if f["file"] in files]


def expected_known_stacks(minor):
    """The four threads of known_stacks.py, innermost first, own frames only."""
    k, u = marks(KNOWN), marks(UNICODE_MOD)
    q = (lambda new, old: new) if minor >= 11 else (lambda new, old: old)
    ks, um = "known_stacks.py", "mödulé_ñ.py"
    recurser = [("recurse", ks, k["recurse_park"])] + [("recurse", ks, k["recurse_call"])] * 999
    execer = [
        ("from_exec", ODD_FILENAME, 13),
        ("run_exec", ks, k["run_exec_call"]),
        (q("Outer.Inner.method.<locals>.<lambda>", "<lambda>"), ks, k["lambda_body"]),
        (q("Outer.Inner.method", "method"), ks, k["method_call"]),
    ]
    unicode = [
        (q("Ωmega.метод.<locals>.внутренняя_функция", "внутренняя_функция"), um, u["unicode_park"]),
        (q("Ωmega.метод", "метод"), um, u["unicode_call"]),
    ]
    main = [
        ("ticker", ks, k["ticker_park"]),
        ("middle_coro", ks, k["middle_loop"]),
        ("outer_coro", ks, k["outer_await"]),
        ("main", ks, k["main_run"]),
        ("<module>", ks, k["module_main"]),
    ]
    return {"recurser": recurser, "execer": execer, "unicode": unicode, "main": main}


def classify(stack):
    """Which known thread an own-frame stack belongs to, by its innermost frame."""
    if not stack:
        return None
    inner = stack[0][0]
    for name, key in (("recurse", "recurser"), ("from_exec", "execer"),
                      ("внутренняя_функция", "unicode"), ("ticker", "main")):
        if inner.endswith(name):
            return key
    return None
