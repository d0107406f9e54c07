"""Threads parked inside Python -> C -> Python chains and in blocking C
calls, for `dump --native` and core tests. Every thread parks in
time.sleep or select.select (it never returns), so a dump shows each one
at the marked lines; READY is printed once every thread has started."""
import ctypes
import ctypes.util
import functools
import os
import select
import sys
import threading
import time

FOREVER = 100000
started = threading.Barrier(6)
threading.stack_size(512 * 1024)  # small cores: gcore writes every stack whole


def park():
    time.sleep(FOREVER)  # MARK: park_sleep


def sort_key(x):
    park()  # MARK: sort_key_park
    return x


def sort_caller():
    return sorted([3, 1, 2], key=sort_key)  # MARK: sort_call


def reduce_step(a, b):
    park()  # MARK: reduce_step_park
    return a + b


def reduce_caller():
    return functools.reduce(reduce_step, [1, 2, 3])  # MARK: reduce_call


CMPFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int))


def compare(a, b):
    park()  # MARK: compare_park
    return a[0] - b[0]


def ctypes_caller():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    arr = (ctypes.c_int * 3)(3, 1, 2)
    libc.qsort(arr, 3, ctypes.sizeof(ctypes.c_int), CMPFUNC(compare))  # MARK: qsort_call


def sleeper():
    time.sleep(FOREVER)  # MARK: sleeper_sleep


def selecter():
    r, w = os.pipe()
    select.select([r], [], [], FOREVER)  # MARK: select_call


def run(fn):
    started.wait()
    fn()  # MARK: run_call


def main():
    for fn in (sort_caller, reduce_caller, ctypes_caller, sleeper, selecter):
        threading.Thread(target=run, args=(fn,), name=fn.__name__, daemon=True).start()
    started.wait()
    print("READY", flush=True)
    park()  # MARK: main_park


if __name__ == "__main__":
    sys.exit(main())
