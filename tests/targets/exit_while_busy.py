"""Eight threads spin; after a second the main thread ends the program
with os._exit(3), which kills the spinning threads wherever they are: a
pause of the whole process at that moment holds threads that die while
held.

    python exit_while_busy.py
"""
import os
import threading
import time


def spin():
    while True:
        pass


for _ in range(8):
    threading.Thread(target=spin, daemon=True).start()
print("READY", flush=True)
time.sleep(1)
os._exit(3)
