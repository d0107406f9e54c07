#!/usr/bin/python3
"""Side-by-side benchmark of frametap against CPython 3.15's own sampler
(`python3.15 -m profiling.sampling`, "Tachyon") and Austin, in one run.

Three measures, each interleaved across tools and repeated (medians quoted):
  1. CPU per sample: each profiler attached to a spinning process at depth
     10 and 50 at a high rate; the profiler's CPU (user+sys, from wait4) of a
     1 + DURATION s run minus that of a 1 s run, divided by the extra samples
     it wrote (start-up and output costs cancel out).
  2. Highest sustained rate: frametap at increasing rates; achieved samples/s
     and error share from its own summary.
  3. Target slowdown at 1 kHz: a fixed-work program timed alone, under each
     profiler attached at 1 kHz, and under cProfile.

usage: bench/vs_peers.py [--rounds N] [--duration S] [--out bench/RESULTS.md]
env:   PY315 (default /opt/pythons/bin/python3.15), AUSTIN (path to an austin
       binary built from its source; omitted from the table when unset)
"""
import argparse
import glob
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FT = os.path.join(ROOT, "build", "frametap")
PY = os.environ.get("PY315", "/opt/pythons/bin/python3.15")
AUSTIN = os.environ.get("AUSTIN")
DEEP = os.path.join(ROOT, "bench", "targets", "deep.py")
FIXED = os.path.join(ROOT, "bench", "targets", "fixed_work.py")


def start(argv, stdin=None):
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=stdin, text=True)
    assert p.stdout.readline().startswith("READY")
    return p


def run_measured(argv):
    """Runs argv; returns (cpu seconds of it and its children, stderr text)."""
    with tempfile.TemporaryFile(mode="w+") as err:
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        err.seek(0)
        text = err.read()
    if os.WEXITSTATUS(status) != 0:
        raise RuntimeError("%s failed: %s" % (argv[0], text[-2000:]))
    return ru.ru_utime + ru.ru_stime, text


def collapsed_samples(path):
    total = 0
    with open(path, errors="replace") as f:
        for line in f:
            m = re.search(r" (\d+)$", line.rstrip())
            if m:
                total += int(m.group(1))
    return total


def austin_samples(path):
    with open(path, errors="replace") as f:
        return sum(1 for line in f if line.startswith("P"))


