"""The CPython interpreters frametap is tested against, found on this machine.

Every expected interpreter is a test parameter whether or not it is present:
a missing one fails its tests with the reason, never skips silently.
"""
import glob
import os
import subprocess

PYENV_MINORS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]


def pyenv_root():
    try:
        return subprocess.run(["pyenv", "root"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return os.path.expanduser("~/.pyenv")


def _pyenv(minor):
    hits = sorted(glob.glob(os.path.join(pyenv_root(), "versions", minor + ".*", "bin", "python")),
                  key=lambda p: [int(x) for x in p.split("/")[-3].split(".") if x.isdigit()])
    return hits[-1] if hits else None


def expected():
    """(id, path or None, how to get it) for every interpreter tests must cover."""
    out = [("pyenv-" + m, _pyenv(m), "pyenv install " + m) for m in PYENV_MINORS]
    out.append(("debian-3.11", "/usr/bin/python3.11", "apt-get install python3.11"))
    for m in ("3.14", "3.15"):
        out.append(("debian-" + m, "/opt/pythons/bin/python" + m,
                    "../shared/pythons/install.sh /opt/pythons"))
    return [(i, p if p and os.access(p, os.X_OK) else None, how) for i, p, how in out]


def version_of(path):
    code = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
    return subprocess.run([path, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip()


def too_old():
    """pyenv interpreters older than frametap supports (for the refusal test)."""
    return [p for m in ("2.7", "3.6", "3.7") for p in [_pyenv(m)] if p]
