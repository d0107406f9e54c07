"""The object offsets in src/cpython/layouts_generated.h, checked with ctypes
inside every interpreter against live objects. This is what vouches for the
fields tools/layout_probe.c derives from local mirrors of structs that no
installed header has (3.8-3.10 dict keys, 3.8-3.9 modules)."""
import json
import os
import re
import subprocess

from stacks import ROOT, TARGETS

import interpreters

GENERATED = os.path.join(ROOT, "src", "cpython", "layouts_generated.h")


def generated_rows():
    """minor -> {"off": {...}, "consts": {...}} (FT_ABSENT as None)."""
    text = open(GENERATED, encoding="utf-8").read()
    rows = {}
    for chunk in text.split(".major = 3, ")[1:]:
        minor = int(re.match(r"\.minor = (\d+)", chunk).group(1))
        if re.match(r"[^\n]*\.ptr_size = 4", chunk):
            continue  # the wasm32 rows (tests/test_wasm.py checks those)
        sections = {}
        for name in ("off", "consts"):
            body = re.search(r"\.%s = \{(.*?)\}" % name, chunk, re.S).group(1)
            sections[name] = {f: None if v == "FT_ABSENT" else int(v.rstrip("ul"))
                              for f, v in re.findall(r"\.(\w+) = (\w+),", body)}
        rows[minor] = sections
    return rows


def test_object_offsets_match_the_interpreter(python):
    minor = int(interpreters.version_of(python).split(".")[1])
    row = generated_rows()[minor]
    r = subprocess.run([python, os.path.join(TARGETS, "check_object_layouts.py"), json.dumps(row)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "OK", r.stderr
