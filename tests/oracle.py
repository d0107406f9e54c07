"""The stack oracle: decides whether a sampled stack is one that
targets/oracle_shapes.py can have. The rules live in that file as comments
(`# CALLS:`, `# MAXREP:`, `# ENTRY`); this module reads them and checks
stacks (root first, frames as (name, file, line)) against them.

A stack is legal when:
- it starts at the script's <module> (main thread) or at threading's
  _bootstrap (other threads), and a thread's first frame of the script is
  an ENTRY function called from threading's `run`;
- every frame of the script (or of exec'd churn code) below the top is at a
  line whose CALLS list names the function above it (`*stdlib`: everything
  above is outside the script);
- the top frame is at a line of its own function (or has no line);
- exec'd code is consistent: g_K and h_K of one stack share K, and K is the
  one in their file name `<churn K>`;
- no function appears more often than its MAXREP.
"""
import ast
import collections
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
SHAPES = os.path.join(HERE, "targets", "oracle_shapes.py")
SCRIPT_NAME = os.path.basename(SHAPES)
STDLIB = "*stdlib"


def short_name(qualname):
    """co_name from a qualname (3.11+ shows qualnames, older versions names)."""
    return qualname.rsplit(".", 1)[-1]


class Source:
    """Functions (line ranges) and CALLS/MAXREP/ENTRY marks of one source text."""

    def __init__(self, text):
        tree = ast.parse(text)
        nlines = len(text.splitlines())
        self.ranges = {"<module>": (1, nlines)}
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([node.lineno] + [d.lineno for d in node.decorator_list])
                assert node.name not in self.ranges, "function names must be unique: " + node.name
                self.ranges[node.name] = (start, node.end_lineno)
        self.calls, self.maxrep, self.entries = {}, {}, set()
        for n, line in enumerate(text.splitlines(), 1):
            m = re.search(r"# CALLS: (.*)$", line)
            if m:
                self.calls[n] = {c.strip() for c in m.group(1).split(",")}
            m = re.search(r"# MAXREP: (\d+)", line)
            if m:
                self.maxrep[self.function_at(n)] = int(m.group(1))
            if re.search(r"# ENTRY\b", line):
                self.entries.add(self.function_at(n))

    def function_at(self, line):
        """The innermost function whose def starts at or encloses line."""
        best = None
        for name, (a, b) in self.ranges.items():
            if a <= line <= b and (best is None or a >= self.ranges[best][0]):
                best = name
        return best

    def within(self, name, line):
        a, b = self.ranges[name]
        return a <= line <= b


def _load():
    with open(SHAPES, encoding="utf-8") as f:
        text = f.read()
    ns = {}
    churn = re.search(r'CHURN = """\\\n(.*?)"""', text, re.S).group(1)
    ns["script"] = Source(text)
    ns["churn"] = Source(churn.replace("{k}", "K"))
    return ns["script"], ns["churn"]


SCRIPT, CHURN = _load()


class Frame(collections.namedtuple("Frame", "name file line")):
    @property
    def kind(self):
        if os.path.basename(self.file) == SCRIPT_NAME:
            return "script"
        if re.fullmatch(r"<churn \d+>", self.file):
            return "churn"
        return "other"


def _callee_token(callee):
    if callee.kind == "churn":
        return "<churn:module>" if callee.name == "<module>" else "<churn:" + callee.name[0] + ">"
    return short_name(callee.name)


def _churn_check(frame):
    """(error or None, K) for a frame of exec'd code."""
    k = frame.file[len("<churn "):-1]
    name = short_name(frame.name)
    if name == "<module>":
        return None, k
    m = re.fullmatch(r"([gh])_(\d+)", name)
    if not m:
        return "unknown exec'd function %s" % frame.name, k
    if m.group(2) != k:
        return "%s lives in %s (freed code named?)" % (frame.name, frame.file), k
    return None, k


def _own_name(frame):
    """(source, function name in that source) of a script or churn frame."""
    name = short_name(frame.name)
    if frame.kind == "churn":
        return CHURN, (name if name == "<module>" else name[0] + "_K")
    return SCRIPT, name


