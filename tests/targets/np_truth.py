"""np_truth.py - ground-truth target for the NumPy array walker acceptance
test (tests/numpy-arrays.test, checked by tests/check_numpy.py).

Usage: PYTHON np_truth.py [--mode fixed|dynamic] [--selftest] TRUTHFILE

Needs NumPy 1.x with the default memory handler and CPython 3.11 with
pymalloc (Debian 12's /usr/bin/python3.11 and python3-numpy 1.24); x86-64.
Temporary files are created next to TRUTHFILE (the test's private
directory removes them).

In this order:
  1. --mode fixed (default): mallopt(M_MMAP_THRESHOLD, 131072) before NumPy
     is imported, so the threshold is 128 KiB for the whole run and never
     moves (mp_.no_dyn_threshold = 1).  Without it the threshold is never
     the default when arrays are made: importing NumPy already frees
     mmapped chunks (sources and bytecode read into bytes objects), and
     every such free raises it.
     --mode dynamic: after importing NumPy, a 20,000,000-byte bytes object
     is allocated (an mmapped chunk: its size word is read) and freed,
     which raises mp_.mmap_threshold to that chunk's size T (< 32 MiB,
     DEFAULT_MMAP_THRESHOLD_MAX) and mp_.trim_threshold to 2 T.  Nothing
     later frees an mmapped chunk larger than T and at most 32 MiB, so T
     is still the threshold when the target is parked.
  2. The seed cases: big = np.zeros((2, 10**7)); tiny = big[:, 100]; del big
     (a 16-byte view pinning a 160 MB mmapped buffer), and float64 arrays of
     10**4 (80,000 B: a heap chunk) and 10**5 (800,000 B: an mmapped chunk
     in mode fixed, a heap chunk below T in mode dynamic) elements.
  3. Arrays of many dtypes and shapes (0-d, empty, 10..10**7 elements,
     Fortran order, steps, negative strides, transposes, views of views,
     structured, datetime64/timedelta64, U7, S5, bool, complex128,
     float16, big-endian, object, a subclass of ndarray, np.matrix,
     as_strided, broadcast_to), arrays over bytes (pymalloc block, glibc
     chunk, mmapped chunk, and b'' whose data is in the interpreter's
     .data), over bytearrays, over mmap.mmap (anonymous, and of a file),
     np.memmap (r+, r, c).  An array is held only inside an object array.
  4. Several hundred arrays (plain, views, subclass instances) are made
     and about two thirds freed again: dead array objects lie in freed
     pymalloc blocks.  Their addresses are "dead" in the truth (minus any
     reused by a live array by the end).
  5. NumPy's small-allocation cache: seven np.empty(777, np.uint8) are
     made and freed in order; alloc.c puts their buffers into datacache
     bucket 777 (NCACHE = 7), so that bucket holds exactly these seven
     pointers ("cache" in the truth, in the order they were pushed).
  6. gc.collect() x3, gc.disable(); the census: every live ndarray
     (including subclass instances) reachable from sys.modules and
     gc.get_objects() through gc.get_referents(), ndarray.base chains,
     DummyArray.base, memoryview.obj and object arrays' elements.  NumPy
     keeps arrays of its own alive (numpy.core.getlimits finfo/MachAr
     values, numpy.ma.masked with its base, data and masks, numpy.polynomial
     constants and domains/windows, numpy.random's SeedSequence pool):
     they are in the census with origin "numpy".  ndarray is not a GC
     type, so gc.get_objects() alone would list only subclass instances.
  7. A memory scan for array objects that the census did not reach: every
     readable anonymous mapping and [heap] is read through /proc/self/mem
     and every 16-byte aligned word pair (refcnt, ob_type) with ob_type an
     ndarray type, a plausible refcount (1..2^31), nd <= 64 and a descr
     whose type's type is numpy._DTypeMeta is a candidate; candidates not
     in the census are listed as "unreached" (an incomplete census shows
     up there; dead objects in freed blocks do not, as pymalloc writes
     the free-list link over ob_refcnt and GC objects die with refcnt 0).
  8. For every array of the census: its fields read straight from the
     object (PyArrayObject_fields, NumPy 1.x: data +16, nd +24,
     dimensions +32, strides +40, base +48, descr +56, flags +64) and
     cross-checked with the Python API; tp_name read from the type (heap
     types: the bare class name, e.g. "MyArr", "matrix", "memmap");
     the owner (end of the base chain: the first base that is not an
     ndarray, or the first ndarray that owns its data or has no base; an
     owning array is its own owner); the buffer the data lies in,
     measured, not predicted: for a glibc chunk the size word at
     user - 8 (IS_MMAPPED, NON_MAIN_ARENA bits) and malloc_usable_size();
     for a pymalloc block its pool header's szidx (POOL_SIZE 16 KiB on
     3.10+); for mappings the line of /proc/self/maps; after every
     reference the census held is gone, each array's ob_refcnt and its
     base's.
  9. The truth (JSON) is written, "READY" is printed, and the target
     blocks in a pre-bound time.sleep without allocating.
Any internal inconsistency found while building the truth makes the
target print it to stderr and exit 1 instead of printing READY.

--selftest: instead of blocking, take the census a second time and compare,
print a summary and exit 0 if the truth is complete and stable, 1 if not.

Any process may ptrace the target (PR_SET_PTRACER_ANY, for Yama scope 1).

Truth format: one JSON object (addresses are numbers):
  format "np-truth 1"; pid; executable; python_version; numpy_version;
  numpy_module (real path of _multiarray_umath); abi_version, api_version
  (PyArray_GetNDArrayCVersion(), PyArray_GetNDArrayCFeatureVersion(), called
  through the PyArray_API table); ndarray_type (id(np.ndarray));
  mode; mmap_threshold (131072, or the bump chunk's size); no_dyn_threshold;
  mmap_threshold_dynamic (true in mode dynamic);
  arrays: one object per live array: addr, label (REG name, or the path it
    was reached by), origin ("target" or "numpy"), type (tp_name), pytype
    (module.qualname), ndim, shape, strides, dtype (dtype.str), kind,
    byteorder, itemsize, nbytes, flags_value, flags {owndata,
    c_contiguous, f_contiguous, writeable, aligned}, data, descr, base (0 if
    none), base_type (tp_name or null), owner, owner_type, held_bytes
    (malloc_usable_size of its own buffer, 0 if it owns none), refcnt,
    base_refcnt (ob_refcnt of its base, null if none), buffer {kind
    ("glibc-chunk", "mmapped-chunk", "pymalloc-block", "file-mapping",
    "anonymous-mapping", "static"), alloc (chunk header, block, or mapping
    start), size (chunk size, block size, mapping length), offset (data -
    the allocation's user start), usable_size and non_main_arena (glibc),
    path and perms (mappings: as in /proc/PID/maps)};
  cache {size: 777, entries: the seven pointers, in the order freed};
  seed {tiny, base, tiny_nbytes, base_nbytes, base_refcount
    (sys.getrefcount(tiny.base) - 1), small, large (the 10**4 and 10**5
    arrays), small_kind, large_kind, small_nbytes, large_nbytes};
  dead (addresses of freed arrays no live array has reused);
  unreached (see 7); files (the temporary files); problems (empty, or the
  target exits 1).
"""

