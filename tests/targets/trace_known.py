"""A program whose trace is known: tests/test_trace.py checks the events of
this file, in order, on every interpreter. Changing a line here changes
what the tests expect."""
import asyncio
import gc
import sys
import threading


def add(a, b):
    return a + b


def squares(n):
    for i in range(n):
        yield i * i


def fail():
    raise ValueError("expected")


def catch():
    try:
        fail()
    except ValueError:
        return "caught"


async def child(x):
    await asyncio.sleep(0)
    return x + 1


async def parent():
    return await child(1)


def worker():
    add(10, 20)


def main():
    add(1, 2)
    total = sum(squares(2))
    catch()
    asyncio.run(parent())
    t = threading.Thread(target=worker, name="trace-worker")
    t.start()
    t.join()
    import colorsys  # noqa: F401  (an import nothing else makes)
    gc.collect()
    print("done", total)
    sys.stdout.flush()


main()
