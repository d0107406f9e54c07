"""The pyodide releases (CPython compiled to WebAssembly, run in node) that
frametap's wasm tests cover: one per CPython minor, installed from npm into
build/pyodide/VERSION by the tests themselves (cached there). A release that
cannot be installed fails its tests; it is never skipped."""
import os
import shutil
import subprocess

from stacks import ROOT

# npm version -> the CPython it carries (pyodide-lock.json says the same)
RELEASES = [("0.25.1", "3.11"), ("0.26.4", "3.12"), ("0.27.7", "3.12"), ("0.28.3", "3.13"),
            ("0.29.5", "3.13"), ("314.0.8", "3.14")]
PRERELEASE = "315.0.0-alpha.2"   # 3.15.0rc1: must be refused, not read
CACHE = os.path.join(ROOT, "build", "pyodide")
covered = {}                    # npm version -> CPython version seen in a dump


def install(version):
    """The pyodide package folder for an npm version, installed if missing.
    Raises RuntimeError saying why when it cannot be installed."""
    prefix = os.path.join(CACHE, version)
    pkg = os.path.join(prefix, "node_modules", "pyodide")
    if os.path.exists(os.path.join(pkg, "pyodide.asm.wasm")):
        return pkg
    if not shutil.which("npm") or not shutil.which("node"):
        raise RuntimeError("node and npm are needed for the wasm tests (apt-get install nodejs npm)")
    os.makedirs(prefix, exist_ok=True)
    r = subprocess.run(["npm", "install", "--prefix", prefix, "--no-audit", "--no-fund",
                        "--no-save", "pyodide@" + version], capture_output=True, text=True,
                       timeout=600)
    if r.returncode or not os.path.exists(os.path.join(pkg, "pyodide.asm.wasm")):
        raise RuntimeError("npm install pyodide@%s failed: %s" % (version, r.stderr[-2000:]))
    return pkg


def node():
    return shutil.which("node") or "node"
