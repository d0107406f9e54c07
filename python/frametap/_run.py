"""Runs a program for `frametap trace -- python ...` and `frametap probe
-- python ...` the way python itself would (script, -m module or -c code:
same sys.argv, sys.path[0], __main__, traceback and exit status), with
tracing on from its first line, or with the probe agent started and
frametap's probes armed before any of the program's code is loaded.

Settings come in FRAMETAP_TRACE_* / FRAMETAP_PROBE_* environment
variables, which are removed before the program starts so its children
never see them. This module must not print anything of its own on stdout,
nor change the program's exit code.
"""
import builtins
import io
import os
import signal
import sys


def _take_config(prefix="FRAMETAP_TRACE_"):
    cfg = {k[len(prefix):].lower(): v for k, v in os.environ.items() if k.startswith(prefix)}
    for k in [k for k in os.environ if k.startswith(prefix)]:
        del os.environ[k]
    return cfg


def _globs(value):
    return [g for g in (value or "").split("\x1f") if g]


def _fresh_main(**extra):
    g = sys.modules["__main__"].__dict__
    g.clear()
    g.update(__name__="__main__", __doc__=None, __package__=None, __spec__=None,
             __loader__=None, __builtins__=builtins, **extra)
    return g


def _fix_orig_argv(mode, target):
    """sys.orig_argv (3.10+) as python alone would have it: the runner's
    '-c BOOTSTRAP MODE TARGET' becomes 'TARGET', '-m TARGET' or '-c TARGET'."""
    orig = getattr(sys, "orig_argv", None)
    if not orig:
        return
    for i in range(len(orig) - 3):
        if orig[i] == "-c" and "frametap._run" in orig[i + 1] and orig[i + 2] == mode:
            how = {"script": [target], "module": ["-m", target], "code": ["-c", target]}[mode]
            sys.orig_argv = orig[:i] + how + orig[i + 4:]
            return


def _prepare(mode, target, args):
    """Sets up sys as python would; returns load(on_code) -> the callable
    that runs the program (on_code sees the main code before it runs)."""
    _fix_orig_argv(mode, target)
    if mode == "script":
        sys.argv = [target] + args
        sys.path[0] = os.path.dirname(os.path.realpath(target))
        # 3.9+ python makes the script's path absolute (__file__, tracebacks)
        path = os.path.abspath(target) if sys.version_info >= (3, 9) else target

        def load(on_code):
            with io.open_code(target) as f:
                source = f.read()
            code = on_code(compile(source, path, "exec"))
            g = _fresh_main(__file__=path, __cached__=None)
            return lambda: exec(code, g)
        return load
    if mode == "module":
        import runpy
        sys.argv = [target] + args
        sys.path[0] = os.getcwd()
        return lambda on_code: lambda: runpy._run_module_as_main(target, alter_argv=True)
    sys.argv = ["-c"] + args
    sys.path[0] = ""

    def load_c(on_code):
        code = on_code(compile(target, "<string>", "exec"))
        g = _fresh_main()
        return lambda: exec(code, g)
    return load_c


def _report(exc):
    """Prints an uncaught exception as python would, without our frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    exc.__traceback__ = tb            # the hook prints the exception's own traceback
    sys.excepthook(type(exc), exc, tb)


def _load_or_exit(load, on_code=lambda c: c):
    try:
        return load(on_code)
    except SyntaxError as exc:
        _report(exc)
        sys.exit(1)
    except OSError as exc:
        sys.stderr.write("%s: can't open file %r: [Errno %s] %s\n"
                         % (sys.executable, exc.filename, exc.errno, exc.strerror))
        sys.exit(2)


def _run_reporting(run, on_interrupt):
    try:
        run()
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        _report(exc)
        on_interrupt()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as exc:
        _report(exc)
        sys.exit(1)


def _probe_main(cfg, mode, target, args):
    """frametap probe -- ...: the agent talks to frametap over the inherited
    socket; probes arrive (and are armed, or wait for their module) before
    frametap says RUN."""
    import _thread
    from frametap import agent
    load = _prepare(mode, target, args)
    ready = _thread.allocate_lock()
    ready.acquire()
    verdict = []

    def on_run(go):
        verdict.append(go)
        ready.release()
    agent._on_run = on_run
    agent.start(listen=cfg.get("listen", "1") == "1", _fd=int(cfg["fd"]))
    ready.acquire()
    if not verdict or not verdict[0]:
        agent.flush()
        os._exit(2)                   # frametap refused the probes: it says why
    run = _load_or_exit(load, agent._manager.fresh_code)
    real_exit = os._exit

    def exit_flushing(code):
        agent.flush()
        real_exit(code)
    os._exit = exit_flushing
    _run_reporting(run, agent.flush)


def main():
    mode, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    sys.path.pop(0)                   # the entry the bootstrap added for us
    probe_cfg = _take_config("FRAMETAP_PROBE_")
    if probe_cfg:
        return _probe_main(probe_cfg, mode, target, args)
    cfg = _take_config()
    import frametap
    tracer = frametap.trace(cfg["raw"], events=int(cfg.get("events", "0")) or "default",
                            within=cfg.get("within") or None, include=_globs(cfg.get("include")),
                            exclude=_globs(cfg.get("exclude")),
                            max_depth=int(cfg.get("max_depth", "0")),
                            buffer_mb=int(cfg.get("buffer_mb", "64")))
    load = _prepare(mode, target, args)
    frame = sys._getframe(1)          # the bootstrap: never shown, nor its return
    while frame is not None:
        frametap._tracer.exclude_code(frame.f_code)
        frame = frame.f_back
    tracer.start()                    # stopped by frametap's atexit hook, after the program's
    run = _load_or_exit(load, tracer.fresh_code)
    _run_reporting(run, frametap._tracer.stop)
