"""Writes line-table test vectors from the running interpreter's own view of
its code objects, for tests/unit/test_linetable.c. Runs on 3.8-3.15.

usage: python linetable_vectors.py OUT
"""
import dis
import sys
import types

FORMAT = 1 if sys.version_info < (3, 10) else 2 if sys.version_info < (3, 11) else 3
MODULES = ["argparse", "dis", "asyncio.base_events", "json.decoder", "inspect"]


def expected_lines(code):
    """byte offset -> line, as the interpreter itself reports it."""
    n = len(code.co_code)
    if FORMAT == 1:  # 3.8/3.9: the line of the last line start at or before the offset
        starts = dict(dis.findlinestarts(code))
        line, out = code.co_firstlineno, {}
        for off in range(0, n, 2):
            line = starts.get(off, line)
            out[off] = line
        return out
    out = {}
    for start, end, line in code.co_lines():
        for off in range(start, end, 2):
            out[off] = -1 if line is None else line
    return out


def table(code):
    return code.co_lnotab if FORMAT == 1 else code.co_linetable


def walk(code):
    stack = [code]
    while stack:
        c = stack.pop()
        yield c
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))


def main(out_path):
    import importlib
    count = 0
    with open(out_path, "w") as out:
        for name in MODULES:
            mod = importlib.import_module(name)
            src = open(mod.__file__, encoding="utf-8").read()
            for code in walk(compile(src, mod.__file__, "exec")):
                out.write("C %d %d %s\n" % (FORMAT, code.co_firstlineno, table(code).hex()))
                for off, line in sorted(expected_lines(code).items()):
                    out.write("O %d %d\n" % (off, line))
                count += 1
    print(count, "code objects")


if __name__ == "__main__":
    main(sys.argv[1])
