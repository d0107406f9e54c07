"""Benchmark target: recurses to DEPTH Python frames, then either parks in
time.sleep (a still stack) or spins (a running stack, as a profiler sees it).
usage: deep.py DEPTH park|spin"""
import sys
import time


def level(n, mode):
    if n > 1:
        return level(n - 1, mode)
    print("READY", flush=True)
    if mode == "park":
        time.sleep(3600)
    while True:
        pass


depth, mode = int(sys.argv[1]), sys.argv[2]
sys.setrecursionlimit(depth + 100)
level(depth - 1, mode)  # <module> is one frame too
