#!/usr/bin/python3
"""check_numpy.py - compare np_truth.py's truth with heapinspect's NumPy JSON.

Usage:
  check_numpy.py TRUTH --arrays FILE --views FILE [--mp FILE]
                 [--array ADDR FILE]... [--filter OPTION VALUE FILE]...
      TRUTH     written by tests/targets/np_truth.py (JSON, "np-truth 1")
      --arrays  output of `heapinspect --json arrays PID`
      --views   output of `heapinspect --json views PID`
      --mp      output of `heapinspect --json mp PID` (thresholds agree)
      --array   output of `heapinspect --json array ADDR PID`
      --filter  output of `heapinspect --json arrays --OPTION VALUE PID`
                (OPTION: dtype, min-size, owner)
  check_numpy.py --truth TRUTH
      check the truth file alone and print a summary of it
  check_numpy.py --queries TRUTH
      print the queries the test should make, one a line:
      "array LABEL ADDR" and "filter OPTION VALUE"
  check_numpy.py --no-numpy PID FILE...
      FILEs are heapinspect --json outputs for process PID, a Python that
      has not imported NumPy: numpy.found must be false with an error
  check_numpy.py --write-expected TRUTH DIR
      write what a correct heapinspect would print for TRUTH into DIR
      (arrays.json, views.json, mp.json, array.ADDR.json, filter.N.json)
      and print the checker's command line for them (a self-test of this
      checker; also a reference for whoever writes the C side)

Prints one PASS/FAIL line per check group (with the first differences under
a FAIL), last "N passed, N failed"; exits 1 if anything failed, 2 on a
usage error.  Standard library only; runs on Debian 12's /usr/bin/python3.

What is compared, exactly (JSON interface: doc/json-schema.md, "NumPy"):
  - The truth itself: no problems recorded by the target, no "unreached"
    array (see below), the target's pid in every output.
  - numpy member of every output (filtered outputs: all but the counts):
    found, no error, module (real path), abi_version, api_version,
    versions (a "X.Y-X.Y" range holding the target's NumPy release),
    layout (a name), verified_live true, ndarray_type == id(np.ndarray),
    ndarray_type_method one of symbol/PyArray_API/tp_name, mmap_threshold
    and mmap_threshold_dynamic (the mode's value, and the same as the mp
    output's), arrays / owned_buffers / owned_bytes (the truth's count of
    live arrays, of arrays owning their data, and the sum of their
    buffers' malloc_usable_size()).
  - arrays: the set of addresses equals the truth's live arrays, and for
    each every member: type (C tp_name: "numpy.ndarray", but "MyArr",
    "matrix", "memmap", "MaskedConstant" for classes defined in Python),
    ndim, shape, strides, dtype (dtype.str), kind, byteorder, itemsize,
    nbytes, flags_value, flags (owndata, c_contiguous, f_contiguous,
    writeable, aligned), data, base, base_type, owner (the array itself
    when it owns its data), owner_type, held_bytes, and when present refcnt
    and descr (doc/json-schema.md adds them); sorted by held_bytes
    descending.
  - buffer: kind, measured by the target: owned buffers are glibc chunks
    ("mmapped-chunk" iff IS_MMAPPED is set in the size word at data - 8),
    usable_size == malloc_usable_size(data), alloc = data - 16 (the chunk),
    size = the chunk size, offset 0, arena 0 (single-threaded target:
    NON_MAIN_ARENA clear), reason a non-empty string; views lie in their
    owner's allocation at offset data - user start; bytes objects (header
    32 B) and bytearray buffers of a request <= 512 B are "pymalloc-block"
    (alloc = the block, size = the block size from the pool header), larger
    ones glibc chunks; mmap.mmap and np.memmap data are "file-mapping"
    (path = the file) or "anonymous-mapping" (mmap.mmap(-1, n) is
    MAP_SHARED: its /proc/PID/maps name "/dev/zero (deleted)" is accepted
    as path, as is no path), alloc/size = the mapping's line in maps;
    np.frombuffer(b'') points into the interpreter's .data: "static" (only
    the kind, and path if given, are compared).
  - seed: the 10**4 float64 buffer is a glibc-chunk, the 10**5 one an
    mmapped-chunk in mode fixed, a glibc-chunk in mode dynamic; both
    reasons contain the mmap threshold (digits, with or without thousands
    separators); in mode dynamic the 10**5 reason contains "dynamic".
    The views entry of the 160 MB base: views [id(tiny)], visible_bytes
    16, base_bytes >= 160,000,000, pinned = base_bytes - visible,
    base_refs_from_views == base_refcnt == sys.getrefcount(base) - 1.
  - views: for every ndarray B that owns its data and is the base of
    arrays V (a.base is B), with base_bytes = B's held_bytes, visible =
    min(sum of V's nbytes, base_bytes) and pinned = base_bytes - visible:
    an entry exactly {base, base_type, base_bytes, base_refcnt,
    base_refs_from_views = |V|, pinned_only_by_views = (refcnt == |V|),
    views = V, visible_bytes, pinned_bytes} iff pinned > 0.  Entries for
    other bases (bytes, memoryview, mmap, views that are bases of a
    subclass view) are allowed, as the interface does not define their
    base_bytes; their views, refs, refcnt, base_type and arithmetic are
    checked.  Sorted by pinned_bytes descending.
  - cache: found, method symbol or heuristic/code (the interface and
    doc/json-schema.md disagree on the name), data bucket 777 holds exactly
    the seven buffers the target freed into it, every bucket's count is
    its number of entries (<= NCACHE 7), data sizes < 1024, dims sizes
    < 16, data/dims count are the sums over the buckets, bytes at least
    size * count (size * 8 * count for dims), entries distinct, and no
    cached buffer is the data of a live array.
  - array ADDR: a live array's entry equals its entry in the arrays output;
    a dead array's address, a bytes object's and 16 give null and an error.
  - filters: each filtered list is exactly the full list's entries that
    match (dtype.str equal, nbytes >= N, owner == ADDR), entry for entry.

Which arrays are live (the census): ndarray is not a GC type, so
gc.get_objects() lists only instances of Python subclasses.  The target
walks from sys.modules and from everything gc.get_objects() lists through
gc.get_referents() plus the edges the GC cannot see (ndarray.base, object
arrays' elements, memoryview.obj, DummyArray.base), and lists every
ndarray it reaches.  NumPy 1.24 keeps 78 arrays of its own alive after
import, all reachable that way: numpy.core.getlimits._KNOWN_TYPES (six
0-d arrays - epsilon, epsneg, xmax, xmin, resolution, smallest_normal -
per MachArLike of float16/32/64 and the long-double variants),
numpy.ma.masked (a MaskedConstant, its MaskedArray base, their 0-d data
and masks), numpy.polynomial's module constants (polyx, chebdomain, ...)
and class attributes (domain, window of the six series classes), and
numpy.random.mtrand._rand's SeedSequence pool.  They are in the truth with
origin "numpy".  An array held only from C (a static, a leaked reference)
would be missed; so the target also scans its anonymous memory for
objects that look like live arrays (refcount 1..2^31, an ndarray type,
nd <= 64, a descr whose type is a numpy._DTypeMeta) and records those the
census did not reach as "unreached": the scan finds every array of the
census (the target checks that), and a non-empty "unreached" fails the
truth check here, so an incomplete census cannot be mistaken for a
heapinspect bug, nor can heapinspect be excused by it.
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_glibc import Report, load_json  # noqa: E402  (same directory)

SCHEMA = "heapinspect/1"
TRUTH_FORMAT = "np-truth 1"
NCACHE = 7
NBUCKETS, NBUCKETS_DIM = 1024, 16
TYPE_METHODS = ("symbol", "PyArray_API", "tp_name")
# the interface named "heuristic", doc/json-schema.md names "code" (found
# through alloc.c's code): either name, never "none"
CACHE_METHODS = ("symbol", "heuristic", "code")
ARRAY_FIELDS = ("type", "ndim", "shape", "strides", "dtype", "kind",
                "byteorder", "itemsize", "nbytes", "flags_value", "data",
                "base", "base_type", "owner", "owner_type", "held_bytes")
# members doc/json-schema.md adds: compared when present
OPTIONAL_FIELDS = ("refcnt", "descr")
FLAG_NAMES = ("owndata", "c_contiguous", "f_contiguous", "writeable",
              "aligned")
GLIBC_KINDS = ("glibc-chunk", "mmapped-chunk")
MAPPING_KINDS = ("file-mapping", "anonymous-mapping")
FILTERS = ("dtype", "min-size", "owner")


# --- the truth ---------------------------------------------------------------
def load_truth(path):
    truth = load_json(path)
    if truth.get("format") != TRUTH_FORMAT:
        raise ValueError("%s: not an np_truth.py truth file (format %r)"
                         % (path, truth.get("format")))
    truth["by_addr"] = {r["addr"]: r for r in truth["arrays"]}
    truth["by_label"] = {r["label"]: r for r in truth["arrays"]}
    return truth


def truth_problems(truth):
    problems = ["target: %s" % p for p in truth["problems"]]
    if truth["unreached"]:
        problems.append("the census is incomplete: %d objects that look "
                        "like live arrays were not reached (%s)"
                        % (len(truth["unreached"]),
                           ", ".join("0x%x" % a for a in
                                     truth["unreached"][:5])))
    if len(truth["by_addr"]) != len(truth["arrays"]):
        problems.append("an address is listed twice")
    seed = truth["seed"]
    for key in ("tiny", "base", "small", "large"):
        if seed[key] not in truth["by_addr"]:
            problems.append("seed %s 0x%x is not a listed array"
                            % (key, seed[key]))
    want = {"fixed": ("glibc-chunk", "mmapped-chunk"),
            "dynamic": ("glibc-chunk", "glibc-chunk")}.get(truth["mode"])
    if want != (seed["small_kind"], seed["large_kind"]):
        problems.append("mode %r: the seed buffers are %s and %s"
                        % (truth["mode"], seed["small_kind"],
                           seed["large_kind"]))
    if len(truth["cache"]["entries"]) != NCACHE:
        problems.append("%d cached buffers recorded"
                        % len(truth["cache"]["entries"]))
    return problems


def truth_summary(truth):
    arrays = truth["arrays"]
    kinds = {}
    for r in arrays:
        kinds[r["buffer"]["kind"]] = kinds.get(r["buffer"]["kind"], 0) + 1
    return ("pid %d, NumPy %s, mode %s (threshold %d): %d arrays (%d "
            "NumPy's own), %d owning %d B; buffers %s; %d dead addresses"
            % (truth["pid"], truth["numpy_version"], truth["mode"],
               truth["mmap_threshold"], len(arrays),
               sum(1 for r in arrays if r["origin"] == "numpy"),
               sum(1 for r in arrays if r["flags"]["owndata"]),
               sum(r["held_bytes"] for r in arrays),
               ", ".join("%s %d" % kv for kv in sorted(kinds.items())),
               len(truth["dead"])))


# --- expectations derived from the truth -------------------------------------
def expected_counts(truth):
    owned = [r for r in truth["arrays"] if r["flags"]["owndata"]]
    return {"arrays": len(truth["arrays"]), "owned_buffers": len(owned),
            "owned_bytes": sum(r["held_bytes"] for r in owned)}


MIN_PINNED = 4096  # inspector/numpy_pins.c


def expected_views(truth):
    """base address -> the views entry heapinspect must print for it, for
    every ndarray that owns its data and whose views leave unseen at least
    a page (MIN_PINNED) of its buffer's usable size, and more than they see
    (malloc slack and full views are not pins)."""
    by_base = {}
    for r in truth["arrays"]:
        if r["base"]:
            by_base.setdefault(r["base"], []).append(r)
    out = {}
    for base, views in by_base.items():
        b = truth["by_addr"].get(base)
        if b is None or not b["flags"]["owndata"]:
            continue
        entry = view_entry(base, b["type"], b["held_bytes"], b["refcnt"],
                           views)
        if (entry["pinned_bytes"] >= MIN_PINNED
                and entry["pinned_bytes"] >= entry["visible_bytes"]):
            out[base] = entry
    return out


def view_entry(base, base_type, base_bytes, refcnt, views):
    visible = min(sum(v["nbytes"] for v in views), base_bytes)
    return {"base": base, "base_type": base_type, "base_bytes": base_bytes,
            "base_refcnt": refcnt, "base_refs_from_views": len(views),
            "pinned_only_by_views": refcnt == len(views),
            "views": sorted(v["addr"] for v in views),
            "visible_bytes": visible, "pinned_bytes": base_bytes - visible}


def filter_match(option, value, entry):
    if option == "dtype":
        return entry.get("dtype") == value
    if option == "min-size":
        return entry.get("nbytes", -1) >= int(value, 0)
    return entry.get("owner") == int(value, 0)


def queries(truth):
    """(label, addr) for `array ADDR`, (option, value) for filters."""
    lab = truth["by_label"]
    seed = truth["seed"]
    picks = [("seed_tiny", seed["tiny"]), ("seed_base", seed["base"]),
             ("seed_large", seed["large"])]
    for name in ("memmap_view", "myarr_view_of_view", "matrix_T", "zerod_f8",
                 "struct_field", "frombytearray_big", "as_strided",
                 "object_holder[0]", "frombytes_empty", "from_mmap_anon"):
        if name in lab:
            picks.append((name, lab[name]["addr"]))
    internal = sorted(r["label"] for r in truth["arrays"]
                      if r["origin"] == "numpy")
    if "numpy.ma.masked" in lab:
        picks.append(("numpy.ma.masked", lab["numpy.ma.masked"]["addr"]))
    elif internal:
        picks.append((internal[0], lab[internal[0]]["addr"]))
    for n, addr in enumerate(truth["dead"][:2]):
        picks.append(("dead%d" % n, addr))
    if "frombytes_small" in lab:
        picks.append(("bytes_object", lab["frombytes_small"]["base"]))
    picks.append(("unmapped", 16))
    owner = lab["base2d"]["owner"] if "base2d" in lab else seed["base"]
    filters = [("dtype", "<f8"), ("dtype", "<M8[ns]"), ("dtype", "|V20"),
               ("min-size", "800000"), ("owner", "%d" % owner)]
    return [(label.replace(" ", "_"), addr) for label, addr in picks], \
        filters


# --- checks ------------------------------------------------------------------
def describe(truth, addr):
    r = truth["by_addr"].get(addr)
    return "0x%x (%s)" % (addr, r["label"]) if r else "0x%x" % addr


def expect(problems, what, got, want):
    if got != want:
        problems.append("%s: heapinspect %r, truth %r" % (what, got, want))


def threshold_text(reason, threshold):
    """reason names the threshold: digits, plain or with separators."""
    if not isinstance(reason, str):
        return False
    plain = str(threshold)
    grouped = "{:,}".format(threshold)
    return re.search(r"(?<![\d,])(%s|%s)(?![\d,])" % (re.escape(plain),
                                                     re.escape(grouped)),
                     reason) is not None


def document_problems(name, doc, command, truth, counts=True):
    """Top-level members and the numpy member of one output."""
    problems = []
    expect(problems, name + " schema", doc.get("schema"), SCHEMA)
    expect(problems, name + " command", doc.get("command"), command)
    target = doc.get("target") or {}
    expect(problems, name + " target.pid", target.get("pid"), truth["pid"])
    np_ = doc.get("numpy")
    if not isinstance(np_, dict):
        problems.append(name + ": no numpy member")
        return problems
    expect(problems, name + " numpy.found", np_.get("found"), True)
    if "error" in np_:
        problems.append("%s numpy.error: %r" % (name, np_["error"]))
    module = np_.get("module")
    expect(problems, name + " numpy.module",
           os.path.realpath(module) if isinstance(module, str) else module,
           truth["numpy_module"])
    for key in ("abi_version", "api_version", "ndarray_type",
                "mmap_threshold", "mmap_threshold_dynamic"):
        expect(problems, "%s numpy.%s" % (name, key), np_.get(key),
               truth[key])
    versions = np_.get("versions")
    release = tuple(int(x) for x in truth["numpy_version"].split(".")[:2])
    match = re.match(r"^(\d+)\.(\d+)-(\d+)\.(\d+)$", versions or "") \
        if isinstance(versions, str) else None
    if not match or not ((int(match.group(1)), int(match.group(2))) <=
                         release <= (int(match.group(3)),
                                     int(match.group(4)))):
        problems.append("%s numpy.versions %r does not hold NumPy %s"
                        % (name, versions, truth["numpy_version"]))
    if not isinstance(np_.get("layout"), str) or not np_["layout"]:
        problems.append("%s numpy.layout %r" % (name, np_.get("layout")))
    expect(problems, name + " numpy.verified_live", np_.get("verified_live"),
           True)
    if np_.get("ndarray_type_method") not in TYPE_METHODS:
        problems.append("%s numpy.ndarray_type_method %r"
                        % (name, np_.get("ndarray_type_method")))
    if counts:
        for key, want in sorted(expected_counts(truth).items()):
            expect(problems, "%s numpy.%s" % (name, key), np_.get(key), want)
    return problems


def check_documents(report, what, docs, truth, counts=True):
    """docs: (name, doc, command) of outputs checked as one group."""
    problems = []
    for name, doc, command in docs:
        problems += document_problems(name, doc, command, truth, counts)
    np_ = docs[0][1].get("numpy") or {} if docs else {}
    report.group(what, problems,
                 "%d output(s): NumPy %s, layout %s, ndarray_type via %s, "
                 "threshold %s" % (len(docs), truth["numpy_version"],
                                   np_.get("layout"),
                                   np_.get("ndarray_type_method"),
                                   np_.get("mmap_threshold")))


def check_cache(report, truth, doc):
    problems = []
    cache = (doc.get("numpy") or {}).get("cache")
    if not isinstance(cache, dict):
        return report.group("cache", ["no numpy.cache member"])
    expect(problems, "cache.found", cache.get("found"), True)
    if cache.get("method") not in CACHE_METHODS:
        problems.append("cache.method %r" % cache.get("method"))
    buckets = cache.get("buckets") or []
    totals = {"data": [0, 0], "dims": [0, 0]}
    seen = set()
    for b in buckets:
        kind, size, entries = b.get("kind"), b.get("size"), b.get("entries")
        if kind not in totals or not isinstance(size, int) or \
                not isinstance(entries, list):
            problems.append("malformed bucket %r" % (b,))
            continue
        limit = NBUCKETS if kind == "data" else NBUCKETS_DIM
        if not 0 <= size < limit:
            problems.append("%s bucket size %d >= %d" % (kind, size, limit))
        if b.get("count") != len(entries) or not 0 < len(entries) <= NCACHE:
            problems.append("%s bucket %d: count %r, %d entries"
                            % (kind, size, b.get("count"), len(entries)))
        for e in entries:
            if e in seen:
                problems.append("cached pointer 0x%x listed twice" % e)
            seen.add(e)
        totals[kind][0] += len(entries)
        totals[kind][1] += len(entries) * size * (1 if kind == "data" else 8)
    for kind, (count, least) in sorted(totals.items()):
        got = cache.get(kind) or {}
        expect(problems, "cache.%s.count" % kind, got.get("count"), count)
        if not isinstance(got.get("bytes"), int) or got["bytes"] < least:
            problems.append("cache.%s.bytes %r < %d (size * count)"
                            % (kind, got.get("bytes"), least))
    want = sorted(truth["cache"]["entries"])
    mine = [b for b in buckets if b.get("kind") == "data" and
            b.get("size") == truth["cache"]["size"]]
    if len(mine) != 1:
        problems.append("%d data buckets of size %d"
                        % (len(mine), truth["cache"]["size"]))
    else:
        got = sorted(mine[0].get("entries") or [])
        if got != want:
            problems.append("data bucket %d: heapinspect %s, the target "
                            "freed %s into it"
                            % (truth["cache"]["size"],
                               [hex(a) for a in got], [hex(a) for a in want]))
    live = set(r["data"] for r in truth["arrays"] if r["flags"]["owndata"])
    for e in sorted(seen & live):
        problems.append("cached pointer 0x%x is the data of live array %s"
                        % (e, describe(truth, [r["addr"] for r in
                                              truth["arrays"] if
                                              r["data"] == e][0])))
    report.group("cache", problems,
                 "data bucket %d holds the %d freed buffers (method %s)"
                 % (truth["cache"]["size"], len(want), cache.get("method")))


def entry_list(doc, name, problems):
    arrays = doc.get("arrays")
    if not isinstance(arrays, list):
        problems.append("%s: no arrays list" % name)
        return {}
    out = {}
    for e in arrays:
        addr = e.get("addr") if isinstance(e, dict) else None
        if not isinstance(addr, int):
            problems.append("%s: an entry without an address: %r"
                            % (name, e))
        elif addr in out:
            problems.append("%s: 0x%x listed twice" % (name, addr))
        else:
            out[addr] = e
    return out


def check_membership(report, truth, entries):
    problems = []
    dead = set(truth["dead"])
    for addr in sorted(set(truth["by_addr"]) - set(entries)):
        problems.append("missing: live array %s" % describe(truth, addr))
    for addr in sorted(set(entries) - set(truth["by_addr"])):
        e = entries[addr]
        why = " (a freed array's address: a dead object)" \
            if addr in dead else ""
        problems.append("not a live array: 0x%x, type %r, dtype %r, shape "
                        "%r%s" % (addr, e.get("type"), e.get("dtype"),
                                  e.get("shape"), why))
    report.group("arrays: exactly the live arrays", problems,
                 "%d arrays (%d of NumPy's own)"
                 % (len(truth["arrays"]),
                    sum(1 for r in truth["arrays"]
                        if r["origin"] == "numpy")))


def check_fields(report, truth, entries):
    fields = ARRAY_FIELDS + ("flags",) + tuple(
        f for f in OPTIONAL_FIELDS if any(f in e for e in entries.values()))
    per_field = {f: [] for f in fields}
    for addr, r in sorted(truth["by_addr"].items()):
        e = entries.get(addr)
        if e is None:
            continue
        what = describe(truth, addr)
        for f in fields:
            if f != "flags":
                expect(per_field[f], "%s %s" % (what, f), e.get(f), r[f])
        flags = e.get("flags")
        if not isinstance(flags, dict):
            per_field["flags"].append("%s: no flags object" % what)
            continue
        for f in FLAG_NAMES:
            expect(per_field["flags"], "%s flags.%s" % (what, f),
                   flags.get(f), r["flags"][f])
    for f in fields:
        report.group("arrays: %s" % f, per_field[f],
                     "equal for every live array")


def check_buffer(problems, truth, r, e):
    want = r["buffer"]
    got = e.get("buffer")
    what = describe(truth, r["addr"])
    if not isinstance(got, dict):
        problems.append("%s: no buffer object" % what)
        return
    kind = want["kind"]
    expect(problems, what + " buffer.kind", got.get("kind"), kind)
    if got.get("kind") != kind or kind == "static":
        if kind == "static" and got.get("path") is not None:
            expect(problems, what + " buffer.path", got.get("path"),
                   want["path"])
        return
    for key in ("alloc", "size", "offset"):
        expect(problems, "%s buffer.%s" % (what, key), got.get(key),
               want[key])
    if kind in GLIBC_KINDS:
        expect(problems, what + " buffer.usable_size",
               got.get("usable_size"), want["usable_size"])
    if kind == "glibc-chunk":
        arena = got.get("arena")
        if want["non_main_arena"]:
            if not isinstance(arena, int) or arena < 1:
                problems.append("%s buffer.arena %r: the chunk is not in "
                                "the main arena" % (what, arena))
        else:
            expect(problems, what + " buffer.arena", arena, 0)
    if kind == "file-mapping":
        expect(problems, what + " buffer.path", got.get("path"),
               want["path"])
    if kind == "anonymous-mapping" and got.get("path") not in \
            (None, want["path"]):
        problems.append("%s buffer.path %r (maps: %r)"
                        % (what, got.get("path"), want["path"]))
    if r["flags"]["owndata"] and kind in GLIBC_KINDS and \
            (not isinstance(got.get("reason"), str) or not got["reason"]):
        problems.append("%s: owned glibc buffer without a reason" % what)


def check_buffers(report, truth, entries):
    by_kind = {}
    for addr, r in sorted(truth["by_addr"].items()):
        if addr in entries:
            problems = by_kind.setdefault(r["buffer"]["kind"], [])
            check_buffer(problems, truth, r, entries[addr])
    for kind, problems in sorted(by_kind.items()):
        n = sum(1 for r in truth["arrays"] if r["buffer"]["kind"] == kind)
        report.group("buffers: %s" % kind, problems, "%d arrays" % n)


def check_order(report, name, doc, key):
    items = doc.get(name)
    problems = []
    if isinstance(items, list):
        values = [i.get(key) if isinstance(i, dict) else None for i in items]
        for n in range(1, len(values)):
            if not (isinstance(values[n - 1], int) and
                    isinstance(values[n], int) and
                    values[n - 1] >= values[n]):
                problems.append("%s[%d].%s %r after %r"
                                % (name, n, key, values[n], values[n - 1]))
                break
    else:
        problems.append("no %s list" % name)
    report.group("%s sorted by %s descending" % (name, key), problems)


def check_seed(report, truth, entries, views_doc):
    seed = truth["seed"]
    threshold = truth["mmap_threshold"]
    problems = []
    for key in ("small", "large"):
        r = truth["by_addr"][seed[key]]
        e = entries.get(seed[key]) or {}
        buf = e.get("buffer") or {}
        what = "%s float64 buffer (%d B)" % (
            "10**4" if key == "small" else "10**5", r["nbytes"])
        expect(problems, what + " kind", buf.get("kind"),
               seed[key + "_kind"])
        reason = buf.get("reason")
        if not threshold_text(reason, threshold):
            problems.append("%s: reason %r does not name the mmap "
                            "threshold %d" % (what, reason, threshold))
        if key == "large" and truth["mode"] == "dynamic" and \
                "dynamic" not in (reason or ""):
            problems.append("%s: reason %r does not say the threshold was "
                            "raised dynamically" % (what, reason))
    views = views_doc.get("views") if isinstance(views_doc, dict) else None
    mine = [v for v in views or [] if isinstance(v, dict) and
            v.get("base") == seed["base"]]
    if len(mine) != 1:
        problems.append("%d views entries for the seed base 0x%x"
                        % (len(mine), seed["base"]))
    else:
        v = mine[0]
        expect(problems, "seed views", v.get("views"), [seed["tiny"]])
        expect(problems, "seed visible_bytes", v.get("visible_bytes"),
               seed["tiny_nbytes"])
        base_bytes = v.get("base_bytes")
        if not isinstance(base_bytes, int) or \
                base_bytes < seed["base_nbytes"]:
            problems.append("seed base_bytes %r < %d"
                            % (base_bytes, seed["base_nbytes"]))
        elif v.get("pinned_bytes") != base_bytes - seed["tiny_nbytes"]:
            problems.append("seed pinned_bytes %r != base_bytes %d - "
                            "visible %d" % (v.get("pinned_bytes"),
                                            base_bytes, seed["tiny_nbytes"]))
        expect(problems, "seed base_refs_from_views",
               v.get("base_refs_from_views"), seed["base_refcount"])
        expect(problems, "seed base_refcnt", v.get("base_refcnt"),
               seed["base_refcount"])
        expect(problems, "seed pinned_only_by_views",
               v.get("pinned_only_by_views"), True)
    report.group("seed", problems,
                 "10**4: %s, 10**5: %s below/above threshold %d; %d B view "
                 "pins a %d B base" % (seed["small_kind"], seed["large_kind"],
                                       threshold, seed["tiny_nbytes"],
                                       seed["base_nbytes"]))


def check_views(report, truth, doc):
    problems = []
    views = doc.get("views")
    if not isinstance(views, list):
        return report.group("views", ["no views list"])
    want = expected_views(truth)
    got = {}
    for v in views:
        base = v.get("base") if isinstance(v, dict) else None
        if not isinstance(base, int) or base in got:
            problems.append("malformed or repeated entry %r" % (v,))
            continue
        got[base] = v
    for base in sorted(set(want) - set(got)):
        w = want[base]
        problems.append("missing: base %s (%d B) seen by %d views (%d B), "
                        "pinned %d B" % (describe(truth, base),
                                         w["base_bytes"], len(w["views"]),
                                         w["visible_bytes"],
                                         w["pinned_bytes"]))
    by_base = {}
    for r in truth["arrays"]:
        if r["base"]:
            by_base.setdefault(r["base"], []).append(r)
    for base, v in sorted(got.items()):
        what = "base " + describe(truth, base)
        if base in want:
            for key, value in sorted(want[base].items()):
                got_value = sorted(v.get(key) or []) if key == "views" \
                    else v.get(key)
                expect(problems, "%s %s" % (what, key), got_value, value)
            continue
        b = truth["by_addr"].get(base)
        if b is not None and b["flags"]["owndata"]:
            problems.append("%s: listed, but its views see all %d usable "
                            "bytes" % (what, b["held_bytes"]))
            continue
        mine = by_base.get(base)
        if not mine:
            problems.append("%s: no live array has it as base" % what)
            continue
        expect(problems, what + " base_type", v.get("base_type"),
               mine[0]["base_type"])
        expect(problems, what + " views", sorted(v.get("views") or []),
               sorted(r["addr"] for r in mine))
        expect(problems, what + " base_refs_from_views",
               v.get("base_refs_from_views"), len(mine))
        expect(problems, what + " base_refcnt", v.get("base_refcnt"),
               mine[0]["base_refcnt"])
        expect(problems, what + " pinned_only_by_views",
               v.get("pinned_only_by_views"),
               mine[0]["base_refcnt"] == len(mine))
        base_bytes = v.get("base_bytes")
        if not isinstance(base_bytes, int):
            problems.append("%s base_bytes %r" % (what, base_bytes))
            continue
        visible = min(sum(r["nbytes"] for r in mine), base_bytes)
        expect(problems, what + " visible_bytes", v.get("visible_bytes"),
               visible)
        expect(problems, what + " pinned_bytes", v.get("pinned_bytes"),
               base_bytes - visible)
        if base_bytes - visible <= 0:
            problems.append("%s: listed with nothing pinned" % what)
    report.group("views", problems,
                 "%d bases pin memory their views do not see (%d B)"
                 % (len(want), sum(w["pinned_bytes"]
                                   for w in want.values())))


def check_array_queries(report, truth, entries, outputs):
    problems = []
    for addr, name, doc in outputs:
        what = "array %s" % describe(truth, addr)
        if doc.get("command") != "array":
            problems.append("%s: command %r" % (what, doc.get("command")))
        if "array" not in doc:
            problems.append("%s: no array member" % what)
            continue
        got = doc["array"]
        if addr in truth["by_addr"]:
            if got != entries.get(addr):
                problems.append("%s: differs from its arrays entry: %s"
                                % (what, first_difference(
                                    got, entries.get(addr))))
        elif got is not None:
            problems.append("%s: not a live array, but heapinspect gives "
                            "%r" % (what, got))
        elif not isinstance(doc.get("error"), str) or not doc["error"]:
            problems.append("%s: null without an error" % what)
    report.group("array ADDR", problems,
                 "%d addresses (%d live arrays)"
                 % (len(outputs), sum(1 for a, _, _ in outputs
                                      if a in truth["by_addr"])))


def first_difference(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if a.get(k) != b.get(k):
                return first_difference(a.get(k), b.get(k), path + "." + k)
    return "%s %r vs %r" % (path or "value", a, b)


def check_filters(report, entries, outputs):
    problems = []
    for option, value, name, doc in outputs:
        got = entry_list(doc, name, problems)
        want = {a: e for a, e in entries.items()
                if filter_match(option, value, e)}
        if set(got) != set(want):
            problems.append("--%s %s: %d entries, %d of the full list match "
                            "(missing %s, extra %s)"
                            % (option, value, len(got), len(want),
                               [hex(a) for a in sorted(set(want) -
                                                       set(got))][:4],
                               [hex(a) for a in sorted(set(got) -
                                                       set(want))][:4]))
        for addr in sorted(set(got) & set(want)):
            if got[addr] != want[addr]:
                problems.append("--%s %s: 0x%x differs from the full list: "
                                "%s" % (option, value, addr,
                                        first_difference(got[addr],
                                                         want[addr])))
                break
        if not want:
            problems.append("--%s %s: no array matches (a useless query)"
                            % (option, value))
    report.group("arrays filters", problems,
                 "; ".join("--%s %s" % (o, v) for o, v, _, _ in outputs))


def check_mp(report, truth, doc, docs):
    problems = []
    mp = doc.get("mp") or {}
    expect(problems, "mp.mmap_threshold", mp.get("mmap_threshold"),
           truth["mmap_threshold"])
    expect(problems, "mp.no_dyn_threshold", mp.get("no_dyn_threshold"),
           truth["no_dyn_threshold"])
    expect(problems, "mp.mmap_threshold_dynamic",
           mp.get("mmap_threshold_dynamic"), truth["mmap_threshold_dynamic"])
    for name, d in docs:
        np_ = d.get("numpy") or {}
        for key in ("mmap_threshold", "mmap_threshold_dynamic"):
            if np_.get(key) != mp.get(key):
                problems.append("%s numpy.%s %r, mp.%s %r"
                                % (name, key, np_.get(key), key,
                                   mp.get(key)))
    report.group("mp agrees", problems, "threshold %d, %s"
                 % (truth["mmap_threshold"],
                    "raised dynamically" if truth["mmap_threshold_dynamic"]
                    else "fixed by mallopt"))


def run_checks(report, truth, args):
    report.group("truth file", truth_problems(truth), truth_summary(truth))
    arrays_doc = load_json(args["arrays"])
    views_doc = load_json(args["views"])
    docs = [("arrays", arrays_doc), ("views", views_doc)]
    check_documents(report, "arrays, views: top level and numpy member",
                    [("arrays", arrays_doc, "arrays"),
                     ("views", views_doc, "views")], truth)
    problems = []
    entries = entry_list(arrays_doc, "arrays", problems)
    report.group("arrays list", problems, "%d entries" % len(entries))
    check_membership(report, truth, entries)
    check_fields(report, truth, entries)
    check_buffers(report, truth, entries)
    check_order(report, "arrays", arrays_doc, "held_bytes")
    check_cache(report, truth, arrays_doc)
    check_seed(report, truth, entries, views_doc)
    check_views(report, truth, views_doc)
    check_order(report, "views", views_doc, "pinned_bytes")
    outputs = []
    for addr, path in args["array"]:
        doc = load_json(path)
        outputs.append((addr, path, doc))
        docs.append(("array 0x%x" % addr, doc))
    if outputs:
        check_documents(report, "array ADDR: top level and numpy member",
                        [("array 0x%x" % a, d, "array")
                         for a, _, d in outputs], truth)
        check_array_queries(report, truth, entries, outputs)
    filtered = []
    for option, value, path in args["filter"]:
        filtered.append((option, value, path, load_json(path)))
    if filtered:
        check_documents(report, "arrays filters: top level and numpy member",
                        [("arrays --%s %s" % (o, v), d, "arrays")
                         for o, v, _, d in filtered], truth, counts=False)
        check_filters(report, entries, filtered)
    if args["mp"]:
        check_mp(report, truth, load_json(args["mp"]), docs)


def check_no_numpy(report, pid, paths):
    for path in paths:
        problems = []
        doc = load_json(path)
        expect(problems, "schema", doc.get("schema"), SCHEMA)
        expect(problems, "target.pid", (doc.get("target") or {}).get("pid"),
               pid)
        np_ = doc.get("numpy")
        if not isinstance(np_, dict):
            problems.append("no numpy member")
        else:
            expect(problems, "numpy.found", np_.get("found"), False)
            error = np_.get("error")
            if not isinstance(error, str) or not re.search(
                    r"not (loaded|imported)|no numpy", error, re.I):
                problems.append("numpy.error %r does not say NumPy is not "
                                "loaded" % (error,))
        for key in ("arrays", "views"):
            if doc.get(key) not in (None, []):
                problems.append("%s: %r, not empty" % (key, doc.get(key)))
        report.group("no NumPy: %s" % os.path.basename(path), problems,
                     "numpy.found false: %r"
                     % ((np_ or {}).get("error"),))


# --- a correct heapinspect's output, for the checker's self-test -------------
def expected_entry(truth, r):
    e = {f: r[f] for f in ARRAY_FIELDS + OPTIONAL_FIELDS}
    e["addr"] = r["addr"]
    e["flags"] = dict(r["flags"])
    want = r["buffer"]
    buf = {"kind": want["kind"]}
    if want["kind"] != "static":
        buf.update(alloc=want["alloc"], size=want["size"],
                   offset=want["offset"])
    if want["kind"] in GLIBC_KINDS:
        buf["usable_size"] = want["usable_size"]
    if want["kind"] == "glibc-chunk":
        buf["arena"] = 1 if want["non_main_arena"] else 0
    if "path" in want:
        buf["path"] = want["path"]
    if r["flags"]["owndata"] and want["kind"] in GLIBC_KINDS:
        big = want["kind"] == "mmapped-chunk"
        buf["reason"] = "%d B %s mmap threshold %d%s" % (
            r["nbytes"], ">=" if big else "<", truth["mmap_threshold"],
            " (dynamic: raised by a free of an mmapped chunk)"
            if truth["mmap_threshold_dynamic"] else "")
    e["buffer"] = buf
    return e


def expected_numpy(truth):
    n = {"found": True, "module": truth["numpy_module"],
         "versions": "1.23-1.24", "abi_version": truth["abi_version"],
         "api_version": truth["api_version"], "layout": "numpy-1.23-1.24",
         "verified_live": True, "ndarray_type": truth["ndarray_type"],
         "ndarray_type_method": "PyArray_API",
         "mmap_threshold": truth["mmap_threshold"],
         "mmap_threshold_dynamic": truth["mmap_threshold_dynamic"]}
    n.update(expected_counts(truth))
    entries = truth["cache"]["entries"]
    n["cache"] = {"found": True, "method": "heuristic",
                  "data": {"count": len(entries),
                           "bytes": len(entries) * truth["cache"]["size"]},
                  "dims": {"count": 0, "bytes": 0},
                  "buckets": [{"kind": "data", "size": truth["cache"]["size"],
                               "count": len(entries),
                               "entries": list(entries)}]}
    return n


def write_expected(truth, directory):
    def doc(command, **members):
        d = {"schema": SCHEMA, "command": command,
             "target": {"pid": truth["pid"], "exe": truth["executable"],
                        "source": "live"},
             "diagnostics": [], "numpy": expected_numpy(truth)}
        d.update(members)
        return d

    def write(name, d):
        path = os.path.join(directory, name)
        with open(path, "w") as stream:
            json.dump(d, stream, indent=1)
        return path

    entries = sorted((expected_entry(truth, r) for r in truth["arrays"]),
                     key=lambda e: (-e["held_bytes"], e["addr"]))
    by_addr = {e["addr"]: e for e in entries}
    views = sorted(expected_views(truth).values(),
                   key=lambda v: (-v["pinned_bytes"], v["base"]))
    argv = [sys.argv[0], "TRUTH",
            "--arrays", write("arrays.json", doc("arrays", arrays=entries)),
            "--views", write("views.json", doc("views", views=views))]
    mp = {"mmap_threshold": truth["mmap_threshold"],
          "mmap_threshold_dynamic": truth["mmap_threshold_dynamic"],
          "no_dyn_threshold": truth["no_dyn_threshold"]}
    argv += ["--mp", write("mp.json", {"schema": SCHEMA, "command": "mp",
                                       "target": {"pid": truth["pid"]},
                                       "mp": mp})]
    picks, filters = queries(truth)
    for _, addr in picks:
        if addr in by_addr:
            d = doc("array", array=by_addr[addr])
        else:
            d = doc("array", array=None, error="no array at 0x%x" % addr)
        argv += ["--array", "%d" % addr,
                 write("array.%d.json" % addr, d)]
    for n, (option, value) in enumerate(filters):
        d = doc("arrays", arrays=[e for e in entries
                                  if filter_match(option, value, e)])
        argv += ["--filter", option, value,
                 write("filter.%d.json" % n, d)]
    print(" ".join(argv))


# --- command line ------------------------------------------------------------
def parse_check_args(args):
    out = {"arrays": None, "views": None, "mp": None, "array": [],
           "filter": []}
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--arrays", "--views", "--mp") and i + 1 < len(args):
            out[a[2:]] = args[i + 1]
            i += 2
        elif a == "--array" and i + 2 < len(args):
            out["array"].append((int(args[i + 1], 0), args[i + 2]))
            i += 3
        elif a == "--filter" and i + 3 < len(args) and \
                args[i + 1] in FILTERS:
            out["filter"].append((args[i + 1], args[i + 2], args[i + 3]))
            i += 4
        else:
            return None
    if not out["arrays"] or not out["views"]:
        return None
    return out


def main(argv):
    args = argv[1:]
    report = Report()
    try:
        if len(args) == 2 and args[0] == "--truth":
            truth = load_truth(args[1])
            report.group("truth file", truth_problems(truth),
                         truth_summary(truth))
        elif len(args) == 2 and args[0] == "--queries":
            picks, filters = queries(load_truth(args[1]))
            for label, addr in picks:
                print("array %s %d" % (label, addr))
            for option, value in filters:
                print("filter %s %s" % (option, value))
            return 0
        elif len(args) == 3 and args[0] == "--write-expected":
            write_expected(load_truth(args[1]), args[2])
            return 0
        elif len(args) >= 3 and args[0] == "--no-numpy":
            check_no_numpy(report, int(args[1]), args[2:])
        else:
            parsed = parse_check_args(args[1:]) if args else None
            if parsed is None:
                sys.stderr.write(__doc__)
                return 2
            run_checks(report, load_truth(args[0]), parsed)
    except (OSError, ValueError, KeyError, TypeError, AttributeError,
            IndexError) as error:
        report.group("input", ["%s: %s" % (type(error).__name__, error)])
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
