# A stack of a given depth that spins at its leaf, for bench/wasm_cost.py:
# run natively (python wasm_depth.py DEPTH) or in pyodide (main() with
# DEPTH set by the runner's environment variable, read through os.environ
# natively and a module global in pyodide).
import os
import sys

DEPTH = int(os.environ.get("FT_DEPTH", "20"))


def down(n):
    if n > 1:
        return down(n - 1)
    x = 0
    while True:
        x += 1


def main():
    print("READY", flush=True)
    # <module>, main, then down(): DEPTH Python frames of the program's own
    down(DEPTH - 2)


if __name__ == "__main__":
    if len(sys.argv) > 1:
        DEPTH = int(sys.argv[1])
    main()
