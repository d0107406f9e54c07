"""Programs whose every legal stack is known, for the stack oracle
(tests/oracle.py). Each shape changes its stack as fast as it can, so that
a reader racing the interpreter sees frames come and go under it.

    python oracle_shapes.py SHAPE[,SHAPE...] [SECONDS]

The first shape runs in the main thread, the others in threads of their own.
Prints READY once every shape runs; stops after SECONDS (default: never).

The legal stacks are written into this file: a `# CALLS: f, g` comment says
that a frame at that line may have a frame of f or g on top of it (and no
other); a `# MAXREP: N` comment on a def line bounds how often the function
may appear in one stack; `*stdlib` means the rest of the stack is outside
this file; `<churn:g>` / `<churn:module>` are code made by exec (see CHURN).
The top frame may be at any line of its function. Keep every call on one
line, and function names unique in this file.
"""
import random
import sys
import threading
import time

CHURN = """\
def g_{k}(d):
    if d:
        return g_{k}(d - 1)  # CALLS: <churn:g>
    return h_{k}()  # CALLS: <churn:h>


def h_{k}():
    s = 0
    for i in range(60):
        s += i
    return s
"""


# --- deep recursion into a leaf loop, at changing depths -----------------
# (each shape changes its stack every few microseconds at most; `ab` every
# few dozen nanoseconds)

def leaf(n):
    x = 0
    for i in range(n):
        x += i
    return x


def rec(depth, n):  # MAXREP: 26
    if depth == 0:
        return leaf(n)  # CALLS: leaf
    return rec(depth - 1, n)  # CALLS: rec


def shape_recursion(rng):
    while True:
        rec(rng.randrange(26), rng.randrange(50, 1500))  # CALLS: rec, *stdlib


# --- a method recursing into a generator ---------------------------------

def gen_helper(i):
    x = i
    for k in range(40):
        x += k
    return x


class Node:
    def walk(self, depth):  # MAXREP: 12
        if depth:
            return self.walk(depth - 1)  # CALLS: walk
        total = 0
        for v in self.items(depth + 5):  # CALLS: items
            total += v
        return total

    def items(self, n):
        for i in range(n):
            yield gen_helper(i)  # CALLS: gen_helper


def shape_generator(rng):
    node = Node()
    while True:
        node.walk(rng.randrange(12))  # CALLS: walk, *stdlib


# --- an exception unwinding 16 frames -------------------------------------

def fail(depth):  # MAXREP: 17
    if depth == 0:
        raise ValueError(depth)
    fail(depth - 1)  # CALLS: fail


def catch(depth):
    try:
        fail(depth)  # CALLS: fail
    except ValueError:
        return 1
    return 0


def shape_exception(rng):
    while True:
        catch(16)  # CALLS: catch


# --- two callers of two leaves, in turn ------------------------------------

def leaf_a():
    return 1


def leaf_b():
    return 2


def call_a():
    return leaf_a()  # CALLS: leaf_a


def call_b():
    return leaf_b()  # CALLS: leaf_b


def shape_ab(rng):
    while True:
        call_a()  # CALLS: call_a
        call_b()  # CALLS: call_b


# --- code objects made by exec and freed, continuously --------------------

def shape_exec(rng):
    k = 0
    while True:
        k += 1
        ns = {}
        exec(compile(CHURN.format(k=k), "<churn %d>" % k, "exec"), ns)  # CALLS: <churn:module>
        ns["g_%d" % k](rng.randrange(8))  # CALLS: <churn:g>, *stdlib


# --- coroutines suspending and resuming -----------------------------------

class Suspend:
    def __await__(self):
        yield 1


async def co_leaf(n):
    s = 0
    for i in range(n):
        s += i
    await Suspend()  # CALLS: __await__
    return s


async def co_mid(n):
    a = await co_leaf(n)  # CALLS: co_leaf
    b = await co_leaf(n + 1)  # CALLS: co_leaf
    return a + b


def shape_coroutine(rng):
    while True:
        c = co_mid(rng.randrange(20, 300))  # CALLS: co_mid, *stdlib
        try:
            while True:
                c.send(None)  # CALLS: co_mid
        except StopIteration:
            pass


# --- threads starting and ending ------------------------------------------

def short_leaf(n):
    x = 0
    for i in range(n):
        x += i
    return x


def short_worker(n):  # ENTRY
    return short_leaf(n)  # CALLS: short_leaf


def shape_threads(rng):
    while True:
        t = threading.Thread(target=short_worker, args=(rng.randrange(1, 2000),))  # CALLS: *stdlib
        t.start()  # CALLS: *stdlib
        t.join()  # CALLS: *stdlib


SHAPES = {
    "recursion": shape_recursion,
    "generator": shape_generator,
    "exception": shape_exception,
    "ab": shape_ab,
    "exec": shape_exec,
    "coroutine": shape_coroutine,
    "threads": shape_threads,
}


def run_shape(name):  # ENTRY
    SHAPES[name](random.Random(name))  # CALLS: *stdlib, shape_recursion, shape_generator, shape_exception, shape_ab, shape_exec, shape_coroutine, shape_threads


def stop_later(seconds):  # ENTRY
    time.sleep(seconds)  # CALLS: *stdlib
    print("DONE", flush=True)  # CALLS: *stdlib
    import os  # CALLS: *stdlib
    os._exit(0)  # CALLS: *stdlib


def main():
    names = sys.argv[1].split(",")
    unknown = [n for n in names if n not in SHAPES]
    if unknown:
        sys.exit("unknown shape(s) %s; known: %s" % (", ".join(unknown), ", ".join(SHAPES)))
    sys.setrecursionlimit(200)
    if len(sys.argv) > 2:
        threading.Thread(target=stop_later, args=(float(sys.argv[2]),), daemon=True).start()  # CALLS: *stdlib
    for n in names[1:]:
        threading.Thread(target=run_shape, args=(n,), name=n, daemon=True).start()  # CALLS: *stdlib
    print("READY", flush=True)  # CALLS: *stdlib
    run_shape(names[0])  # CALLS: run_shape


main()  # CALLS: main
