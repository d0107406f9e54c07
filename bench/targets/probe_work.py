"""Workload of bench/probe_cost.py: N calls of an empty method and N calls
of a small method, each loop timed in CPU seconds (time.process_time)
inside this process. argv: N MODE; MODE none|probe (frametap runs it) or
bdb (a bdb breakpoint in an unrelated function) or cprofile. Prints JSON."""
import json
import sys
import time


class Thing:
    def empty(self):
        pass

    def small(self, x):
        if x < 0:
            return -1                            # MARK: never
        y = x * 2                                # MARK: every
        return y + 1


def unrelated(z):
    return z                                     # MARK: unrelated


def loops(n):
    t = Thing()
    empty, small = t.empty, t.small
    t0 = time.process_time()
    for _ in range(n):
        empty()
    t1 = time.process_time()
    for i in range(n):
        small(i)
    t2 = time.process_time()
    return t1 - t0, t2 - t1


def main():
    n, mode = int(sys.argv[1]), sys.argv[2]
    if mode == "bdb":
        import bdb
        debugger = bdb.Bdb()
        debugger.set_break(__file__, unrelated.__code__.co_firstlineno + 1)
        debugger.set_trace()
        debugger.set_continue()          # breakpoints exist: tracing stays on
        empty_s, small_s = loops(n)
        debugger.set_quit()
        sys.settrace(None)
    elif mode == "cprofile":
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
        empty_s, small_s = loops(n)
        prof.disable()
    else:
        empty_s, small_s = loops(n)
    print(json.dumps({"empty": empty_s, "small": small_s}))


main()
