"""The probe manager inside the program: adds, lists and removes probes,
and puts each where it belongs.

3.12+: sys.monitoring events on exactly the code objects that hold a
probe (frametap._probe.monitor_set). 3.8-3.11: a rewritten copy of each
such code object (frametap._rewrite) put in place of the original in
every function that uses it and in its parent's constants (so closures
made later use it too); removing the last probe puts the original back
everywhere. Code not loaded yet is caught by an import hook (a meta path
finder whose loader hands over each new module's code before it runs).

Which running frames see a probe:
  3.12+: every frame, including frames already running the code and
         suspended generators: monitoring instruments the shared bytecode.
  3.8-3.11: frames started after the probe was set; frames already
         running the code (another thread inside the function, a suspended
         generator or coroutine, a module body) keep the original and do
         not hit it.

Runs under the GIL from the agent's thread or the runner, never from a
probe hit; never runs the program's code.
"""
import gc
import sys
import types

from . import _probe
from ._where import MON, ProbeError, Target, nested, qualnames

if not MON:
    from . import _rewrite

CodeType = types.CodeType
FunctionType = types.FunctionType


class Entry:
    def __init__(self, pid, client, spec, probe, target):
        self.id, self.client, self.spec, self.probe, self.target = pid, client, spec, probe, target
        self.places = set()          # (key of the code, line or None)
        self.names = []              # qualnames armed, for messages


def _qualname(code, funcs):
    q = getattr(code, "co_qualname", None)
    if q is None and funcs:
        q = getattr(funcs[0], "__qualname__", None)
    return q or code.co_name


class _Index:
    """One walk of the heap: code objects in use, the functions using each,
    the parents holding each in their constants."""

    def __init__(self, instrumented):
        self.funcs, self.parents, self.codes = {}, {}, {}
        roots = []
        for o in gc.get_objects():
            t = type(o)
            if t is FunctionType:
                c = o.__code__
                self.funcs.setdefault(id(c), []).append(o)
                roots.append(c)
            elif t in (types.GeneratorType, types.CoroutineType, types.AsyncGeneratorType):
                c = getattr(o, "gi_code", None) or getattr(o, "cr_code", None) or getattr(o, "ag_code", None)
                if c is not None:
                    roots.append(c)
        for frame in sys._current_frames().values():
            while frame is not None:
                roots.append(frame.f_code)
                frame = frame.f_back
        # walk each code's constants; a rewritten copy stands for its original too
        todo = [(c, None, None) for c in roots]
        while todo:
            c, parent, i = todo.pop()
            if parent is not None:
                pl = self.parents.setdefault(id(c), [])
                if not any(p is parent and k == i for p, k in pl):
                    pl.append((parent, i))
            if id(c) in self.codes:
                continue
            self.codes[id(c)] = c
            orig = instrumented.get(id(c))
            if orig is not None:
                todo.append((orig, parent, i))
                self.funcs.setdefault(id(orig), [])
            for k, const in enumerate(c.co_consts):
                if type(const) is CodeType:
                    todo.append((const, c, k))

    def users(self, code):
        return self.funcs.get(id(code), [])


class _Rewrite:
    """3.8-3.11: one original code object and its rewritten copy."""

    def __init__(self, orig):
        self.orig, self.current = orig, None
        self.sites, self.entries = {}, {}     # line or None -> site / [Entry]
        self.parents = []

    def add_parents(self, pairs):
        for p, i in pairs:
            if not any(q is p and k == i for q, k in self.parents):
                self.parents.append((p, i))

    def apply(self, mgr, index):
        hooks = []
        for key, entries in self.entries.items():
            probes = tuple(e.probe for e in entries)
            if key not in self.sites:
                self.sites[key] = _probe.site(probes, key is None)
            else:
                _probe.site_set(self.sites[key], probes)
            if probes:
                hooks.append((key, self.sites[key]))
        old = self.current or self.orig
        new = _rewrite.instrument(self.orig, hooks) if hooks else self.orig
        for f in index.users(old) if index else ():
            if f.__code__ is old:
                f.__code__ = new
        for parent, i in self.parents:
            versions = [parent]
            up = mgr.rewrites.get(id(mgr.instrumented.get(id(parent), parent)))
            if up is not None and up.current is not None:
                versions += [up.orig, up.current]
            for v in versions:
                if i < len(v.co_consts) and v.co_consts[i] is old:
                    _probe.tuple_set(v.co_consts, i, new)
        mgr.instrumented.pop(id(old), None)
        self.current = None if new is self.orig else new
        if self.current is not None:
            mgr.instrumented[id(new)] = self.orig
        return new


