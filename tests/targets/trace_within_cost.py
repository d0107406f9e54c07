"""Target of tests/test_trace_more.py: a hot loop of calls timed (best of
5, CPU time) before tracing and while `frametap.trace(within=...)` runs
with a --within function that is never called; then once inside it.
argv: PKG RAW. Prints 'ratio R events E G' (G: sys.monitoring global
events set outside the window, 3.12+; -1 before)."""
import sys
import time

sys.path.insert(0, sys.argv[1])
import frametap  # noqa: E402


def f(x):
    return x


def never_called():
    return f(1)


def loop():
    best = None
    for _ in range(5):
        t0 = time.process_time()
        for i in range(200000):
            f(i)
        dt = time.process_time() - t0
        best = dt if best is None else min(best, dt)
    return best


before = loop()
tr = frametap.trace(sys.argv[2], events="call", within="never_called").start()
during = loop()
glob = -1
if hasattr(sys, "monitoring"):
    glob = sum(sys.monitoring.get_events(t) for t in range(6))
never_called()                                   # the window: events on, then off
inside = glob if glob < 0 else sum(sys.monitoring.get_events(t) for t in range(6))
stats = tr.stop()
print("ratio %.3f events %d %d %d" % (during / before, stats["events"], glob, inside))
