"""One thread spins in pure Python (on CPU, holding the GIL); the main thread
sleeps. Prints READY once the spinner runs."""
import threading
import time

started = threading.Event()


def spin():
    started.set()
    while True:
        pass


threading.Thread(target=spin, daemon=True).start()
started.wait()
print("READY", flush=True)
time.sleep(3600)
