"""N threads (default 1000) parked in the same function on the same line,
so every one of them has the same stack; prints READY once all wait."""
import sys
import threading

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
threading.stack_size(256 * 1024)
gate = threading.Event()
parked = threading.Semaphore(0)


def idle_worker():
    parked.release()
    gate.wait()


threads = [threading.Thread(target=idle_worker, daemon=True) for _ in range(N)]
for t in threads:
    t.start()
for _ in range(N):
    parked.acquire()
print("READY", flush=True)
gate.wait(3600)
