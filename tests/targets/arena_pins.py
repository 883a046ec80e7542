"""arena_pins.py - pymalloc arenas kept mapped by a few live objects.

Allocates 400,000 floats (about a dozen arenas), keeps every 4,000th and
frees the rest in shuffled order, so each arena is left nearly empty but
cannot be returned.  Prints the addresses (id()) of the kept floats on a
KEPT line, then READY, then sleeps.
"""
import random
import sys
import time

floats = [float(i) + 0.5 for i in range(400000)]
kept = floats[::4000]
order = list(range(len(floats)))
random.Random(7).shuffle(order)
for i in order:
    floats[i] = None
del floats, order, i
print("KEPT " + " ".join(str(id(f)) for f in kept))
print("READY", flush=True)
time.sleep(3600)
