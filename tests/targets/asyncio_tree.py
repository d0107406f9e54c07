"""asyncio tasks whose tree `frametap tasks` must report: a main task that
gathers three tasks; one gathers two named workers whose coroutines await
through a nested coroutine; one awaits a task directly; one (3.11+) runs two
workers in a TaskGroup; an unnamed task nothing awaits; and a second thread
with its own event loop and task. Every task is parked (waiting on an Event
or a sleep) when READY is printed.

Usage: asyncio_tree.py (no arguments). The structure is in
tests/test_tasks.py; this file only builds it.
"""
import asyncio
import sys
import threading

HAS_TASKGROUP = sys.version_info >= (3, 11)
never = None  # the event nothing sets, made in the loop


async def leaf_sleep():
    await asyncio.sleep(1000)  # MARK: leaf_sleep


async def inner_wait(ev):
    await ev.wait()  # MARK: inner_wait


async def worker(ev):
    await inner_wait(ev)  # MARK: worker


async def gatherer(ev):
    alpha = asyncio.ensure_future(worker(ev))
    beta = asyncio.ensure_future(worker(ev))
    alpha.set_name("alpha")
    beta.set_name("beta")
    await asyncio.gather(alpha, beta)  # MARK: gatherer


async def direct():
    t = asyncio.ensure_future(leaf_sleep())
    t.set_name("leaf")
    await t  # MARK: direct


async def group(ev):
    async with asyncio.TaskGroup() as tg:
        tg.create_task(worker(ev), name="g1")
        tg.create_task(worker(ev), name="g2")


async def other_loop(ready):
    asyncio.current_task().set_name("thread-main")
    t = asyncio.ensure_future(leaf_sleep())
    t.set_name("thread-leaf")
    await asyncio.sleep(0.05)
    ready.set()
    await t  # MARK: other_loop


async def main(ready):
    asyncio.current_task().set_name("main")
    ev = asyncio.Event()
    tasks = [asyncio.ensure_future(gatherer(ev)), asyncio.ensure_future(direct())]
    if HAS_TASKGROUP:
        tasks.append(asyncio.ensure_future(group(ev)))
    for t, name in zip(tasks, ("gatherer", "direct", "group")):
        t.set_name(name)
    asyncio.ensure_future(leaf_sleep())  # unnamed: Task-N, nothing awaits it
    await asyncio.sleep(0.2)
    ready.wait()
    print("READY", flush=True)
    await asyncio.gather(*tasks)  # MARK: main


thread_ready = threading.Event()
threading.Thread(target=lambda: asyncio.run(other_loop(thread_ready)), name="loop2", daemon=True).start()
asyncio.run(main(thread_ready))
