"""A small stand-in for a real service, for `make demo`: a main loop that
handles "requests", a worker thread that crunches numbers, and a thread stuck
waiting on a lock that is never released. Runs until killed."""
import hashlib
import sys
import threading
import time

stuck_lock = threading.Lock()
stuck_lock.acquire()


class ReportBuilder:
    def render(self, rows):
        return "\n".join(self.format_row(r) for r in rows)

    def format_row(self, row):
        return ",".join(str(x) for x in row)


def checksum(data):
    for _ in range(200):
        data = hashlib.sha256(data).digest()
    return data


def crunch_forever():
    n = 0
    while True:
        n = sum(i * i for i in range(20000)) + n % 7


def wait_for_config():
    with stuck_lock:  # never released: this thread is stuck here
        pass


def handle_request(i):
    rows = [(i, j, j * j) for j in range(50)]
    ReportBuilder().render(rows)
    checksum(str(i).encode())
    time.sleep(0.01)


def serve():
    i = 0
    while True:
        handle_request(i)
        i += 1


if __name__ == "__main__":
    threading.Thread(target=crunch_forever, name="cruncher", daemon=True).start()
    threading.Thread(target=wait_for_config, name="config-wait", daemon=True).start()
    print("READY", flush=True)
    sys.exit(serve())
