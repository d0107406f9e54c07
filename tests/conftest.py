"""pytest wiring: interpreters as parameters, and a closing report of which
interpreters were covered. A missing interpreter fails, it is never skipped."""
import os

import pytest

import interpreters
import pyodides

EXPECTED = interpreters.expected()
_covered = {}


def pytest_generate_tests(metafunc):
    if "python" in metafunc.fixturenames:
        metafunc.parametrize("python", [i for i, _, _ in EXPECTED], indirect=True)


@pytest.fixture
def python(request):
    ident = request.param
    for i, path, how in EXPECTED:
        if i == ident:
            if path is None:
                pytest.fail("interpreter %s is not installed here (get it with: %s)" % (i, how))
            _covered.setdefault(i, (path, interpreters.version_of(path)))
            return path
    raise AssertionError(ident)


@pytest.fixture
def minor(python):
    return int(interpreters.version_of(python).split(".")[1])


def pytest_terminal_summary(terminalreporter):
    tr = terminalreporter
    tr.section("interpreters covered")
    for i, path, how in EXPECTED:
        if i in _covered:
            tr.write_line("  %-12s %-8s %s" % (i, _covered[i][1], _covered[i][0]))
        elif path is None:
            tr.write_line("  %-12s MISSING  (get it with: %s)" % (i, how))
        else:
            tr.write_line("  %-12s not used by the tests selected (%s)" % (i, path))
    if any("wasm" in str(x) for x in tr.stats.get("passed", []) + tr.stats.get("failed", [])) \
            or pyodides.covered:
        tr.section("pyodide (CPython in WebAssembly, node) covered")
        for version, minor in pyodides.RELEASES:
            seen = pyodides.covered.get(version)
            tr.write_line("  pyodide %-9s %-8s %s" % (version, seen or "NOT RUN", "" if seen else
                          "(CPython %s expected; no test that ran covered it)" % minor))
