"""Spends much of its time in the garbage collector: builds cyclic garbage,
then collects it, some of it with finalizers that run Python code during
the collection. Runs SECONDS seconds (default: until killed).

    python gc_heavy.py [SECONDS]
"""
import gc
import sys
import time


class Cycle:
    def __init__(self):
        self.me = self
        self.payload = [0] * 8


class Finalized:
    def __init__(self):
        self.me = self

    def __del__(self):
        x = 0
        for i in range(200):
            x += i


def make_garbage(n):
    for _ in range(n):
        Cycle()
    for _ in range(n // 200):
        Finalized()


def collect_now():
    gc.collect()


def main():
    gc.disable()  # collections only where collect_now() asks for them
    end = time.time() + float(sys.argv[1]) if len(sys.argv) > 1 else float("inf")
    print("READY", flush=True)
    while time.time() < end:
        make_garbage(20000)
        collect_now()


main()
