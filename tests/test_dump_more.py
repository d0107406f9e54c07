"""More `frametap dump` cases: subinterpreters, interpreters embedded under
another executable name."""
import os
import shutil

from stacks import TARGETS, Target, dump_json, frametap_binaries

FT = frametap_binaries()["asan"]


def test_subinterpreter_threads(python):
    with Target(python, os.path.join(TARGETS, "subinterp.py")) as t:
        d = dump_json(FT, t.pid)
    subs = [th for th in d["threads"] if th["interpreter"] != 0]
    assert len(subs) == 1, d
    frames = [(f["name"], f["file"], f["line"]) for f in subs[0]["frames"]]
    name = frames[0][1]  # what run_string compiles as: <string>, or <script> on 3.14+
    assert name in ("<string>", "<script>")
    assert frames == [("in_sub", name, 3), ("<module>", name, 4)]
    mains = [th for th in d["threads"] if th["interpreter"] == 0]
    assert any(th["native_id"] == subs[0]["native_id"] for th in mains), \
        "the OS thread running the subinterpreter also has a main-interpreter thread state"


def test_renamed_static_interpreters(tmp_path):
    """A static CPython under another name (as embedders ship it): found via
    /proc/PID/exe, versioned by _Py_DebugOffsets (3.15) or Py_Version (3.11)."""
    cases = [("/usr/bin/python3.11", None, "3.11.2")]
    if os.path.exists("/opt/pythons/root/usr/bin/python3.15"):
        cases.append(("/opt/pythons/root/usr/bin/python3.15", "/opt/pythons/root/usr", "3.15.2"))
    assert len(cases) == 2, "needs /opt/pythons (../shared/pythons/install.sh /opt/pythons)"
    for exe, home, version in cases:
        copy = tmp_path / "myservice"
        shutil.copy(exe, copy)
        env = dict(os.environ, **({"PYTHONHOME": home} if home else {}))
        with Target(str(copy), os.path.join(TARGETS, "idle.py"), env=env) as t:
            d = dump_json(FT, t.pid)
        assert d["binary"] == str(copy) and d["python"] == version
        assert len(d["build_id"]) == 40
        assert d["threads"][0]["frames"][0]["file"].endswith("idle.py")
