"""asyncio tasks with hostile names (controls, an escape sequence, a bidi
override, a byte that is not UTF-8, a long name) for `frametap tasks`:
their names must come out escaped in the tree and exact in JSON. Prints
READY when every task is parked."""
import asyncio

NAMES = ["red\x1b[31m\nnl", "bidi\u202eevil", "byte\udcff", "w\xf6rk \u7ebf", "long-" + "x" * 300]


async def park():
    await asyncio.sleep(1000)


async def main():
    for name in NAMES:
        asyncio.ensure_future(park()).set_name(name)
    await asyncio.sleep(0.1)
    print("READY", flush=True)
    await asyncio.sleep(1000)


asyncio.run(main())
