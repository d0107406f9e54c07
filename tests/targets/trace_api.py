"""The Python API on a thread that started before tracing did:
python trace_api.py PACKAGE_DIR RAW_FILE."""
import sys
import threading
import time

sys.path.insert(0, sys.argv[1])
import frametap  # noqa: E402

stop = threading.Event()


def tick():
    return 1


def spin():
    while not stop.is_set():
        tick()
        time.sleep(0.001)


t = threading.Thread(target=spin, name="early-bird")
t.start()
time.sleep(0.05)
with frametap.trace(sys.argv[2], events="call,thread") as tr:
    time.sleep(0.3)
stop.set()
t.join()
print("events", tr.stats["events"], "dropped", tr.stats["dropped"])
