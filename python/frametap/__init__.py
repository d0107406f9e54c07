"""frametap, from inside: trace a Python program's calls, lines, opcodes
(with their value stack), exceptions, garbage collections, imports and
threads into a raw trace file, at close to the cost of a bare C hook.

    import frametap
    with frametap.trace("app.ftt", events="call,exception", within="handle"):
        serve()

`frametap trace --from app.ftt -o app.txt -o app.json` turns the file into
the call hierarchy as text, a Chrome trace or per-second counts (or pass
output= here, which runs that command for you). `frametap trace -- python
app.py` does it all without touching the program.
"""
import atexit
import os
import threading  # noqa: F401  threads are named from threading._active: MainThread too

from . import _exec, _tracer, _within

EVENTS = {
    "call": _tracer.EV_CALL, "c": _tracer.EV_C, "line": _tracer.EV_LINE,
    "opcode": _tracer.EV_OPCODE, "exception": _tracer.EV_EXCEPTION, "gc": _tracer.EV_GC,
    "import": _tracer.EV_IMPORT, "audit": _tracer.EV_AUDIT, "thread": _tracer.EV_THREAD,
}
DEFAULT_EVENTS = "call,exception,gc,import,thread"

__all__ = ["trace", "convert", "EVENTS", "DEFAULT_EVENTS"]


def events_mask(spec):
    """'call,line' / ['call', 'line'] / 'default' / 'all' -> the C mask."""
    if isinstance(spec, int):
        return spec
    words = spec.split(",") if isinstance(spec, str) else list(spec)
    mask = 0
    for word in (w.strip() for w in words):
        if word == "default":
            mask |= events_mask(DEFAULT_EVENTS)
        elif word == "all":
            mask |= sum(EVENTS.values())
        elif word in EVENTS:
            mask |= EVENTS[word]
        elif word:
            raise ValueError("frametap: unknown event kind %r (known: %s, default, all)"
                             % (word, ", ".join(EVENTS)))
    return mask


def _frametap_binary():
    import shutil                       # here, not at start: tracing starts sooner
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.environ.get("FRAMETAP_BIN"),
                 os.path.join(here, "..", "..", "frametap"), shutil.which("frametap")):
        if cand and os.access(cand, os.X_OK):
            return cand
    raise FileNotFoundError("frametap: the frametap command was not found; set FRAMETAP_BIN")


def convert(raw, outputs, format=None):
    """Writes raw trace file `raw` as each of `outputs` (text, chrome or
    counts, by --format or extension) with the frametap command."""
    if isinstance(outputs, str):
        outputs = [outputs]
    cmd = [_frametap_binary(), "trace", "--from", raw]
    if format:
        cmd += ["--format", format]
    for out in outputs:
        cmd += ["-o", out]
    import subprocess
    subprocess.run(cmd, check=True)


_real_exit = os._exit


def _exit_flushing(code):
    # os._exit skips atexit: write what the buffers hold first.
    if _tracer.active():
        _tracer.stop()
    _real_exit(code)


def _after_fork_in_child():
    if _tracer.active():
        _tracer.after_fork_child()


# The writer thread is stopped across fork(): 3.12+ warns on stderr when a
# multi-threaded process forks, and a traced program must print what it
# would print untraced.
os.register_at_fork(before=_tracer.before_fork, after_in_parent=_tracer.after_fork_parent,
                    after_in_child=_after_fork_in_child)
atexit.register(lambda: _tracer.active() and _tracer.stop())


class trace:
    """A tracing session; a context manager, or call start() and stop().

    path: the raw trace file. events: kinds to record (see EVENTS).
    within: record only while a call to this function (name or qualified
    name) is on the stack. include / exclude: globs on file path or module
    name. max_depth: calls deeper than this are not recorded (counted from
    `within` when given). buffer_mb: memory for buffers; when the writer
    falls behind, events are dropped and counted, the program never waits.
    output: file(s) to convert to when stopping.
    """

    def __init__(self, path="frametap.ftt", events=DEFAULT_EVENTS, within=None, include=(),
                 exclude=(), max_depth=0, buffer_mb=64, output=None, format=None,
                 _parent_pid=0):
        self.path = os.path.abspath(path)
        self.events = events_mask(events)
        self.within = within
        self.include = list(include)
        # frametap's own frames (start, stop, the runner) are never shown.
        self.exclude = list(exclude) + [os.path.dirname(os.path.abspath(__file__)) + os.sep + "*"]
        self.max_depth = max_depth
        self.buffer_mb = buffer_mb
        self.output = output
        self.format = format
        self.stats = None
        self._parent_pid = _parent_pid      # an exec'd program: its own pid
        self._within = None

    def start(self):
        _tracer.start(self.path, events=self.events, max_depth=self.max_depth,
                      within=self.within, include=self.include, exclude=self.exclude,
                      buffer_mb=self.buffer_mb, parent_pid=self._parent_pid,
                      lazy_within=bool(self.within))
        if self.within:
            self._within = _within.Within(self.within).start()
        os._exit = _exit_flushing
        _exec.watch(self)
        return self

    def fresh_code(self, code):
        """Code about to run for the first time (the runner's main module):
        a --within function in it is watched too."""
        return self._within.fresh_code(code) if self._within is not None else code

    def stop(self):
        os._exit = _real_exit
        self.stats = _tracer.stop()
        if self._within is not None:
            self._within.stop()
            self._within = None
        if self.output and self.stats is not None:
            convert(self.path, self.output, self.format)
        return self.stats

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False
