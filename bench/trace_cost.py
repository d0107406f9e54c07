#!/usr/bin/env python3
"""Cost per traced event of frametap's in-process tracer on every
interpreter, in the same run as a bare C hook that only counts (the floor)
and cProfile. Usage: bench/trace_cost.py [--rounds N] [--python PATH ...]

Each measurement is a fresh process timing only its workload; modes are
interleaved round by round and medians reported, because this machine is
noisy. ns/event = (median time with the tool - median time without) /
events of the run (the floor's count for cProfile, which counts the same
calls). Prints Markdown for bench/RESULTS.md."""
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

PKG = os.path.join(ROOT, "build", "python")
WORK = os.path.join(HERE, "targets", "trace_work.py")
# (workload, n, modes): call/return tracing on the two call-heavy loads,
# line and opcode tracing on fib (opcode records carry the value stack).
PLAN = [
    ("call_loop", 1000000, ["none", "floor", "calls", "cprofile"]),
    ("fib", 25, ["none", "floor", "calls", "lines", "cprofile"]),
    ("fib", 18, ["none", "floor", "opcodes"]),
]


def one(python, mode, workload, n, raw):
    r = subprocess.run([python, WORK, PKG, mode, workload, str(n), raw],
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("%s %s %s failed: %s" % (python, mode, workload, r.stderr[-500:]))
    return json.loads(r.stdout.strip().splitlines()[-1])


def measure(python, rounds, tmp):
    rows = []
    for workload, n, modes in PLAN:
        times = {m: [] for m in modes}
        events = {}
        for _ in range(rounds):
            for m in modes:
                res = one(python, m, workload, n, os.path.join(tmp, "bench.ftt"))
                times[m].append(res["seconds"])
                if res["events"] is not None:
                    events[m] = res["events"]
        base = statistics.median(times["none"])
        floor_events = events["floor"]
        for m in modes:
            med = statistics.median(times[m])
            ev = events.get(m, floor_events)
            per = (med - base) / ev * 1e9 if isinstance(ev, int) and ev and m != "none" else None
            rows.append((workload, n, m, med, ev, per))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "5")))
    ap.add_argument("--python", action="append")
    args = ap.parse_args()
    pythons = args.python or [p for _, p, _ in interpreters.expected() if p]
    print("## In-process tracing: cost per event (`bench/trace_cost.py --rounds %d`)\n"
          % args.rounds)
    summary = []
    with tempfile.TemporaryDirectory() as tmp:
        for py in pythons:
            ver = interpreters.version_of(py)
            rows = measure(py, args.rounds, tmp)
            print("### %s (%s)\n" % (py, ver))
            print("| workload | mode | median s | events | ns/event over none |")
            print("|---|---|---|---|---|")
            for workload, n, m, med, ev, per in rows:
                print("| %s(%d) | %s | %.4f | %s | %s |" % (workload, n, m, med, ev,
                                                         "-" if per is None else "%.1f" % per))
            print()
            by = {(w, n, m): per for w, n, m, _, _, per in rows}
            for w, n in (("call_loop", 1000000), ("fib", 25)):
                fl, ft, cp = by[(w, n, "floor")], by[(w, n, "calls")], by[(w, n, "cprofile")]
                summary.append((ver, "%s(%d)" % (w, n), fl, ft, ft - fl, cp))
            sys.stdout.flush()
    print("### Summary: call/return tracing, ns per event over an untraced run\n")
    print("| Python | workload | bare C hook (floor) | frametap calls | frametap - floor | cProfile |")
    print("|---|---|---|---|---|---|")
    for ver, w, fl, ft, d, cp in summary:
        print("| %s | %s | %.1f | %.1f | %+.1f | %.1f |" % (ver, w, fl, ft, d, cp))


if __name__ == "__main__":
    main()
