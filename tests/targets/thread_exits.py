"""Threads that end as fast as they start, for SECONDS seconds, then the
program exits with status 3: a pause of the whole process keeps meeting
threads that exit while being stopped.

    python thread_exits.py SECONDS
"""
import sys
import threading
import time


def short():
    sum(range(50))


def main():
    end = time.time() + float(sys.argv[1])
    print("READY", flush=True)
    while time.time() < end:
        batch = [threading.Thread(target=short) for _ in range(8)]
        for t in batch:
            t.start()
        for t in batch:
            t.join()
    sys.exit(3)


main()
