"""The C line-table decoders against each interpreter's own co_lines()
(findlinestarts on 3.8/3.9), offset by offset, for real stdlib code."""
import os
import subprocess

from stacks import HERE, ROOT

UNIT = os.path.join(ROOT, "build/asan/unit/test_linetable")


def test_decoders_match_interpreter(python, tmp_path):
    vectors = tmp_path / "vectors.txt"
    subprocess.run([python, os.path.join(HERE, "linetable_vectors.py"), str(vectors)], check=True)
    r = subprocess.run([UNIT, str(vectors)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert " 0 failed" in r.stdout
    offsets = int(r.stdout.split(" code objects, ")[1].split()[0])
    assert offsets > 10000, r.stdout
