"""What the in-process tracer needs to know about a code object, computed
once per code object in Python (where the interpreter's own tools are):
its names and line ranges (describe), and the value-stack depth at each
instruction on 3.12/3.13, whose frames do not keep a stack pointer during
an INSTRUCTION event (stack_depths). Must never import lazily or run user
code: it is called from inside the tracer's hooks."""
import dis
import struct
import sys

_MAX_RANGES = 4000
_NO_FALLTHROUGH = {name for name in ("RETURN_VALUE", "RETURN_CONST", "RAISE_VARARGS", "RERAISE",
                                     "JUMP_FORWARD", "JUMP_BACKWARD", "JUMP_ABSOLUTE", "JUMP",
                                     "JUMP_BACKWARD_NO_INTERRUPT", "JUMP_NO_INTERRUPT")}


def _line_ranges(code):
    if hasattr(code, "co_lines"):
        return [(s, e, -1 if line is None else line) for s, e, line in code.co_lines()]
    starts = list(dis.findlinestarts(code))
    end = len(code.co_code)
    return [(off, starts[i + 1][0] if i + 1 < len(starts) else end, line)
            for i, (off, line) in enumerate(starts)]


def _utf8(s, limit):
    return s.encode("utf-8", "surrogateescape")[:limit].replace(b"\0", b"?") + b"\0"


def describe(code, module):
    """The FT_REC_CODE_DEF payload (src/trace/trace_format.h)."""
    qualname = getattr(code, "co_qualname", code.co_name)
    ranges = [r for r in _line_ranges(code) if 0 <= r[0] < 2**32 and 0 <= r[1] < 2**32]
    ranges = ranges[:_MAX_RANGES]
    head = struct.pack("<II", max(code.co_firstlineno, 0), len(ranges))
    names = _utf8(qualname, 1000) + _utf8(code.co_filename, 2000) + _utf8(module or "", 500)
    lines = b"".join(struct.pack("<IIi", s, e, max(min(line, 2**31 - 1), -1))
                     for s, e, line in ranges)
    return head + names + lines


def _effect(instr, jump):
    arg = instr.arg if instr.opcode >= dis.HAVE_ARGUMENT else None
    try:
        return dis.stack_effect(instr.opcode, arg, jump=jump)
    except ValueError:
        return dis.stack_effect(instr.opcode, None, jump=jump) if arg is not None else 0


def _jump_target(instr):
    target = getattr(instr, "jump_target", None)
    if target is None and (instr.opcode in dis.hasjrel or instr.opcode in dis.hasjabs):
        target = instr.argval
    return target


def stack_depths(code):
    """Depth of the value stack before each instruction, one little-endian
    u16 per code unit (0xffff where unknown): a flow walk with the
    compiler's own stack effects, plus the exception table's handlers."""
    instrs = list(dis.get_instructions(code))
    at = {ins.offset: i for i, ins in enumerate(instrs)}
    depth = {}
    work = [(0, 0)]
    if hasattr(dis, "_parse_exception_table"):
        for entry in dis._parse_exception_table(code):
            work.append((entry.target, entry.depth + 1 + (1 if entry.lasti else 0)))
    while work:
        off, d = work.pop()
        while off in at and off not in depth:
            depth[off] = d
            ins = instrs[at[off]]
            target = _jump_target(ins)
            if target is not None:
                work.append((target, d + _effect(ins, True)))
            if ins.opname in _NO_FALLTHROUGH:
                break
            d += _effect(ins, False)
            nxt = at[off] + 1
            if nxt >= len(instrs):
                break
            off = instrs[nxt].offset
    units = len(code.co_code) // 2
    out = [0xFFFF] * units
    for off, d in depth.items():
        if 0 <= off // 2 < units and 0 <= d < 0xFFFF:
            out[off // 2] = d
    return struct.pack("<%dH" % units, *out)


if sys.version_info < (3, 8):  # pragma: no cover - the C side refuses these
    raise ImportError("frametap needs CPython 3.8 or newer")
