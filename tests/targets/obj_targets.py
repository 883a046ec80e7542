"""obj_targets.py - objects of several kinds whose addresses the target
prints itself (id()), for tests/obj-address.test: a float, a list, a dict,
a bytes object larger than pymalloc's limit (so a glibc chunk), an instance
of a class, a tuple.  Prints a line of TYPE:ADDRESS pairs, then READY, then sleeps.
"""
import sys, time
class Node:
    def __init__(self, v): self.v = v
f = 3.25; l = [1.5, 2.5]; d = {"a": 1}; b = b"x" * 2000; n = Node(7); t = (l, d)
objs = [f, l, d, b, n, t]
print("OBJECTS", " ".join("%s:%d" % (type(o).__name__, id(o)) for o in objs))
print("READY", flush=True)
time.sleep(60)
