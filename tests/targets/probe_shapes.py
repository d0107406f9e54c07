"""Target of tests/test_probe.py: functions of every shape, each run a
known number of times; a module imported late; an object whose every
hook (repr, getattr, eq, bool, len, a property) counts and raises if run.
Prints what it computed and how often the hostile object was touched;
exits with status 3. Lines the tests probe carry MARK comments."""
import asyncio
import functools
import sys


class Evil:
    touched = 0

    def __init__(self):
        self.x = 1
        self.data = {"k": "v"}

    def _touch(self, *a):
        Evil.touched += 1
        raise RuntimeError("frametap ran the program's code")

    __repr__ = __str__ = __eq__ = __bool__ = __len__ = _touch
    __hash__ = object.__hash__

    def __getattr__(self, name):
        Evil.touched += 1
        raise AttributeError(name)

    @property
    def prop(self):
        Evil.touched += 1
        return 42


class Account:
    def __init__(self, owner, balance):
        self.owner = owner
        self.balance = balance
        self.password = "hunter2"
        self.meta = {"api_key": "k-123", "region": "eu"}

    def deposit(self, amount):
        self.balance += amount                   # MARK: deposit
        return self.balance


def deco(f):
    @functools.wraps(f)
    def wrapper(*args):
        return f(*args)
    return wrapper


def make_adder(n):
    def add(x):
        return x + n                             # MARK: closure
    return add


@deco
def decorated(x):
    return x * 2                                 # MARK: decorated


square = lambda v: v * v                         # MARK: lambda


def gen(n):
    for i in range(n):
        yield i * 10                             # MARK: gen


async def coro(n):
    total = 0
    for i in range(n):
        await asyncio.sleep(0)
        total += i                               # MARK: coro
    return total


def poke(evil):
    seen = evil                                  # MARK: poke
    return seen is evil


def main():
    acct = Account("ann", 10)
    for amount in range(3):
        acct.deposit(amount)
    adders = [make_adder(k) for k in range(3)]
    sums = [add(1) for add in adders]
    doubled = [decorated(2), decorated(5)]
    squares = [square(v) for v in range(4)]
    tens = list(gen(3))
    total = asyncio.run(coro(4))
    evil = Evil()
    poked = poke(evil)
    import probe_late                            # imported only now
    late = probe_late.late(5)
    print(acct.balance, sums, doubled, squares, tens, total, poked, late)
    print("evil touched", Evil.touched)
    return 3


if __name__ == "__main__":
    sys.exit(main())
