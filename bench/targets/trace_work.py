"""One measured run for bench/trace_cost.py:
python trace_work.py PKG_DIR MODE WORKLOAD N RAW  ->  one JSON line.
Only the workload is timed, by the CPU time of the thread running it
(time.thread_time: preemption on this noisy VM does not count, nor does
frametap's writer thread, which is reported apart as writer_cpu); tracing
starts before the workload and stops after."""
import json
import sys
import time

sys.path.insert(0, sys.argv[1])
import frametap  # noqa: E402
from frametap import _tracer  # noqa: E402


class C:
    x = 1

    def empty_method(self):
        pass

    def simple_method(self):
        return self.x + 1


def call_loop(n):
    c = C()
    for _ in range(n):
        c.empty_method()
        c.simple_method()


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


WORKLOADS = {"call_loop": call_loop, "fib": fib}


def main():
    mode, workload, n, raw = sys.argv[2], WORKLOADS[sys.argv[3]], int(sys.argv[4]), sys.argv[5]
    events = None
    cpu0 = time.process_time()
    if mode == "none":
        t0 = time.thread_time()
        workload(n)
        t1 = time.thread_time()
    elif mode == "floor":
        _tracer.floor_start()
        t0 = time.thread_time()
        workload(n)
        t1 = time.thread_time()
        events = _tracer.floor_stop()
    elif mode == "cprofile":
        import cProfile
        p = cProfile.Profile()
        p.enable()
        t0 = time.thread_time()
        workload(n)
        t1 = time.thread_time()
        p.disable()
    else:
        kinds = {"calls": "call", "lines": "call,line", "opcodes": "call,opcode"}[mode]
        tr = frametap.trace(raw, events=kinds, buffer_mb=256).start()
        t0 = time.thread_time()
        workload(n)
        t1 = time.thread_time()
        stats = tr.stop()
        events = stats["events"]
        if stats["dropped"]:
            events = "dropped %d" % stats["dropped"]
    writer = max(0.0, (time.process_time() - cpu0) - (t1 - t0)) if mode in ("calls", "lines", "opcodes") else 0.0
    print(json.dumps({"seconds": t1 - t0, "events": events, "writer_cpu": writer}))


main()
