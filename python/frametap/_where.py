"""Where a probe goes: parsing --at (FILE:LINE, FUNC, FILE:FUNC), finding
the file on disk, checking that the line has code, and telling which code
objects a probe belongs in. Also the lines of a code object that can hold
a probe on this version.

Reads source files and compiles them (to check a line), never imports or
runs anything of the program's.
"""
import dis
import io
import os
import re
import sys

MON = sys.version_info >= (3, 12)
if not MON:
    from . import _rewrite

_IDENT = re.compile(r"^[^\W\d][\w]*(\.[^\W\d][\w]*)*$")
_RESUME = dis.opmap.get("RESUME")


class ProbeError(Exception):
    """A probe that cannot be placed: one line saying why."""


def _body_ranges(code):
    """3.12+: (start, line) of each line range after the prologue (RESUME)."""
    after = 0
    raw = code.co_code
    for i in range(0, len(raw), 2):
        if raw[i] == _RESUME:
            after = i + 2
            break
    return [(max(s, after), line) for s, e, line in code.co_lines()
            if line is not None and e > after]


def body_lines(code):
    """Lines where a probe can fire: those that start after the prologue."""
    if not MON:
        return _rewrite.lines_with_code(code)
    return {line for s, line in _body_ranges(code)}


def first_body_line(code):
    if not MON:
        return _rewrite.first_body_line(code)
    body = _body_ranges(code)
    return body[0][1] if body else None


def nested(code):
    """code and every code object inside it: (code, parent, index)."""
    out, todo = [], [(code, None, None)]
    while todo:
        c, parent, i = todo.pop()
        out.append((c, parent, i))
        for k, const in enumerate(c.co_consts):
            if type(const) is type(code):
                todo.append((const, c, k))
    return out


_CO_OPTIMIZED = 0x1


def qualnames(tree):
    """{id(code): qualified name} for nested(...)'s output: co_qualname on
    3.11+, rebuilt from the nesting before (a class body's names go on with
    '.', a function's with '.<locals>.')."""
    out, roots = {}, set()
    for c, parent, _ in tree:
        q = getattr(c, "co_qualname", None)
        if parent is None:
            roots.add(id(c))
        if q is None:
            if parent is None or id(parent) in roots:     # the module, its functions and classes
                q = c.co_name
            elif parent.co_flags & _CO_OPTIMIZED:         # in a function
                q = out[id(parent)] + ".<locals>." + c.co_name
            else:                                         # in a class body
                q = out[id(parent)] + "." + c.co_name
        out[id(c)] = q
    return out


class Target:
    """A parsed --at."""

    def __init__(self, at):
        self.at = at
        self.kind = self.file = self.line = self.func = None
        at = at.strip()
        left, sep, right = at.rpartition(":")
        if sep and right.isdigit() and left:
            self.kind, self.file, self.line = "line", left, int(right)
        elif sep and left and _IDENT.match(right):
            self.kind, self.file, self.func = "func", left, right
        elif not sep and _IDENT.match(at) and not at.endswith(".py"):
            self.kind, self.func = "func", at
        elif not sep and at.endswith(".py"):
            raise ProbeError("--at %s: give the line too (%s:LINE) or a function" % (at, at))
        else:
            raise ProbeError("--at %s: give FILE:LINE, FUNC or FILE:FUNC (FILE: a path or "
                             "a module name)" % at)
        self.paths = set()        # real paths of the file, where found on disk
        self.suffixes = []        # how code objects name it when it is not found
        self._seen = {}
        if self.file:
            self._find()

    def path_like(self):
        return "/" in self.file or self.file.endswith((".py", ".pyw"))

    def _find(self):
        f = self.file
        roots = [p for p in sys.path if isinstance(p, str)]
        if self.path_like():
            self.suffixes = [f]
            cands = [f] + [os.path.join(r or ".", f) for r in roots]
        else:
            rel = f.replace(".", "/")
            self.suffixes = [rel + ".py", rel + "/__init__.py"]
            cands = [os.path.join(r or ".", s) for r in roots for s in self.suffixes]
            mod = sys.modules.get(f)
            path = getattr(mod, "__file__", None) if mod is not None else None
            if isinstance(path, str) and path.endswith(".py"):
                cands.insert(0, path)
        for c in cands:
            if os.path.isfile(c):
                self.paths.add(os.path.realpath(c))

    def matches_file(self, filename):
        if self.file is None:
            return True
        hit = self._seen.get(filename)
        if hit is None:
            hit = False
            if self.paths and (os.path.isabs(filename) or os.path.exists(filename)):
                hit = os.path.realpath(filename) in self.paths
            if not hit and not self.paths:
                hit = any(filename == s or filename.endswith("/" + s) for s in self.suffixes)
            if len(self._seen) < 10000:
                self._seen[filename] = hit
        return hit

    def matches_func(self, code, qualname):
        name = self.func
        return code.co_name == name or qualname == name or (
            "." in name and qualname is not None and qualname.endswith("." + name))

    def check_source(self):
        """Raises ProbeError if the file's source shows the probe cannot fire.
        Returns 'module' when the line is only module-level code."""
        if not self.paths:
            return None
        path = sorted(self.paths)[0]
        try:
            with io.open_code(path) as fh:
                source = fh.read()
            tree = compile(source, path, "exec", dont_inherit=True)
        except (OSError, SyntaxError, ValueError):
            return None
        all_codes = nested(tree)
        codes = [c for c, _, _ in all_codes]
        if self.kind == "func":
            quals = qualnames(all_codes)
            if not any(self.matches_func(c, quals.get(id(c))) for c in codes):
                raise ProbeError("--at %s: no function %s in %s" % (self.at, self.func, path))
            return None
        where = [c for c in codes if self.line in body_lines(c)
                 or (self.line == c.co_firstlineno and self.line == first_body_line(c))]
        if not where:
            have = sorted(set().union(*(body_lines(c) for c in codes)))
            near = sorted(have, key=lambda n: (abs(n - self.line), n))[:2]
            raise ProbeError("--at %s: line %d of %s has no code%s" % (
                self.at, self.line, path,
                " (nearest lines with code: %s)" % ", ".join(map(str, sorted(near))) if near else ""))
        if all(c is tree for c in where):
            return "module"
        return None

    def places(self, code, qualname=None):
        """Where in code this target fires: a line, None for entry, or nothing."""
        if not self.matches_file(code.co_filename):
            return []
        if self.kind == "func":
            return [None] if self.matches_func(code, qualname) else []
        if self.line in body_lines(code):
            # 3.12+: a body on the def line (one-liners, lambdas) gets no LINE
            # event of its own on 3.13+; its entry is the same moment.
            if MON and self.line == code.co_firstlineno == first_body_line(code):
                return [None]
            return [self.line]
        if self.line == code.co_firstlineno and self.line == first_body_line(code):
            return [None]
        return []
