"""frametap: a traced program replaced itself with this one (os.exec*), so
this one is traced too (see frametap/_exec.py). Undoes every trace of
itself (environment, sys.path) before anything of the program runs, then
hands over to the program's own sitecustomize, if it has one."""
import json
import os
import sys


def _start():
    cfg = os.environ.pop("FRAMETAP_EXEC_TRACE", None)
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    if not cfg:
        return
    cfg = json.loads(cfg)
    if cfg["pythonpath"] is None:
        os.environ.pop("PYTHONPATH", None)
    else:
        os.environ["PYTHONPATH"] = cfg["pythonpath"]
    pkg = os.path.dirname(os.path.dirname(here))
    sys.path.insert(0, pkg)
    try:
        import frametap
    finally:
        sys.path.remove(pkg)
    os.environ["FRAMETAP_EXEC_ROOT"] = cfg["root"]
    os.environ["FRAMETAP_EXEC_GEN"] = str(cfg["gen"])
    frame = sys._getframe(0)
    while frame is not None:                   # site's frames: never shown
        frametap._tracer.exclude_code(frame.f_code)
        frame = frame.f_back
    frametap.trace(cfg["raw"], events=cfg["events"], within=cfg["within"],
                   include=cfg["include"], exclude=cfg["exclude"], max_depth=cfg["max_depth"],
                   buffer_mb=cfg["buffer_mb"], _parent_pid=os.getpid()).start()


def _theirs():
    """The program's own sitecustomize, if one is on its path: run in our
    stead (import keeps the module sys.modules holds when we return)."""
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec
    spec = PathFinder.find_spec("sitecustomize", sys.path)
    if spec is None or spec.loader is None:
        return
    module = module_from_spec(spec)
    sys.modules["sitecustomize"] = module
    spec.loader.exec_module(module)


_start()
_theirs()
