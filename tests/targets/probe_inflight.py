"""Target of tests/test_probe.py: probes set (through the in-process
manager) while frames of the probed code are already running: a
suspended generator and this module's own body. argv: PKG. Prints the
hits of each probe: 'gen OLD NEW module N'."""
import sys

sys.path.insert(0, sys.argv[1])
from frametap._probes import Manager  # noqa: E402


def gen():
    for i in range(3):
        yield i                                  # MARK: gen_line


manager = Manager()
old = gen()
next(old)                                        # suspended at the yield
gid, _ = manager.add({"at": "probe_inflight.py:13", "action": "count", "budget": "1"})
mid, _ = manager.add({"at": "probe_inflight.py:23", "action": "count", "budget": "1"})
resumed = list(old)
after_old = manager.entries[gid].probe.stats()["hits"]
module_line = True                               # MARK: module_line
fresh = list(gen())
total = manager.entries[gid].probe.stats()["hits"]
print("gen %d %d module %d" % (after_old, total - after_old,
                                manager.entries[mid].probe.stats()["hits"]))
