"""frametap's probe agent: lets `frametap probe PID` add logpoints,
snapshots and counters to this program while it runs (and `frametap trace
PID` trace it), over a unix socket only the same user (or a process
allowed to ptrace this one) may use.

    import frametap.agent
    frametap.agent.start()

On CPython 3.14+ frametap needs none of this: it loads the agent into a
running program itself, through the interpreter's remote debugging
support (PEP 768). Probes cost nothing until they are set, and nothing
outside the code they are in (see README, Probes).
"""
import atexit
import os
import sys

from . import _probe, _wire
from ._probes import Manager, ProbeError

_manager = None
_on_run = None           # the runner's wait for frametap's RUN
_tracer = None           # a trace started by `frametap trace PID`
_tracer_client = None
_path = None
_registered = False


def socket_dir(uid=None):
    base = os.environ.get("FRAMETAP_SOCKET_DIR") or "/tmp"
    return os.path.join(base, "frametap-%d" % (os.geteuid() if uid is None else uid))


def socket_path(pid=None):
    return os.path.join(socket_dir(), "agent-%d.sock" % (os.getpid() if pid is None else pid))


def _private_dir(path):
    """The socket directory, made 0700 and checked to be ours."""
    import stat
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    st = os.lstat(path)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        raise OSError("frametap: %s is not a private directory of this user; remove it" % path)


def start(listen=True, _fd=-1, _once=False):
    """Starts the agent (once per process); returns its socket's path, or
    None when it does not listen."""
    global _manager, _path
    if _probe.channel_active():
        return _path
    if _manager is None:
        _manager = Manager()
    _path = None
    if listen:
        _private_dir(socket_dir())
        _path = socket_path()
    _probe.hide_frames_under(os.path.dirname(os.path.abspath(__file__)) + os.sep)
    _probe.channel_start(_fd, _path, _handle, _once)
    global _registered
    if not _registered:
        atexit.register(_at_exit)
        # 3.12+ warn when a process with threads forks: ours stops meanwhile
        os.register_at_fork(before=_probe.channel_pause,
                            after_in_parent=_probe.channel_resume_later)
        _registered = True
    return _path


def stop():
    """Removes every probe and stops listening."""
    if _manager is not None:
        _manager.remove_all()
    _probe.channel_stop()


def _send_summaries(client=None):
    if _manager is None:
        return
    for pid, text in _manager.summaries(client):
        _probe.send(_manager.entries[pid].client, _wire.status("summary", text, pid))


def _at_exit():
    _send_summaries()
    _probe.channel_stop()          # sends what is queued, closes the socket


def flush():
    """Sends what is queued now (before os._exit or exec)."""
    _probe.channel_stop()


# ---- commands from frametap ----

def _fields(fields):
    spec = {}
    names = {_wire.P_AT: "at", _wire.P_ACTION: "action", _wire.P_TEMPLATE: "template",
             _wire.P_WHEN: "when", _wire.P_LIMIT: "limit", _wire.P_RATE: "rate",
             _wire.P_EXPIRE: "expire", _wire.P_FRAMES: "frames", _wire.P_BUDGET: "budget"}
    for tag, value in fields:
        text = value.decode("utf-8", "surrogateescape")
        if tag == _wire.P_REDACT:
            spec.setdefault("redact", []).append(text)
        elif tag in names:
            spec[names[tag]] = text
    return spec


def _hello():
    return _wire.message(_wire.HELLO, [(_wire.PID, os.getpid()),
                                       (_wire.VERSION, "%d.%d.%d" % sys.version_info[:3]),
                                       (_wire.MECHANISM, _probe.MECHANISM)])


def _command(client, data):
    global _on_run
    kind, fields = _wire.parse(data)
    if kind == _wire.ADD:
        try:
            pid, text = _manager.add(_fields(fields), client)
        except (ProbeError, ValueError) as e:
            return _wire.reply(False, str(e))
        return _wire.reply(True, text, [pid])
    if kind == _wire.REMOVE:
        ids = [int(v) for t, v in fields if t == _wire.ID]
        if not ids:
            _manager.remove_client(client)
            return _wire.reply(True, "removed")
        gone = [i for i in ids if _manager.remove(i)]
        return _wire.reply(bool(gone), "removed" if gone else "no such probe", gone)
    if kind == _wire.LIST:
        return _wire.reply(True, "\n".join(_manager.listing()))
    if kind == _wire.BYE:
        _send_summaries(client)
        _manager.remove_client(client)
        return _wire.reply(True, "bye")
    if kind == _wire.RUN:
        if _on_run is not None:
            _on_run(True)
            _on_run = None
        return _wire.reply(True, "running")
    if kind in (_wire.TRACE_START, _wire.TRACE_STOP):
        return _trace_command(kind, fields, client)
    return _wire.reply(False, "unknown command %d" % kind)


def _stop_trace():
    global _tracer, _tracer_client
    stats = _tracer.stop()
    _tracer = _tracer_client = None
    return stats


def _trace_command(kind, fields, client):
    global _tracer, _tracer_client
    import frametap
    if kind == _wire.TRACE_STOP:
        if _tracer is None:
            return _wire.reply(False, "no trace is running")
        stats = _stop_trace()
        return _wire.reply(True, "events %s dropped %s" % (stats["events"], stats["dropped"]))
    if _tracer is not None or frametap._tracer.active():
        return _wire.reply(False, "a trace is already running in this process")
    opts = {t: v.decode("utf-8", "surrogateescape") for t, v in fields}
    glob = lambda tag: [g for t, v in fields if t == tag  # noqa: E731
                        for g in [v.decode("utf-8", "surrogateescape")] if g]
    _tracer = frametap.trace(opts[_wire.T_RAW], events=int(opts.get(_wire.T_EVENTS, "0")) or "default",
                             within=opts.get(_wire.T_WITHIN) or None,
                             include=glob(_wire.T_INCLUDE), exclude=glob(_wire.T_EXCLUDE),
                             max_depth=int(opts.get(_wire.T_MAX_DEPTH, "0")),
                             buffer_mb=int(opts.get(_wire.T_BUFFER_MB, "64")))
    _tracer.start()
    _tracer_client = client
    return _wire.reply(True, "tracing")


def _handle(kind, client, data):
    """Called by the agent's thread with the GIL; never raises."""
    global _on_run
    try:
        if kind == "hello":
            return _hello()
        if kind == "gone":
            _manager.remove_client(client)
            if _tracer is not None and _tracer_client == client:
                _stop_trace()                # its frametap went away: stop tracing
            if _on_run is not None:          # frametap went away before RUN
                _on_run(False)
                _on_run = None
            return None
        if kind == "tick":
            _manager.tick()
            return None
        return _command(client, data)
    except Exception as e:                   # a bug of ours: say it, never raise
        try:
            return _wire.reply(False, "frametap agent: %s: %s" % (type(e).__name__, e))
        except Exception:
            return None
