"""Names that writers must escape: this file is copied by the tests under a
name with '<script>', '&', quotes and an invalid UTF-8 byte; it also runs code
compiled under a file name holding markup. Busy for SECONDS seconds in two
threads."""
import sys
import threading
import time

MARKUP_FILE = '<script>document.title="pwned"</script> & "q" \'s\''
SOURCE = "def ünïcödé_λ(end):\n    while __import__('time').time() < end:\n        pass\n"


def spin_in_marked_up_code(end):
    ns = {}
    exec(compile(SOURCE, MARKUP_FILE, "exec"), ns)
    ns["ünïcödé_λ"](end)


def busy_main(end):
    x = 0
    while time.time() < end:
        x += 1


end = time.time() + float(sys.argv[1])
t = threading.Thread(target=spin_in_marked_up_code, args=(end,), name="marked-up")
t.start()
busy_main(end)
t.join()
