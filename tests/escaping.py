"""The escaping rule of src/util/escape.h, written again in Python so the
tests can say exactly what each output must show for a name. Input is the
name as Python holds it: bytes that were not UTF-8 are the surrogates
U+DC80-U+DCFF (os.fsdecode), which frametap reads as those raw bytes."""

HOSTILE = {0x200E, 0x200F, 0xFFFE, 0xFFFF} | set(range(0x2028, 0x202F)) | set(range(0x2066, 0x206A))


def text(name, also=""):
    """What dump text, collapsed (also=';'), trace text, top, pprof and SVG
    (before XML escaping) show for name."""
    out = []
    for ch in name:
        o = ord(ch)
        if 0xDC80 <= o <= 0xDCFF:
            out.append("\\x%02x" % (o - 0xDC00))
        elif o < 0x20 or o == 0x7F or ch in also:
            out.append("\\x%02x" % o)
        elif 0x80 <= o <= 0x9F or o in HOSTILE:
            out.append("\\u%04x" % o)
        else:
            out.append(ch)
    return "".join(out)


def json_value(name):
    """What json.loads gives back for name in a JSON output: the name itself,
    each byte that was not UTF-8 as U+FFFD."""
    return "".join("\ufffd" if 0xDC80 <= ord(ch) <= 0xDCFF else ch for ch in name)


def assert_clean_text(data, what):
    """data (bytes) is UTF-8 and holds no control character but line ends."""
    s = data.decode("utf-8")   # strict: raises on invalid UTF-8
    bad = [c for c in s if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F
           or ord(c) in HOSTILE]
    assert not bad, "%s holds raw control characters %r" % (what, sorted(set(bad))[:10])
    return s
