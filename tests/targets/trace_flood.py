"""Floods the tracer while its file drains slowly: python trace_flood.py
PACKAGE_DIR RAW_PATH (a FIFO the test reads slowly). The program must
finish on time, never blocked by the writer, and report drops."""
import sys
import time

sys.path.insert(0, sys.argv[1])
import frametap  # noqa: E402


def tiny(i):
    return i


t0 = time.monotonic()
with frametap.trace(sys.argv[2], events="call,line", buffer_mb=1) as tr:
    for i in range(400000):
        tiny(i)
print("events", tr.stats["events"], "dropped", tr.stats["dropped"],
      "seconds %.2f" % (time.monotonic() - t0))
