"""The import hook for probes set before their module is loaded: a meta
path finder, first in sys.meta_path while probes wait, that lets the other
finders find each module and, for a module loaded from source, wraps its
loader so that the module's code object passes through the probe manager
(fresh_code) after it is compiled and before it runs.

The wrapper is a subclass of the loader's own class that only overrides
get_code, so exec_module, runpy and tracebacks behave as before (no frame
of ours is on the stack while the module runs). Costs nothing for modules
already imported (sys.modules is looked at first by import itself).
"""
import sys

_wrapped_classes = {}


def _armed_class(cls, on_code):
    sub = _wrapped_classes.get(cls)
    if sub is None:
        def get_code(self, fullname, _base=cls.get_code):
            code = _base(self, fullname)
            return on_code(code) if code is not None else code
        sub = type(cls.__name__, (cls,), {"get_code": get_code, "__module__": cls.__module__,
                                          "__qualname__": cls.__qualname__})
        _wrapped_classes[cls] = sub
    return sub


class Finder:
    def __init__(self, on_code, wants):
        self.on_code = on_code
        self.wants = wants          # wants(path): may a waiting probe be in it?
        self.busy = False

    def find_spec(self, fullname, path=None, target=None):
        if self.busy:
            return None
        self.busy = True
        try:
            spec = None
            for finder in sys.meta_path:
                if finder is self or not hasattr(finder, "find_spec"):
                    continue
                spec = finder.find_spec(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self.busy = False
        loader = getattr(spec, "loader", None)
        if spec is None or loader is None or not hasattr(loader, "get_code") \
                or not hasattr(loader, "__dict__") or not isinstance(spec.origin, str) \
                or not spec.origin.endswith((".py", ".pyw")) or not self.wants(spec.origin):
            return spec
        try:
            armed = _armed_class(type(loader), self.on_code)
            new = object.__new__(armed)
            new.__dict__.update(loader.__dict__)
        except TypeError:
            return spec
        spec.loader = new
        return spec

    def invalidate_caches(self):
        pass

    def install(self):
        sys.meta_path.insert(0, self)
        return self

    def uninstall(self):
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
