"""Helpers for the `dump --native` and `dump --core` tests: the target with
Python -> C -> Python chains, settled dumps, and the merged stack as a
list of tokens that tests can compare."""
import json
import os
import subprocess
import time

from stacks import TARGETS, Target, marks, run_frametap

CHAINS = os.path.join(TARGETS, "native_chains.py")

# own frames (in native_chains.py) of each thread, innermost first, with
# what connects each frame to the next: "py" (a direct Python call) or
# "c" (through C: sorted, functools.reduce, a ctypes callback from qsort)
THREADS = {
    "sort_caller": [("park", "py"), ("sort_key", "c"), ("sort_caller", "py"), ("run", None)],
    "reduce_caller": [("park", "py"), ("reduce_step", "c"), ("reduce_caller", "py"), ("run", None)],
    "ctypes_caller": [("park", "py"), ("compare", "c"), ("ctypes_caller", "py"), ("run", None)],
    "sleeper": [("sleeper", "py"), ("run", None)],
    "selecter": [("selecter", "py"), ("run", None)],
    "MainThread": [("park", "py"), ("main", "py"), ("<module>", None)],
}
# symbols of the C code crossed at each "c" link, for builds with symbols
C_LINK_SYMBOLS = {
    "sort_key": ("builtin_sorted", "list_sort"),
    "reduce_step": ("functools_reduce",),
    "compare": ("ffi_call",),
}


def own(frames):
    return [(f["qualname"].rsplit(".", 1)[-1] if f["qualname"] != "<module>" else "<module>",
             f["line"]) for f in frames if f["file"] == CHAINS]


def expected_lines():
    m = marks(CHAINS)
    park = m["park_sleep"]
    return {
        "sort_caller": [park, m["sort_key_park"], m["sort_call"], m["run_call"]],
        "reduce_caller": [park, m["reduce_step_park"], m["reduce_call"], m["run_call"]],
        "ctypes_caller": [park, m["compare_park"], m["qsort_call"], m["run_call"]],
        "sleeper": [m["sleeper_sleep"], m["run_call"]],
        "selecter": [m["select_call"], m["run_call"]],
        "MainThread": [park, m["main_park"], None],
    }


def parked(d):
    """True when every thread of the target is at its parking line."""
    lines = expected_lines()
    seen = {}
    for t in d["threads"]:
        name = t["python_name"]
        if name not in THREADS or t["error"]:
            return False
        got = own(t["frames"])
        want = lines[name]
        if [q for q, _ in got] != [q for q, _ in THREADS[name]]:
            return False
        if any(w is not None and g[1] != w for g, w in zip(got, want)):
            return False
        seen[name] = 1
    return len(seen) == len(THREADS)


def settled(binary, pid, *extra, timeout=20):
    """dump --json (with extra options) once every thread is parked."""
    deadline = time.time() + timeout
    while True:
        rc, out, err = run_frametap(binary, "dump", "--json", *extra, pid)
        assert rc == 0, err
        d = json.loads(out)
        if parked(d) or time.time() > deadline:
            assert parked(d), "threads never parked: %s" % [own(t["frames"]) for t in d["threads"]]
            return d, err
        time.sleep(0.2)


def start(python, env=None):
    return Target(python, CHAINS, env=env)


def tokens(t):
    """The merged stack of thread t: ("py", index) or ("c", symbol, module,
    runs_python, plumbing, pc) or ("mark", text)."""
    out = []
    for f in t["native"]["frames"]:
        if f["kind"] == "python":
            out.append(("py", f["frame"]))
        elif f["kind"] == "native":
            out.append(("c", f["symbol"], f["module"], f["runs_python"], f["plumbing"], f["pc"]))
        else:
            out.append(("mark", f["text"]))
    return out


def by_thread(d):
    return {t["native_id"]: t for t in d["threads"]}


def python_frames(d):
    return {t["native_id"]: [(f["qualname"], f["file"], f["line"]) for f in t["frames"]]
            for t in d["threads"]}


def gcore(pid, directory):
    """A core of pid written by gdb's gcore (the process runs on)."""
    base = os.path.join(directory, "gcore")
    r = subprocess.run(["gcore", "-o", base, str(pid)], capture_output=True, text=True,
                       timeout=120)
    path = "%s.%d" % (base, pid)
    assert r.returncode == 0 and os.path.exists(path), r.stderr
    return path


def small_env(**extra):
    """An environment that keeps cores small: one malloc arena (gcore
    writes every arena reservation, 64 MiB each)."""
    env = dict(os.environ, MALLOC_ARENA_MAX="1")
    env.update(extra)
    return env


def interpreter_file(python):
    """The interpreter's ELF file and its prefix (the /opt/pythons
    commands are shell wrappers around the real binary)."""
    code = "import os, sys; print(os.path.realpath(sys.executable)); print(sys.prefix)"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split("\n")
    return out[0], out[1]


def core_of(binary, core, *extra):
    """dump --core --json: (rc, parsed or None, stderr)."""
    rc, out, err = run_frametap(binary, "dump", "--json", "--core", core, *extra)
    return rc, json.loads(out) if rc == 0 else None, err


def native_sequence(d):
    """Per thread: the merged stack as (kind, symbol, python frame, pc)."""
    return {t["native_id"]: [(f["kind"], f.get("symbol"), f.get("frame"), f.get("pc"))
                             for f in t["native"]["frames"]] for t in d["threads"]}
