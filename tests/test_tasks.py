"""`frametap tasks` reports every asyncio task of tests/targets/asyncio_tree.py
with its name, its coroutine stack and who awaits it, on every interpreter:
exactly the known structure (3.8-3.13: the edges asyncio does not record are
inferred from await, gather and TaskGroup), and on 3.14/3.15 the same tree
that `python -m asyncio pstree` draws for the same process."""
import json
import os
import re
import subprocess

import pytest

import escaping
from stacks import TARGETS, Target, frametap_binaries, marks, run_frametap

FT = frametap_binaries()["asan"]
SCRIPT = os.path.join(TARGETS, "asyncio_tree.py")
IDLE = os.path.join(TARGETS, "idle.py")
NAMES = os.path.join(TARGETS, "asyncio_names.py")
M = marks(SCRIPT)

# awaiter -> tasks it awaits, and each task's own frames (innermost first)
EDGES = {"main": {"gatherer", "direct"}, "gatherer": {"alpha", "beta"}, "direct": {"leaf"},
         "thread-main": {"thread-leaf"}}
GROUP_EDGES = {"main": {"group"}, "group": {"g1", "g2"}}
WORKER = [("inner_wait", M["inner_wait"]), ("worker", M["worker"])]
STACKS = {"main": [("main", M["main"])], "gatherer": [("gatherer", M["gatherer"])],
          "direct": [("direct", M["direct"])], "alpha": WORKER, "beta": WORKER,
          "leaf": [("leaf_sleep", M["leaf_sleep"])], "thread-main": [("other_loop", M["other_loop"])],
          "thread-leaf": [("leaf_sleep", M["leaf_sleep"])], "group": [("group", None)], "g1": WORKER,
          "g2": WORKER}


def expected(minor):
    edges = {k: set(v) for k, v in EDGES.items()}
    if minor >= 11:
        for k, v in GROUP_EDGES.items():
            edges.setdefault(k, set()).update(v)
    return edges


@pytest.fixture
def tree(python):
    with Target(python, SCRIPT) as t:
        yield t


def tasks_json(pid, *extra):
    rc, out, err = run_frametap(FT, "tasks", "--json", *extra, pid)
    assert rc == 0, err
    return json.loads(out)


def own_stack(task):
    return [(f["name"], f["line"]) for f in task["coroutine_stack"] if f["file"] == SCRIPT]


def check_structure(d, minor):
    by_name = {t["name"]: t for t in d["tasks"]}
    unnamed = [n for n in by_name if re.fullmatch(r"Task-\d+", n)]
    assert len(unnamed) == 1, sorted(by_name)
    want = expected(minor)
    names = set(STACKS) - (set() if minor >= 11 else {"group", "g1", "g2"})
    assert set(by_name) == names | set(unnamed)
    got_edges = {}
    for t in d["tasks"]:
        assert t["error"] is None, t
        for a in t["awaited_by"]:
            got_edges.setdefault(a["name"], set()).add(t["name"])
    assert got_edges == want
    for name, stack in STACKS.items():
        if name in by_name:
            got = own_stack(by_name[name])
            assert [n for n, _ in got] == [n for n, _ in stack], (name, got)
            assert all(line is None or g == line for (_, g), (_, line) in zip(got, stack)), (name, got)
    assert own_stack(by_name[unnamed[0]]) == [("leaf_sleep", M["leaf_sleep"])]
    return by_name


def test_tasks_json_structure(tree, minor):
    d = tasks_json(tree.pid)
    assert d["asyncio_imported"] is True and d["paused"] is True
    assert d["edges_inferred"] is (minor < 14)
    by_name = check_structure(d, minor)
    vias = {a["via"] for t in d["tasks"] for a in t["awaited_by"]}
    assert by_name["main"]["thread"] == tree.pid  # the main thread's OS id is the pid
    assert by_name["thread-main"]["thread"] not in (None, tree.pid)
    assert by_name["thread-leaf"]["thread"] == by_name["thread-main"]["thread"]
    if minor >= 14:
        assert vias == {"awaited_by"}
    else:
        assert vias == ({"await", "gather", "taskgroup"} if minor >= 11 else {"await", "gather"})