def _check_root(frames):
    first = frames[0]
    if first.kind == "script":
        if short_name(first.name) != "<module>":
            return "root is %s, not <module>" % first.name
        return None
    if first.kind != "other" or short_name(first.name) != "_bootstrap" or \
            os.path.basename(first.file) != "threading.py":
        return "root is %s (%s), neither <module> nor threading's _bootstrap" % (first.name, first.file)
    for prev, f in zip(frames, frames[1:]):
        if f.kind == "other":
            if os.path.basename(f.file) != "threading.py":
                return "%s (%s) inside a thread's bootstrap" % (f.name, f.file)
            continue
        if f.kind != "script" or short_name(f.name) not in SCRIPT.entries:
            return "thread starts its own code at %s, not at an ENTRY function" % f.name
        if short_name(prev.name) != "run":
            return "%s called from %s, not threading's run" % (f.name, prev.name)
        return None
    return None


def why_illegal(frames):
    """None if the stack (root first) is one the shapes program can have,
    else a reason."""
    frames = [f if isinstance(f, Frame) else Frame(*f) for f in frames]
    frames = [f for f in frames if f.name != "<GC>"]  # the collector runs between any frames
    if not frames:
        return None  # a thread between its state's creation and its first frame
    err = _check_root(frames)
    if err:
        return err
    counts = collections.Counter()
    churn_k = None
    outside = False
    for i, f in enumerate(frames):
        top = i == len(frames) - 1
        if f.kind == "other":
            continue
        if outside:
            return "%s above a call that leaves the script" % f.name
        if f.kind == "churn":
            err, k = _churn_check(f)
            if err:
                return err
            if churn_k not in (None, k):
                return "exec'd code of two generations in one stack (%s and <churn %s>)" % (f.file, churn_k)
            churn_k = k
        src, name = _own_name(f)
        if name not in src.ranges:
            return "unknown function %s in %s" % (f.name, f.file)
        counts[(src is CHURN, name)] += 1
        if counts[(src is CHURN, name)] > src.maxrep.get(name, 10 ** 6):
            return "%s appears more than %d times" % (name, src.maxrep[name])
        if f.line < 0:
            if not top:
                return "%s has no line but is not the top frame" % f.name
            continue
        if top and f.line == 0 and name == "<module>":
            continue  # 3.12+: a module's first instruction has line 0
        if not src.within(name, f.line):
            return "%s at line %d, outside its function" % (f.name, f.line)
        if top:
            continue
        callee = frames[i + 1]
        allowed = src.calls.get(f.line, set())
        if src.function_at(f.line) != name:
            allowed = set()
        if callee.kind == "other" and f.kind == "script" and STDLIB in allowed:
            outside = True
            continue
        token = _callee_token(callee)
        if token not in allowed:
            return "%s at line %d calls %s there? (line allows %s)" % (
                f.name, f.line, callee.name, ", ".join(sorted(allowed)) or "no call")
    return None


FRAME_RE = re.compile(r"^(.*) \((.*):(-?\d+)\)$")
SYNTHETIC = {"<GC>"}
FRAME_NOLINE_RE = re.compile(r"^(.*) \((.*)\)$")


def parse_frame(label):
    if label in SYNTHETIC:
        return Frame(label, "", -1)
    m = FRAME_RE.match(label)
    if m:
        return Frame(m.group(1), m.group(2), int(m.group(3)))
    m = FRAME_NOLINE_RE.match(label)
    if m:
        return Frame(m.group(1), m.group(2), -1)
    raise ValueError("not a frame label: %r" % label)


def read_collapsed(path):
    """[(frames root first, count)] from a collapsed file (no --threads)."""
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = re.match(r"^(.*) (\d+)$", line.rstrip("\n"))
            assert m, "not a collapsed line: %r" % line
            labels = [] if m.group(1) == "<no Python frames>" else m.group(1).split(";")
            out.append(([parse_frame(x) for x in labels], int(m.group(2))))
    return out


def judge(stacks):
    """(samples, illegal samples, [(count, reason, stack)] worst first)."""
    total = bad = 0
    reasons = []
    for frames, n in stacks:
        total += n
        why = why_illegal(frames)
        if why:
            bad += n
            reasons.append((n, why, frames))
    reasons.sort(key=lambda r: -r[0])
    return total, bad, reasons


def describe(reasons, limit=5):
    out = []
    for n, why, frames in reasons[:limit]:
        chain = " -> ".join("%s:%d" % (short_name(f.name), f.line) for f in frames)
        out.append("%6d x %s\n         %s" % (n, why, chain))
    return "\n".join(out)
