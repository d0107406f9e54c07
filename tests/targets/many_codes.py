"""A thread parked under a chain of N distinct functions (N code objects
in one stack; default 300), for the code cache: every one of them must
stay cached from one read to the next, whatever their addresses.

    python many_codes.py [N]
"""
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 300
ns = {"time": time}
for i in range(N):
    callee = "f%d" % (i + 1) if i + 1 < N else None
    body = "    return %s()\n" % callee if callee else \
        "    print('READY', flush=True)\n    time.sleep(3600)\n"
    exec(compile("def f%d():\n%s" % (i, body), "<many %d>" % i, "exec"), ns)

sys.setrecursionlimit(N + 100)
ns["f0"]()
