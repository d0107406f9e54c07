"""trace --within NAME costs nothing outside its window: nothing is
watched but the code objects of the functions called NAME (found now by
one walk of the heap, and in each module loaded later through the import
hook), and the tracer's events go on when a thread enters such a call and
off when it leaves it.

3.12+: those code objects get local PY_START/PY_RESUME events of the
tracer's own sys.monitoring tool (_tracer.within_code). 3.8-3.11: a
frametap probe at their entry (the bytecode rewriting of _probes) calls
the tracer, which installs its hooks on that thread for the call. A
generator NAME resumed after a yield is traced again on 3.12+ only.

Runs when a trace starts and stops, and at imports; never in a hook.
"""
from . import _tracer
from ._where import MON, Target, nested


class Within:
    def __init__(self, name):
        self.name = name
        self.finder = self.manager = None

    def start(self):
        if MON:
            from ._imphook import Finder
            from ._probes import _Index
            target = Target(self.name)
            index = _Index({})
            for code in list(index.codes.values()):
                self._watch(target, code, index.users(code))
            self.target = target
            self.finder = Finder(self.fresh_code, lambda path: True).install()
        else:
            from ._probes import Manager
            self.manager = Manager()
            self.manager.add({"at": self.name, "action": "call", "budget": "1",
                              "call": _tracer.within_capsule()})
        return self

    def _watch(self, target, code, funcs):
        qualname = getattr(code, "co_qualname", None) or (
            funcs[0].__qualname__ if funcs else code.co_name)
        if target.places(code, qualname):
            _tracer.within_code(code)

    def fresh_code(self, code):
        """A module's code before it runs (the import hook, the runner)."""
        if self.manager is not None:
            return self.manager.fresh_code(code)
        if _tracer.active():
            for c, _, _ in nested(code):
                self._watch(self.target, c, [])
        return code

    def stop(self):
        if self.finder is not None:
            self.finder.uninstall()
            self.finder = None
        if self.manager is not None:
            self.manager.remove_all()
            self.manager = None
