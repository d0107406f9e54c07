"""Bytecode rewriting for probes on CPython 3.8-3.11 (3.12+ uses
sys.monitoring and never comes here).

instrument(code, hooks) returns a new code object that calls a site
(a C callable from frametap._probe) where each hook asks, then runs the
original instructions unchanged: at every place a line starts ('line'
hooks: a jump back to that line calls it again), or once on entry, after
the prologue ('entry' hooks: loops back to the first line do not). Jumps,
EXTENDED_ARG prefixes, the line table (lnotab 3.8/3.9, linetable 3.10,
locations 3.11), the exception table and inline caches (3.11, from the
de-specialised co_code) are rebuilt; the stack size grows by two.

Runs when a probe is armed, never at a hit. Must never run the program's
code and never modify the code object it is given.
"""
import dis
import opcode
import sys

V = sys.version_info[:2]
if not (3, 8) <= V <= (3, 11):  # pragma: no cover - the caller checks
    raise ImportError("frametap._rewrite is for CPython 3.8-3.11")

OP = opcode.opmap
EXTENDED_ARG = OP["EXTENDED_ARG"]
CACHES = getattr(opcode, "_inline_cache_entries", [0] * 256)
HASJREL = set(dis.hasjrel)
HASJABS = set(dis.hasjabs)
BACKWARD = {OP[n] for n in OP if "BACKWARD" in n}
UNIT = 2
# Prologue: what runs before the first line of a function's body.
# An instruction whose effect the next one consumes: never split them.
BINDS_NEXT = {OP[n] for n in ("KW_NAMES", "EXTENDED_ARG") if n in OP}


class RewriteError(Exception):
    pass


class Instr:
    __slots__ = ("op", "arg", "caches", "start", "op_off", "target", "line", "pos")

    def __init__(self, op, arg, caches, start, op_off):
        self.op, self.arg, self.caches, self.start, self.op_off = op, arg, caches, start, op_off
        self.target = None       # index of the jump's target instruction
        self.line = None         # 3.8-3.10: its line
        self.pos = None          # 3.11: positions of its units (op, then caches)

    def units(self, arg=None):
        arg = self.arg if arg is None else arg
        return 1 + _prefixes(arg) + self.caches


def _prefixes(arg):
    n = 0
    while arg > 0xFF:
        arg >>= 8
        n += 1
    return n


def _decode(code):
    raw = code.co_code
    out, i, ext, start = [], 0, 0, 0
    while i < len(raw):
        op, arg = raw[i], raw[i + 1]
        if op == EXTENDED_ARG:
            if not ext:
                start = i
            ext = (ext | arg) << 8
            i += UNIT
            continue
        full = ext | arg
        first = start if ext else i
        ext = 0
        caches = CACHES[op] if op < len(CACHES) else 0
        out.append(Instr(op, full, caches, first, i))
        i += UNIT * (1 + caches)
    return out


def _jump_target_offset(ins):
    """The byte offset a jump goes to, in the original code."""
    nxt = ins.op_off + UNIT
    if ins.op in HASJABS:
        return ins.arg * (UNIT if V >= (3, 10) else 1)
    if V >= (3, 11):
        if ins.caches:
            raise RewriteError("a jump with inline caches")
        return nxt - ins.arg * UNIT if ins.op in BACKWARD else nxt + ins.arg * UNIT
    return nxt + ins.arg * (UNIT if V >= (3, 10) else 1)