import ctypes
import gc
import json
import mmap
import os
import struct
import sys
import time

M_MMAP_THRESHOLD = -3
DEFAULT_MMAP_THRESHOLD = 128 * 1024
DEFAULT_MMAP_THRESHOLD_MAX = 32 * 1024 * 1024
BUMP_BYTES = 20000000
PR_SET_PTRACER = 0x59616D61
PR_SET_PTRACER_ANY = -1
PAGE = mmap.PAGESIZE
TP_NAME_OFFSET = 24             # PyTypeObject.tp_name, CPython 3.8 - 3.13
BYTES_HEADER = 32               # offsetof(PyBytesObject, ob_sval)
BYTEARRAY_ALLOC = 24            # PyByteArrayObject.ob_alloc
BYTEARRAY_BYTES = 32            # PyByteArrayObject.ob_bytes
SMALL_REQUEST_THRESHOLD = 512
POOL_SIZE = 16 * 1024           # CPython 3.10+
POOL_SZIDX = 36                 # struct pool_header.szidx
IS_MMAPPED, NON_MAIN_ARENA = 2, 4
CACHE_SIZE, CACHE_COUNT = 777, 7
# PyArrayObject_fields, NumPy 1.x (numpy-layouts)
A_DATA, A_ND, A_DIMS, A_STRIDES, A_BASE, A_DESCR, A_FLAGS = \
    16, 24, 32, 40, 48, 56, 64
F_C, F_F, F_OWN, F_ALIGNED, F_WRITEABLE = 0x1, 0x2, 0x4, 0x100, 0x400
API_CVERSION, API_ARRAY_TYPE, API_FEATURE_VERSION = 0, 2, 211


def usage():
    sys.stderr.write("usage: np_truth.py [--mode fixed|dynamic] "
                     "[--selftest] TRUTHFILE\n")
    sys.exit(2)


def parse_args(argv):
    mode, selftest, files = "fixed", False, []
    i = 0
    while i < len(argv):
        if argv[i] == "--mode" and i + 1 < len(argv):
            mode = argv[i + 1]
            i += 2
            continue
        if argv[i] == "--selftest":
            selftest = True
        else:
            files.append(argv[i])
        i += 1
    if len(files) != 1 or mode not in ("fixed", "dynamic"):
        usage()
    return mode, selftest, files[0]


MODE, SELFTEST, TRUTH_PATH = parse_args(sys.argv[1:])
if sys.flags.dev_mode or os.environ.get("PYTHONMALLOC"):
    sys.stderr.write("np_truth.py: run without -X dev and PYTHONMALLOC\n")
    sys.exit(2)
LIBC = ctypes.CDLL(None, use_errno=True)
LIBC.malloc_usable_size.restype = ctypes.c_size_t
LIBC.malloc_usable_size.argtypes = [ctypes.c_void_p]
LIBC.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
try:
    LIBC.prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0)
except AttributeError:
    pass
PROBLEMS = []                   # inconsistencies: the target exits 1

