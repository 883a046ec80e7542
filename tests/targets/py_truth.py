"""py_truth.py - ground-truth target for the CPython pymalloc walker
acceptance test (tests/python-walk.test, checked by tests/check_python.py).

Usage: PYTHON py_truth.py [--seed N] [--selftest] ORACLEFILE CENSUSFILE

Runs unchanged on CPython 3.8 - 3.13 (standard library only; needs ctypes).
It builds a deterministic mix (random.Random(seed)) of ints, floats, strs,
bytes, lists, dicts, tuples, sets and instances of its own classes (plain,
subclassed, nested, __slots__), with reference cycles and objects larger
than 512 bytes (glibc-allocated), frees most of it again in scattered order
and collects the garbage.  Then, in this order:

  1. A dry run of the code that renders the census (first calls create
     lasting objects, e.g. an argument parser's keyword tuple on 3.8 -
     3.11), then gc.collect() x3 and gc.disable(): no collection can change
     the heap later.
  2. Census: gc.get_objects(), counted per C-level tp_name (read with ctypes
     at type + 24), taken at module level so that no frame of this script's
     own is counted (3.8 - 3.10 frames are GC-tracked objects); the list
     and the count dict are created after the snapshot, everything the
     census creates is dropped again before step 4.  The counts of the
     target's own non-GC objects (int, float, str, bytes) are taken before.
  3. The census file is written with os.write.
  4. fd 2 is redirected to ORACLEFILE (opened in advance) and
     sys._debugmallocstats() is called twice: it prints to the C stream
     stderr (fd 2), not to sys.stderr.  Two identical copies prove that the
     call itself leaves the heap as it was.
  5. "READY\n" is written to fd 1 with a pre-bound os.write, then the target
     blocks in a pre-bound time.sleep (os.read would allocate a bytes).
     Nothing after step 2 allocates a GC-tracked object that survives, and
     nothing after step 4 allocates at all.

--selftest: instead of sleeping forever, sleep 0.2 s, print the oracle a
third time (the checker requires every copy to be identical), take a second
census with an independent code path (a function that leaves out its own
frame) and compare it with the first; print the result on fd 1 and exit 0
if they agree, 1 if not.

Census file format (one record per line):
  py-truth 1
  version 3.11.2            sys.version up to the first blank
  sys_version TEXT          all of sys.version, on one line
  hexversion 51053296
  pid PID
  executable PATH
  seed N
  keep_addr 0xADDR          id() of the list holding the mix (a tracked object
                            in the oldest generation, for debugging)
  tracked_total N           len(gc.get_objects()) at the snapshot
  type TP_NAME COUNT        GC-tracked objects at the sync point whose
                            ob_type->tp_name is TP_NAME (several types may
                            share a name: their counts are summed)
  own TP_NAME COUNT         distinct non-GC objects (int, float, str, bytes)
                            the target itself holds: a lower bound of the
                            live objects of that type
  untracked TP_NAME COUNT   objects of a GC type the target holds that are
                            not GC-tracked (tuples/dicts of atoms): not in
                            the census, for information
  end
TP_NAME is the C string with '\\', bytes < 0x21 and bytes > 0x7e written as
\\xNN (tests/check_python.py escapes heapinspect's names the same way).

Invariants: the census counts exactly the objects that are GC-tracked while
the target is parked; the oracle describes the heap while it is parked.
Any process may ptrace the target (PR_SET_PTRACER_ANY, for Yama scope 1).
"""

import ctypes
import gc
import os
import random
import sys
import time

TP_NAME_OFFSET = 24             # PyTypeObject.tp_name, 3.8 - 3.13, x86-64
Py_TPFLAGS_HAVE_GC = 1 << 14
PR_SET_PTRACER = 0x59616d61
PR_SET_PTRACER_ANY = -1


def usage():
    sys.stderr.write("usage: py_truth.py [--seed N] [--selftest] "
                     "ORACLEFILE CENSUSFILE\n")
    sys.exit(2)


def parse_args(argv):
    seed, selftest, files = 20240607, False, []
    i = 0
    while i < len(argv):
        if argv[i] == "--seed" and i + 1 < len(argv):
            seed = int(argv[i + 1])
            i += 2
            continue
        if argv[i] == "--selftest":
            selftest = True
        else:
            files.append(argv[i])
        i += 1
    if len(files) != 2:
        usage()
    return seed, selftest, files[0], files[1]


def allow_ptrace():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0)
    except (OSError, AttributeError):
        pass                    # no Yama, or no prctl: nothing to allow


def escape_name(raw):
    out = []
    for byte in bytearray(raw):
        if byte < 0x21 or byte > 0x7e or byte == 0x5c:
            out.append("\\x%02x" % byte)
        else:
            out.append(chr(byte))
    return "".join(out)


def tp_name(tp):
    """ob_type->tp_name of the type object tp, exactly as C sees it."""
    return escape_name(ctypes.c_char_p.from_address(id(tp) +
                                                    TP_NAME_OFFSET).value)