def _unit_lines(code, n_bytes):
    """Line of every code unit (None where there is none), 3.8-3.10."""
    lines = [None] * (n_bytes // UNIT)
    if V >= (3, 10):
        for s, e, line in code.co_lines():
            for u in range(s // UNIT, min(e, n_bytes) // UNIT):
                lines[u] = line
        return lines
    starts = list(dis.findlinestarts(code))
    line = code.co_firstlineno
    k = 0
    for u in range(len(lines)):
        while k < len(starts) and starts[k][0] <= u * UNIT:
            line = starts[k][1]
            k += 1
        lines[u] = line
    return lines


def _prologue_end(ins):
    """Index of the first instruction of the body: after RESUME (3.11),
    after GEN_START (3.10 generators), else the first."""
    for i, x in enumerate(ins):
        if x.op == OP.get("RESUME"):
            return i + 1
        if V < (3, 11):
            return 1 if x.op == OP.get("GEN_START") else 0
    return len(ins)


def _load(code):
    ins = _decode(code)
    by_off = {}
    for k, x in enumerate(ins):
        by_off[x.start] = k
        by_off[x.op_off] = k
    for x in ins:
        if x.op in HASJREL or x.op in HASJABS:
            t = _jump_target_offset(x)
            if t not in by_off:
                raise RewriteError("jump to %d is not an instruction" % t)
            x.target = by_off[t]
    if V >= (3, 11):
        pos = list(code.co_positions())
        for x in ins:
            u = x.op_off // UNIT
            x.pos = pos[u:u + 1 + x.caches]
            x.line = x.pos[0][0] if x.pos else None
    else:
        lines = _unit_lines(code, len(code.co_code))
        for x in ins:
            x.line = lines[x.op_off // UNIT]
    return ins, by_off


def line_starts(code):
    """{line: [instruction indexes where it starts]} after the prologue."""
    ins, _ = _load(code)
    return _line_starts(ins)


def _line_starts(ins):
    starts, prev = {}, None
    body = _prologue_end(ins)
    for k, x in enumerate(ins):
        if k == body:
            prev = None              # the body's first line starts here, even on the def line
        if k >= body and x.line is not None and x.line != prev:
            at = k
            while at > body and ins[at - 1].op in BINDS_NEXT:
                at -= 1
            starts.setdefault(x.line, []).append(at)
        prev = x.line
    return starts


def lines_with_code(code):
    return set(line_starts(code))


def first_body_line(code):
    ins, _ = _load(code)
    body = _prologue_end(ins)
    for x in ins[body:]:
        if x.line is not None:
            return x.line
    return None


# ---- encoding ----

def _site_call(const_index):
    """The instructions that call site (a constant) and drop its result."""
    if V >= (3, 11):
        return [(OP["PUSH_NULL"], 0), (OP["LOAD_CONST"], const_index), (OP["PRECALL"], 0),
                (OP["CALL"], 0), (OP["POP_TOP"], 0)]
    return [(OP["LOAD_CONST"], const_index), (OP["CALL_FUNCTION"], 0), (OP["POP_TOP"], 0)]


def _hook_units(calls):
    return sum(1 + _prefixes(a) + CACHES[o] for o, a in calls)


def _layout(ins, hooks, sizes):
    """Offsets (in units) of each instruction's hooks: where its entry
    hooks begin, where its line hooks begin (a jump to the instruction
    lands there), and where the instruction itself is."""
    at_hook, at_line, at_ins, pos = [], [], [], 0
    for k in range(len(ins)):
        entry, line = hooks.get(k, ((), ()))
        at_hook.append(pos)
        pos += _hook_units(entry)
        at_line.append(pos)
        pos += _hook_units(line)
        at_ins.append(pos)
        pos += sizes[k]
    return at_hook, at_line, at_ins, pos


def _jump_arg(x, k, target_units, at_ins, sizes):
    if x.op in HASJABS:
        return target_units * (1 if V >= (3, 10) else UNIT)
    nxt = at_ins[k] + sizes[k] - x.caches
    delta = target_units - nxt
    if V >= (3, 11):
        delta = -delta if x.op in BACKWARD else delta
    if delta < 0:
        raise RewriteError("a forward jump would go backward")
    return delta * (1 if V >= (3, 10) else UNIT)


def _assemble(ins, hooks):
    """co_code bytes, the new offset maps (units) and each instruction's size."""
    sizes = [x.units() for x in ins]
    args = [x.arg for x in ins]
    for _ in range(16):
        at_hook, at_line, at_ins, total = _layout(ins, hooks, sizes)
        changed = False
        for k, x in enumerate(ins):
            if x.target is None:
                continue
            args[k] = _jump_arg(x, k, at_line[x.target], at_ins, sizes)
            size = x.units(args[k])
            if size != sizes[k]:
                sizes[k] = size
                changed = True
        if not changed:
            break
    else:
        raise RewriteError("jump offsets did not settle")
    out = bytearray()

    def emit(op, arg, caches):
        for shift in range(_prefixes(arg), 0, -1):
            out.extend((EXTENDED_ARG, (arg >> (8 * shift)) & 0xFF))
        out.extend((op, arg & 0xFF))
        out.extend(b"\0\0" * caches)

    for k, x in enumerate(ins):
        entry, line = hooks.get(k, ((), ()))
        for o, a in list(entry) + list(line):
            emit(o, a, CACHES[o])
        emit(x.op, args[k], x.caches)
    assert len(out) == total * UNIT
    return bytes(out), (at_hook, at_line, at_ins), sizes


# ---- line tables ----

def _lnotab(firstline, starts):
    """3.8/3.9: starts = [(byte offset, line)] where the line changes."""
    out = bytearray()
    prev_off, prev_line = 0, firstline
    for off, line in starts:
        doff, dline = off - prev_off, line - prev_line
        if doff == 0 and dline == 0:
            continue
        while doff > 255:
            out += bytes((255, 0))
            doff -= 255
        while dline > 127:
            out += bytes((doff, 127))
            doff, dline = 0, dline - 127
        while dline < -128:
            out += bytes((doff, 0x80))
            doff, dline = 0, dline + 128
        out += bytes((doff, dline & 0xFF))
        prev_off, prev_line = off, line
    return bytes(out)


def _linetable_310(firstline, ranges):
    """3.10: ranges = [(byte length, line or None)] covering the code."""
    out = bytearray()
    prev = firstline
    for length, line in ranges:
        if length == 0:
            continue
        if line is None:
            ldelta = -128
        else:
            ldelta = line - prev
            prev = line
            while ldelta > 127:
                out += bytes((0, 127))
                ldelta -= 127
            while ldelta < -127:
                out += bytes((0, (-127) & 0xFF))
                ldelta += 127
        while length > 254:
            out += bytes((254, ldelta & 0xFF))
            ldelta = -128 if line is None else 0
            length -= 254
        out += bytes((length, ldelta & 0xFF))
    return bytes(out)


def _varint(v):
    out = bytearray()
    while v >= 64:
        out.append(0x40 | (v & 63))
        v >>= 6
    out.append(v)
    return out


def _svarint(v):
    return _varint((-v << 1) | 1 if v < 0 else v << 1)


def _locations_311(firstline, units):
    """3.11: units = [(line, end_line, col, end_col)] one per code unit."""
    out = bytearray()
    prev = firstline
    i = 0
    while i < len(units):
        p = units[i]
        n = 1
        while n < 8 and i + n < len(units) and units[i + n] == p:
            n += 1
        line, end_line, col, end_col = p
        if line is None:
            out.append(0x80 | (15 << 3) | (n - 1))
        elif col is None or end_col is None:
            out.append(0x80 | (13 << 3) | (n - 1))
            out += _svarint(line - prev)
            prev = line
        else:
            out.append(0x80 | (14 << 3) | (n - 1))
            out += _svarint(line - prev)
            out += _varint(max((end_line if end_line is not None else line) - line, 0))
            out += _varint(col + 1)
            out += _varint(end_col + 1)
            prev = line
        i += n
    return bytes(out)


def _exc_varint(v, first):
    chunks = [v & 63]
    v >>= 6
    while v:
        chunks.append(v & 63)
        v >>= 6
    chunks.reverse()
    out = bytearray(c | 0x40 for c in chunks[:-1]) + bytearray((chunks[-1],))
    if first:
        out[0] |= 0x80
    return out


def _parse_exc_table(table):
    it, entries = iter(table), []

    def varint(b):
        v = b & 63
        while b & 64:
            b = next(it)
            v = (v << 6) | (b & 63)
        return v
    for b in it:
        start = varint(b)
        size = varint(next(it))
        target = varint(next(it))
        dl = varint(next(it))
        entries.append((start, start + size, target, dl))
    return entries


# ---- the rewrite ----

def instrument(code, hooks):
    """hooks: [(line, or None for entry, site callable)]. Returns a new code
    object; raises RewriteError when a line has no code or the code cannot
    be rewritten safely."""
    ins, by_off = _load(code)
    starts = _line_starts(ins)
    consts = list(code.co_consts)
    places = {}                      # instruction -> ([entry calls], [line calls])
    for line, site in hooks:
        index = len(consts)
        consts.append(site)
        if line is None:
            where, part = [_prologue_end(ins)], 0
            if where[0] >= len(ins):
                raise RewriteError("%s has no body" % code.co_name)
        else:
            where, part = starts.get(line), 1
            if not where:
                raise RewriteError("line %d has no code in %s" % (line, code.co_name))
        for k in where:
            places.setdefault(k, ([], []))[part].extend(_site_call(index))
    raw, (at_hook, at_line, at_ins), sizes = _assemble(ins, places)
    kw = dict(co_code=raw, co_consts=tuple(consts), co_stacksize=code.co_stacksize + 2)
    if V >= (3, 11):
        units = []
        for k, x in enumerate(ins):
            here = x.pos[0] if x.pos else (None, None, None, None)
            units.extend([here] * (at_ins[k] - at_hook[k] + sizes[k] - 1 - x.caches))
            units.extend(x.pos or [here] * (1 + x.caches))
        kw["co_linetable"] = _locations_311(code.co_firstlineno, units)
        kw["co_exceptiontable"] = _exceptions(code, ins, by_off, at_hook, at_line,
                                              len(raw) // UNIT)
    elif V == (3, 10):
        ranges = []
        for k, x in enumerate(ins):
            n = (at_ins[k] - at_hook[k] + sizes[k]) * UNIT
            if ranges and ranges[-1][1] == x.line:
                ranges[-1][0] += n
            else:
                ranges.append([n, x.line])
        kw["co_linetable"] = _linetable_310(code.co_firstlineno, ranges)
    else:
        new_starts, prev = [], code.co_firstlineno
        for k, x in enumerate(ins):
            if x.line != prev:
                new_starts.append((at_hook[k] * UNIT, x.line))
                prev = x.line
        kw["co_lnotab"] = _lnotab(code.co_firstlineno, new_starts)
    return code.replace(**kw)


def _exceptions(code, ins, by_off, at_hook, at_line, total_units):
    """3.11: the exception table with every bound moved; a range that began
    at an instruction covers its hooks, a handler starts at its line hooks."""
    entries = _parse_exc_table(code.co_exceptiontable)
    if not entries:
        return code.co_exceptiontable
    orig_units = len(code.co_code) // UNIT
    out = bytearray()

    def new(u, where):
        if u >= orig_units:
            return total_units
        k = by_off.get(u * UNIT)
        if k is None:
            raise RewriteError("exception table bound inside an instruction")
        return where[k]
    for start, end, target, dl in entries:
        s, e = new(start, at_hook), new(end, at_hook)
        out += _exc_varint(s, True) + _exc_varint(e - s, False)
        out += _exc_varint(new(target, at_line), False) + _exc_varint(dl, False)
    return bytes(out)
