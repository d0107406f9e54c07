# Grows its wasm memory while frametap reads it: 8 MiB blocks kept alive
# (memory.grow each time), a spin between blocks, then a deep recursion
# whose frames live in data-stack chunks allocated after the growth (past
# the memory's first extent), parked at the leaf.
import time


def spin(seconds):
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:  # MARK: spin
        pass


def deep(n):
    if n:
        return deep(n - 1)  # MARK: deep
    while True:
        spin(0.01)  # MARK: leaf


def main():
    print("READY", flush=True)
    spin(1.5)  # MARK: before
    keep = []
    for _ in range(32):
        keep.append(bytearray(8 << 20))  # MARK: grow
        spin(0.05)  # MARK: between
    print("GROWN", flush=True)
    deep(300)  # MARK: main
