"""Accuracy target: burns CPU in three functions in a fixed 50/30/20 split of
loop iterations (fixed work each, no sleeps), for about SECONDS seconds.

Equal work does not mean equal time on a shared machine (measured here: the
real split of one run is 50/30/20 only within +-3-4 points), so the program
also times every call (perf_counter_ns, ~100 ns against ~120 us of work) and
prints the true time shares at the end: the ground truth for the test."""
import sys
import time


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def half():
    return work(3000)


def third():
    return work(3000)


def fifth():
    return work(3000)


def main(seconds):
    spent = {"half": 0, "third": 0, "fifth": 0}
    clock = time.perf_counter_ns
    end = time.time() + seconds
    while time.time() < end:
        for _ in range(5):
            t = clock()
            half()
            spent["half"] += clock() - t
        for _ in range(3):
            t = clock()
            third()
            spent["third"] += clock() - t
        for _ in range(2):
            t = clock()
            fifth()
            spent["fifth"] += clock() - t
    total = sum(spent.values())
    print("SHARES " + " ".join("%s=%.5f" % (k, v / total) for k, v in spent.items()), flush=True)


main(float(sys.argv[1]))