def test_tasks_nonblocking(tree, minor):
    d = tasks_json(tree.pid, "--nonblocking")
    assert d["paused"] is False
    check_structure(d, minor)  # every task is parked: nothing moves


def parse_tree(text):
    """Tree lines ('└── label', '├── label' under '│   '/'    ') as nested
    (label, children sorted) tuples, one per root."""
    roots, stack = [], []
    for line in text.splitlines():
        m = re.match(r"^((?:│   |    )*)[└├]── (.*)$", line)
        if not m:
            continue
        depth = len(m.group(1)) // 4
        node = (m.group(2), [])
        del stack[depth:]
        (stack[-1][1] if stack else roots).append(node)
        stack.append(node)

    def norm(n):
        return (n[0], tuple(sorted(norm(k) for k in n[1])))
    return sorted(norm(r) for r in roots)


def test_tasks_text_tree(tree, minor):
    rc, text, err = run_frametap(FT, "tasks", tree.pid)
    assert rc == 0, err
    roots = {r[0]: r for r in parse_tree(text)}
    assert {"(T) main", "(T) thread-main"} <= set(roots)

    # every edge of the structure appears as a task under its awaiter's frames
    def awaited(node, owner, out):
        for kid in node[1]:
            if kid[0].startswith("(T) "):
                name = kid[0][4:]
                if owner is not None:
                    out.setdefault(owner, set()).add(name)
                awaited(kid, name, out)
            else:
                awaited(kid, owner, out)
        return out

    got = {}
    for r in roots.values():
        awaited((None, [r]), None, got)
    assert got == expected(minor)


@pytest.mark.parametrize("version", ["3.14", "3.15"])
def test_tasks_matches_pstree(version, tmp_path):
    python = "/opt/pythons/bin/python" + version
    assert os.access(python, os.X_OK), "%s is not installed (../shared/pythons/install.sh /opt/pythons)" % python
    with Target(python, SCRIPT) as t:
        rc, text, err = run_frametap(FT, "tasks", t.pid)
        assert rc == 0, err
        ps = subprocess.run([python, "-m", "asyncio", "pstree", str(t.pid)], capture_output=True, text=True,
                            timeout=60)
        assert ps.returncode == 0, ps.stderr
        d = tasks_json(t.pid)
    ours = {r[0]: r for r in parse_tree(text)}
    theirs = {r[0]: r for r in parse_tree(ps.stdout)}
    assert theirs and set(theirs) <= set(ours), (sorted(theirs), sorted(ours))
    for label, node in theirs.items():
        assert ours[label] == node, label
    # 3.14's pstree reads the main thread's tasks only (CPython gh-149230):
    # what it leaves out must be the other thread's
    by_name = {x["name"]: x for x in d["tasks"]}
    main_thread = by_name["main"]["thread"]
    for label in set(ours) - set(theirs):
        assert by_name[label[4:]]["thread"] != main_thread, label


def test_tasks_without_asyncio(python):
    with Target(python, IDLE) as t:
        rc, text, err = run_frametap(FT, "tasks", t.pid)
        assert rc == 0 and "asyncio is not imported: no tasks" in text, (rc, text, err)
        d = tasks_json(t.pid)
        assert d["asyncio_imported"] is False and d["tasks"] == []


def test_tasks_usage():
    rc, out, err = run_frametap(FT, "tasks")
    assert rc == 2 and "exactly one process" in err
    rc, out, err = run_frametap(FT, "tasks", "--help")
    assert rc == 0 and "pstree" in out


def test_tasks_hostile_names(python):
    hostile = ["red\x1b[31m\nnl", "bidi\u202eevil", "byte\udcff", "w\xf6rk \u7ebf", "long-" + "x" * 250]
    with Target(python, NAMES) as t:
        rc, text, err = run_frametap(FT, "tasks", t.pid)
        assert rc == 0, err
        d = tasks_json(t.pid)
    escaping.assert_clean_text(text.encode("utf-8", "surrogateescape"), "tasks text")
    names = {x["name"] for x in d["tasks"]}
    for name in hostile:  # names are kept to 255 bytes
        assert escaping.json_value(name) in names, (name, names)
        assert "(T) " + escaping.text(name) + "\n" in text, name
