#!/usr/bin/python3
"""Share of impossible stacks, per interpreter and shape: each shape of
tests/targets/oracle_shapes.py runs alone, frametap records it, and the
oracle (tests/oracle.py) judges every sampled stack. Also the error share
frametap itself reported. A measurement, not a test: see tests/test_oracle.py.

usage: bench/oracle_rates.py [--rate HZ] [--duration S] [--shapes a,b]
                             [--pythons id,id] [--extra "ARGS"] [--dump N]
  --extra   more record options, e.g. "--blocking" or "--read full"
  --dump N  instead of record: N `dump --nonblocking --json` reads per shape
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import interpreters  # noqa: E402
import oracle  # noqa: E402

FT = os.environ.get("FRAMETAP", os.path.join(ROOT, "build", "frametap"))
# a copy, so that a rebuild during a long run does not change what is measured
_COPY = tempfile.NamedTemporaryFile(prefix="frametap-", delete=False)
_COPY.close()
shutil.copy(FT, _COPY.name)
FT = _COPY.name


def start(python, shape):
    p = subprocess.Popen([python, oracle.SHAPES, shape, "600"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("READY"):
        p.kill()
        raise RuntimeError("target did not start: " + p.stderr.read())
    return p


def record(pid, rate, duration, extra):
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "p.txt")
        r = subprocess.run([FT, "record", "-r", str(rate), "-d", str(duration), "-f", "collapsed",
                            "-o", out, *extra, str(pid)], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        m = re.search(r"([\d.]+)% errors", r.stderr)
        return oracle.read_collapsed(out), float(m.group(1)) if m else float("nan")


def dumps(pid, n):
    stacks, errors = [], 0
    for _ in range(n):
        r = subprocess.run([FT, "dump", "--json", "--nonblocking", str(pid)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr)
        for th in json.loads(r.stdout)["threads"]:
            if th.get("error"):
                errors += 1
                continue
            frames = [oracle.Frame(f["qualname"], f["file"], f["line"] if f["line"] is not None else -1)
                      for f in reversed(th["frames"])]
            stacks.append((frames, 1))
    total = len(stacks) + errors
    return stacks, 100.0 * errors / total if total else 0.0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=2000)
    ap.add_argument("--duration", type=float, default=3)
    ap.add_argument("--shapes", default=",".join(oracle_shapes()))
    ap.add_argument("--pythons", default="")
    ap.add_argument("--extra", default="")
    ap.add_argument("--dump", type=int, default=0)
    ap.add_argument("--show", type=int, default=0, help="print N worst impossible stacks")
    a = ap.parse_args()
    wanted = set(a.pythons.split(",")) if a.pythons else None
    shapes = a.shapes.split(",")
    print("| interpreter | " + " | ".join(shapes) + " |")
    print("|---|" + "---|" * len(shapes))
    for ident, path, _ in interpreters.expected():
        if wanted and ident not in wanted:
            continue
        if not path:
            print("| %s | missing |" % ident)
            continue
        cells = []
        for shape in shapes:
            p = start(path, shape)
            try:
                if a.dump:
                    stacks, err = dumps(p.pid, a.dump)
                else:
                    stacks, err = record(p.pid, a.rate, a.duration, a.extra.split())
            finally:
                p.kill()
                p.wait()
            total, bad, reasons = oracle.judge(stacks)
            cells.append("%.2f%% (%d/%d, err %.2f%%)" % (100.0 * bad / total if total else 0, bad,
                                                       total, err))
            if a.show and reasons:
                sys.stderr.write("%s %s:\n%s\n" % (ident, shape, oracle.describe(reasons, a.show)))
        print("| %s | %s |" % (ident, " | ".join(cells)), flush=True)


def oracle_shapes():
    src = open(oracle.SHAPES, encoding="utf-8").read()
    block = re.search(r"SHAPES = \{(.*?)\}", src, re.S).group(1)
    return re.findall(r'"(\w+)":', block)


if __name__ == "__main__":
    main()
