"""Workload of bench/probe_cost.py: N calls of an empty method and N calls
of a small method, each loop timed in CPU seconds (time.process_time)
inside this process, the best of REPS repetitions (this machine is shared:
the best is the least disturbed). argv: N MODE REPS; MODE none|probe
(frametap runs it) or bdb (a bdb breakpoint in an unrelated function) or
cprofile. Prints JSON."""
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


def best_loops(n, reps):
    runs = [loops(n) for _ in range(reps)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def main():
    n, mode, reps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    if mode == "bdb":
        import bdb
        debugger = bdb.Bdb()
        debugger.set_break(__file__, unrelated.__code__.co_firstlineno + 1)
        debugger.set_trace()
        debugger.set_continue()          # breakpoints exist: tracing stays on
        empty_s, small_s = best_loops(n, reps)
        debugger.set_quit()
        sys.settrace(None)
    elif mode == "cprofile":
        import cProfile
        prof = cProfile.Profile()
        prof.enable()
        empty_s, small_s = best_loops(n, reps)
        prof.disable()
    else:
        empty_s, small_s = best_loops(n, reps)
    print(json.dumps({"empty": empty_s, "small": small_s}))


main()
