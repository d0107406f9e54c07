"""Imported late by probe_shapes.py (tests/test_probe.py: a probe set
before its module is loaded)."""
LOADED = "yes"                                   # MARK: late_module


def late(n):
    doubled = n * 2                              # MARK: late
    return doubled


class Late:
    def twice(self, n):
        return n * 2                             # MARK: late_method


Late().twice(21)
