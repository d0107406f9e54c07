"""Benchmark target: one thread spinning in Python, IDLE threads asleep
(a server's shape: a few busy, most waiting).
usage: busy_idle.py IDLE"""
import sys
import threading
import time

for _ in range(int(sys.argv[1])):
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
print("READY", flush=True)


def spin():
    while True:
        pass


spin()
