"""Accuracy target: burns CPU in three functions in a fixed 50/30/20 split of
loop iterations (fixed work each, no sleeps), for about SECONDS seconds."""
import sys
import time


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def half():
    return work(3000)


def third():
    return work(3000)


def fifth():
    return work(3000)


def main(seconds):
    end = time.time() + seconds
    while time.time() < end:
        for _ in range(5):
            half()
        for _ in range(3):
            third()
        for _ in range(2):
            fifth()


main(float(sys.argv[1]))
