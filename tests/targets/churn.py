"""A stack that never holds still: recursion rising and falling through
several functions, so outside reads race with the interpreter."""
import sys


def a(n):
    if n:
        return b(n - 1) + 1
    return 0


def b(n):
    if n:
        return c(n - 1) + 1
    return 0


def c(n):
    x = [i for i in range(3)]
    if n:
        return a(n - 1) + len(x)
    return 0


print("READY", flush=True)
sys.setrecursionlimit(2000)
while True:
    for depth in (5, 50, 300, 17, 120):
        a(depth)
