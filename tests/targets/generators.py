"""Generator-heavy work in two threads (as `sum(x for x in ...)` code is):
generator frames lose their caller link at every yield, so a racing reader
that does not notice would record stacks cut short. Runs SECONDS seconds."""
import sys
import threading
import time


def squares(n):
    for i in range(n):
        yield i * i


def crunch(end):
    while time.time() < end:
        sum(squares(20000))
        sum(x for x in range(20000))


end = time.time() + float(sys.argv[1])
t = threading.Thread(target=crunch, args=(end,))
t.start()
crunch(end)
t.join()
