"""Target program with known stacks for frametap's tests.

Runs on CPython 3.8-3.15. Every thread parks at a line marked `# MARK: name`;
tests/stacks.py turns the marks into expected (qualname, line) lists. When
all threads are parked it prints READY and sleeps until killed.
"""
import asyncio
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mödulé_ñ  # noqa: E402  (non-ASCII module and file name)

PARK = 3600
DEPTH = 1000
parked = []


def park():
    ev = threading.Event()
    parked.append(ev)
    return ev


def recurse(n, ev):
    if n > 1:
        return recurse(n - 1, ev)  # MARK: recurse_call
    ev.set()
    time.sleep(PARK)  # MARK: recurse_park


ODD_FILENAME = "<odd file: spaces & ünï \\ \"quotes\">"
EXEC_SOURCE = """
def from_exec(ev):
    ev.set()
    __import__("time").sleep(3600)
"""


def run_exec(ev):
    ns = {}
    exec(compile("\n" * 9 + EXEC_SOURCE, ODD_FILENAME, "exec"), ns)
    ns["from_exec"](ev)  # MARK: run_exec_call


class Outer:
    class Inner:
        def method(self, ev):
            fn = lambda: run_exec(ev)  # noqa: E731  MARK: lambda_body
            fn()  # MARK: method_call


def ticker(ev):
    ev.set()
    time.sleep(PARK)  # MARK: ticker_park
    yield 1


async def middle_coro(ev):
    for _ in ticker(ev):  # MARK: middle_loop
        pass


async def suspended_forever():
    await asyncio.sleep(PARK)  # a task parked mid-await: on no thread's stack


async def outer_coro(ev):
    asyncio.ensure_future(suspended_forever())
    await asyncio.sleep(0)
    await middle_coro(ev)  # MARK: outer_await


def start_threads():
    sys.setrecursionlimit(DEPTH + 200)
    threads = [
        threading.Thread(target=recurse, args=(DEPTH, park()), name="recurser"),
        threading.Thread(target=Outer.Inner().method, args=(park(),), name="execer"),
        threading.Thread(target=mödulé_ñ.Ωmega().метод, args=(park(),), name="unicode"),
    ]
    for t in threads:
        t.daemon = True
        t.start()


def announce_when_parked(main_ev):
    for ev in parked + [main_ev]:
        ev.wait()
    time.sleep(0.3)  # let each thread reach its sleep call after set()
    print("READY", os.getpid(), flush=True)


def main():
    start_threads()
    main_ev = threading.Event()
    threading.Thread(target=announce_when_parked, args=(main_ev,), daemon=True).start()
    asyncio.run(outer_coro(main_ev))  # MARK: main_run


if __name__ == "__main__":
    main()  # MARK: module_main
