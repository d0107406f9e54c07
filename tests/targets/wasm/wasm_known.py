# Known stacks for frametap's wasm tests, run by run_pyodide.js: nested
# calls, a class method, a generator and non-ASCII names, parked in a JS
# call (Atomics.wait) that never returns. Lines are found by their MARKs.
import js


def leaf_wait():
    js.block_forever()  # MARK: leaf


class Outer:
    def method(self):
        return leaf_wait()  # MARK: method


def gen():
    yield Outer().method()  # MARK: gen


def ünïcode_fünc():
    return next(gen())  # MARK: unicode


def main():
    print("READY", flush=True)
    ünïcode_fünc()  # MARK: main
