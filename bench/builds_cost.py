#!/usr/bin/python3
"""CPU per sample of frametap builds side by side, flat out, split into user
and system time: for judging a change to the read path on a machine whose
speed drifts (only builds measured in the same interleaved run compare).

Each round runs every build once against the same spinning target
(bench/targets/deep.py DEPTH spin): `record -r 1000000 -d SECONDS --mode wall`;
its CPU (from wait4) over the samples it wrote. Medians over rounds.

usage: bench/builds_cost.py [--python P] [--depth N] [--rounds R] [--seconds S] BUILD...
"""
import argparse
import os
import statistics
import subprocess
import tempfile

from vs_peers import collapsed_samples

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEEP = os.path.join(ROOT, "bench", "targets", "deep.py")


def one_run(build, pid, seconds, out):
    p = subprocess.Popen([build, "record", "-r", "1000000", "-d", str(seconds), "--mode", "wall",
                          "-f", "collapsed", "-o", out, str(pid)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    err = p.stderr.read().decode(errors="replace")
    if os.WEXITSTATUS(status) != 0:
        raise SystemExit("%s failed: %s" % (build, err[-500:]))
    n = max(collapsed_samples(out), 1)
    return ru.ru_utime / n * 1e6, ru.ru_stime / n * 1e6, n / seconds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default="/opt/pythons/bin/python3.15")
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=2)
    ap.add_argument("builds", nargs="+")
    a = ap.parse_args()
    target = subprocess.Popen([a.python, DEEP, str(a.depth), "spin"], stdout=subprocess.PIPE, text=True)
    assert target.stdout.readline().startswith("READY")
    runs = {b: [] for b in a.builds}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(a.rounds):
                for b in a.builds:
                    runs[b].append(one_run(b, target.pid, a.seconds, os.path.join(tmp, "out.txt")))
    finally:
        target.kill()
        target.wait()
    print("| build | µs CPU per sample | user | system | samples/s |")
    print("|---|---|---|---|---|")
    for b, rs in runs.items():
        user, sys_ = statistics.median(r[0] for r in rs), statistics.median(r[1] for r in rs)
        total = statistics.median(r[0] + r[1] for r in rs)
        print("| %s | %.2f | %.2f | %.2f | %.0f |" % (b, total, user, sys_, statistics.median(r[2] for r in rs)))


if __name__ == "__main__":
    main()
