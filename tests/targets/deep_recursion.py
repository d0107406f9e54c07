"""A thread 10,000 Python frames deep (deeper than frametap reads, 8192),
sleeping at the bottom for SECONDS seconds; the main thread waits for it.
The recursion runs in a thread with a large C stack: 3.8-3.10 use C stack
for every Python call. Prints READY once the bottom is reached."""
import sys
import threading
import time

DEPTH = 10000


def rec(n, end):
    if n == 0:
        print("READY", flush=True)
        time.sleep(max(0.0, end - time.time()))
        return
    rec(n - 1, end)


def main():
    rec(DEPTH, time.time() + float(sys.argv[1]))


sys.setrecursionlimit(DEPTH + 1000)
threading.stack_size(256 * 1024 * 1024)
t = threading.Thread(target=main, name="deep")
t.start()
t.join()
