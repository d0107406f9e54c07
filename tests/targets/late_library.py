"""Loads a shared library only when asked (a line on stdin), after a
profiler attached, and parks inside it: sqlite3 calls back into Python from
sqlite3_step, so the thread's stack then holds frames of _sqlite3 and
libsqlite3, which were not mapped when the profiler first listed modules."""
import sys
import time


def in_sql():
    time.sleep(100000)  # MARK: in_sql_sleep
    return 1


def main():
    print("READY", flush=True)
    sys.stdin.readline()
    import sqlite3
    con = sqlite3.connect(":memory:")
    con.create_function("in_sql", 0, in_sql)
    print("LOADED", flush=True)
    con.execute("select in_sql()").fetchall()  # MARK: execute


if __name__ == "__main__":
    main()
