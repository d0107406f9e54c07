"""Threads whose threading names frametap must report exactly: ASCII,
Latin-1, UCS-2 and UCS-4 names, quotes and control characters, a long name,
a rename after start, subclasses with __slots__ or extra attributes (more
than a shared-keys table holds), and instances whose __dict__ was
materialised, given a non-str key (3.13+: inline values invalidated) or
replaced. One thread is started with _thread alone: threading never sees it.

Usage: thread_names.py EXPECTED_JSON. Writes {ident: name} and the ident of
the unnamed thread to EXPECTED_JSON, then prints READY and parks."""
import _thread
import json
import sys
import threading
import time

stop = threading.Event()


def park():
    stop.wait()


class SlotsThread(threading.Thread):
    __slots__ = ("extra",)


class ManyAttrsThread(threading.Thread):
    def __init__(self, **kw):
        for i in range(40):  # set before Thread.__init__: shifts _name in the keys
            setattr(self, "early_%d" % i, i)
        super().__init__(**kw)
        self.late = "late"


def started(t):
    t.start()
    return t


def main():
    long_name = "long-" + "".join(chr(ord("a") + i % 26) for i in range(195))
    threads = [
        started(threading.Thread(target=park, name="plain-ascii")),
        started(threading.Thread(target=park, name="wörker-ü")),
        started(threading.Thread(target=park, name="线程-名字")),
        started(threading.Thread(target=park, name="emoji-\U0001F9F5")),
        started(threading.Thread(target=park, name='quote"back\\slash\ttab\nnl')),
        started(threading.Thread(target=park, name=long_name)),
        started(SlotsThread(target=park, name="slots-subclass")),
        started(ManyAttrsThread(target=park, name="many-attrs")),
    ]
    renamed = started(threading.Thread(target=park, name="before-rename"))
    renamed.name = "after-rename"
    materialised = started(threading.Thread(target=park, name="dict-materialised"))
    materialised.__dict__["seen"] = True
    invalidated = started(threading.Thread(target=park, name="dict-int-key"))
    invalidated.__dict__[0] = "a key that is not a str"
    replaced = started(threading.Thread(target=park, name="dict-replaced"))
    replaced.__dict__ = dict(replaced.__dict__)
    threads += [renamed, materialised, invalidated, replaced]
    assert len(long_name) == 200

    raw = []
    _thread.start_new_thread(lambda: (raw.append(_thread.get_ident()), park()), ())
    while not raw:
        time.sleep(0.01)

    expected = {str(t.ident): t.name for t in threads}
    expected[str(threading.main_thread().ident)] = "MainThread"
    with open(sys.argv[1], "w", encoding="utf-8") as f:
        json.dump({"names": expected, "unnamed": raw[0]}, f)
    print("READY", flush=True)
    time.sleep(600)


main()
