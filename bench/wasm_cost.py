#!/usr/bin/env python3
"""CPU per sample and samples/s of `frametap record` on CPython in WebAssembly
(pyodide in node) against a native CPython 3.13, both spinning at the same
Python depth. Interleaved rounds, medians.

  bench/wasm_cost.py [--rounds 3] [--duration 4] [--rate 1000] [--depth 20]
                     [--pyodide 0.29.5]

The pyodide release is installed into build/pyodide by the tests' helper
(tests/pyodides.py); the native 3.13 is pyenv's. Prints a markdown table."""
import argparse
import glob
import os
import re
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pyodides  # noqa: E402

FRAMETAP = os.path.join(ROOT, "build", "frametap")
TARGET = os.path.join(ROOT, "bench", "targets", "wasm_depth.py")
RUNNER = os.path.join(ROOT, "tests", "targets", "wasm", "run_pyodide.js")


def native_313():
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    hits = sorted(glob.glob(os.path.join(root or os.path.expanduser("~/.pyenv"), "versions",
                                         "3.13*", "bin", "python")))
    if not hits:
        sys.exit("no pyenv 3.13 (pyenv install 3.13)")
    return hits[-1]


def start(cmd, env):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        line = p.stdout.readline()
        if line.startswith("READY") or not line:
            break
    time.sleep(0.5)
    return p


def measure(pid, duration, rate):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([FRAMETAP, "record", "-d", str(duration), "-r", str(rate), "-f", "collapsed",
                        "-o", "/dev/null", str(pid)], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = re.search(r"([\d.]+) s, (\d+) samples", r.stderr)
    if r.returncode or not m:
        return None, None, r.stderr.strip().splitlines()[-1:]
    samples = int(m.group(2))
    return 1e6 * cpu / max(samples, 1), samples / float(m.group(1)), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--duration", type=float, default=4)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--pyodide", default="0.29.5")
    a = ap.parse_args()
    pkg = pyodides.install(a.pyodide)
    env = dict(os.environ, FT_DEPTH=str(a.depth))
    kinds = {
        "native %s" % os.path.basename(os.path.dirname(os.path.dirname(native_313()))):
            [native_313(), TARGET],
        "wasm (pyodide %s in node)" % a.pyodide: [pyodides.node(), RUNNER, pkg, TARGET, "0"],
    }
    results = {k: [] for k in kinds}
    for _ in range(a.rounds):
        for kind, cmd in kinds.items():
            p = start(cmd, env)
            try:
                results[kind].append(measure(p.pid, a.duration, a.rate))
            finally:
                p.kill()
                p.wait()
    print("| target | depth | us CPU per sample | samples/s (of %d requested) |" % a.rate)
    print("|---|---|---|---|")
    for kind, rs in results.items():
        ok = [r for r in rs if r[0] is not None]
        if not ok:
            print("| %s | %d | - | - (failed: %s) |" % (kind, a.depth, rs[0][2]))
            continue
        print("| %s | %d | %.1f | %.0f |" % (kind, a.depth, statistics.median(r[0] for r in ok),
                                             statistics.median(r[1] for r in ok)))


if __name__ == "__main__":
    main()
