"""Target of tests/test_probe.py for probes added to a running program.

argv: [agent PKG] - call frametap.agent.start() (needed before 3.14).
A worker thread runs spin() for its whole life (a frame that is already
running when a probe is set); the main thread calls tick() every few
milliseconds and answers commands on stdin, one per line:
  call     - call spin() once more from the main thread (a new frame)
  report   - print whether tick/spin still have their original code objects,
             sys.monitoring events set on them (3.12+), and frametap modules
  bench    - print the CPU ns per call of hot() over 300000 calls
  busy     - start a thread calling hot() without pause until quit
  quit     - exit
"""
import os
import select
import sys
import threading
import time

stop = threading.Event()
calls = {"spin": 0}


def spin(rounds):
    n = 0
    while n < rounds and not stop.is_set():
        n += 1                                   # MARK: spin_body
        time.sleep(0.005)
    return n


def tick(i):
    value = i % 7                                # MARK: tick
    return value


def hot(x):
    return x + 1                                 # MARK: hot


ORIG = {f.__name__: f.__code__ for f in (spin, tick, hot)}


def bench():
    best = None
    for _ in range(5):
        t0 = time.process_time_ns()
        for i in range(300000):
            hot(i)
        dt = (time.process_time_ns() - t0) / 300000
        best = dt if best is None else min(best, dt)
    return best


def busy():
    i = 0
    while not stop.is_set():
        hot(i)
        i += 1


def report():
    same = all(f.__code__ is ORIG[f.__name__] for f in (spin, tick, hot))
    events = []
    if hasattr(sys, "monitoring"):
        for tool in range(6):
            for f in (spin, tick, hot):
                events.append(sys.monitoring.get_local_events(tool, f.__code__))
            if sys.monitoring.get_tool(tool) is not None:
                events.append(sys.monitoring.get_tool(tool))
    hooks = [type(f).__name__ for f in sys.meta_path if "frametap" in type(f).__module__]
    print("report same=%s events=%s hooks=%s" % (same, events, hooks), flush=True)


def main():
    if len(sys.argv) > 2 and sys.argv[1] == "agent":
        sys.path.insert(0, sys.argv[2])
        import frametap.agent
        frametap.agent.start()
    worker = threading.Thread(target=spin, args=(10 ** 9,), name="spinner", daemon=True)
    worker.start()
    print("READY %d" % os.getpid(), flush=True)
    i = 0
    while True:
        tick(i)
        i += 1
        ready, _, _ = select.select([sys.stdin], [], [], 0.005)
        if not ready:
            continue
        cmd = sys.stdin.readline().strip()
        if cmd == "call":
            print("called %d" % spin(3), flush=True)
        elif cmd == "report":
            report()
        elif cmd == "bench":
            print("bench %.1f" % bench(), flush=True)
        elif cmd == "busy":
            threading.Thread(target=busy, name="busy", daemon=True).start()
            print("busy", flush=True)
        elif cmd in ("quit", ""):
            stop.set()
            print("bye", flush=True)
            return 0


if __name__ == "__main__":
    sys.exit(main())
