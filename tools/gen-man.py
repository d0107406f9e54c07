#!/usr/bin/env python3
"""Writes frametap's man page (troff) from the --help texts of the binary
itself, so that the page and the help cannot drift apart: the test suite
regenerates it and compares with the checked-in frametap.1.

    tools/gen-man.py BUILD/frametap > frametap.1
"""
import subprocess
import sys

COMMANDS = ["dump", "tasks", "record", "top", "trace", "probe"]

EXIT_STATUS = [
    ("0", "success"),
    ("2", "usage error (bad option or value)"),
    ("3", "no such process"),
    ("4", "permission denied (ptrace, CAP_SYS_PTRACE, kernel.yama.ptrace_scope)"),
    ("5", "not a Python process"),
    ("6", "a Python version frametap has no layout for, or a pre-release; probe, trace PID: "
          "a program that cannot take frametap's agent (before 3.14, none started)"),
    ("7", "the process exited while frametap was reading it"),
    ("8", "inconsistent data in the process"),
]


def help_of(binary, *args):
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("gen-man: %s %s --help failed: %s" % (binary, " ".join(args), r.stderr))
    return r.stdout


def troff_text(text):
    """Preformatted text, escaped for troff."""
    out = []
    for line in text.rstrip("\n").split("\n"):
        line = line.replace("\\", "\\e")
        if line.startswith((".", "'")):
            line = "\\&" + line
        out.append(line)
    return "\n".join(out)


def main():
    binary = sys.argv[1]
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.split()
    version = version[-1] if version else "?"
    page = [
        '.TH FRAMETAP 1 "" "frametap %s" "User Commands"' % version,
        ".SH NAME",
        "frametap \\- see what a running CPython program is doing",
        ".SH SYNOPSIS",
        ".nf",
        "\n".join("frametap %s [OPTIONS] ..." % c for c in COMMANDS),
        ".fi",
        ".SH DESCRIPTION",
        ".nf",
        troff_text(help_of(binary)),
        ".fi",
    ]
    for c in COMMANDS:
        page += [".SH \"frametap %s\"" % c.upper().lower(), ".nf", troff_text(help_of(binary, c)),
                 ".fi"]
    page += [".SH EXIT STATUS", ".TP"]
    for code, what in EXIT_STATUS:
        page += [".B %s" % code, what, ".TP"]
    page.pop()
    page += [".PP", "record, trace and probe started with a command exit with that command's status "
             "(128 + signal number if a signal ended it).",
             ".SH SEE ALSO", "py-spy(1), gdb(1), ptrace(2), process_vm_readv(2)"]
    sys.stdout.write("\n".join(page) + "\n")


if __name__ == "__main__":
    main()
