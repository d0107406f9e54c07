"""Names that writers must escape: this file is copied by the tests under a
name with '<script>', '&', quotes and an invalid UTF-8 byte; it also runs code
compiled under a file name holding markup, and a function whose name holds
ESC sequences, a newline, a tab, DEL, a C1 control and a byte that is not
UTF-8, compiled under a file name made of ESC, newline, tab, DEL and every
byte from 1 to 255 (decoded with surrogateescape, as os.fsdecode does).
Busy for SECONDS seconds in three threads; prints READY once they run."""
import os
import sys
import threading
import time

MARKUP_FILE = '<script>document.title="pwned"</script> & "q" \'s\''
SOURCE = "def ünïcödé_λ(end):\n    while __import__('time').time() < end:\n        pass\n"
HOSTILE_NAME = "evil\x1b[31mred\nforged line\t\x7f\x85\udcffend"
HOSTILE_FILE = os.fsdecode(b"hostile\x1b[2J\n\t\x7f" + bytes(range(1, 256)) + b".py")
HOSTILE_SOURCE = "def hostile(end):\n    while time.time() < end:\n        pass\n"
HOSTILE_THREAD = "hx\x1b[7m\n\t"


def spin_in_marked_up_code(end):
    ns = {}
    exec(compile(SOURCE, MARKUP_FILE, "exec"), ns)
    ns["ünïcödé_λ"](end)


def hostile_function():
    """A function whose code object carries HOSTILE_NAME and HOSTILE_FILE."""
    ns = {"time": time}
    exec(compile(HOSTILE_SOURCE, HOSTILE_FILE, "exec"), ns)
    fn = ns["hostile"]
    names = {"co_name": HOSTILE_NAME}
    if sys.version_info >= (3, 11):
        names["co_qualname"] = HOSTILE_NAME
    fn.__code__ = fn.__code__.replace(**names)
    return fn


def busy_main(end):
    x = 0
    while time.time() < end:
        x += 1


if __name__ == "__main__":
    end = time.time() + float(sys.argv[1])
    threads = [threading.Thread(target=spin_in_marked_up_code, args=(end,), name="marked-up"),
               threading.Thread(target=hostile_function(), args=(end,), name=HOSTILE_THREAD)]
    for t in threads:
        t.start()
    print("READY", flush=True)
    busy_main(end)
    for t in threads:
        t.join()