if MODE == "fixed" and LIBC.mallopt(M_MMAP_THRESHOLD,
                                    DEFAULT_MMAP_THRESHOLD) != 1:
    PROBLEMS.append("mallopt(M_MMAP_THRESHOLD, 131072) failed")

import numpy as np                                      # noqa: E402
from numpy.lib.stride_tricks import as_strided          # noqa: E402


def word(addr):
    return ctypes.c_size_t.from_address(addr).value


def sword(addr):
    return ctypes.c_ssize_t.from_address(addr).value


def tp_name(tp):
    raw = ctypes.c_char_p.from_address(id(tp) + TP_NAME_OFFSET).value
    return raw.decode("utf-8", "backslashreplace")


def chunk_word(user):
    """The size field of the glibc chunk whose user pointer is USER."""
    return word(user - 8)


# --- 1. the malloc mode ------------------------------------------------------
THRESHOLD = DEFAULT_MMAP_THRESHOLD if MODE == "fixed" else None
if MODE == "dynamic":
    bump = bytes(BUMP_BYTES)
    bump_word = chunk_word(id(bump))
    del bump
    if not bump_word & IS_MMAPPED:
        PROBLEMS.append("the %d-byte bytes object was not an mmapped chunk "
                        "(threshold already above it?)" % BUMP_BYTES)
    THRESHOLD = bump_word & ~7
    if THRESHOLD > DEFAULT_MMAP_THRESHOLD_MAX:
        PROBLEMS.append("bump chunk %d > DEFAULT_MMAP_THRESHOLD_MAX"
                        % THRESHOLD)
    del bump_word

# --- 2. the seed cases -------------------------------------------------------
REG = {}                        # label -> array: everything the target keeps
big = np.zeros((2, 10000000))
REG["seed_tiny"] = big[:, 100]
del big
REG["seed_small"] = np.zeros(10 ** 4)
REG["seed_large"] = np.zeros(10 ** 5)
SEED_BASE_REFCOUNT = sys.getrefcount(REG["seed_tiny"].base) - 1


# --- 3. arrays of every kind -------------------------------------------------
class MyArr(np.ndarray):
    """A user subclass with an instance attribute (a managed __dict__)."""

    def __array_finalize__(self, obj):
        self.tag = getattr(obj, "tag", "myarr")


REG["zerod_f8"] = np.array(3.5)
REG["zerod_i4"] = np.array(7, dtype=np.int32)
REG["empty_1d"] = np.empty((0,))
REG["empty_3x0"] = np.zeros((3, 0), dtype=np.int16)
REG["n1e1"] = np.arange(10, dtype=np.float64)
REG["n1e2"] = np.arange(100, dtype=np.int32)
REG["n1e3"] = np.ones(1000, dtype=np.complex128)
REG["n1e4"] = np.ones(10 ** 4, dtype=np.float16)
REG["n1e5"] = np.ones(10 ** 5, dtype=np.uint8)
REG["n1e6"] = np.arange(10 ** 6, dtype=np.int64)
REG["n1e7"] = np.zeros(10 ** 7, dtype=np.float32)
REG["fortran"] = np.asfortranarray(np.arange(35.0).reshape(5, 7))
REG["fortran_zeros"] = np.zeros((4, 6, 3), dtype=np.int8, order="F")
REG["fortran_slice"] = REG["fortran"][1:, ::2]
REG["base2d"] = np.arange(240, dtype=np.float64).reshape(12, 20)
REG["step"] = REG["base2d"][::3]
REG["negstride"] = REG["n1e2"][::-1]
REG["negstride2d"] = REG["base2d"][::-2, ::-3]
REG["transpose"] = REG["base2d"].T
REG["view_of_views"] = REG["base2d"][2:][::2][1:, 3:].T
REG["struct"] = np.zeros(5, dtype=[("a", "<i4"), ("b", "<f8", (2,))])
REG["struct_field"] = REG["struct"]["b"]                 # unaligned view
REG["struct_aligned"] = np.zeros(4, dtype=np.dtype([("x", "u1"),
                                                    ("y", "<f8")],
                                                   align=True))
REG["void8"] = np.zeros(3, dtype="V8")
REG["datetime_ns"] = np.zeros(7, dtype="datetime64[ns]")
REG["timedelta_s"] = np.zeros(5, dtype="timedelta64[s]")
REG["datetime_25s"] = np.zeros(3, dtype="M8[25s]")
REG["unicode_u7"] = np.array(["abc", "defghij"], dtype="U7")
REG["bytes_s5"] = np.array([b"ab", b"cdefg"], dtype="S5")
REG["bool"] = np.array([True, False, True])
REG["complex128"] = np.zeros((3, 3), dtype=np.complex128)
REG["float16"] = np.ones(17, dtype=np.float16)
REG["bigendian_i4"] = np.arange(12, dtype=">i4")
REG["bigendian_f8"] = np.ones(3, dtype=">f8")
REG["object"] = np.array([1, "a", None, 2.5], dtype=object)
REG["object_holder"] = np.empty(3, dtype=object)
REG["object_holder"][0] = np.arange(4, dtype=np.int16)   # held only here
REG["object_holder"][1] = "x"
REG["myarr_view"] = np.arange(20, dtype=np.float32).view(MyArr)
REG["myarr_own"] = MyArr((4, 4), dtype=np.int64)
REG["myarr_view_of_view"] = REG["myarr_view"][::2]
REG["matrix"] = np.matrix([[1, 2], [3, 4]])
REG["matrix_T"] = REG["matrix"].T
REG["as_strided"] = as_strided(REG["n1e1"], shape=(3, 3), strides=(8, 8))
REG["broadcast"] = np.broadcast_to(np.arange(3), (4, 3))

