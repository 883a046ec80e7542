"""seed_lists.py - the list-of-lists experiment of shared/seeds/000.

Builds a = [[0] * 100 for _ in range(N)], then writes its own truth to
TRUTHFILE: the number of list objects gc.get_objects() sees, and the
malloc_usable_size() of every item array (asked of glibc through ctypes),
counted by size, and that of the outer list's own item array.  Prints READY and sleeps until killed.
Usage: seed_lists.py N TRUTHFILE
"""
import ctypes
import gc
import sys
import time

n = int(sys.argv[1])
libc = ctypes.CDLL(None)
libc.malloc_usable_size.restype = ctypes.c_size_t
libc.malloc_usable_size.argtypes = [ctypes.c_void_p]
ob_item = 24    # PyListObject.ob_item, every CPython 3.8-3.13 (python-layouts)

a = [[0] * 100 for _ in range(n)]
sizes = {}
for lst in a:
    items = ctypes.c_void_p.from_address(id(lst) + ob_item).value
    size = libc.malloc_usable_size(items)
    sizes[size] = sizes.get(size, 0) + 1
outer = libc.malloc_usable_size(ctypes.c_void_p.from_address(id(a) + ob_item).value)
del lst, items, size
gc.collect()
lists = sum(1 for o in gc.get_objects() if type(o) is list)
with open(sys.argv[2], "w") as f:
    f.write("lists %d\n" % lists)
    f.write("outer %d\n" % outer)
    for size, count in sorted(sizes.items()):
        f.write("items %d %d\n" % (size, count))
del f
sys.stdout.write("READY\n")
sys.stdout.flush()
time.sleep(3600)
