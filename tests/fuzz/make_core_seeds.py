"""Writes the seed corpus of fuzz_core: small x86-64 core files (under the
fuzzer's 4096-byte input limit) with every note frametap reads, a copy of
an ELF header with a build-id note, segments that follow each other, a
thread stack of zeros and a mapping only NT_FILE names. Real cores are
megabytes; these keep every structure and little data.

    python3 tests/fuzz/make_core_seeds.py   (writes tests/fuzz/seeds/fuzz_core/)
"""
import os
import struct

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seeds", "fuzz_core")
PT_LOAD, PT_NOTE = 1, 4
NT_PRSTATUS, NT_PRPSINFO, NT_AUXV = 1, 3, 6
NT_SIGINFO, NT_FILE = 0x53494749, 0x46494C45
AT_PHDR, AT_EXECFN = 3, 31


def note(name, ntype, desc):
    name = name + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def prstatus(tid, sig, pc, sp):
    b = bytearray(336)
    struct.pack_into("<h", b, 12, sig)
    struct.pack_into("<i", b, 32, tid)
    struct.pack_into("<Q", b, 112 + 16 * 8, pc)
    struct.pack_into("<Q", b, 112 + 19 * 8, sp)
    return bytes(b)


def prpsinfo(pid, fname, args):
    b = bytearray(136)
    struct.pack_into("<i", b, 24, pid)
    b[40:40 + len(fname)] = fname
    b[56:56 + len(args)] = args
    return bytes(b)


def nt_file(entries, page=4096):
    head = struct.pack("<QQ", len(entries), page)
    table = b"".join(struct.pack("<QQQ", s, e, off) for s, e, off, _ in entries)
    names = b"".join(n + b"\0" for _, _, _, n in entries)
    return head + table + names


def elf_header_with_build_id(size=256):
    """An ELF header, one PT_NOTE program header and a GNU build-id note."""
    bid = bytes(range(20))
    n = note(b"GNU", 3, bid)
    eh = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)
    ph = struct.pack("<IIQQQQQQ", PT_NOTE, 4, 120, 120, 120, len(n), len(n), 4)
    img = eh + ph + n
    return img + b"\0" * (size - len(img))


def core(loads, notes, gdb=False, xnum=False):
    notes_blob = b"".join(notes) + (note(b"GDB", 1, b"<target/>") if gdb else b"")
    nph = 1 + len(loads)
    phoff = 64
    data_at = phoff + 56 * nph + (64 if xnum else 0)
    phdrs = [struct.pack("<IIQQQQQQ", PT_NOTE, 4, data_at, 0, 0, len(notes_blob), 0, 1)]
    at = data_at + len(notes_blob)
    blobs = [notes_blob]
    for vaddr, flags, blob, memsz in loads:
        phdrs.append(struct.pack("<IIQQQQQQ", PT_LOAD, flags, at, vaddr, 0, len(blob),
                                 memsz or len(blob), 1))
        blobs.append(blob)
        at += len(blob)
    shoff = phoff + 56 * nph if xnum else 0
    eh = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 4, 62, 1, 0, phoff, shoff, 0, 64, 56, 0xFFFF if xnum else nph,
        64 if xnum else 0, 1 if xnum else 0, 0)
    sh = struct.pack("<IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, nph, 0, 0) if xnum else b""
    return eh + b"".join(phdrs) + sh + b"".join(blobs)


def python_like(gdb=False, xnum=False):
    exe = 0x400000
    stack, lost = 0x7FFD0000, 0x7F000000
    files = [(exe, exe + 0x1000, 0, b"/usr/bin/python3.11"),
             (exe + 0x1000, exe + 0x3000, 1, b"/usr/bin/python3.11"),
             (0x7F100000, 0x7F101000, 0, b"/lib/x86_64-linux-gnu/libc.so.6 (deleted)")]
    notes = [note(b"CORE", NT_PRSTATUS, prstatus(4242, 6, exe + 0x1234, stack + 0x80)),
             note(b"CORE", NT_PRSTATUS, prstatus(4243, 0, exe + 0x1238, lost + 0x40)),
             note(b"CORE", NT_PRPSINFO, prpsinfo(4242, b"python3.11", b"python3.11 app.py")),
             note(b"CORE", NT_SIGINFO, struct.pack("<iii4xQ", 11, 0, 1, 0xDEAD) + b"\0" * 104),
             note(b"CORE", NT_AUXV, struct.pack("<QQQQQQ", AT_PHDR, exe + 64, AT_EXECFN,
                                                 stack + 0x100, 0, 0)),
             note(b"CORE", NT_FILE, nt_file(files))]
    stack_bytes = bytes((i * 7 + 1) & 0xFF for i in range(256)) + b"/usr/bin/python3.11\0"
    loads = [(exe, 4, elf_header_with_build_id(), 0x1000),
             (exe + 0x1000, 5, b"", 0x2000),            # text: not dumped
             (stack, 6, stack_bytes, 0),
             (stack + len(stack_bytes), 6, b"\x11" * 64, 0),  # follows without a gap
             (lost, 6, b"\0" * 512, 0)]                 # a stack the writer lost
    return core(loads, notes, gdb=gdb, xnum=xnum)


def main():
    os.makedirs(OUT, exist_ok=True)
    seeds = {"python_like.core": python_like(), "gcore_like.core": python_like(gdb=True),
             "pn_xnum.core": python_like(xnum=True)}
    for name, blob in seeds.items():
        assert len(blob) <= 4096, (name, len(blob))
        with open(os.path.join(OUT, name), "wb") as f:
            f.write(blob)
        print("wrote", name, len(blob))


if __name__ == "__main__":
    main()
