"""Target of tests/test_probe.py for rate, expiry and CPU budget: calls
tick() every `pause` seconds (0: as fast as it can) for `seconds`."""
import sys
import time


def tick(i):
    value = i * 3                                # MARK: tick
    return value


def main(seconds, pause):
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        tick(i)
        i += 1
        if pause:
            time.sleep(pause)
    print("ticks", i > 0)


if __name__ == "__main__":
    main(float(sys.argv[1]), float(sys.argv[2]))