# arrays over other objects' memory
b_small = bytes(range(200))                     # 233 B request: pymalloc
b_big = bytes(range(256)) * 40                  # 10,273 B: glibc chunk
b_huge = b"\x01" * 300000                       # mmapped chunk in mode fixed
REG["frombytes_small"] = np.frombuffer(b_small, np.uint8)
REG["frombytes_offset"] = np.frombuffer(b_small, np.int32, count=10, offset=8)
REG["frombytes_big"] = np.frombuffer(b_big, "<u2")
REG["frombytes_huge"] = np.frombuffer(b_huge, np.uint8, offset=4096)
REG["frombytes_empty"] = np.frombuffer(b"", np.uint8)   # the static b''
ba_small = bytearray(300)                       # 301 B buffer: pymalloc
ba_big = bytearray(5000)                        # glibc chunk
REG["frombytearray_small"] = np.frombuffer(ba_small, np.uint8)
REG["frombytearray_big"] = np.frombuffer(ba_big, np.float64, offset=8,
                                         count=100)
del b_small, b_big, b_huge, ba_small, ba_big

TMPDIR = os.path.dirname(os.path.abspath(TRUTH_PATH))
MAP_FILE = os.path.join(TMPDIR, "np_truth.%d.map" % os.getpid())
MEMMAP_FILE = os.path.join(TMPDIR, "np_truth.%d.memmap" % os.getpid())
for path in (MAP_FILE, MEMMAP_FILE):
    with open(path, "wb") as stream:
        stream.write(bytes(range(256)) * (4 * PAGE // 256))
del path, stream
mm_anon = mmap.mmap(-1, 3 * PAGE + 100)
with open(MAP_FILE, "r+b") as stream:
    mm_file = mmap.mmap(stream.fileno(), 0)
del stream
REG["from_mmap_anon"] = np.frombuffer(mm_anon, np.int64, count=300, offset=16)
REG["from_mmap_file"] = np.frombuffer(mm_file, np.uint16, offset=PAGE)
del mm_anon, mm_file
REG["memmap_rw"] = np.memmap(MEMMAP_FILE, dtype="<i4", mode="r+",
                             offset=PAGE + 40, shape=(100,))
REG["memmap_ro"] = np.memmap(MEMMAP_FILE, dtype=np.uint8, mode="r",
                             shape=(64,))
REG["memmap_cow"] = np.memmap(MEMMAP_FILE, dtype=">f8", mode="c", offset=8,
                              shape=(10,))
REG["memmap_view"] = REG["memmap_rw"][10:20]

# --- 4. dead arrays ----------------------------------------------------------
transient = []
for i in range(600):
    kind = i % 6
    if kind == 0:
        transient.append(np.arange(i % 50 + 1, dtype=np.float64))
    elif kind == 1:
        transient.append(transient[-1][::2])
    elif kind == 2:
        transient.append(MyArr((i % 7 + 1,), dtype=np.int32))
    elif kind == 3:
        transient.append(np.zeros((i % 5 + 1, 3), dtype=np.int8).T)
    elif kind == 4:
        transient.append(np.array(float(i)))
    else:
        transient.append(np.empty(i % 11, dtype="U3"))
DEAD = []
for i in range(len(transient)):
    if i % 3 == 2:
        REG["survivor_%03d" % i] = transient[i]
    else:
        DEAD.append(id(transient[i]))
del transient, i, kind

# --- 5. NumPy's datacache bucket 777 -----------------------------------------
cached = [np.empty(CACHE_SIZE, np.uint8) for _ in range(CACHE_COUNT)]
CACHED = [a.__array_interface__["data"][0] for a in cached]
for i in range(CACHE_COUNT):
    cached[i] = None                            # pushed in this order
del cached, i


# --- 6. the census -----------------------------------------------------------
def census():
    """id -> (array, origin, label) for every reachable ndarray.
    First the target's own arrays, under REG's names, and what they lead to
    through array edges (bases, elements of object arrays, a memoryview's
    exporter, a DummyArray's base): origin "target".  Then a breadth-first
    walk from every module (sys.modules), then from every object
    gc.get_objects() lists that the modules do not lead to, through
    gc.get_referents() and the same array edges; arrays found only there
    have origin "numpy" and are labelled with the shortest path that
    reaches them (module, then attribute or key names, "/type" for other
    steps)."""
    found = {}
    seen = set()
    pending = []
    for name, a in sorted(REG.items()):
        found[id(a)] = (a, "target", name)
        seen.add(id(a))
        pending.append((a, name))
    while pending:
        o, how = pending.pop()
        for r, step in array_edges(o):
            if id(r) not in seen:
                seen.add(id(r))
                label = how + step
                if issubclass(type(r), np.ndarray):
                    found[id(r)] = (r, "target", label)
                pending.append((r, label))
    o = r = None
    nodes = []                  # (object, parent node, step): the BFS tree
    # the census's own containers are not part of the heap it describes
    # (gc.get_objects() lists them; nodes would even contain itself)
    seen = set()
    seen.update((id(found), id(pending), id(nodes), id(seen)))
    for name, m in sorted(sys.modules.items()):
        if id(m) not in seen:
            seen.add(id(m))
            nodes.append((m, -1, name))
    m = None
    i = 0
    for roots in ("modules", "gc"):
        if roots == "gc":               # what the modules do not lead to
            for g in gc.get_objects():
                if id(g) not in seen:
                    seen.add(id(g))
                    nodes.append((g, -1, "gc:" + type(g).__name__))
            g = None
        while i < len(nodes):
            o = nodes[i][0]
            if issubclass(type(o), np.ndarray) and id(o) not in found:
                found[id(o)] = (o, "numpy", path_of(nodes, i))
            for r, step in all_edges(o):
                if id(r) not in seen:
                    seen.add(id(r))
                    nodes.append((r, i, step))
            i += 1
            o = r = None
    del nodes
    return found


def path_of(nodes, i):
    steps = []
    while i >= 0:
        steps.append(nodes[i][2])
        i = nodes[i][1]
    return short("".join(reversed(steps)))


def array_edges(o):
    """What o refers to that gc.get_referents() does not show: an
    ndarray's base and an object array's elements (ndarray has no
    tp_traverse), a memoryview's exporter, a DummyArray's base."""
    t = type(o)
    out = []
    if issubclass(t, np.ndarray):
        base = base_object(o)
        if base is not None:
            out.append((base, ".base"))
        if nd_get("dtype", o).hasobject:
            out.extend((x, "[%d]" % n) for n, x in
                       enumerate(np.ndarray.flat.__get__(o)))
    elif t is memoryview:
        out.append((o.obj, ".obj"))
    elif t.__name__ == "DummyArray":
        out.append((o.base, ".base"))
    return out


def all_edges(o):
    out = array_edges(o)
    if type(o) is dict:
        for k, v in o.items():
            out.append((k, "/key"))
            out.append((v, "." + k if type(k) is str else "[%.30r]" % (k,)))
        return out
    for r in gc.get_referents(o):
        out.append((r, "" if type(r) is dict else "/" + type(r).__name__))
    return out


def nd_get(name, a):
    """ndarray's own attribute NAME of a, whatever a subclass overrides."""
    return getattr(np.ndarray, name).__get__(a)


def short(how):
    return how if len(how) < 100 else how[:97] + "..."


def base_object(a):
    ptr = word(id(a) + A_BASE)
    return ctypes.cast(ptr, ctypes.py_object).value if ptr else None


# --- 7. the memory scan ------------------------------------------------------
def read_maps():
    maps = []
    with open("/proc/self/maps") as stream:
        for line in stream:
            parts = line.split(None, 5)
            lo, hi = (int(x, 16) for x in parts[0].split("-"))
            path = parts[5].strip() if len(parts) > 5 else ""
            maps.append({"start": lo, "end": hi, "perms": parts[1],
                         "offset": int(parts[2], 16), "path": path})
    return maps


def all_array_types():
    out, pending = [], [np.ndarray]
    while pending:
        t = pending.pop()
        if t not in out:
            out.append(t)
            pending.extend(t.__subclasses__())
    return out


def scan():
    """Addresses of everything that looks like a live array object.
    Memory is copied through /proc/self/mem (an unmapped page is an error,
    not a crash) into two buffers made once; candidates inside them (old
    copies of array objects) are ignored."""
    meta = id(type(type(np.dtype("f8"))))
    types = set(id(t) for t in all_array_types())
    # x86-64 user addresses are below 2^47: the low 6 bytes are searched
    # (a pattern ending in zero bytes makes bytes.find slow on zero pages)
    patterns = [t.to_bytes(8, "little")[:6] for t in types]
    step = 1 << 20
    big = bytearray(step)
    small = bytearray(72)
    own = [(word(id(x) + BYTEARRAY_BYTES), len(x)) for x in (big, small)]
    fd = os.open("/proc/self/mem", os.O_RDONLY)
    unpack = struct.Struct("<qqqiiQQQQ").unpack_from

    def peek(into, addr, n):
        if not 0 < addr < 1 << 47:
            return False
        try:
            return os.preadv(fd, [memoryview(into)[:n]], addr) == n
        except OSError:
            return False

    def plausible(a):
        if not peek(small, a, 72):
            return False
        refcnt, _, _, nd, _, dims, _, _, descr = unpack(small)
        if not 1 <= refcnt < 1 << 31 or not 0 <= nd <= 64 or not descr or \
                (nd and not dims):
            return False
        if not peek(small, descr + 8, 8):
            return False
        if not peek(small, unpack(small)[0] + 8, 8):
            return False
        return unpack(small)[0] == meta

    found = set()
    for m in read_maps():
        if m["perms"][0] != "r" or m["path"] not in ("", "[heap]"):
            continue
        for lo in range(m["start"], m["end"], step):
            n = min(step, m["end"] - lo)
            if not peek(big, lo, n) or big.count(0, 0, n) == n:
                continue                # (no copy of big: see above)
            for pat in patterns:
                pos = big.find(pat, 0, n)
                while pos >= 0:
                    a = lo + pos - 8
                    if a % 16 == 0 and big[pos + 6:pos + 8] == b"\0\0" \
                            and not any(s <= a < s + k for s, k in own) \
                            and plausible(a):
                        found.add(a)
                    pos = big.find(pat, pos + 1, n)
    os.close(fd)
    return sorted(found)


# --- 8. the truth of each array ----------------------------------------------
def pymalloc_block_size(block):
    szidx = ctypes.c_uint.from_address((block & ~(POOL_SIZE - 1)) +
                                       POOL_SZIDX).value
    return (szidx + 1) * 16


def glibc_region(user, what):
    w = chunk_word(user)
    region = {"kind": "mmapped-chunk" if w & IS_MMAPPED else "glibc-chunk",
              "user": user, "alloc": user - 16, "size": w & ~7,
              "usable_size": LIBC.malloc_usable_size(user), "what": what,
              "non_main_arena": bool(w & NON_MAIN_ARENA)}
    slack = 16 if w & IS_MMAPPED else 8
    if region["usable_size"] != region["size"] - slack:
        PROBLEMS.append("%s: malloc_usable_size %d, chunk size %d"
                        % (what, region["usable_size"], region["size"]))
    region["extent"] = region["usable_size"]
    return region


def object_region(user, request, what):
    """The allocation of a PyObject_Malloc(request) returning USER."""
    if request <= SMALL_REQUEST_THRESHOLD:
        size = pymalloc_block_size(user)
        if size != (request + 15) // 16 * 16:
            PROBLEMS.append("%s: pymalloc block of %d B for %d B"
                            % (what, size, request))
        return {"kind": "pymalloc-block", "user": user, "alloc": user,
                "size": size, "extent": size, "what": what}
    return glibc_region(user, what)


def mapping_region(addr, maps, what):
    for m in maps:
        if m["start"] <= addr < m["end"]:
            if m["path"] in ("", "[heap]") or \
                    m["path"].startswith("/dev/zero") or \
                    m["path"].startswith("/SYSV"):
                kind = "anonymous-mapping"
            elif is_loaded_object(m["path"]):
                kind = "static"
            else:
                kind = "file-mapping"
            return {"kind": kind, "user": m["start"], "alloc": m["start"],
                    "size": m["end"] - m["start"],
                    "extent": m["end"] - m["start"], "path": m["path"],
                    "perms": m["perms"], "what": what}
    return None


def is_loaded_object(path):
    if os.path.realpath(path) == os.path.realpath(sys.executable):
        return True
    name = os.path.basename(path)
    return name.endswith(".so") or ".so." in name


def owner_object(a):
    """End of the base chain: the first base that is not an ndarray, or the
    first ndarray that owns its data or has no base (an array that owns
    its data is its own owner)."""
    o = a
    while issubclass(type(o), np.ndarray) and not \
            ctypes.c_int.from_address(id(o) + A_FLAGS).value & F_OWN:
        b = base_object(o)
        if b is None:
            break
        o = b
    return o


def in_heap_memory(addr, maps):
    """addr is in [heap] or an anonymous mapping (not an ELF's .data)."""
    m = mapping_region(addr, maps, "")
    return m is not None and m["path"] in ("", "[heap]")


def regions_of(found, maps):
    """Every allocation an array's data may lie in: owned buffers (glibc),
    the bytes and bytearray objects and mmaps that are owners."""
    regions = []
    seen = set()
    for addr, (a, _, how) in sorted(found.items()):
        flags = ctypes.c_int.from_address(addr + A_FLAGS).value
        data = word(addr + A_DATA)
        if flags & F_OWN and data not in seen:
            seen.add(data)
            regions.append(glibc_region(data, "buffer of " + how))
        o = owner_object(a)
        if type(o) is memoryview:
            o = o.obj
        if type(o) is bytes and id(o) not in seen and \
                in_heap_memory(id(o), maps):
            seen.add(id(o))
            regions.append(object_region(id(o), BYTES_HEADER + 1 + len(o),
                                         "bytes of %d B" % len(o)))
        elif type(o) is bytearray:
            user = word(id(o) + BYTEARRAY_BYTES)
            if user not in seen:
                seen.add(user)
                regions.append(object_region(
                    user, sword(id(o) + BYTEARRAY_ALLOC),
                    "bytearray of %d B" % len(o)))
        elif type(o) is mmap.mmap:
            m = mapping_region(data, maps, "mmap of %d B" % len(o))
            if m and m["user"] not in seen:
                seen.add(m["user"])
                regions.append(m)
    return regions


def span(data, shape, strides, itemsize):
    """[lo, hi) of the bytes an array's elements occupy (None if empty)."""
    if any(n == 0 for n in shape):
        return None
    lo = data + sum(min(0, (n - 1) * s) for n, s in zip(shape, strides))
    hi = data + sum(max(0, (n - 1) * s) for n, s in zip(shape, strides))
    return lo, hi + itemsize


def buffer_truth(data, extent, regions, maps, how):
    """The allocation holding the array's data, measured."""
    inside = [r for r in regions if r["user"] <= data < r["user"] +
              r["extent"] or (extent is None and data == r["user"])]
    if not inside:
        r = mapping_region(data, maps, "mapping")
        inside = [r] if r else []
    if len(inside) != 1:
        PROBLEMS.append("%s: data 0x%x lies in %d known allocations"
                        % (how, data, len(inside)))
        return {"kind": "unknown"}
    r = inside[0]
    if extent is not None and r["kind"] != "static" and \
            not r["user"] <= extent[0] < extent[1] <= r["user"] + \
            r["extent"]:
        PROBLEMS.append("%s: elements 0x%x-0x%x overrun %s"
                        % (how, extent[0], extent[1], r["what"]))
    buf = {"kind": r["kind"], "alloc": r["alloc"], "size": r["size"],
           "offset": data - r["user"]}
    if r["kind"] in ("glibc-chunk", "mmapped-chunk"):
        buf["usable_size"] = r["usable_size"]
        buf["non_main_arena"] = r["non_main_arena"]
    if "path" in r:
        buf["path"] = r["path"]
        buf["perms"] = r["perms"]
    return buf


def array_truth(addr, a, origin, how, regions, maps):
    data = word(addr + A_DATA)
    nd = ctypes.c_int.from_address(addr + A_ND).value
    dims = word(addr + A_DIMS)
    strides_ptr = word(addr + A_STRIDES)
    shape = [sword(dims + 8 * i) for i in range(nd)]
    strides = [sword(strides_ptr + 8 * i) for i in range(nd)]
    flags = ctypes.c_int.from_address(addr + A_FLAGS).value
    base = base_object(a)
    owner = owner_object(a)
    dt = nd_get("dtype", a)
    nbytes = nd_get("nbytes", a)
    rec = {
        "addr": addr, "label": how, "origin": origin,
        "type": tp_name(type(a)),
        "pytype": type(a).__module__ + "." + type(a).__qualname__,
        "ndim": nd, "shape": shape, "strides": strides,
        "dtype": dt.str, "kind": dt.kind, "byteorder": dt.byteorder,
        "itemsize": dt.itemsize, "nbytes": nbytes,
        "flags_value": flags,
        "flags": {"owndata": bool(flags & F_OWN),
                  "c_contiguous": bool(flags & F_C),
                  "f_contiguous": bool(flags & F_F),
                  "writeable": bool(flags & F_WRITEABLE),
                  "aligned": bool(flags & F_ALIGNED)},
        "data": data, "descr": word(addr + A_DESCR),
        "base": id(base) if base is not None else 0,
        "base_type": tp_name(type(base)) if base is not None else None,
        "owner": id(owner), "owner_type": tp_name(type(owner)),
    }
    # the Python API must agree with the fields read from the object
    fl = nd_get("flags", a)
    api = (nd_get("__array_interface__", a)["data"][0], nd_get("ndim", a),
           list(nd_get("shape", a)), list(nd_get("strides", a)),
           fl.owndata, fl.c_contiguous, fl.f_contiguous, fl.writeable,
           fl.aligned, nd_get("base", a))
    raw = (data, nd, shape, strides) + tuple(
        rec["flags"][k] for k in ("owndata", "c_contiguous", "f_contiguous",
                                  "writeable", "aligned")) + (base,)
    if api[:-1] != raw[:-1] or api[-1] is not raw[-1]:
        PROBLEMS.append("%s: Python API %r, object fields %r"
                        % (how, api, raw))
    count = 1
    for n in shape:
        count *= n
    if nbytes != count * dt.itemsize:
        PROBLEMS.append("%s: nbytes %d, shape %r" % (how, nbytes, shape))
    buf = buffer_truth(data, span(data, shape, strides, dt.itemsize),
                       regions, maps, how)
    rec["buffer"] = buf
    rec["held_bytes"] = buf.get("usable_size", 0) \
        if rec["flags"]["owndata"] else 0
    if rec["flags"]["owndata"] and (buf["kind"] not in
                                    ("glibc-chunk", "mmapped-chunk") or
                                    buf["offset"] != 0):
        PROBLEMS.append("%s: owned buffer is %r" % (how, buf))
    return rec


def build_truth(maps):
    found = census()
    regions = regions_of(found, maps)
    records = [array_truth(addr, a, origin, how, regions, maps)
               for addr, (a, origin, how) in sorted(found.items())]
    return records, set(found)


def api_versions():
    from numpy.core import _multiarray_umath as mu
    get = ctypes.pythonapi.PyCapsule_GetPointer
    get.restype = ctypes.c_void_p
    get.argtypes = [ctypes.py_object, ctypes.c_char_p]
    table = get(mu._ARRAY_API, None)

    def slot(i):
        return ctypes.c_void_p.from_address(table + 8 * i).value

    fn = ctypes.CFUNCTYPE(ctypes.c_uint)
    if slot(API_ARRAY_TYPE) != id(np.ndarray):
        PROBLEMS.append("PyArray_API[2] is not &PyArray_Type")
    return (fn(slot(API_CVERSION))(), fn(slot(API_FEATURE_VERSION))(),
            os.path.realpath(mu.__file__))


def seed_facts(records):
    by_label = {r["label"]: r for r in records if r["origin"] == "target"}
    tiny = by_label["seed_tiny"]
    base = [r for r in records if r["addr"] == tiny["base"]][0]
    facts = {"tiny": tiny["addr"], "base": base["addr"],
             "tiny_nbytes": tiny["nbytes"], "base_nbytes": base["nbytes"],
             "base_refcount": SEED_BASE_REFCOUNT,
             "small": by_label["seed_small"]["addr"],
             "large": by_label["seed_large"]["addr"]}
    if (facts["tiny_nbytes"], facts["base_nbytes"]) != (16, 160000000):
        PROBLEMS.append("seed: nbytes %r" % ((facts["tiny_nbytes"],
                                              facts["base_nbytes"]),))
    for key in ("small", "large"):
        r = by_label["seed_" + key]
        facts[key + "_kind"] = r["buffer"]["kind"]
        facts[key + "_nbytes"] = r["nbytes"]
    want = {"fixed": ("glibc-chunk", "mmapped-chunk"),
            "dynamic": ("glibc-chunk", "glibc-chunk")}[MODE]
    if (facts["small_kind"], facts["large_kind"]) != want:
        PROBLEMS.append("seed: mode %s made the 10**4/10**5 buffers %s, %s"
                        % (MODE, facts["small_kind"], facts["large_kind"]))
    return facts


gc.collect()
gc.collect()
gc.collect()
gc.disable()
RECORDS, CENSUS = build_truth(read_maps())
CANDIDATES = scan()
UNREACHED = sorted(set(CANDIDATES) - CENSUS)
if CENSUS - set(CANDIDATES):
    PROBLEMS.append("the memory scan missed %d arrays of the census: the "
                    "scan is broken" % len(CENSUS - set(CANDIDATES)))
ABI_VERSION, API_VERSION, MODULE = api_versions()
# No reference of the census is left: the refcounts are the parked state's.
for rec in RECORDS:
    rec["refcnt"] = sword(rec["addr"])
    rec["base_refcnt"] = sword(rec["base"]) if rec["base"] else None
del rec
SEED = seed_facts(RECORDS)
if SEED_BASE_REFCOUNT != [r["refcnt"] for r in RECORDS
                          if r["addr"] == SEED["base"]][0]:
    PROBLEMS.append("seed: getrefcount and ob_refcnt disagree")
LIVE = set(r["addr"] for r in RECORDS)
DEAD = [d for d in DEAD if d not in LIVE]
if sorted(set(r["data"] for r in RECORDS if r["flags"]["owndata"]) &
          set(CACHED)):
    PROBLEMS.append("a cached 777-byte buffer is the data of a live array")
TRUTH = {
    "format": "np-truth 1",
    "pid": os.getpid(),
    "executable": os.path.realpath(sys.executable),
    "python_version": sys.version.split()[0],
    "numpy_version": np.__version__,
    "numpy_module": MODULE,
    "abi_version": ABI_VERSION,
    "api_version": API_VERSION,
    "ndarray_type": id(np.ndarray),
    "mode": MODE,
    "mmap_threshold": THRESHOLD,
    "mmap_threshold_dynamic": MODE == "dynamic",
    "no_dyn_threshold": 1 if MODE == "fixed" else 0,
    "arrays": RECORDS,
    "cache": {"size": CACHE_SIZE, "entries": CACHED},
    "seed": SEED,
    "dead": DEAD,
    "unreached": UNREACHED,
    "files": [os.path.realpath(MAP_FILE), os.path.realpath(MEMMAP_FILE)],
    "problems": PROBLEMS,
}
TEXT = json.dumps(TRUTH, indent=1, sort_keys=True).encode()
fd = os.open(TRUTH_PATH, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
while TEXT:
    TEXT = TEXT[os.write(fd, TEXT):]
os.close(fd)
TEXT = None             # it ended as b'', a reference to the static b''

SUMMARY = ("np_truth: mode %s, threshold %d, %d arrays (%d of NumPy's own), "
           "%d dead, %d unreached, %d problems\n"
           % (MODE, THRESHOLD, len(RECORDS),
              sum(1 for r in RECORDS if r["origin"] == "numpy"), len(DEAD),
              len(UNREACHED), len(PROBLEMS))).encode()
TRUTH = LIVE = fd = None
os.write(1, SUMMARY)
if PROBLEMS:
    for p in PROBLEMS:
        sys.stderr.write("np_truth: %s\n" % p)
    sys.exit(1)

write, sleep = os.write, time.sleep
if not SELFTEST:
    write(1, b"READY\n")
    while True:
        sleep(3600.0)

# --selftest: a second census must find the same arrays, and the scan none
# that the census missed.
time.sleep(0.2)
again = set(census())
ok = again == CENSUS and not UNREACHED
os.write(1, ("selftest %s: census %d arrays, again %d (%d differ), %d "
             "unreached %s\n" % ("ok" if ok else "FAILED", len(CENSUS),
                                 len(again), len(again ^ CENSUS),
                                 len(UNREACHED),
                                 [hex(a) for a in UNREACHED][:10])).encode())
for path in (MAP_FILE, MEMMAP_FILE):
    os.unlink(path)
sys.exit(0 if ok else 1)
