"""Runs a program for `frametap trace -- python ...` the way python itself
would (script, -m module or -c code: same sys.argv, sys.path[0], __main__,
traceback and exit status), with tracing on from its first line.

Settings come in FRAMETAP_TRACE_* environment variables, which are removed
before the program starts so its children never see them. This module must
not print anything of its own on stdout, nor change the program's exit code.
"""
import builtins
import io
import os
import signal
import sys


def _take_config():
    cfg = {k[len("FRAMETAP_TRACE_"):].lower(): v for k, v in os.environ.items()
           if k.startswith("FRAMETAP_TRACE_")}
    for k in [k for k in os.environ if k.startswith("FRAMETAP_TRACE_")]:
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


def _prepare(mode, target, args):
    """Sets up sys and __main__ as python would; returns the callable to run."""
    if mode == "script":
        sys.argv = [target] + args
        sys.path[0] = os.path.dirname(os.path.realpath(target))
        with io.open_code(target) as f:
            source = f.read()
        code = compile(source, target, "exec")
        g = _fresh_main(__file__=target, __cached__=None)
        return lambda: exec(code, g)
    if mode == "module":
        import runpy
        sys.argv = [target] + args
        sys.path[0] = os.getcwd()
        return lambda: runpy._run_module_as_main(target, alter_argv=True)
    sys.argv = ["-c"] + args
    sys.path[0] = ""
    code = compile(target, "<string>", "exec")
    g = _fresh_main()
    return lambda: exec(code, g)


def _report(exc):
    """Prints an uncaught exception as python would, without our frames."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    exc.__traceback__ = tb            # the hook prints the exception's own traceback
    sys.excepthook(type(exc), exc, tb)


def main():
    cfg = _take_config()
    sys.path.pop(0)                   # the entry the bootstrap added for us
    import frametap
    mode, target, args = sys.argv[1], sys.argv[2], sys.argv[3:]
    tracer = frametap.trace(cfg["raw"], events=int(cfg.get("events", "0")) or "default",
                            within=cfg.get("within") or None, include=_globs(cfg.get("include")),
                            exclude=_globs(cfg.get("exclude")),
                            max_depth=int(cfg.get("max_depth", "0")),
                            buffer_mb=int(cfg.get("buffer_mb", "64")))
    try:
        run = _prepare(mode, target, args)
    except SyntaxError as exc:
        _report(exc)
        sys.exit(1)
    except OSError as exc:
        sys.stderr.write("%s: can't open file %r: [Errno %s] %s\n"
                         % (sys.executable, target, exc.errno, exc.strerror))
        sys.exit(2)
    tracer.start()                    # stopped by frametap's atexit hook, after the program's
    try:
        run()
    except SystemExit:
        raise
    except KeyboardInterrupt as exc:
        _report(exc)
        frametap._tracer.stop()
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException as exc:
        _report(exc)
        sys.exit(1)