# --- the target's own classes ------------------------------------------------
# tp_name of a class statement's type is its __name__ (no module, no
# qualname), so all of these are unique names in the census.
class PtNode(object):
    def __init__(self, key, payload):
        self.key = key
        self.payload = payload
        self.next = None


class PtLeaf(PtNode):
    pass


class PtSlotted(object):
    __slots__ = ("a", "b", "c")

    def __init__(self, a, b, c):
        self.a = a
        self.b = b
        self.c = c


class PtOuter(object):
    class PtInner(object):          # tp_name "PtInner", not "PtOuter.PtInner"
        def __init__(self, v):
            self.v = v


class PtBig(object):
    """An instance with many attributes: its dict/values are large."""

    def __init__(self, rng):
        for i in range(40):
            setattr(self, "f%02d" % i, rng.random())


LETTERS = "abcdefghijklmnopqrstuvwxyz"
WIDE = u"\u00e9\u0416\u4e2d\U0001f600"


def make_str(rng):
    n = rng.choice((2, 3, 7, 15, 40, 90, 150, 300, 460, 470, 700, 2000))
    s = "".join(rng.choice(LETTERS) for _ in range(min(n, 64)))
    s = (s * (n // len(s) + 1))[:n]
    if rng.random() < 0.15:
        s += rng.choice(WIDE)       # UCS-1 beyond ASCII, UCS-2 or UCS-4
    return s


def make_bytes(rng):
    n = rng.choice((2, 9, 30, 100, 250, 400, 470, 1000))
    return rng.getrandbits(8 * n).to_bytes(n, "little")


def make_int(rng):
    if rng.random() < 0.8:
        return 1000 + rng.getrandbits(62)
    return rng.getrandbits(rng.choice((100, 300, 1000, 5000)))


def make_object(rng, pool):
    """One new object of a random kind; may refer to objects in pool."""
    kind = rng.randrange(20)
    ref = pool[rng.randrange(len(pool))] if pool else None
    if kind == 0:
        return make_int(rng)
    if kind == 1:
        return rng.random() * 1e6
    if kind in (2, 3):
        return make_str(rng)
    if kind == 4:
        return make_bytes(rng)
    if kind == 5:
        return [make_int(rng) for _ in range(rng.randrange(0, 12))]
    if kind == 6:
        return [ref, rng.random(), make_str(rng)]
    if kind == 7:                   # atoms only: untracked in 3.8 - 3.12
        return dict((make_str(rng), rng.random())
                    for _ in range(rng.randrange(1, 9)))
    if kind == 8:
        return {"ref": ref, "n": make_int(rng), "l": [rng.random()]}
    if kind == 9:                   # atoms only: untracked by the next gc
        return tuple(make_int(rng) for _ in range(rng.randrange(1, 7)))
    if kind == 10:
        return (ref, [rng.random()], make_str(rng))
    if kind == 11:
        return PtNode(make_int(rng), ref)
    if kind == 12:
        return PtLeaf(rng.random(), [ref])
    if kind == 13:
        return PtSlotted(rng.random(), make_str(rng), ref)
    if kind == 14:
        return PtOuter.PtInner(rng.random())
    if kind == 15:
        return set(make_int(rng) for _ in range(rng.randrange(1, 20)))
    if kind == 16:
        return frozenset((make_str(rng), make_int(rng)))
    if kind == 17:                  # a cycle kept alive from outside
        a, b = PtNode(1, None), PtNode(2, None)
        a.next, b.next = b, a
        return a
    if kind == 18:                  # > 512 bytes: not a pymalloc block
        return tuple([ref] + [rng.random() for _ in range(70)])
    if rng.random() < 0.05:
        return PtBig(rng)
    return [None] * rng.randrange(1, 100)


def build_mix(rng):
    keep = [None] * 40000
    for i in range(len(keep)):
        keep[i] = make_object(rng, keep[max(0, i - 50):i])
    # A transient bulk: whole arenas are allocated and given back.
    bulk = [rng.random() for _ in range(120000)]
    bulk += [PtNode(i, None) for i in range(20000)]
    del bulk
    # Free about 60 % in scattered order, replace some with new objects,
    # leave garbage cycles for gc.collect().
    order = list(range(len(keep)))
    rng.shuffle(order)
    for n, i in enumerate(order[:24000]):
        keep[i] = None
        if n % 7 == 0:
            a = PtNode(n, None)
            a.next = a                  # garbage cycle
        if n % 5 == 0:
            keep[order[rng.randrange(24000)]] = make_object(rng, [])
    rng.shuffle(order)
    for i in order[:3000]:
        if keep[i] is not None:
            keep[i] = make_object(rng, [keep[i]])
    return keep


def own_objects(keep):
    """Distinct non-GC objects (int, float, str, bytes) the target holds,
    and the untracked objects of GC types it holds, counted by type."""
    kinds = (int, float, str, bytes)
    seen_ids, own, untracked = set(), {}, {}
    stack = list(keep)
    while stack:
        o = stack.pop()
        if id(o) in seen_ids:
            continue
        seen_ids.add(id(o))
        t = type(o)
        if t in kinds:
            # cached singletons (small ints, empty and 1-char strings)
            if t is int and -5 <= o <= 256:
                continue
            if t in (str, bytes) and len(o) <= 1:
                continue
            own[t] = own.get(t, 0) + 1
            continue
        if t.__flags__ & Py_TPFLAGS_HAVE_GC and not gc.is_tracked(o):
            untracked[t] = untracked.get(t, 0) + 1
        if t in (list, tuple, set, frozenset):
            stack.extend(o)
        elif t is dict:
            stack.extend(o.keys())
            stack.extend(o.values())
        elif t is PtSlotted:
            stack.extend((o.a, o.b, o.c))
        elif t in (PtNode, PtLeaf):
            # attributes one by one: vars(o) would give every instance a
            # materialised __dict__ on 3.11+ (managed dicts / inline values)
            stack.extend((o.key, o.payload, o.next))
        elif t is PtOuter.PtInner:
            stack.append(o.v)
        elif t is PtBig:
            stack.extend(getattr(o, "f%02d" % i) for i in range(40))
    return own, untracked


def census_of_function():
    """Second, independent census: the same counts by tp_name, taken in a
    function that leaves out its own frame (a tracked object on 3.8 -
    3.10, and on 3.11+ once sys._getframe() has made one)."""
    frame = sys._getframe()
    objs = gc.get_objects()
    counts = {}
    for o in objs:
        if o is not frame:
            t = type(o)
            counts[t] = counts.get(t, 0) + 1
    o = t = frame = objs = None
    return by_name(counts)


def by_name(counts):
    names = {}
    for t, n in counts.items():
        name = tp_name(t)
        names[name] = names.get(name, 0) + n
    return names


def census_text(seed, ntracked, names, own, untracked):
    lines = ["py-truth 1",
             "version " + sys.version.split()[0],
             "sys_version " + " ".join(sys.version.split()),
             "hexversion %d" % sys.hexversion,
             "pid %d" % os.getpid(),
             "executable " + sys.executable,
             "seed %d" % seed,
             "keep_addr 0x%x" % id(KEEP),
             "tracked_total %d" % ntracked]
    lines += ["type %s %d" % (k, names[k]) for k in sorted(names)]
    lines += ["own %s %d" % (tp_name(t), n)
              for t, n in sorted(own.items(), key=lambda i: i[0].__name__)]
    lines += ["untracked %s %d" % (tp_name(t), n)
              for t, n in sorted(untracked.items(),
                                 key=lambda i: i[0].__name__)]
    lines.append("end")
    return ("\n".join(lines) + "\n").encode("utf-8", "backslashreplace")


def write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


# --- the scenario (module level from here on: no frame of our own) ----------
SEED, SELFTEST, ORACLE_PATH, CENSUS_PATH = parse_args(sys.argv[1:])
if sys.flags.dev_mode or os.environ.get("PYTHONMALLOC"):
    sys.stderr.write("py_truth.py: run without -X dev and PYTHONMALLOC\n")
    sys.exit(2)
allow_ptrace()
KEEP = build_mix(random.Random(SEED))
OWN, UNTRACKED = own_objects(KEEP)

oracle_fd = os.open(ORACLE_PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
census_fd = os.open(CENSUS_PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
dup2, dms, write, sleep = os.dup2, sys._debugmallocstats, os.write, time.sleep
# every global exists before the census: no dict resize later
names = ntracked = census2 = first = None
t = o = objs = counts = text = None

# A dry run of everything that runs between the census and the sync point:
# first calls create lasting objects (e.g. the keyword tuple ('key',
# 'reverse') of sorted()'s argument parser on 3.8 - 3.11).
census_text(SEED, 0, by_name({int: 1, PtNode: 1}), OWN, UNTRACKED)

gc.collect()
gc.collect()
gc.collect()
gc.disable()

# The census.  The list gc.get_objects() returns leaves itself out; counts
# is created after it, so neither is counted, and both go away below.
objs = gc.get_objects()
counts = {}
for o in objs:
    t = type(o)
    counts[t] = counts.get(t, 0) + 1
ntracked = len(objs)
o = t = objs = None
names = by_name(counts)
counts = None
text = census_text(SEED, ntracked, names, OWN, UNTRACKED)
write_all(census_fd, text)
os.close(census_fd)
first = text if SELFTEST else None      # bytes: not a GC object
text = names = None

dup2(oracle_fd, 2)
dms()
dms()
write(1, b"READY\n")
if not SELFTEST:
    while True:
        sleep(3600.0)

sleep(0.2)
dms()
census2 = census_of_function()
names = {}
for line in first.decode("utf-8").splitlines():
    if line.startswith("type "):
        k, n = line[5:].rsplit(" ", 1)
        names[k] = int(n)
if census2 == names:
    write_all(1, ("selftest ok: census of %d tracked objects in %d type "
                  "names stable\n" % (ntracked, len(names))).encode())
    sys.exit(0)
for k in sorted(set(names) | set(census2)):
    if names.get(k) != census2.get(k):
        write_all(1, ("selftest: %s first %s, second %s\n"
                      % (k, names.get(k), census2.get(k))).encode())
sys.exit(1)
