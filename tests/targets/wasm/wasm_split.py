# A known split for frametap's wasm record tests: spin_a runs 30% of the
# time, spin_b 70%, in 3 ms and 7 ms slices (by the clock, so the split
# holds however fast the wasm engine is).
import time


def spin_a(until):
    while time.perf_counter() < until:  # MARK: a
        pass


def spin_b(until):
    while time.perf_counter() < until:  # MARK: b
        pass


def main():
    print("READY", flush=True)
    while True:
        spin_a(time.perf_counter() + 0.003)  # MARK: call_a
        spin_b(time.perf_counter() + 0.007)  # MARK: call_b
