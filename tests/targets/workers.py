"""multiprocessing workers burning CPU in a known function, for the
--subprocesses test. The parent mostly waits."""
import multiprocessing
import sys
import time


def worker_burn(seconds):
    end = time.time() + seconds
    x = 0
    while time.time() < end:
        x += 1
    return x


if __name__ == "__main__":
    ctx = multiprocessing.get_context(sys.argv[2] if len(sys.argv) > 2 else "fork")
    with ctx.Pool(2) as pool:
        pool.map(worker_burn, [float(sys.argv[1])] * 2)
