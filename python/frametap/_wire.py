"""The messages between the frametap command and the probe agent (the
Python mirror of src/probe/wire.h): a u32 length, a u8 type, then fields
(u8 tag, u32 length, bytes); numbers travel as decimal text. Pure data:
never does I/O."""
import struct

HELLO, HIT, STATUS, COUNTS, REPLY = 1, 2, 3, 4, 5
ADD, REMOVE, LIST, BYE, TRACE_START, TRACE_STOP, RUN = 16, 17, 18, 19, 20, 21, 22

ID, TEXT, KIND, PID, VERSION, MECHANISM, OK, ERROR, COUNT = range(1, 10)
P_AT, P_ACTION, P_TEMPLATE, P_WHEN, P_LIMIT, P_RATE, P_EXPIRE, P_FRAMES, P_BUDGET, P_REDACT = \
    range(48, 58)
T_RAW, T_EVENTS, T_WITHIN, T_INCLUDE, T_EXCLUDE, T_MAX_DEPTH, T_BUFFER_MB = range(80, 87)


def _bytes(v):
    if isinstance(v, bytes):
        return v
    if isinstance(v, int):
        return str(v).encode()
    return str(v).encode("utf-8", "surrogateescape")


def message(kind, fields):
    """fields: [(tag, value)], value bytes, str or int."""
    body = b"".join(struct.pack("<BI", tag, len(b)) + b
                    for tag, b in ((t, _bytes(v)) for t, v in fields))
    return struct.pack("<IB", len(body) + 1, kind) + body


def parse(data):
    """(type, [(tag, bytes)]) of one whole message; ValueError if malformed."""
    if len(data) < 5:
        raise ValueError("short message")
    size, kind = struct.unpack_from("<IB", data)
    if size + 4 != len(data):
        raise ValueError("bad message length")
    fields, pos = [], 5
    while pos < len(data):
        if len(data) - pos < 5:
            raise ValueError("truncated field")
        tag, n = struct.unpack_from("<BI", data, pos)
        pos += 5
        if n > len(data) - pos:
            raise ValueError("truncated field")
        fields.append((tag, data[pos:pos + n]))
        pos += n
    return kind, fields


def reply(ok, text="", ids=()):
    fields = [(OK if ok else ERROR, text)] + [(ID, i) for i in ids]
    return message(REPLY, fields)


def status(kind, text, probe_id=None):
    fields = ([(ID, probe_id)] if probe_id is not None else []) + [(KIND, kind), (TEXT, text)]
    return message(STATUS, fields)
