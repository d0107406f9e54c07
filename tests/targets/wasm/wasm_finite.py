# wasm_split's 30/70 split for a few seconds, then return (node exits): for
# `frametap record -- node ...`, which samples until the command ends.
import time

from wasm_split import spin_a, spin_b


def main():
    print("READY", flush=True)
    end = time.perf_counter() + 4
    while time.perf_counter() < end:
        spin_a(time.perf_counter() + 0.003)
        spin_b(time.perf_counter() + 0.007)
