"""`frametap record` on every interpreter: accuracy of the sampled shares,
and every output format opened by its real consumer."""
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from consumers import chromium_dom, pprof, speedscope_open, speedscope_validate
from stacks import TARGETS, Target, frametap_binaries, run_frametap

FT = frametap_binaries()["asan"]
FT_RELEASE = frametap_binaries()["release"]


def collapsed(path):
    out = []
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            m = re.match(r"^(.*) (\d+)$", line.rstrip("\n"))
            assert m, "not a collapsed line: %r" % line
            out.append((m.group(1).split(";"), int(m.group(2))))
    return out


def test_accuracy_of_shares(python, tmp_path):
    """Three functions get 50/30/20 of the loop iterations. The sampled self
    shares must be within 2 points of the time each function really took in
    the same run (the target measures it; see targets/proportions.py)."""
    out = tmp_path / "p.txt"
    rc, stdout, err = run_frametap(FT_RELEASE, "record", "-r", "2000", "-o", out, "--",
                                   python, os.path.join(TARGETS, "proportions.py"), "4")
    assert rc == 0, err
    truth = dict((k, float(v)) for k, v in re.findall(r"(\w+)=([\d.]+)", stdout.split("SHARES")[1]))
    counts = {"half": 0, "third": 0, "fifth": 0}
    for frames, n in collapsed(out):
        names = {f.split(" (")[0] for f in frames}
        for k in counts:
            if k in names:
                counts[k] += n
    total = sum(counts.values())
    assert total > 4000, (counts, err)
    shares = {k: v / total for k, v in counts.items()}
    for k in counts:
        assert abs(shares[k] - truth[k]) <= 0.02, (shares, truth, err)
    for k, planned in (("half", 0.5), ("third", 0.3), ("fifth", 0.2)):
        assert abs(truth[k] - planned) <= 0.08, ("the target itself is far off its plan", truth)


WAKES = """
import threading, time
def idle_then_busy():
    time.sleep(0.6)  # SLEEP
    t = time.time()
    while time.time() - t < 1.4:
        pass
def dozer():
    time.sleep(60)
threading.Thread(target=dozer, daemon=True).start()
idle_then_busy()
"""


@pytest.mark.parametrize("state_file", ["wchan", "stat"])
def test_cpu_mode_follows_a_thread_that_wakes(python, tmp_path, monkeypatch, state_file):
    """--mode cpu samples a thread only while it is on a CPU. A thread seen
    idle is looked at again once it has been put on a CPU since (its count
    of runs moved): one that sleeps, then spins, is sampled for its spin
    and not for its sleep; one that sleeps throughout, never. Both ways of
    reading the state are tried (wchan, and stat where wchan is not filled
    in)."""
    if state_file == "stat":
        monkeypatch.setenv("FRAMETAP_NO_WCHAN", "1")
    out = tmp_path / "c.txt"
    rc, _, err = run_frametap(FT_RELEASE, "record", "-r", "500", "-f", "collapsed", "-o", out, "--",
                              python, "-c", WAKES)
    assert rc == 0, err
    sleep_line = WAKES.split("\n").index("    time.sleep(0.6)  # SLEEP") + 1
    spin = asleep = dozer = 0
    for frames, n in collapsed(out):
        top = frames[-1]
        if top.startswith("idle_then_busy ") and top.endswith(":%d)" % sleep_line):
            asleep += n
        elif top.startswith("idle_then_busy "):
            spin += n
        if any(f.startswith("dozer ") for f in frames):
            dozer += n
    assert spin >= 350, (spin, asleep, dozer, err)  # 1.4 s at 500/s: 700
    assert asleep <= 5 and dozer <= 5, (spin, asleep, dozer, err)


def nasty_copy(tmp_path):
    """nasty_names.py under a file name with markup, quotes and a byte that is
    not UTF-8."""
    name = os.fsdecode(b"n\xffasty <script>&\"'.py")
    path = os.path.join(str(tmp_path), name)
    shutil.copy(os.path.join(TARGETS, "nasty_names.py"), path)
    return path


def check_svg(path):
    dom = chromium_dom("file://" + path, budget_ms=3000)
    assert "<svg" in dom and "parsererror" not in dom, dom[:2000]
    assert "busy_main (" in dom and "ünïcödé_λ (" in dom
    assert "&lt;script&gt;document.title" in dom      # markup stayed text
    assert "n\\xffasty" in dom                        # invalid UTF-8 escaped, as in text
    assert re.search(r'<text x="[0-9.]+" y="[0-9.]+">busy_main', dom), "script did not lay out"


def check_speedscope(path):
    rc, out = speedscope_validate(path)
    assert rc == 0, out
    dom = speedscope_open(path)
    assert "Time Order" in dom and "thread " in dom, dom[-3000:]


def check_collapsed(path):
    lines = collapsed(path)
    assert any("busy_main (" in f[-1] for f, _ in lines)
    dom = speedscope_open(path)
    assert "Time Order" in dom, dom[-3000:]


def check_pprof(path):
    rc, out = pprof("-top", "-nodecount=100", path)
    assert rc == 0, out
    assert "busy_main" in out and "ünïcödé_λ" in out, out
    rc, out = pprof("-traces", path)
    assert rc == 0 and "thread:" in out, out


def check_chrome(path):
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    names = [e for e in events if e["ph"] == "M" and e["name"] == "thread_name"]
    assert len(names) >= 2
    open_by_tid, last_ts = {}, {}
    for e in events:
        if e["ph"] not in "BE":
            continue
        tid = e["tid"]
        assert e["ts"] >= last_ts.get(tid, 0)
        last_ts[tid] = e["ts"]
        stack = open_by_tid.setdefault(tid, [])
        if e["ph"] == "B":
            stack.append(e["name"])
        else:
            assert stack and stack.pop() == e["name"], "unbalanced E for %s" % e["name"]
    assert all(not s for s in open_by_tid.values()), "frames left open"
    assert any(e.get("name") == "busy_main" for e in events)
    dom = speedscope_open(path)
    assert "Time Order" in dom, dom[-3000:]


