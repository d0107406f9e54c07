"""A traced program that replaces itself with os.exec*: its trace is
written out first (the raw file closed, as at exit), and when the new
program is a Python interpreter it is traced too, into PATH.PID.eN beside
the first trace (frametap trace finds and merges it). The new program
learns this from two environment variables and a sitecustomize that
frametap puts first on its PYTHONPATH (frametap/_exec_site), which removes
both before the program's own code runs. An exec with -I or -E (no
PYTHONPATH) is not followed.

Runs inside the audit hook of the exec-ing program: must not raise, and
changes only the environment the new program gets.
"""
import os
import sys

from . import _tracer

_session = None          # the frametap.trace being recorded (set by trace.start)
_installed = False


def watch(session):
    """Called when a trace starts: follow os.exec* from now on."""
    global _session, _installed
    _session = session
    if not _installed:
        sys.addaudithook(_audit)          # audit hooks cannot be removed: it stays inert
        _installed = True


def _python_name(name):
    """python, python3, python3.12, python3.13t, ... (no re: it would be one
    more module to load before tracing starts)."""
    if not name.startswith("python"):
        return False
    rest = name[6:].lstrip("0123456789.")
    return all("a" <= c <= "z" for c in rest)


def _is_python(path):
    return _python_name(os.path.basename(str(path))) or \
        os.path.realpath(str(path)) == os.path.realpath(sys.executable)


def _audit(event, args):
    if event != "os.exec" or _session is None or not _tracer.active():
        return
    try:
        path, _, env = args
        stats = _tracer.stop()                       # closed and complete before the exec
        if not _is_python(path):
            return
        s = _session
        root = os.environ.get("FRAMETAP_EXEC_ROOT") or s.path
        gen = int(os.environ.get("FRAMETAP_EXEC_GEN", "0")) + 1
        target = env if isinstance(env, dict) else os.environ
        site = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_exec_site")
        old = target.get("PYTHONPATH")
        cfg = {"raw": "%s.%d.e%d" % (root, os.getpid(), gen), "root": root, "gen": gen,
               "events": s.events, "within": s.within, "include": s.include,
               "exclude": s.exclude, "max_depth": s.max_depth, "buffer_mb": s.buffer_mb,
               "pythonpath": old}
        import json
        target["FRAMETAP_EXEC_TRACE"] = json.dumps(cfg)
        target["PYTHONPATH"] = site if old is None else site + os.pathsep + old
        del stats
    except Exception:                                 # never break the program's exec
        pass
