"""Target of tests/test_probe.py: a probe on every line of every function
of a dozen standard library modules (3.8-3.11: every function's code
rewritten by frametap._rewrite; 3.12+: sys.monitoring on every code
object), a workload run before, during and after, and its results
compared. argv: PKG. Prints 'same N' (N hits) or what differed."""
import sys
import types

sys.path.insert(0, sys.argv[1])
from frametap import _probe  # noqa: E402
from frametap._where import MON, body_lines, nested  # noqa: E402

import argparse, base64, configparser, csv, dataclasses, difflib, email.parser  # noqa
import email.generator, fractions, heapq, html.parser, io, ipaddress, json  # noqa
import shlex, statistics, string, textwrap, urllib.parse  # noqa

MODULES = [argparse, base64, configparser, csv, dataclasses, difflib, email.parser,
           email.generator, fractions, heapq, html.parser, ipaddress, json, json.decoder,
           json.encoder, shlex, statistics, string, textwrap, urllib.parse]


def workload():
    out = []
    p = argparse.ArgumentParser(prog="x")
    p.add_argument("--n", type=int, default=3)
    p.add_argument("words", nargs="*")
    out.append(vars(p.parse_args(["--n", "5", "a", "b"])))
    out.append(base64.b64encode(b"frametap" * 3))
    cp = configparser.ConfigParser()
    cp.read_string("[s]\na = 1\nb = two\n")
    out.append(dict(cp["s"]))
    buf = io.StringIO()
    csv.writer(buf).writerows([[1, "a,b"], [2, 'q"uote']])
    out.append(list(csv.reader(io.StringIO(buf.getvalue()))))

    @dataclasses.dataclass(order=True)
    class P:
        x: int
        y: str = "y"
    out.append(sorted([P(3), P(1, "z")]))
    out.append(list(difflib.unified_diff(["a\n", "b\n", "c\n"], ["a\n", "c\n", "d\n"])))
    msg = email.parser.Parser().parsestr("From: a@b\nSubject: hi\n\nbody\n")
    g = io.StringIO()
    email.generator.Generator(g).flatten(msg)
    out.append(g.getvalue())
    out.append(fractions.Fraction(3, 4) + fractions.Fraction(5, 6))
    out.append(heapq.nsmallest(3, [5, 1, 4, 2, 3]))

    class H(html.parser.HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags = []

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, attrs))
    h = H()
    h.feed("<p class='a'>x<b>y</b></p>")
    out.append(h.tags)
    out.append(list(ipaddress.ip_network("10.0.0.0/30").hosts()))
    out.append(json.loads(json.dumps({"a": [1, 2.5, None, "é"]}, indent=1, sort_keys=True)))
    out.append(shlex.split("a 'b c' \"d e\""))
    out.append((statistics.mean([1, 2, 3, 4]), statistics.median([3, 1, 2])))
    out.append(string.Template("$a-$b").substitute(a=1, b=2))
    out.append(textwrap.fill("frametap probes " * 10, 30))
    out.append(urllib.parse.urlsplit("http://u@h:8/p?q=1#f"))
    return repr(out)


def codes():
    seen = {}
    for m in MODULES:
        for v in list(vars(m).values()):
            fs = [v] if isinstance(v, types.FunctionType) else \
                [x for x in vars(v).values() if isinstance(x, types.FunctionType)] \
                if isinstance(v, type) else []
            for f in fs:
                if f.__module__ == m.__name__:
                    seen.setdefault(id(f.__code__), (f, []))[1].append(f)
    return seen


def main():
    want = workload()
    probe = _probe.Probe(1, "count", budget=1.0)
    armed = []
    for f, funcs in codes().values():
        code = f.__code__
        if MON:
            for c, _, _ in nested(code):
                _probe.monitor_set(c, {line: (probe,) for line in body_lines(c)}, (probe,))
                armed.append(c)
        else:
            from frametap import _rewrite
            site = _probe.site((probe,))
            new = _rewrite.instrument(code, [(line, site) for line in body_lines(code)]
                                      + [(None, site)])
            for fn in funcs:
                fn.__code__ = new
            armed.append((funcs, code))
    during = workload()
    hits = probe.stats()["hits"]
    for a in armed:
        if MON:
            _probe.monitor_clear(a)
        else:
            for fn in a[0]:
                fn.__code__ = a[1]
    after = workload()
    if want == during == after and hits > 1000:
        print("same", hits)
    else:
        print("differs", hits)
        print(want)
        print(during)


main()
