"""Real consumers of frametap's outputs, driven from the tests: headless
Chromium (SVG rendering, the speedscope app), ajv with speedscope's own
schema, and `go tool pprof`. Each helper returns what the consumer said."""
import contextlib
import functools
import http.server
import os
import shutil
import subprocess
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_DIR = os.path.join(HERE, "consumers")
SPEEDSCOPE = os.path.join(NODE_DIR, "node_modules", "speedscope", "dist", "release")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def chromium():
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("chromium is not installed (make test-deps installs it)")


def chromium_dom(url, budget_ms=8000):
    with tempfile.TemporaryDirectory() as profile_dir:
        r = subprocess.run([chromium(), *CHROMIUM_FLAGS, "--user-data-dir=" + profile_dir,
                            "--virtual-time-budget=%d" % budget_ms, "--dump-dom", url],
                           capture_output=True, timeout=120)
    return r.stdout.decode("utf-8", "replace")


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(directory):
    """An HTTP server on loopback for directory; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def speedscope_open(path):
    """Loads a profile file into the speedscope app; returns the DOM text."""
    assert os.path.isdir(SPEEDSCOPE), "speedscope is not installed (make test-deps)"
    with tempfile.TemporaryDirectory() as site:
        shutil.copytree(SPEEDSCOPE, os.path.join(site, "app"))
        name = os.path.basename(path)
        shutil.copy(path, os.path.join(site, "app", name))
        with serve(site) as base:
            return chromium_dom("%s/app/index.html#profileURL=%s/app/%s" % (base, base, name))


def speedscope_validate(*paths):
    r = subprocess.run(["node", os.path.join(NODE_DIR, "validate_speedscope.js"), *paths],
                       capture_output=True, text=True, cwd=NODE_DIR)
    return r.returncode, r.stdout + r.stderr


def pprof(*args):
    env = dict(os.environ, HOME=os.environ.get("HOME", "/tmp"), GOFLAGS="-mod=mod")
    r = subprocess.run(["go", "tool", "pprof", *args], capture_output=True, text=True, env=env,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr
