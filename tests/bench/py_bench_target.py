"""py_bench_target.py - a CPython (optionally NumPy) heap of a given size for
the benchmark (tests/bench/bench.py), with a heartbeat thread that measures,
from inside the process, how long it was paused.

Usage: python3 py_bench_target.py objects N   about N live objects: ints,
                                                floats, strs, tuples, lists,
                                                dicts and class instances,
                                                with every third of some
                                                kinds freed (free blocks)
       python3 py_bench_target.py arrays N    N live NumPy arrays: a third
                                                small owners, a third views
                                                of them, a third 2-d arrays
                                                of 1 to 16 KiB

The heartbeat thread loops on time.monotonic_ns() and a short sleep and keeps
the longest gap between two ticks; while ptrace holds every thread, it does
not tick.  The main thread reads commands on stdin (blocked in read, so it
does not hold the GIL), one a line, each answered by one line:
  reset   zero the longest gap              -> "ok"
  gap     the longest gap since the reset   -> "gap NANOSECONDS" (after two
          more ticks, so a pause that just ended has been seen)
"ready N" on stdout says the heap is built; EOF on stdin ends the process.
"""
import gc
import sys
import threading
import time

TICK_S = 0.0002  # heartbeat sleep: 200 us, well under any pause
GAP_POLL_S = 0.00005  # how often "gap" checks that two ticks have passed

# Shares of N per kind (objects mode); they sum to 1.
SHARES = {"int": 0.20, "float": 0.20, "str": 0.15, "tuple": 0.15,
          "list": 0.10, "dict": 0.10, "instance": 0.10}


class Heartbeat:
    """The longest gap between ticks since the last reset."""

    def __init__(self):
        self.lock = threading.Lock()
        self.max_gap = 0
        self.ticks = 0

    def run(self):
        last = time.monotonic_ns()
        while True:
            time.sleep(TICK_S)
            now = time.monotonic_ns()
            with self.lock:
                self.max_gap = max(self.max_gap, now - last)
                self.ticks += 1
            last = now

    def reset(self):
        with self.lock:
            self.max_gap = 0

    def gap(self):
        with self.lock:
            start = self.ticks
        while self.ticks < start + 2:
            time.sleep(GAP_POLL_S)
        with self.lock:
            return self.max_gap


class Point:
    """A custom class: instances with two attributes."""

    def __init__(self, x, y):
        self.x = x
        self.y = y


def drop_every_third(items):
    """Free every third item: pymalloc blocks freed between live ones."""
    del items[::3]
    return items


def build_objects(n):
    """About N live objects of mixed kinds (built mostly at C speed)."""
    k = {kind: int(n * share) for kind, share in SHARES.items()}
    base = 1 << 20  # above the small-int cache: every int is its own object
    ints = drop_every_third(list(range(base, base + k["int"] * 3 // 2)))
    floats = drop_every_third(list(map(float, range(k["float"] * 3 // 2))))
    strs = list(map(str, range(k["str"])))
    tuples = list(zip(strs, ints[:k["tuple"]]))
    tuples += [(i,) for i in floats[:k["tuple"] - len(tuples)]]
    lists = drop_every_third([[i] for i in range(k["list"] * 3 // 2)])
    dicts = [{"k": i} for i in range(k["dict"])]
    points = [Point(i, None) for i in range(k["instance"])]
    return [ints, floats, strs, tuples, lists, dicts, points]


def build_arrays(n):
    """N live NumPy arrays: owners, views of them, and 2-d blocks."""
    import numpy as np
    third = n // 3
    owners = [np.arange(i % 50 + 1, dtype=np.float64) for i in range(third)]
    views = [a[::2] for a in owners]
    blocks = [np.zeros((4, (i % 16 + 1) * 32)) for i in range(n - 2 * third)]
    return [owners, views, blocks]


def serve(beat):
    """Answer reset/gap on stdin until EOF."""
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "reset":
            beat.reset()
            print("ok", flush=True)
        elif cmd == "gap":
            print("gap %d" % beat.gap(), flush=True)
        else:
            print("error unknown command", flush=True)


def main():
    mode, n = sys.argv[1], int(sys.argv[2])
    heap = build_objects(n) if mode == "objects" else build_arrays(n)
    gc.disable()  # a full collection of millions of objects is not the pause
    beat = Heartbeat()
    threading.Thread(target=beat.run, daemon=True).start()
    print("ready %d" % n, flush=True)
    serve(beat)
    del heap


if __name__ == "__main__":
    main()