def profile_once(tool, pid, rate, duration, tmp, py=None):
    out = os.path.join(tmp, "%s.out" % tool)
    if tool == "frametap":
        cpu, err = run_measured([FT, "record", "-r", str(rate), "-d", str(duration), "--mode", "wall",
                                 "-f", "collapsed", "-o", out, str(pid)])
        m = re.search(r"([\d.]+)% errors", err)
        return cpu, collapsed_samples(out), float(m.group(1)) if m else None
    if tool == "tachyon":
        cpu, _ = run_measured([py or PY, "-m", "profiling.sampling", "attach", "-r", str(rate), "-d",
                               str(duration), "--collapsed", "-o", out, str(pid)])
        return cpu, collapsed_samples(out), None
    cpu, _ = run_measured([AUSTIN, "-i", "%dus" % (1000000 // rate), "-x", str(duration), "-o", out,
                           "-p", str(pid)])
    return cpu, austin_samples(out), None


def marginal(tool, pid, rate, duration, tmp, py):
    """CPU per sample with start-up and output costs taken out: the extra CPU
    of a run of 1 + duration seconds over a run of 1 second, per extra sample."""
    cpu1, n1, _ = profile_once(tool, pid, rate, 1, tmp, py)
    cpu2, n2, _ = profile_once(tool, pid, rate, 1 + duration, tmp, py)
    return (cpu2 - cpu1) / max(n2 - n1, 1) * 1e6, n2 / (1 + duration)


def cpu_per_sample(py, tools, rounds, duration, rate):
    """Rows (depth, tool, us per sample or None, samples/s, note)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for depth in (10, 50):
            target = start([py, DEEP, str(depth), "spin"])
            results = {t: [] for t in tools}
            notes = {}
            try:
                for _ in range(rounds):
                    for tool in tools:
                        if tool in notes:
                            continue
                        try:
                            results[tool].append(marginal(tool, target.pid, rate, duration, tmp, py))
                        except RuntimeError as e:
                            notes[tool] = failure_note(str(e))
            finally:
                target.kill()
                target.wait()
            for tool in tools:
                runs = results[tool]
                if runs:
                    rows.append((depth, tool, statistics.median(r[0] for r in runs),
                                 statistics.median(r[1] for r in runs), ""))
                else:
                    rows.append((depth, tool, None, 0, notes.get(tool, "")))
    return rows


def failure_note(text):
    """The tool's own words for why it failed, without colour codes."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    lines = [ln.strip() for ln in text.splitlines() if "Python" in ln or "error" in ln.lower()]
    return "failed: " + (lines[0] if lines else text.strip().splitlines()[-1])[:110]


def cps_table(title, rows, base):
    lines = [title, "", "| depth | tool | us CPU per sample | samples/s written | note |",
             "|---|---|---|---|---|"]
    for depth, tool, us, rate, note in rows:
        lines.append("| %d | %s | %s | %.0f | %s |" % (depth, tool, "%.2f" % us if us else "-", rate, note))
    for depth in (10, 50):
        by = {r[1]: r[2] for r in rows if r[0] == depth}
        if by.get("frametap") and by.get(base):
            lines += ["", "Depth %d: frametap uses %.2fx %s's CPU per sample." %
                      (depth, by["frametap"] / by[base], base)]
    return lines + [""]


def max_rate(duration):
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        target = start([PY, DEEP, "10", "spin"])
        try:
            for rate in (10000, 50000, 100000, 200000, 400000, 1000000):
                cpu, samples, errors = profile_once("frametap", target.pid, rate, duration, tmp)
                rows.append((rate, samples / duration, errors, cpu / duration))
        finally:
            target.kill()
            target.wait()
    return rows


def timed_fixed_work(profiler, work):
    """Seconds the fixed work took with `profiler` (None, a tool, or cProfile)."""
    argv = [PY, FIXED, str(work)]
    if profiler == "cprofile":
        argv = [PY, "-m", "cProfile", "-o", os.devnull, FIXED, str(work)]
    target = start(argv, stdin=subprocess.PIPE)
    prof = None
    if profiler in ("frametap", "tachyon"):
        cmd = ([FT, "record", "-r", "1000", "--mode", "wall", "-f", "collapsed", "-o", os.devnull]
               if profiler == "frametap" else
               [PY, "-m", "profiling.sampling", "attach", "-r", "1000", "--collapsed", "-o",
                os.devnull])
        prof = subprocess.Popen(cmd + [str(target.pid)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # attached and sampling before the work starts
    target.stdin.write("go\n")
    target.stdin.flush()
    elapsed = float(target.stdout.readline())
    target.wait()
    errors = None
    if prof:
        out, err = prof.communicate()
        m = re.search(r"Error rate: ([\d.]+)", out + err) or re.search(r"([\d.]+)% errors", out + err)
        errors = float(m.group(1)) if m else None
    return elapsed, errors


def slowdown(rounds, work):
    kinds = ["none", "frametap", "tachyon", "cprofile"]
    times = {k: [] for k in kinds}
    errors = {k: [] for k in kinds}
    for _ in range(rounds):
        for k in kinds:
            t, e = timed_fixed_work(None if k == "none" else k, work)
            times[k].append(t)
            if e is not None:
                errors[k].append(e)
    base = statistics.median(times["none"])
    return [(k, statistics.median(v), (statistics.median(v) / base - 1) * 100,
             statistics.median(errors[k]) if errors[k] else None) for k, v in times.items()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--duration", type=int, default=4)
    ap.add_argument("--rate", type=int, default=10000)
    ap.add_argument("--work", type=int, default=250000)
    ap.add_argument("--out")
    a = ap.parse_args()
    version = subprocess.run([PY, "-c", "import sys; print(sys.version.split()[0])"],
                             capture_output=True, text=True).stdout.strip()
    lines = ["# frametap vs peers", "",
             "Command: `%s`  " % " ".join(["bench/vs_peers.py"] + sys.argv[1:]),
             "Target: CPython %s (%s), machine: %d cores; medians of %d interleaved rounds." %
             (version, PY, os.cpu_count(), a.rounds), ""]
    peers = ["frametap", "tachyon"] + (["austin"] if AUSTIN else [])
    lines += cps_table("## CPU per sample on %s (attached, %d Hz requested, %d s)" % (version, a.rate, a.duration),
                       cpu_per_sample(PY, peers, a.rounds, a.duration, a.rate), "tachyon")
    if AUSTIN:
        py312 = os.environ.get("PY312") or sorted(glob.glob(
            os.path.expanduser("~/.pyenv/versions/3.12.*/bin/python")))[-1]
        lines += cps_table("## CPU per sample on %s, against Austin (which reads that version)" % py312,
                           cpu_per_sample(py312, ["frametap", "austin"], a.rounds, a.duration, a.rate),
                           "austin")
    lines += ["## frametap's sustained rate (depth 10, one thread, %.0f s)" % a.duration, "",
              "| requested Hz | achieved samples/s | errors % | profiler CPU (cores) |", "|---|---|---|---|"]
    for rate, achieved, errors, cores in max_rate(a.duration):
        lines.append("| %d | %.0f | %s | %.2f |" % (rate, achieved, errors, cores))
    lines += ["", "## Target slowdown at 1 kHz (fixed work, wall time of the work itself)", "",
              "| profiler | seconds | slowdown % | error samples % (as the profiler reports) |",
              "|---|---|---|---|"]
    for kind, secs, pct, err in slowdown(a.rounds, a.work):
        lines.append("| %s | %.3f | %+.1f | %s |" % (kind, secs, pct, "-" if err is None else "%.2f" % err))
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
