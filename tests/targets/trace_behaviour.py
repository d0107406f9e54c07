"""Exit paths for tests/test_trace.py: output on both streams, argv, exit
status, an uncaught exception, os._exit, fork, os.execv (alone and after a
fork), __file__ and sys.orig_argv. The mode is argv[1]."""
import os
import sys


def last_words():
    return "bye"


def in_child():
    return 7


def in_parent():
    return 8


def boom():
    raise RuntimeError("uncaught, on purpose")


def main(mode, args):
    print("stdout:", mode, args, sys.argv[0].endswith("trace_behaviour.py"))
    print("stderr:", mode, file=sys.stderr)
    if mode == "exit":
        sys.exit(int(args[0]))
    if mode == "raise":
        boom()
    if mode == "paths":
        import traceback
        print(__file__, getattr(sys, "orig_argv", None))
        try:
            boom()
        except RuntimeError:
            print(traceback.format_exc().splitlines()[1])
    if mode == "exec":
        sys.stdout.flush()
        in_parent()
        os.execv(sys.executable, [sys.executable, __file__, "after_exec"])
    if mode == "fork_exec":
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            in_child()
            os.execv(sys.executable, [sys.executable, __file__, "after_exec"])
        _, status = os.waitpid(pid, 0)
        print("child status", status)
    if mode == "after_exec":
        last_words()
    if mode == "os_exit":
        last_words()
        sys.stdout.flush()
        os._exit(5)
    if mode == "fork":
        sys.stdout.flush()
        pid = os.fork()
        if pid == 0:
            in_child()
            os._exit(0)
        in_parent()
        _, status = os.waitpid(pid, 0)
        print("child status", status)


main(sys.argv[1], sys.argv[2:])
