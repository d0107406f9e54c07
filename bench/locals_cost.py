#!/usr/bin/python3
"""What `dump --locals` costs over `dump`, per thread at depth 50, on every
interpreter found: one thread parked 50 frames deep, each frame holding a
few arguments and locals of the usual kinds (int, float, str, a list of 10,
a dict of 5, an object, a closure cell). Runs the release build of each
command ROUNDS times, interleaved, and reports medians of wall time and of
the CPU (user + system) frametap used, and the locals shown.

    bench/locals_cost.py [--rounds N]     (after `make build/frametap`)
"""
import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FT = os.path.join(ROOT, "build", "frametap")
TARGET = r'''
import sys, threading
class Thing: pass
def level(n, ev):
    count, ratio, label = n, n / 7, "level-%d" % n
    items, table, thing = list(range(10)), {"k%d" % i: i for i in range(5)}, Thing()
    def inner():
        return count
    if n == 0:
        ev.set()
        threading.Event().wait()
    level(n - 1, ev)
ev = threading.Event()
threading.Thread(target=level, args=(49, ev), daemon=True).start()
ev.wait()
print("READY", flush=True)
threading.Event().wait()
'''


def pythons():
    root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    out = []
    for m in ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13"):
        hits = sorted(glob.glob(os.path.join(root, "versions", m + ".*", "bin", "python")))
        out += hits[-1:]
    out += [p for p in ("/usr/bin/python3.11", "/opt/pythons/bin/python3.14", "/opt/pythons/bin/python3.15")
            if os.access(p, os.X_OK)]
    return out


def run(args):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run([FT] + args, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        sys.exit("frametap %s failed: %s" % (" ".join(args), r.stderr))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1e3, cpu * 1e3, r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=15)
    a = ap.parse_args()
    print("| interpreter | frames | locals shown | dump ms wall / CPU | dump --locals ms wall / CPU |"
          " locals cost ms CPU (per frame µs) |")
    print("|---|---|---|---|---|---|")
    for py in pythons():
        p = subprocess.Popen([py, "-c", TARGET], stdout=subprocess.PIPE, text=True)
        try:
            p.stdout.readline()
            plain, loc = [], []
            for _ in range(a.rounds):
                plain.append(run(["dump", "--json", str(p.pid)])[:2])
                w, c, out = run(["dump", "--json", "--locals", str(p.pid)])
                loc.append((w, c))
            d = json.loads(out)
            t = max(d["threads"], key=lambda t: len(t["frames"]))
            frames = len(t["frames"])
            shown = sum(len(f["locals"]) for f in t["frames"])
            pw, pc = (statistics.median(x[i] for x in plain) for i in (0, 1))
            lw, lc = (statistics.median(x[i] for x in loc) for i in (0, 1))
            version = subprocess.run([py, "-c", "import platform; print(platform.python_version())"],
                                     capture_output=True, text=True).stdout.strip()
            print("| %s (%s) | %d | %d | %.1f / %.1f | %.1f / %.1f | %.1f (%.0f) |" % (
                py, version, frames, shown, pw, pc, lw, lc, lc - pc, (lc - pc) * 1e3 / frames))
        finally:
            p.kill()
            p.wait()


main()