def test_formats_open_in_real_consumers(python, tmp_path):
    base = str(tmp_path / "out")
    outputs = [base + ext for ext in (".svg", ".speedscope.json", ".txt", ".pb.gz", ".trace.json")]
    args = []
    for o in outputs:
        args += ["-o", o]
    rc, _, err = run_frametap(FT, "record", "-r", "500", "--threads", "--mode", "wall", *args,
                              "--", python, nasty_copy(tmp_path), "1.5")
    assert rc == 0, err
    for o in outputs:
        assert "wrote %s" % o in err
    check_svg(outputs[0])
    check_speedscope(outputs[1])
    check_collapsed(outputs[2])
    check_pprof(outputs[3])
    check_chrome(outputs[4])


def thread_counts(path):
    per_thread = {}
    for frames, n in collapsed(path):
        per_thread[frames[0]] = per_thread.get(frames[0], 0) + n
    return per_thread


def test_modes_choose_threads(python, tmp_path):
    """cpu and gil sample only the spinning thread; wall samples both."""
    with Target(python, os.path.join(TARGETS, "spinner.py")) as t:
        got = {}
        for mode in ("cpu", "gil", "wall"):
            out = tmp_path / ("%s.txt" % mode)
            rc, _, err = run_frametap(FT, "record", "-r", "200", "-d", "1", "--threads",
                                      "--mode", mode, "-o", out, t.pid)
            assert rc == 0, err
            got[mode] = thread_counts(out)
    assert len(got["wall"]) == 2, got
    for mode in ("cpu", "gil"):
        assert len(got[mode]) == 1, (mode, got)
        assert sum(got[mode].values()) > 100


def test_ctrl_c_writes_the_profile(tmp_path):
    out = tmp_path / "p.speedscope.json"
    with Target("/usr/bin/python3.11", os.path.join(TARGETS, "spinner.py")) as t:
        p = subprocess.Popen([FT, "record", "-o", str(out), str(t.pid)], stderr=subprocess.PIPE,
                             text=True)
        time.sleep(1.0)
        p.send_signal(signal.SIGINT)
        err = p.communicate(timeout=30)[1]
    assert p.returncode == 0, err
    assert "wrote %s" % out in err
    assert speedscope_validate(str(out))[0] == 0


def test_record_bad_arguments():
    for args, words in ((["-r", "0", "1"], "--rate takes"), (["--mode", "x", "1"], "--mode takes"),
                        (["-f", "png", "1"], "--format takes"), ([], "takes a PID")):
        rc, _, err = run_frametap(FT, "record", *args)
        assert rc == 2 and words in err, err


def test_record_command_that_is_not_python(tmp_path):
    rc, _, err = run_frametap(FT, "record", "-o", tmp_path / "x.svg", "--", "true")
    assert rc != 0 and "exited before" in err, err


def test_stacks_are_whole_under_generators(python, tmp_path):
    """Every recorded stack reaches the thread's first frame: a generator
    caught between yields is re-read or counted as an error, never recorded
    as a stack that starts at the generator."""
    out = tmp_path / "g.txt"
    rc, _, err = run_frametap(FT, "record", "-r", "1000", "--threads", "-o", out, "--",
                              python, os.path.join(TARGETS, "generators.py"), "1.5")
    assert rc == 0, err
    generators = {"squares", "<genexpr>", "crunch.<locals>.<genexpr>"}
    total = 0
    for frames, n in collapsed(out):
        total += n
        if len(frames) > 1:   # frames[0] is the thread root
            assert frames[1].split(" (")[0] not in generators, (frames, n)
    assert total > 500, err


def test_subprocesses_are_followed(python, tmp_path):
    """multiprocessing workers (spawned: they exec a fresh interpreter) are
    found and sampled into the same profile, one thread root per process."""
    out = tmp_path / "w.txt"
    rc, _, err = run_frametap(FT, "record", "-r", "200", "--subprocesses", "--threads", "-o", out,
                              "--", python, os.path.join(TARGETS, "workers.py"), "1.5", "spawn")
    assert rc == 0, err
    workers = {}
    for frames, n in collapsed(out):
        if any(f.startswith("worker_burn (") for f in frames):
            workers[frames[0]] = workers.get(frames[0], 0) + n
    assert len(workers) == 2 and all("[pid " in k for k in workers), (workers, err)
    assert min(workers.values()) > 50, workers


def test_blocking_mode_pauses_and_resumes(tmp_path):
    """--blocking stops the target around each sample and lets it run on:
    the target keeps making progress and the profile is written."""
    out = tmp_path / "b.txt"
    with Target("/opt/pythons/bin/python3.15", os.path.join(TARGETS, "spinner.py")) as t:
        before = open("/proc/%d/stat" % t.pid).read().split(")")[1].split()[11]
        rc, _, err = run_frametap(FT, "record", "--blocking", "-r", "100", "-d", "1", "-o", out, t.pid)
        after = open("/proc/%d/stat" % t.pid).read().split(")")[1].split()[11]
        state = open("/proc/%d/stat" % t.pid).read().split(")")[1].split()[0]
    assert rc == 0, err
    assert int(after) > int(before)          # user time grew: it kept running
    assert state in "RS"                      # and is not left stopped
    assert sum(n for _, n in collapsed(out)) > 50
