"""explain_seeds.py - the seed experiments of shared/seeds/, as targets of
tests/explain-seeds.test (checked by tests/check_explain.py).

Usage: PYTHON explain_seeds.py SCENARIO
  lists        a = [[0] * 100 for _ in range(10**6)]; del a.  The 10**6 item
               arrays (800 B each: 816-byte glibc chunks, consecutive in the
               brk heap) are freed by list_dealloc from the last to the
               first, so the last tcache_count (7) of them stay in the
               tcache right below the top chunk and the rest coalesce into
               free runs that free() cannot trim (RSS stays ~800 MB).  Two
               runs of ~400 MB: pymalloc's arena_object vector, grown to 64
               entries (a 3,088-byte chunk) when the list objects needed a
               33rd arena, lies between them.
  numpy-sizes  np.random.uniform(0, 1, size=n) for n = 10**4 and 10**5, each
               deleted again: the 80,000-byte buffer is a heap chunk (RSS
               does not drop), the 800,000-byte one an mmapped chunk (RSS
               drops by its size).
  numpy-view   big = np.zeros((2, 10**7)); big[0] = 1 (the first 80 MB
               written, so resident, the rest never touched); tiny = big[:,
               100]; del big: a 16-byte view keeps the 160 MB buffer.
  floats       big = [float(i) + 0.5 for i in range(10**6)]; kept =
               big[::5000]; del big: 200 floats keep ~30 pymalloc arenas.

Truth, on stdout, one record per line (decimal), then READY:
  scenario NAME
  pid PID
  lists:       items N CHUNKBYTES      the 10**6 item arrays: count, and the
                                       sum of their chunk sizes (size words)
               last_items C1 C2 ...    chunk addresses (user - 16) of the item
                                       arrays of a[-1], a[-2], ... a[-16]
               rss_built N, rss_deleted N   RssAnon before and after del a
  numpy-sizes: array N DATA HEAD DROP  per size: the buffer's address, its
                                       raw size word (bit 2: IS_MMAPPED) and
                                       how much RssAnon dropped at del
  numpy-view:  view ADDR NBYTES        id(tiny) and tiny.nbytes
               base ADDR DATA HEAD NBYTES   the array owning the buffer
               base_resident N         resident bytes of the buffer's chunk
                                       (mincore(2) over [DATA - 16, + size))
  floats:      kept ID ID ...          id() of the kept floats
  rss N                                RssAnon (bytes), read last before READY
Then it waits for SIGUSR1 (signal.sigwait; blocked from the start).  On
SIGUSR1 it reads RssAnon, calls malloc_trim(0) through ctypes, reads RssAnon
again and prints "trim BEFORE AFTER RESULT"; then waits again.

Invariants: everything used after READY is bound before it; between READY
and SIGUSR1 the target only blocks in sigwait (nothing allocates).
"""
import ctypes
import gc
import os
import signal
import sys

SCENARIO = sys.argv[1] if len(sys.argv) == 2 else ""
USR1 = {signal.SIGUSR1}
signal.pthread_sigmask(signal.SIG_BLOCK, USR1)
libc = ctypes.CDLL(None)
libc.malloc_trim.argtypes = [ctypes.c_size_t]
libc.malloc_trim.restype = ctypes.c_int
libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
libc.mincore.restype = ctypes.c_int
OB_ITEM = 24            # PyListObject.ob_item, CPython 3.8-3.13
IS_MMAPPED = 2
SIZE_BITS = 7
PAGE = os.sysconf("SC_PAGE_SIZE")
out = sys.stdout


def rss_anon():
    fd = os.open("/proc/self/status", os.O_RDONLY)
    try:
        text = os.read(fd, 16384)
    finally:
        os.close(fd)
    for line in text.split(b"\n"):
        if line.startswith(b"RssAnon:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("explain_seeds: no RssAnon in /proc/self/status")


def head(mem):
    """The raw size word of the glibc chunk whose user memory is at mem."""
    return ctypes.c_size_t.from_address(mem - 8).value


def emit(*words):
    out.write(" ".join(str(w) for w in words) + "\n")


def lists():
    n = 10**6
    a = [[0] * 100 for _ in range(n)]
    total = 0
    for lst in a:
        items = ctypes.c_void_p.from_address(id(lst) + OB_ITEM).value
        total += head(items) & ~SIZE_BITS
    last = [ctypes.c_void_p.from_address(id(a[-k]) + OB_ITEM).value - 16
            for k in range(1, 17)]
    del lst, items
    built = rss_anon()
    del a
    deleted = rss_anon()
    emit("items", n, total)
    emit("last_items", *last)
    emit("rss_built", built)
    emit("rss_deleted", deleted)


def numpy_sizes():
    import numpy as np
    for n in (10**4, 10**5):
        x = np.random.uniform(0, 1, size=n)
        data = x.ctypes.data
        word = head(data)
        before = rss_anon()
        del x
        gc.collect()
        emit("array", n, data, word, before - rss_anon())


def numpy_view():
    import numpy as np
    big = np.zeros((2, 10**7))
    big[0] = 1.0
    tiny = big[:, 100]
    data = big.ctypes.data
    word = head(data)
    if not word & IS_MMAPPED:
        raise SystemExit("explain_seeds: the 160 MB buffer is not mmapped")
    start, size = data - 16, word & ~SIZE_BITS
    pages = (size + PAGE - 1) // PAGE
    vec = (ctypes.c_ubyte * pages)()
    if libc.mincore(start, pages * PAGE, vec) != 0:
        raise SystemExit("explain_seeds: mincore failed")
    resident = sum(b & 1 for b in vec) * PAGE
    emit("view", id(tiny), tiny.nbytes)
    emit("base", id(big), data, word, big.nbytes)
    emit("base_resident", resident)
    del big, vec
    return tiny


def floats():
    big = [float(i) + 0.5 for i in range(10**6)]
    kept = big[::5000]
    del big
    emit("kept", *(id(f) for f in kept))
    return kept


emit("scenario", SCENARIO)
emit("pid", os.getpid())
if SCENARIO == "lists":
    held = lists()
elif SCENARIO == "numpy-sizes":
    held = numpy_sizes()
elif SCENARIO == "numpy-view":
    held = numpy_view()
elif SCENARIO == "floats":
    held = floats()
else:
    raise SystemExit("usage: explain_seeds.py "
                     "lists|numpy-sizes|numpy-view|floats")
emit("rss", rss_anon())
out.write("READY\n")
out.flush()
trim = libc.malloc_trim
sigwait = signal.sigwait
while True:
    sigwait(USR1)
    before = rss_anon()
    result = trim(0)
    after = rss_anon()
    emit("trim", before, after, result)
    out.flush()
