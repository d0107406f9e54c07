#!/usr/bin/env python3
"""What `frametap trace --within F` costs a program that never calls F,
beside the program alone, full tracing and cProfile. Usage:
bench/within_cost.py [--rounds N] [--python PATH ...]

Workload: Pygments (Debian's python3-pygments, /usr/lib/python3/dist-packages,
pure Python, put on the path alone) highlighting about 12,000 lines of the
standard library as HTML: `python -m pygments -l python -f html`. F is
HtmlFormatter._wrap_tablelinenos, loaded but called only for
`-O linenos=table`, so never here. Modes:
  none      python alone
  within    frametap trace --within HtmlFormatter._wrap_tablelinenos
  full      frametap trace (the same events, no --within)
  cprofile  python -m cProfile
Wall time of the whole command (for the trace modes: including frametap
writing its text output) and the program's CPU time (user+sys of the
child processes, frametap's included); modes interleaved round by round,
medians. Prints Markdown for bench/RESULTS.md."""
import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FT = os.path.join(ROOT, "build", "frametap")
PYGMENTS = "/usr/lib/python3/dist-packages/pygments"
WITHIN = "HtmlFormatter._wrap_tablelinenos"
MODES = ["none", "within", "full", "cprofile"]
SOURCES = ["typing.py", "argparse.py", "inspect.py", "pathlib.py", "subprocess.py"]


def workload(tmp):
    pkg = os.path.join(tmp, "pkg")
    os.makedirs(pkg)
    os.symlink(PYGMENTS, os.path.join(pkg, "pygments"))
    libdir = os.path.dirname(os.__file__)
    src = os.path.join(tmp, "input.py")
    with open(src, "w", encoding="utf-8") as out:
        for name in SOURCES:
            with open(os.path.join(libdir, name), encoding="utf-8") as f:
                out.write(f.read())
    return pkg, src


def command(mode, python, src, tmp):
    prog = ["-m", "pygments", "-l", "python", "-f", "html", "-o", os.path.join(tmp, "out.html"),
            src]
    if mode == "none":
        return [python, *prog]
    if mode == "cprofile":
        return [python, "-m", "cProfile", "-o", os.path.join(tmp, "prof.out"), *prog]
    opts = ["--within", WITHIN] if mode == "within" else []
    return [FT, "trace", "-q", *opts, "-o", os.path.join(tmp, "t.txt"), "--", python, *prog]


def one(cmd, env, tmp):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp, timeout=1800)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise RuntimeError("%s failed: %s" % (cmd, r.stderr[-800:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def events(path):
    with open(path, encoding="utf-8") as f:
        head = f.readline()
    return head.split(" events")[0].rsplit(" ", 1)[-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--python", action="append")
    args = ap.parse_args()
    pythons = args.python or ["/usr/bin/python3.11", "/opt/pythons/bin/python3.15"]
    print("## trace --within a function never called (`bench/within_cost.py --rounds %d`)\n"
          % args.rounds)
    print("Pygments highlighting %s of the standard library as HTML; --within %s, never "
          "called. Medians of %d interleaved rounds; wall time of the command, and CPU time "
          "(user+sys, the program and frametap); the ratio is over python alone.\n"
          % ("+".join(SOURCES), WITHIN, args.rounds))
    print("| interpreter | python alone | trace --within (never called) | full trace | cProfile "
          "| events --within / full |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        pkg, src = workload(tmp)
        env = dict(os.environ, PYTHONPATH=pkg)
        for py in pythons:
            got = {m: ([], []) for m in MODES}
            counts = {}
            for _ in range(args.rounds):
                for m in MODES:
                    w, c = one(command(m, py, src, tmp), env, tmp)
                    got[m][0].append(w)
                    got[m][1].append(c)
                    if m in ("within", "full"):
                        counts[m] = events(os.path.join(tmp, "t.txt"))
            med = {m: (statistics.median(v[0]), statistics.median(v[1])) for m, v in got.items()}
            base = med["none"]
            cells = ["%.2f s wall, %.2f s CPU" % base]
            for m in MODES[1:]:
                cells.append("%.2f s (%.2fx), CPU %.2f s (%.2fx)" % (
                    med[m][0], med[m][0] / base[0], med[m][1], med[m][1] / base[1]))
            ver = subprocess.run([py, "-c", "import platform; print(platform.python_version())"],
                                 capture_output=True, text=True).stdout.strip()
            print("| %s (%s) | %s | %s / %s |" % (py, ver, " | ".join(cells), counts["within"],
                                                  counts["full"]), flush=True)


if __name__ == "__main__":
    sys.exit(main())
