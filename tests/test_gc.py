"""`<GC>` frames: while the interpreter collects garbage, samples of the
collecting thread carry a `<GC>` frame, in every format (the writers see
an ordinary frame). targets/gc_heavy.py collects only in collect_now(), so
every `<GC>` must sit on collect_now(), with finalizers run by the
collection (Finalized.__del__) above it: on 3.15+ exactly there (the
interpreter publishes the frame the collection began in), before 3.15 on
top of the stack (the collector is the thread holding the GIL). Every
interpreter publishes whether it is collecting."""
import os

import oracle
from stacks import TARGETS, Target, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]


def test_gc_frame(python, minor, tmp_path):
    out = tmp_path / "gc.txt"
    with Target(python, os.path.join(TARGETS, "gc_heavy.py"), "60") as t:
        rc, _, err = run_frametap(FT, "record", "-r", 1000, "-d", 2, "-f", "collapsed", "-o", out,
                                  t.pid)
    assert rc == 0, err
    stacks = oracle.read_collapsed(out)
    total = sum(n for _, n in stacks)
    in_gc = 0
    for frames, n in stacks:
        names = [oracle.short_name(f.name) for f in frames]
        if "<GC>" not in names:
            continue
        in_gc += n
        assert names.count("<GC>") == 1, names
        rest = [n for n in names if n != "<GC>"]
        assert "collect_now" in rest, "<GC> outside a collection: %s" % names
        base = rest.index("collect_now")
        assert set(rest[base + 1:]) <= {"__del__"}, names  # only finalizers above the call
        if minor >= 15:
            assert names.index("<GC>") == base + 1, "<GC> not where the collection began: %s" % names
        else:
            assert names[-1] == "<GC>", "before 3.15 <GC> is the top: %s" % names
    assert total > 500, err
    assert in_gc > total * 0.1, "only %d of %d samples in the collector" % (in_gc, total)


def test_dump_shows_gc(python, minor):
    """`dump` shows the same `<GC>` frame, in text and JSON, in the same
    place: dumps are repeated until one lands in a collection."""
    import json
    with Target(python, os.path.join(TARGETS, "gc_heavy.py"), "60") as t:
        seen = None
        for _ in range(200):
            rc, out, err = run_frametap(FT, "dump", "--json", t.pid)
            assert rc == 0, err
            th = json.loads(out)["threads"][0]
            if th["gc"]:
                seen = th
                break
        assert seen, "200 dumps and none during a collection"
        names = [f["qualname"] for f in reversed(seen["frames"])]  # outermost first
        assert names.count("<GC>") == 1, names
        base = names.index("collect_now")
        if minor >= 15:
            assert names.index("<GC>") == base + 1, names
        else:
            assert names[-1] == "<GC>", names
        for _ in range(200):
            rc, out, err = run_frametap(FT, "dump", t.pid)
            assert rc == 0, err
            if "<GC> (garbage collection)" in out:
                break
        else:
            raise AssertionError("200 text dumps and none showed <GC>")