class Manager:
    def __init__(self):
        self.entries = {}
        self.next_id = 1
        self.mon = {}             # 3.12+: id(code) -> [code, {line: [Entry]}, [Entry]]
        self.rewrites = {}        # 3.8-3.11: id(orig) -> _Rewrite
        self.instrumented = {}    # 3.8-3.11: id(rewritten) -> orig
        self.finder = None

    # ---- adding ----
    def add(self, spec, client=0):
        """spec: dict from the ADD message. Returns (id, text); raises
        ProbeError (one line) or ValueError from the probe's own checks."""
        target = Target(spec["at"])
        note = target.check_source()
        if target.file and not target.paths and target.kind == "line":
            index = _Index(self.instrumented)
            if not any(target.matches_file(c.co_filename) for c in index.codes.values()):
                raise ProbeError("--at %s: no file %s in the current directory or on sys.path, "
                                 "and no loaded code comes from it" % (target.at, target.file))
        probe = _probe.Probe(self.next_id, spec.get("action", "log"), client=client,
                             template=spec.get("template"), when=spec.get("when") or None,
                             limit=int(spec.get("limit", 0)), rate=float(spec.get("rate", 0)),
                             expire=float(spec.get("expire", 0)), frames=int(spec.get("frames", 0)),
                             budget=float(spec.get("budget", 0.01)),
                             redact=spec.get("redact", []), call=spec.get("call"))
        entry = Entry(self.next_id, client, spec, probe, target)
        self.next_id += 1
        self.entries[entry.id] = entry
        index = _Index(self.instrumented)
        self._arm_in(entry, list(index.codes.values()), index)
        self._watch_imports()
        if entry.places:
            where = ", ".join(sorted(set(entry.names))[:6])
            text = "armed in %d place%s (%s)" % (len(entry.places), "" if len(entry.places) == 1
                                                 else "s", where)
            if note == "module":
                text += "; module-level code that already ran will not run again"
        elif note == "module":
            text = "set: line %d is module-level code, it fires when %s is imported" % (
                target.line, target.file)
        else:
            text = "set: fires once %s is loaded" % (target.file or "a function named " + target.func)
        return entry.id, text

    def _arm_in(self, entry, codes, index):
        changed = []
        for code in codes:
            if id(code) in self.instrumented:
                continue
            funcs = index.users(code) if index else []
            for line in entry.target.places(code, _qualname(code, funcs)):
                key = (id(code), line)
                if key in entry.places:
                    continue
                entry.places.add(key)
                entry.names.append(_qualname(code, funcs))
                changed.append(self._attach(entry, code, line, index))
        for rec in changed:
            self._apply(rec, index)

    def _attach(self, entry, code, line, index):
        if MON:
            rec = self.mon.setdefault(id(code), [code, {}, []])
            (rec[1].setdefault(line, []) if line is not None else rec[2]).append(entry)
            return rec
        rw = self.rewrites.get(id(code))
        if rw is None:
            rw = self.rewrites[id(code)] = _Rewrite(code)
        if index:
            rw.add_parents(index.parents.get(id(code), []))
        rw.entries.setdefault(line, []).append(entry)
        return rw

    def _apply(self, rec, index):
        if MON:
            code, lines, entry = rec
            probes = {line: tuple(e.probe for e in es) for line, es in lines.items() if es}
            first = tuple(e.probe for e in entry)
            if probes or first:
                _probe.monitor_set(code, probes, first or None)
            else:
                _probe.monitor_clear(code)
                self.mon.pop(id(code), None)
            return
        rec.apply(self, index)
        if not any(rec.entries.values()) and rec.current is None:
            for site in rec.sites.values():
                _probe.site_set(site, ())
            self.rewrites.pop(id(rec.orig), None)

    # ---- code not loaded yet ----
    def fresh_code(self, code):
        """A module's code before it runs (import hook, the runner's main
        script): arms every waiting probe in it; returns the code to run."""
        pending = [e for e in self.entries.values() if not e.probe.dead]
        if not pending:
            return code
        tree = nested(code)
        parents = {}
        for c, parent, i in tree:
            if parent is not None:
                parents.setdefault(id(c), []).append((parent, i))
        quals = qualnames(tree)
        touched = []
        for entry in pending:
            for c, _, _ in tree:
                for line in entry.target.places(c, quals[id(c)]):
                    key = (id(c), line)
                    if key in entry.places:
                        continue
                    entry.places.add(key)
                    entry.names.append(quals[id(c)])
                    rec = self._attach(entry, c, line, None)
                    if not MON:
                        rec.add_parents(parents.get(id(c), []))
                    if all(r is not rec for r in touched):
                        touched.append(rec)
        for rec in reversed(touched):     # the innermost code first
            self._apply(rec, None)
        if MON:
            return code
        rw = self.rewrites.get(id(code))
        return rw.current if rw is not None and rw.current is not None else code

    def _wants(self, path):
        return any(not e.probe.dead and (e.target.file is None or e.target.matches_file(path))
                   for e in self.entries.values())

    def _watch_imports(self):
        if self.finder is None and self.entries:
            from ._imphook import Finder
            self.finder = Finder(self.fresh_code, self._wants).install()

    # ---- removing ----
    def remove(self, pid):
        entry = self.entries.pop(pid, None)
        if entry is None:
            return False
        entry.probe.kill()
        index = None if MON else _Index(self.instrumented)
        recs = []
        if MON:
            for rec in list(self.mon.values()):
                for es in list(rec[1].values()) + [rec[2]]:
                    if entry in es:
                        es.remove(entry)
                        if all(r is not rec for r in recs):
                            recs.append(rec)
        else:
            for rw in list(self.rewrites.values()):
                for es in rw.entries.values():
                    if entry in es:
                        es.remove(entry)
                        if all(r is not rw for r in recs):
                            recs.append(rw)
        for rec in recs:
            self._apply(rec, index)
        if not self.entries:
            if self.finder is not None:
                self.finder.uninstall()
                self.finder = None
            if MON:
                _probe.monitor_stop()         # the tool id and callbacks too
        return True

    def remove_client(self, client):
        for pid in [p for p, e in self.entries.items() if e.client == client]:
            self.remove(pid)

    def remove_all(self):
        for pid in list(self.entries):
            self.remove(pid)

    def tick(self):
        """Removes probes that expired or reached their limit."""
        done = [p for p, e in self.entries.items() if e.probe.dead or e.probe.expired]
        for pid in done:
            e = self.entries[pid]
            if e.probe.expired and not e.probe.dead:
                _probe.send(e.client, _status(pid, "expired", "expired (--expire)"))
            self.remove(pid)
        return done

    def summaries(self, client=None):
        """(id, text) of each probe: what it did."""
        out = []
        for pid, e in sorted(self.entries.items()):
            if client is not None and e.client != client:
                continue
            st = e.probe.stats()
            parts = ["%d hit%s" % (st["hits"], "" if st["hits"] == 1 else "s")]
            for key, what in (("false_when", "--when false"), ("skipped_rate", "skipped by --rate"),
                              ("skipped_budget", "skipped while over its CPU budget"),
                              ("errors", "expression errors")):
                if st[key]:
                    parts.append("%d %s" % (st[key], what))
            parts.append("%.1f ms of CPU" % (st["cpu_ns"] / 1e6))
            if not e.places:
                parts.append("never armed: no loaded code matched")
            out.append((pid, ", ".join(parts)))
        return out

    def listing(self, client=None):
        rows = []
        for pid, e in sorted(self.entries.items()):
            if client is not None and e.client != client:
                continue
            st = e.probe.stats()
            rows.append("%d  %s  %s  hits=%d  %s" % (
                pid, e.target.at, e.spec.get("action", "log"), st["hits"],
                "armed in %d place%s" % (len(e.places), "" if len(e.places) == 1 else "s")
                if e.places else "waiting"))
        return rows


def _status(pid, kind, text):
    from . import _wire
    return _wire.status(kind, text, pid)


__all__ = ["Manager", "ProbeError"]
