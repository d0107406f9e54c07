#!/usr/bin/env python3
"""What a frametap probe costs the program, on every interpreter, beside
bdb (pdb's engine) with a breakpoint elsewhere and cProfile. Usage:
bench/probe_cost.py [--rounds N] [--calls N] [--python PATH ...]

Workload (bench/targets/probe_work.py): N calls of an empty method, then N
of a small one, each loop timed in CPU seconds inside the program. Modes:
  none       python alone
  elsewhere  a probe (--count) in a function the loops never call
  never      a probe on a line of the small method that never runs
  false      a logpoint on a line of the small method, --when false at every call
  log        a logpoint hit at every call (-o FILE, --budget 100: never paused)
  bdb        bdb with a breakpoint in an unrelated function (N/10 calls, scaled)
  cprofile   cProfile enabled around the loops (N/10 calls, scaled)
Each measurement is a fresh process timing each loop 3 times and keeping
the best (bdb and cProfile: once); modes are interleaved round by round and
medians of those reported (this machine is shared and noisy). The ratio is
the median loop time over the median with no tool; ns/call is the
difference per call. Prints Markdown for bench/RESULTS.md."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import interpreters  # noqa: E402
from stacks import marks  # noqa: E402

FT = os.path.join(ROOT, "build", "frametap")
WORK = os.path.join(HERE, "targets", "probe_work.py")
MK = marks(WORK)
MODES = ["none", "elsewhere", "never", "false", "log", "bdb", "cprofile"]
SLOW = {"bdb": 10, "cprofile": 10}          # these run N/10 calls, scaled back


def probe_args(mode, tmp):
    at = lambda m: "probe_work.py:%d" % MK[m]  # noqa: E731
    return {
        "elsewhere": ["--at", at("unrelated"), "--count"],
        "never": ["--at", at("never"), "--count"],
        "false": ["--at", at("every"), "--log", "x={x}", "--when", "x < 0", "--budget", "100"],
        "log": ["--at", at("every"), "--log", "x={x}", "--budget", "100"],
    }[mode] + ["-q", "-o", os.path.join(tmp, "hits.jsonl")]


def one(python, mode, calls, tmp):
    n = calls // SLOW.get(mode, 1)
    reps = "1" if mode in SLOW else "3"
    if mode in ("none", "bdb", "cprofile"):
        cmd = [python, WORK, str(n), mode, reps]
    else:
        cmd = [FT, "probe", *probe_args(mode, tmp), "--", python, WORK, str(n), "probe", reps]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, cwd=tmp)
    if r.returncode != 0:
        raise RuntimeError("%s %s failed: %s" % (python, mode, r.stderr[-800:]))
    res = json.loads(r.stdout.strip().splitlines()[-1])
    scale = SLOW.get(mode, 1)
    return res["empty"] * scale, res["small"] * scale


def measure(python, rounds, calls, tmp):
    times = {m: ([], []) for m in MODES}
    for _ in range(rounds):
        for m in MODES:
            e, s = one(python, m, calls, tmp)
            times[m][0].append(e)
            times[m][1].append(s)
    med = {m: (statistics.median(v[0]), statistics.median(v[1])) for m, v in times.items()}
    best = {m: (min(v[0]), min(v[1])) for m, v in times.items()}
    return med, best


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    ap.add_argument("--calls", type=int, default=2000000)
    ap.add_argument("--python", action="append")
    args = ap.parse_args()
    pythons = args.python or [p for _, p, _ in interpreters.expected() if p]
    print("## Probes: cost to the program (`bench/probe_cost.py --rounds %d --calls %d`)\n"
          % (args.rounds, args.calls))
    print("Loop CPU time over python alone (empty method / small method); the goal for "
          "the first three is <= 1.02x. Medians of %d interleaved rounds, each the best of 3 "
          "timings of the loop (bdb and cProfile: %d calls, once, scaled).\n"
          % (args.rounds, args.calls // 10))
    print("| interpreter | elsewhere | never-run line | --when false | logpoint every call "
          "| bdb, breakpoint elsewhere | cProfile | --when false ns/hit | logpoint ns/hit |")
    print("|---|---|---|---|---|---|---|---|---|")
    bests = []
    with tempfile.TemporaryDirectory() as tmp:
        for py in pythons:
            ver = interpreters.version_of(py)
            med, best = measure(py, args.rounds, args.calls, tmp)
            base = med["none"]
            cells = []
            for m in MODES[1:]:
                cells.append("%.2fx / %.2fx" % (med[m][0] / base[0], med[m][1] / base[1]))
            per = lambda m: (med[m][1] - base[1]) / args.calls * 1e9  # noqa: E731
            print("| %s (%s) | %s | %.0f | %.0f |" % (py, ver, " | ".join(cells), per("false"),
                                                      per("log")), flush=True)
            b = best["none"]
            bests.append("| %s (%s) | %.1f / %.1f | %s |" % (
                py, ver, b[0] / args.calls * 1e9, b[1] / args.calls * 1e9,
                " | ".join("%.3fx / %.3fx" % (best[m][0] / b[0], best[m][1] / b[1])
                           for m in ("elsewhere", "never", "false"))))
    print("\nThe same runs, the least disturbed of the %d (the minimum over rounds of each "
          "run's best of 3), for the three modes that should cost nothing:\n" % args.rounds)
    print("| interpreter | python alone ns/call (empty / small) | elsewhere | never-run line "
          "| --when false |")
    print("|---|---|---|---|---|")
    print("\n".join(bests))


if __name__ == "__main__":
    main()
