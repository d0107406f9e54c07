"""Benchmark target for slowdown: a fixed amount of pure-Python work (calls
and loops, no sleeps). Waits for a line on stdin before starting, so a
profiler can attach first; prints its own elapsed seconds at the end."""
import sys
import time


def leaf(n):
    x = 0
    for i in range(n):
        x += i
    return x


def mid(k):
    return sum(leaf(50) for _ in range(k))


def top(rounds):
    return sum(mid(20) for _ in range(rounds))


print("READY", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
top(int(sys.argv[1]))
print("%.6f" % (time.perf_counter() - t0), flush=True)
