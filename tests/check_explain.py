#!/usr/bin/python3
"""check_explain.py - check `heapinspect --json explain PID` against the
truth a target of tests/explain-seeds.test printed about itself.

Usage:
  check_explain.py TRUTH EXPLAIN [--summary F] [--chunks F] [--mp F]
                   [--pyarenas F] [--at ADDR F]... [--summary-text F]
      TRUTH       the target's stdout (tests/targets/explain_seeds.py,
                  tests/targets/explain_truth.c: "key value..." lines)
      EXPLAIN     output of `heapinspect --json explain PID`
      --summary   `heapinspect --json summary PID` (arenas, heaps, tops, mp)
      --chunks    `heapinspect --json chunks PID` (every chunk)
      --mp        `heapinspect --json mp PID`
      --pyarenas  `heapinspect --json pyarenas PID` (scenario floats)
      --at A F    `heapinspect --json chunks --state inuse,tcache,fastbin
                  --from A --to A+1 PID`, for every A that --plan prints
      --summary-text  `heapinspect PID` (text): must name the top pin
  check_explain.py --plan EXPLAIN
      print the address of every heap-top pin, one a line (the --at queries)
  check_explain.py --trim TRUTH EXPLAIN...
      after the target answered SIGUSR1 (its last "trim BEFORE AFTER RESULT"
      line: RssAnon before and after its own malloc_trim(0)): the real drop
      must be trim.would_return within max(1%, 1 MiB), BEFORE must still be
      measured_anon within the same tolerance, and every EXPLAIN (the
      debuginfo and --no-debuginfo runs) must agree on would_return,
      by_arena and the pins
  check_explain.py --selftest
      run every check on hand-made documents of every scenario: the correct
      ones must pass, each planted fault must be caught
  check_explain.py --write-sample DIR
      write the hand-made documents of scenario "lid" (a reference of the
      JSON interface) into DIR and print the checker's command line for them

Prints one PASS/FAIL line per check group (the first differences under a
FAIL), last "N passed, N failed"; exits 1 if anything failed, 2 on a usage
error.  Standard library only (Debian 12's /usr/bin/python3); reuses
check_glibc.py's Report and load_json.

The interface checked (the "explain" member of the top-level object):
  rss: measured_anon, resident_anon, regions [{kind, mapped, resident,
       live, free, overhead}], live_by_owner [{owner, bytes}], remainder
  trim: would_return, by_arena [{arena, top_trim, madvise}]
  pins: [{kind, bytes, resident, addr, size, state, owner, arena, run
         {addr, size}, lid {count, bytes}, what, release}], largest first

Checks on every target (TOL(x) = max(x / 100, 1 MiB)):
  - shape: the members above with integer values >= 0 (remainder signed),
    non-empty one-line what and release.
  - vocabulary (its own group; the other checks run anyway): region kinds
    brk-heap | arena-heaps | mmapped-chunks | pymalloc-arenas | other-anon
    | file-cow, owners python:TYPE | numpy | numpy-cache | raw-malloc |
    pymalloc:unrecognised | other-anon | module-data, pin
    kinds heap-top | pymalloc-arena | numpy-view | numpy-cache |
    mmap-threshold.
  - rss: per region live + free + overhead == resident <= mapped;
    |measured_anon - sum(resident)| <= TOL(measured_anon) (the acceptance
    point "RSS attribution sums to the measured anonymous RSS within 1%");
    remainder == measured_anon - sum(resident) exactly; resident_anon
    within TOL of measured_anon; measured_anon within TOL of the RssAnon
    the target read itself just before READY; sum(live_by_owner) <=
    sum(regions' live).
  - trim: would_return == sum(top_trim + madvise); arenas distinct and
    existing; top_trim == 0 for every arena but 0 (glibc 2.36 mtrim calls
    systrim for main_arena only); with --summary and --chunks, per arena,
    at most what glibc 2.36 could release regardless of residency:
    consolidate fastbins with their free neighbours (into top when they
    border it), madvise [ALIGN_UP(p + 48, 4096), p + size) rounded down to
    pages for every free chunk of more than 4095 + 48 bytes, and in arena 0
    systrim(0): ALIGN_DOWN(top size - MINSIZE - 1, 4096).
  - pins: sorted by bytes descending; resident <= bytes.
  - heap-top pins, with --summary and --chunks: exactly one for each run
    of adjacent free chunks (unsorted/smallbin/largebin) of at least
    mp.trim_threshold bytes in one heap (the brk heap for arena 0, each of
    summary's heaps for the others) whose next chunk is in use (inuse,
    tcache, fastbin): same arena, run {addr, size}, addr/size/state of that
    next chunk, lid = the in-use chunks from the run's end to the heap's
    top chunk or end (count, bytes); bytes >= run.size - top_pad - 4096.
    With --at: the lookup of each pin's addr finds that one chunk, in the
    pin's state.
  - --summary-text: the text summary names the top pin's kind, and for a
    heap-top, pymalloc-arena or numpy-view pin its addr (or its run's) as a
    hex number.
Per scenario (truth "scenario" line):
  lists        the truth shows the seed (RSS after del a >= 90% of the item
               arrays' chunk bytes); arena-0 heap-top pins' runs add up to
               >= 95% of those bytes; the pin whose run is highest has addr
               == the chunk of a[-tcache_count] (list_dealloc frees a[-1]
               first; the tcache keeps the first tcache_count), state
               "tcache", lid.count >= tcache_count; no python:list owner
               with >= 1% of the item bytes.
  numpy-sizes  the truth shows the seed (the 10**4 buffer a heap chunk whose
               del did not lower RSS, the 10**5 one an mmapped chunk whose
               del lowered it by >= 90% of its size); no pin at or inside
               either buffer; with --chunks neither is an in-use or mmapped
               chunk any more.
  numpy-view   a numpy-view pin with addr == id(tiny), size == tiny.nbytes,
               bytes >= big.nbytes, resident within 16 KiB of the buffer's
               mincore() count, owner numpy.ndarray; it is the top pin;
               live_by_owner numpy >= that resident count - TOL.
  floats       pymalloc-arena pins == pyarenas' low-use arenas (same
               addresses, sum of bytes == count * arena_size, size ==
               arena_size), each owner T (the type's name, as pyarenas'
               held_by says it) among its arena's held_by types, float where
               float is the only holder;
               every low-use arena holding a kept float is pinned.  The
               empty arena pymalloc keeps of its own accord (used_blocks 0)
               may be pinned too, with owner null.
  lid, thread  a heap-top pin (arena 0 for lid, the thread's arena >= 1 for
               thread) with addr == lid - 16, size == the lid's chunk size,
               run ending at the lid's chunk and run.size >= the freed bytes
               minus tcache_count chunks, state inuse, no Python/NumPy owner.
  threshold    mp: mmap_threshold == the freed mmapped chunk's size,
               trim_threshold twice that, mmap_threshold_dynamic true; the 4
               MiB block is an in-use arena-0 chunk (--chunks); explain
               names the threshold: a string in explain or a diagnostic
               (decimal, with or without thousands separators, hex, or in
               KiB/MiB), or an "mmap-threshold" pin whose size it is.
"""

import contextlib
import copy
import io
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_glibc import Report, load_json  # noqa: E402

KIB = 1 << 10
MIB = 1 << 20
PAGE = 4096
MINSIZE = 32
MALLOC_CHUNK = 48               # sizeof (struct malloc_chunk), x86-64
IS_MMAPPED = 2
NON_MAIN_ARENA = 4
SIZE_BITS = 7
DEFAULT_TCACHE_COUNT = 7
REGION_KINDS = ("brk-heap", "arena-heaps", "mmapped-chunks",
                "pymalloc-arenas", "other-anon", "file-cow")
REGION_FIELDS = ("mapped", "resident", "live", "free", "overhead")
PIN_KINDS = ("heap-top", "pymalloc-arena", "numpy-view", "numpy-cache",
             "mmap-threshold")
ADDRESSED_PINS = ("heap-top", "pymalloc-arena", "numpy-view")
OWNER_RE = re.compile(r"^(python:\S.*|numpy|numpy-cache|raw-malloc|"
                      r"pymalloc:unrecognised|other-anon|module-data)$")
INUSE = ("inuse", "tcache", "fastbin")
FREE = ("unsorted", "smallbin", "largebin")
HEAP_END = ("top", "fencepost")
RESIDENT_SLACK = 16 * KIB
INPUT_ERRORS = (OSError, ValueError, KeyError, TypeError, AttributeError,
                IndexError)


def tol(value):
    return max(abs(value) // 100, MIB)


def is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def align_down(value, unit):
    return value // unit * unit


# --- truth -------------------------------------------------------------------

def parse_truth_text(text):
    """{key: [[value, ...], ...]} in file order; values are ints when they
    parse as decimal or 0x hex, else strings."""
    truth = {}
    for line in text.splitlines():
        words = line.split()
        if not words or words[0] == "READY":
            continue
        values = []
        for word in words[1:]:
            try:
                values.append(int(word, 0))
            except ValueError:
                values.append(word)
        truth.setdefault(words[0], []).append(values)
    return truth


def parse_truth(path):
    with open(path, encoding="ascii", errors="replace") as stream:
        return parse_truth_text(stream.read())


def one(truth, key):
    """The values of the single (or last) `key` line."""
    if key not in truth:
        raise KeyError("truth has no %r line" % key)
    return truth[key][-1]


# --- shape -------------------------------------------------------------------

def explain_of(doc):
    ex = doc.get("explain")
    if not isinstance(ex, dict):
        raise KeyError("no \"explain\" object in the report")
    return ex


def bad_ints(row, fields, signed=False):
    return [f for f in fields
            if not is_int(row.get(f)) or (not signed and row[f] < 0)]


def shape_problems(ex):
    """Problems that keep the other checks from running."""
    rss, trim, pins = ex.get("rss"), ex.get("trim"), ex.get("pins")
    if not isinstance(rss, dict):
        return ["explain.rss is not an object"]
    if not isinstance(trim, dict):
        return ["explain.trim is not an object"]
    if not isinstance(pins, list):
        return ["explain.pins is not a list"]
    problems = []
    for name in bad_ints(rss, ("measured_anon", "resident_anon")):
        problems.append("rss.%s: %r" % (name, rss.get(name)))
    if bad_ints(rss, ("remainder",), signed=True):
        problems.append("rss.remainder: %r" % (rss.get("remainder"),))
    regions = rss.get("regions")
    if not isinstance(regions, list) or not regions:
        problems.append("rss.regions: %r" % (regions,))
        regions = []
    for row in regions:
        if not isinstance(row, dict) or not isinstance(row.get("kind"), str):
            problems.append("rss.regions: bad row %r" % (row,))
            continue
        for field in bad_ints(row, REGION_FIELDS):
            problems.append("rss.regions %s.%s: %r"
                            % (row["kind"], field, row.get(field)))
    owners = rss.get("live_by_owner")
    if not isinstance(owners, list):
        problems.append("rss.live_by_owner: %r" % (owners,))
        owners = []
    for row in owners:
        if (not isinstance(row, dict) or not isinstance(row.get("owner"), str)
                or bad_ints(row, ("bytes",))):
            problems.append("rss.live_by_owner: bad row %r" % (row,))
    if bad_ints(trim, ("would_return",)):
        problems.append("trim.would_return: %r" % (trim.get("would_return"),))
    by_arena = trim.get("by_arena")
    if not isinstance(by_arena, list):
        problems.append("trim.by_arena: %r" % (by_arena,))
        by_arena = []
    for row in by_arena:
        if (not isinstance(row, dict)
                or bad_ints(row, ("arena", "top_trim", "madvise"))):
            problems.append("trim.by_arena: bad row %r" % (row,))
    for i, pin in enumerate(pins):
        problems += pin_shape_problems(i, pin)
    return problems


def pin_shape_problems(i, pin):
    where = "pins[%d]" % i
    if not isinstance(pin, dict):
        return ["%s: not an object" % where]
    problems = []
    if not isinstance(pin.get("kind"), str):
        problems.append("%s.kind: %r" % (where, pin.get("kind")))
    for field in bad_ints(pin, ("bytes", "resident", "addr", "size")):
        problems.append("%s.%s: %r" % (where, field, pin.get(field)))
    for field in ("what", "release"):
        text = pin.get(field)
        if not isinstance(text, str) or not text.strip() or "\n" in text:
            problems.append("%s.%s: not one non-empty line: %r"
                            % (where, field, text))
    owner = pin.get("owner")
    if owner is not None and not isinstance(owner, str):
        problems.append("%s.owner: %r" % (where, owner))
    if pin.get("kind") == "heap-top":
        if bad_ints(pin, ("arena",)):
            problems.append("%s.arena: %r" % (where, pin.get("arena")))
        if not isinstance(pin.get("state"), str):
            problems.append("%s.state: %r" % (where, pin.get("state")))
        for name, fields in (("run", ("addr", "size")),
                             ("lid", ("count", "bytes"))):
            sub = pin.get(name)
            if not isinstance(sub, dict) or bad_ints(sub, fields):
                problems.append("%s.%s: %r" % (where, name, sub))
    return problems


def vocabulary_problems(ex):
    """Names outside the interface (the other checks still run)."""
    problems = []
    for row in ex["rss"]["regions"]:
        if row["kind"] not in REGION_KINDS:
            problems.append("rss.regions: kind %r" % row["kind"])
    for row in ex["rss"]["live_by_owner"]:
        if not OWNER_RE.match(row["owner"]):
            problems.append("rss.live_by_owner: owner %r (%d B)"
                            % (row["owner"], row["bytes"]))
    for i, pin in enumerate(ex["pins"]):
        if pin["kind"] not in PIN_KINDS:
            problems.append("pins[%d].kind: %r" % (i, pin["kind"]))
    return problems


# --- rss ---------------------------------------------------------------------

def check_rss(report, ex, truth):
    rss = ex["rss"]
    regions = rss["regions"]
    problems = []
    for row in regions:
        parts = row["live"] + row["free"] + row["overhead"]
        if parts != row["resident"]:
            problems.append(
                "region %s: live %d + free %d + overhead %d = %d "
                "!= resident %d" % (row["kind"], row["live"], row["free"],
                                    row["overhead"], parts, row["resident"]))
        if row["resident"] > row["mapped"]:
            problems.append("region %s: resident %d > mapped %d"
                            % (row["kind"], row["resident"], row["mapped"]))
    report.group("rss regions: live + free + overhead == resident <= mapped",
                 problems, "%d regions" % len(regions))

    measured = rss["measured_anon"]
    total = sum(row["resident"] for row in regions)
    own = one(truth, "rss")[0]
    problems = []
    if abs(measured - total) > tol(measured):
        problems.append("sum of regions' resident %d vs measured_anon %d: "
                        "off by %d (> %d)" % (total, measured,
                                              total - measured, tol(measured)))
    if rss["remainder"] != measured - total:
        problems.append("remainder %d != measured_anon - sum(resident) = %d"
                        % (rss["remainder"], measured - total))
    if abs(rss["resident_anon"] - measured) > tol(measured):
        problems.append("resident_anon (pagemap) %d vs measured_anon %d: "
                        "off by %d" % (rss["resident_anon"], measured,
                                       rss["resident_anon"] - measured))
    if abs(measured - own) > tol(own):
        problems.append("measured_anon %d vs the target's own RssAnon %d at "
                        "READY: off by %d" % (measured, own, measured - own))
    report.group("rss attribution sums to the measured anonymous RSS",
                 problems, "measured %d, regions %d, remainder %d, target's "
                 "own %d" % (measured, total, measured - total, own))

    owners = rss["live_by_owner"]
    live = sum(row["live"] for row in regions)
    owned = sum(row["bytes"] for row in owners)
    names = [row["owner"] for row in owners]
    problems = []
    if owned > live:
        problems.append("live_by_owner adds up to %d > regions' live %d"
                        % (owned, live))
    if len(set(names)) != len(names):
        problems.append("live_by_owner names an owner twice: %r" % names)
    report.group("rss live_by_owner within the regions' live bytes",
                 problems, "%d owners, %d of %d live bytes"
                 % (len(owners), owned, live))


def owner_bytes(ex, owner):
    return sum(row["bytes"] for row in ex["rss"]["live_by_owner"]
               if row["owner"] == owner)


# --- heap model from summary + chunks ----------------------------------------

class Heaps:
    """The chunks of each glibc heap in address order, from `summary` and
    `chunks` JSON: heaps = [(arena index, [chunk, ...])]."""

    def __init__(self, summary, chunks_doc):
        self.mp = summary["mp"]
        self.arenas = summary["arenas"]
        self.heaps = []
        by_arena = {}
        for chunk in chunks_doc["chunks"]:
            if chunk.get("arena", -1) >= 0 and chunk["state"] != "mmapped":
                by_arena.setdefault(chunk["arena"], []).append(chunk)
        for arena in self.arenas:
            mine = sorted(by_arena.get(arena["index"], []),
                          key=lambda c: c["addr"])
            if arena["index"] == 0 or not arena.get("heaps"):
                self.heaps.append((arena["index"], mine))
                continue
            for heap in sorted(arena["heaps"], key=lambda h: h["addr"]):
                lo, hi = heap["addr"], heap["addr"] + heap["size"]
                self.heaps.append((arena["index"],
                                   [c for c in mine if lo <= c["addr"] < hi]))

    def top_runs(self):
        """The heap-top pins a correct explain reports (their chunk facts):
        runs of adjacent binned free chunks of at least trim_threshold
        bytes whose next chunk is in use."""
        want = []
        threshold = self.mp["trim_threshold"]
        for arena, chunks in self.heaps:
            i = 0
            while i < len(chunks):
                if chunks[i]["state"] not in FREE:
                    i += 1
                    continue
                j = i
                end = chunks[i]["addr"] + chunks[i]["size"]
                while (j + 1 < len(chunks)
                       and chunks[j + 1]["state"] in FREE
                       and chunks[j + 1]["addr"] == end):
                    j += 1
                    end += chunks[j]["size"]
                start = chunks[i]["addr"]
                nxt = chunks[j + 1] if j + 1 < len(chunks) else None
                if (end - start >= threshold and nxt is not None
                        and nxt["addr"] == end and nxt["state"] in INUSE):
                    lid = []
                    for chunk in chunks[j + 1:]:
                        if chunk["state"] in HEAP_END:
                            break
                        if chunk["state"] in INUSE:
                            lid.append(chunk)
                    want.append({
                        "arena": arena,
                        "run": {"addr": start, "size": end - start},
                        "addr": nxt["addr"], "size": nxt["size"],
                        "state": nxt["state"],
                        "lid": {"count": len(lid),
                                "bytes": sum(c["size"] for c in lid)}})
                i = j + 1
        return want

    def trim_bounds(self):
        """{arena: (top_trim bound, madvise bound)}: what glibc 2.36's
        malloc_trim(0) would release if every page were resident."""
        bounds = {}
        for arena, chunks in self.heaps:
            top_bound, madv = bounds.get(arena, (0, 0))
            runs = []       # after malloc_consolidate: [addr, size, is top]
            for chunk in chunks:
                adjacent = (runs and not runs[-1][2]
                            and runs[-1][0] + runs[-1][1] == chunk["addr"])
                if chunk["state"] == "top":
                    if adjacent:
                        runs[-1][1] += chunk["size"]
                        runs[-1][2] = True
                    else:
                        runs.append([chunk["addr"], chunk["size"], True])
                elif chunk["state"] in FREE or chunk["state"] == "fastbin":
                    if adjacent:
                        runs[-1][1] += chunk["size"]
                    else:
                        runs.append([chunk["addr"], chunk["size"], False])
            for addr, size, is_top in runs:
                if is_top:
                    area = size - MINSIZE - 1
                    if arena == 0 and area > 0:
                        top_bound += align_down(area, PAGE)
                    continue
                madv += madvise_of(addr, size)
            bounds[arena] = (top_bound, madv)
        return bounds


def madvise_of(addr, size):
    """What mtrim hands to MADV_DONTNEED for a free chunk at addr."""
    if size <= PAGE - 1 + MALLOC_CHUNK:
        return 0
    aligned = (addr + MALLOC_CHUNK + PAGE - 1) & ~(PAGE - 1)
    rest = size - (aligned - addr)
    return rest & ~(PAGE - 1) if rest > PAGE - 1 else 0


# --- trim --------------------------------------------------------------------

def check_trim(report, ex, heaps):
    trim = ex["trim"]
    rows = trim["by_arena"]
    problems = []
    total = sum(r["top_trim"] + r["madvise"] for r in rows)
    if total != trim["would_return"]:
        problems.append("would_return %d != sum of by_arena top_trim + "
                        "madvise %d" % (trim["would_return"], total))
    seen = [r["arena"] for r in rows]
    if len(set(seen)) != len(seen):
        problems.append("by_arena lists an arena twice: %r" % seen)
    for row in rows:
        if row["arena"] != 0 and row["top_trim"] != 0:
            problems.append("arena %d: top_trim %d, but glibc 2.36 malloc_trim"
                            " trims the top of main_arena only"
                            % (row["arena"], row["top_trim"]))
    heap_resident = sum(r["resident"] for r in ex["rss"]["regions"]
                        if r["kind"] in ("brk-heap", "arena-heaps"))
    if trim["would_return"] > heap_resident:
        problems.append("would_return %d > resident bytes of the glibc heaps "
                        "%d" % (trim["would_return"], heap_resident))
    note = "would_return %d" % trim["would_return"]
    if heaps is not None:
        bounds = heaps.trim_bounds()
        known = {a["index"] for a in heaps.arenas}
        for row in rows:
            if row["arena"] not in known:
                problems.append("by_arena: arena %d does not exist"
                                % row["arena"])
                continue
            top_bound, madv_bound = bounds.get(row["arena"], (0, 0))
            if row["top_trim"] > top_bound:
                problems.append("arena %d: top_trim %d > %d, all glibc could "
                                "sbrk away" % (row["arena"], row["top_trim"],
                                               top_bound))
            if row["madvise"] > madv_bound:
                problems.append("arena %d: madvise %d > %d, the whole free "
                                "pages of its free chunks after consolidation"
                                % (row["arena"], row["madvise"], madv_bound))
        note += "; bounds: " + ", ".join(
            "arena %d top %d madvise %d" % (a, t, m)
            for a, (t, m) in sorted(bounds.items()))
    report.group("trim figures consistent (glibc 2.36 mtrim/systrim)",
                 problems, note)


PIN_FIELDS = ("kind", "addr", "size", "bytes", "resident", "state", "owner",
              "arena")


def check_trim_real(report, truth, docs):
    """The runs agree; the target's own malloc_trim(0) drop."""
    exs = [explain_of(doc) for doc in docs]
    first = exs[0]
    problems = []
    for i, ex in enumerate(exs[1:], 1):
        if ex["trim"]["would_return"] != first["trim"]["would_return"]:
            problems.append("run %d: would_return %d, run 0: %d"
                            % (i, ex["trim"]["would_return"],
                               first["trim"]["would_return"]))
        rows = sorted(ex["trim"]["by_arena"], key=lambda r: r["arena"])
        if rows != sorted(first["trim"]["by_arena"], key=lambda r: r["arena"]):
            problems.append("run %d: by_arena differs from run 0's" % i)
        mine = [tuple(p.get(f) for f in PIN_FIELDS) for p in ex["pins"]]
        theirs = [tuple(p.get(f) for f in PIN_FIELDS) for p in first["pins"]]
        if mine != theirs:
            problems.append("run %d: pins differ from run 0's (%d vs %d pins)"
                            % (i, len(mine), len(theirs)))
    report.group("the debuginfo and --no-debuginfo runs agree", problems,
                 "%d runs" % len(exs))

    before, after, result = one(truth, "trim")[:3]
    drop = before - after
    want = first["trim"]["would_return"]
    slack = tol(max(drop, want))
    measured = first["rss"]["measured_anon"]
    problems = []
    if abs(drop - want) > slack:
        problems.append("would_return %d, but malloc_trim(0) took RssAnon from"
                        " %d to %d: a drop of %d (off by %d > %d)"
                        % (want, before, after, drop, want - drop, slack))
    if abs(before - measured) > tol(measured):
        problems.append("RssAnon before malloc_trim %d, measured_anon %d: the "
                        "target changed" % (before, measured))
    report.group("trim.would_return is what malloc_trim(0) gave back",
                 problems, "would_return %d, real drop %d (RssAnon %d -> %d, "
                 "malloc_trim returned %d)" % (want, drop, before, after,
                                               result))


# --- pins --------------------------------------------------------------------

def check_pins(report, ex):
    pins = ex["pins"]
    problems = []
    sizes = [p["bytes"] for p in pins]
    if sizes != sorted(sizes, reverse=True):
        problems.append("pins not sorted by bytes, largest first: %r"
                        % sizes[:20])
    kinds = {}
    for i, pin in enumerate(pins):
        kinds[pin["kind"]] = kinds.get(pin["kind"], 0) + 1
        if pin["resident"] > pin["bytes"]:
            problems.append("pins[%d] (%s at %#x): resident %d > bytes %d"
                            % (i, pin["kind"], pin["addr"], pin["resident"],
                               pin["bytes"]))
    report.group("pins ranked, resident <= bytes", problems, ", ".join(
        "%d %s" % (n, k) for k, n in sorted(kinds.items())) or "no pins")


def heap_top_pins(ex):
    return [p for p in ex["pins"] if p["kind"] == "heap-top"]


def check_heap_top(report, ex, heaps, lookups):
    got = heap_top_pins(ex)
    problems = []
    if heaps is not None:
        top_pad = heaps.mp.get("top_pad", 0)
        by_run = {(p["arena"], p["run"]["addr"]): p for p in got}
        if len(by_run) != len(got):
            problems.append("two heap-top pins for the same run")
        for want in heaps.top_runs():
            run = want["run"]
            pin = by_run.pop((want["arena"], run["addr"]), None)
            if pin is None:
                problems.append("no heap-top pin for the free run %#x (%d B) "
                                "of arena %d below the %s chunk %#x"
                                % (run["addr"], run["size"], want["arena"],
                                   want["state"], want["addr"]))
                continue
            for field in ("run", "addr", "size", "state", "lid"):
                if pin.get(field) != want[field]:
                    problems.append("heap-top pin of run %#x: %s %r, the "
                                    "chunks say %r" % (run["addr"], field,
                                                       pin.get(field),
                                                       want[field]))
            if pin["bytes"] < run["size"] - top_pad - PAGE:
                problems.append("heap-top pin of run %#x: bytes %d < run size"
                                " %d - top_pad %d" % (run["addr"],
                                                      pin["bytes"],
                                                      run["size"], top_pad))
        for (arena, addr), pin in sorted(by_run.items()):
            problems.append("heap-top pin of arena %d over %#x (%d B): no "
                            "free run of at least trim_threshold %d there "
                            "with an in-use chunk above it"
                            % (arena, addr, pin["run"]["size"],
                               heaps.mp["trim_threshold"]))
    for pin in got:
        if pin["addr"] not in lookups:
            continue
        found = lookups[pin["addr"]].get("chunks", [])
        if len(found) != 1 or found[0]["addr"] != pin["addr"]:
            problems.append("chunks --from %#x --to %#x: %d chunks, want the "
                            "pin's one" % (pin["addr"], pin["addr"] + 1,
                                           len(found)))
        elif (found[0]["state"] != pin.get("state")
              or found[0]["size"] != pin["size"]):
            problems.append("pin %#x: %s %d B, chunks says %s %d B"
                            % (pin["addr"], pin.get("state"), pin["size"],
                               found[0]["state"], found[0]["size"]))
    report.group("heap-top pins: one per trimmable free run kept by in-use "
                 "chunks above it", problems, "%d heap-top pins%s"
                 % (len(got), "" if heaps else " (no chunks given)"))


def check_summary_text(report, ex, text):
    problems = []
    pins = ex["pins"]
    if pins:
        top = pins[0]
        if top["kind"] not in text:
            problems.append("the text summary does not name the top pin's "
                            "kind %r" % top["kind"])
        if top["kind"] in ADDRESSED_PINS:
            named = {int(h, 16) for h in re.findall(r"0x([0-9a-fA-F]+)", text)}
            wanted = {top["addr"]}
            if isinstance(top.get("run"), dict):
                wanted.add(top["run"].get("addr"))
            if not named & wanted:
                problems.append("the text summary names none of %s (the top "
                                "pin)" % ", ".join("%#x" % a
                                                   for a in sorted(wanted)))
    report.group("the text summary ends with the top pins", problems,
                 "top pin %#x" % pins[0]["addr"] if pins else "no pins")


# --- scenarios ---------------------------------------------------------------

def tcache_count(heaps):
    if heaps is not None and is_int(heaps.mp.get("tcache_count")):
        return heaps.mp["tcache_count"]
    return DEFAULT_TCACHE_COUNT


def scenario_lists(report, truth, ex, heaps, extra):
    n, item_bytes = one(truth, "items")[:2]
    last = one(truth, "last_items")
    deleted = one(truth, "rss_deleted")[0]
    problems = []
    if deleted < item_bytes * 9 // 10:
        problems.append("RssAnon after del a is %d, under 90%% of the item "
                        "arrays' %d B: the seed did not reproduce"
                        % (deleted, item_bytes))
    report.group("lists: the seed reproduces (RSS stays after del a)",
                 problems, "%d item arrays, %d B in chunks, RssAnon after del"
                 " %d" % (n, item_bytes, deleted))

    pins = [p for p in heap_top_pins(ex) if p["arena"] == 0]
    runs = sum(p["run"]["size"] for p in pins)
    count = tcache_count(heaps)
    problems = []
    if runs < item_bytes * 95 // 100:
        problems.append("arena-0 heap-top pins hold runs of %d B in all, "
                        "under 95%% of the %d B freed" % (runs, item_bytes))
    if pins:
        high = max(pins, key=lambda p: p["run"]["addr"])
        if 0 < count <= len(last) and high["addr"] != last[count - 1]:
            problems.append("the highest run's pin is at %#x, want %#x: the "
                            "chunk of a[-%d] (list_dealloc frees a[-1] first,"
                            " the tcache keeps %d)" % (high["addr"],
                                                       last[count - 1], count,
                                                       count))
        if high.get("state") != "tcache":
            problems.append("the highest run's pin is in state %r, want "
                            "\"tcache\"" % (high.get("state"),))
        if high["lid"]["count"] < count:
            problems.append("the highest run's lid has %d chunks, want >= %d"
                            % (high["lid"]["count"], count))
    else:
        problems.append("no heap-top pin in arena 0")
    lists_live = owner_bytes(ex, "python:list")
    if lists_live >= item_bytes // 100:
        problems.append("live_by_owner python:list %d B after del a"
                        % lists_live)
    report.group("lists: the freed item arrays are pinned by the tcache'd "
                 "last ones", problems, "%d heap-top pins in arena 0, runs %s"
                 " B" % (len(pins), " + ".join(str(p["run"]["size"])
                                               for p in pins) or "0"))


def scenario_numpy_sizes(report, truth, ex, heaps, extra):
    arrays = {row[0]: row[1:] for row in truth["array"]}
    small, large = arrays[10**4], arrays[10**5]
    small_size = small[1] & ~SIZE_BITS
    big_size = large[1] & ~SIZE_BITS
    problems = []
    if small[1] & IS_MMAPPED or small[2] >= 64 * KIB:
        problems.append("10**4: size word %#x, RSS drop %d at del: want a "
                        "heap chunk, no drop" % (small[1], small[2]))
    if not large[1] & IS_MMAPPED or large[2] < big_size * 9 // 10:
        problems.append("10**5: size word %#x, RSS drop %d at del: want an "
                        "mmapped chunk whose size went back"
                        % (large[1], large[2]))
    report.group("numpy-sizes: the seed reproduces", problems,
                 "10**4: heap chunk, RSS drop %d; 10**5: mmapped %d B, RSS "
                 "drop %d" % (small[2], big_size, large[2]))

    problems = []
    spans = (("the freed 10**4 heap buffer", small[0] - 16, small_size),
             ("the freed 10**5 mmapped buffer", large[0] - 16, big_size))
    for what, lo, size in spans:
        for pin in ex["pins"]:
            if lo <= pin["addr"] < lo + max(size, 1):
                problems.append("%s pin at %#x lies in %s [%#x, %#x)"
                                % (pin["kind"], pin["addr"], what, lo,
                                   lo + size))
        for chunk in extra["chunks"]:
            if chunk["addr"] == lo and chunk["state"] in INUSE + ("mmapped",):
                problems.append("%s is still a %s chunk at %#x"
                                % (what, chunk["state"], lo))
    report.group("numpy-sizes: no pin for the freed buffers", problems,
                 "%d pins" % len(ex["pins"]))


def scenario_numpy_view(report, truth, ex, heaps, extra):
    view_addr, view_nbytes = one(truth, "view")[:2]
    base_nbytes = one(truth, "base")[3]
    resident = one(truth, "base_resident")[0]
    problems = []
    found = [p for p in ex["pins"]
             if p["kind"] == "numpy-view" and p["addr"] == view_addr]
    if len(found) != 1:
        problems.append("%d numpy-view pins with addr == id(tiny) %#x"
                        % (len(found), view_addr))
    else:
        pin = found[0]
        if pin["size"] != view_nbytes:
            problems.append("size %d, tiny.nbytes %d"
                            % (pin["size"], view_nbytes))
        if pin["bytes"] < base_nbytes:
            problems.append("bytes %d < big.nbytes %d"
                            % (pin["bytes"], base_nbytes))
        if abs(pin["resident"] - resident) > RESIDENT_SLACK:
            problems.append("resident %d, mincore() counts %d resident bytes "
                            "in the buffer" % (pin["resident"], resident))
        if pin.get("owner") != "numpy.ndarray":
            problems.append("owner %r, want \"numpy.ndarray\""
                            % (pin.get("owner"),))
        top = ex["pins"][0]
        if top is not pin:
            problems.append("the view's pin is not the top pin (top: %s at "
                            "%#x, %d B)" % (top["kind"], top["addr"],
                                            top["bytes"]))
    numpy_live = owner_bytes(ex, "numpy")
    if numpy_live < resident - tol(resident):
        problems.append("live_by_owner numpy %d < the buffer's resident %d"
                        % (numpy_live, resident))
    report.group("numpy-view: the 16-byte view pins the 160 MB buffer",
                 problems, "view %#x, buffer %d B, %d resident, numpy live %d"
                 % (view_addr, base_nbytes, resident, numpy_live))


def scenario_floats(report, truth, ex, heaps, extra):
    kept = one(truth, "kept")
    doc = extra.get("pyarenas")
    if doc is None:
        report.group("floats: pymalloc-arena pins agree with pyarenas",
                     ["no --pyarenas output given"])
        return
    size = doc["python"]["arena_size"]
    arenas = doc["pymalloc"]["arenas"]
    # Low-use arenas with blocks in use must be pinned.  pymalloc keeps one
    # empty arena of its own accord (used_blocks 0): it may be pinned too,
    # with no owner, as nothing but pymalloc holds it.
    low = {a["addr"]: a for a in arenas
           if a["low_use"] and a["used_blocks"] > 0}
    empty = {a["addr"]: a for a in arenas
             if a["low_use"] and a["used_blocks"] == 0}
    listed = [p for p in ex["pins"] if p["kind"] == "pymalloc-arena"]
    pins = {p["addr"]: p for p in listed}
    problems = []
    if len(pins) != len(listed):
        problems.append("two pymalloc-arena pins for one arena")
    for addr in sorted(set(low) - set(pins)):
        problems.append("low-use arena %#x (%d blocks in use) has no pin"
                        % (addr, low[addr]["used_blocks"]))
    for addr in sorted(set(pins) - set(low) - set(empty)):
        problems.append("pymalloc-arena pin at %#x is no low-use arena of "
                        "pyarenas" % addr)
    total = sum(p["bytes"] for p in pins.values())
    if total != len(pins) * size:
        problems.append("%d pymalloc-arena pins hold %d B, not %d arenas of "
                        "%d B" % (len(pins), total, len(pins), size))
    only_float = 0
    for addr, pin in sorted(pins.items()):
        owner = pin.get("owner")
        if pin["size"] != size:
            problems.append("pin %#x: size %d, arena_size %d"
                            % (addr, pin["size"], size))
        if addr in empty:
            if owner is not None:
                problems.append("pin %#x: owner %r of an arena with no block"
                                " in use" % (addr, owner))
            continue
        if addr not in low:
            continue
        types = [h["type"] for h in low[addr].get("held_by", [])]
        if owner not in types:
            problems.append("pin %#x: owner %r, the arena is held by %r"
                            % (addr, owner, types))
        if types == ["float"]:
            only_float += 1
            if owner != "float":
                problems.append("pin %#x: owner %r, the arena holds floats "
                                "only" % (addr, owner))
    holding = set()
    for obj in kept:
        for arena in arenas:
            if arena["addr"] <= obj < arena["addr"] + size:
                holding.add(arena["addr"])
                if arena["low_use"] and arena["addr"] not in pins:
                    problems.append("kept float %#x: its low-use arena %#x "
                                    "is not pinned" % (obj, arena["addr"]))
    float_pins = sum(1 for p in pins.values()
                     if p.get("owner") == "float")
    if float_pins < only_float or float_pins == 0:
        problems.append("%d pins name python:float, %d low-use arenas hold "
                        "only floats" % (float_pins, only_float))
    report.group("floats: pymalloc-arena pins agree with pyarenas' low-use "
                 "arenas", problems, "%d low-use arenas in use (+%d empty), "
                 "%d pins (%d python:float), %d kept floats in %d arenas"
                 % (len(low), len(empty), len(listed), float_pins, len(kept),
                    len(holding)))


def scenario_lidded(report, truth, ex, heaps, extra):
    scenario = one(truth, "scenario")[0]
    chunk_size = one(truth, "chunk_size")[0]
    low, high, n = one(truth, "freed")[:3]
    lid_mem, lid_head = one(truth, "lid")[:2]
    lid_chunk = lid_mem - 16
    count = tcache_count(heaps)
    found = [p for p in heap_top_pins(ex) if p["addr"] == lid_chunk]
    problems = []
    if len(found) != 1:
        problems.append("%d heap-top pins at the lid's chunk %#x (pins at: "
                        "%s)" % (len(found), lid_chunk, ", ".join(
                            "%#x" % p["addr"] for p in heap_top_pins(ex))
                            or "none"))
    else:
        pin = found[0]
        run = pin["run"]
        if lid_head & NON_MAIN_ARENA and pin["arena"] < 1:
            problems.append("arena %d, the lid's size word %#x has "
                            "NON_MAIN_ARENA" % (pin["arena"], lid_head))
        if not lid_head & NON_MAIN_ARENA and pin["arena"] != 0:
            problems.append("arena %d, want 0" % pin["arena"])
        if pin["size"] != lid_head & ~SIZE_BITS:
            problems.append("size %d, the lid's chunk is %d B"
                            % (pin["size"], lid_head & ~SIZE_BITS))
        if run["addr"] + run["size"] != lid_chunk or run["addr"] < low:
            problems.append("run [%#x, %#x), want it to end at the lid %#x "
                            "and start at or above the first freed chunk %#x"
                            % (run["addr"], run["addr"] + run["size"],
                               lid_chunk, low))
        want = (high - low) - count * chunk_size
        if run["size"] < want:
            problems.append("run.size %d < %d freed minus %d tcache'd chunks"
                            " = %d" % (run["size"], high - low, count, want))
        if pin.get("state") != "inuse":
            problems.append("state %r, want \"inuse\"" % (pin.get("state"),))
        if pin.get("owner") not in (None, "raw-malloc"):
            problems.append("owner %r in a C program" % (pin.get("owner"),))
    report.group("%s: the lid pins the freed run below it" % scenario,
                 problems, "lid %#x, %d chunks of %d B freed ([%#x, %#x))"
                 % (lid_mem, n, chunk_size, low, high))


def threshold_texts(value):
    """Ways a text may write the threshold."""
    grouped = "{:,}".format(value)
    forms = {str(value), "%#x" % value, grouped}
    for sep in (" ", "\u202f", "\u00a0", "'", "_"):
        forms.add(grouped.replace(",", sep))
    for unit, name in ((MIB, "MiB"), (KIB, "KiB")):
        for digits in (0, 1, 2):
            number = "%.*f" % (digits, value / unit)
            forms.update((number + " " + name, number + name))
    return forms


def strings_in(node):
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from strings_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings_in(value)


def scenario_threshold(report, truth, ex, heaps, extra):
    threshold = one(truth, "mmap_freed")[0] & ~SIZE_BITS
    block_mem, block_head = one(truth, "block")[:2]
    mp = extra.get("mp") or (heaps.mp if heaps else None)
    problems = []
    if mp is None:
        problems.append("no --mp or --summary output given")
    else:
        if mp.get("mmap_threshold") != threshold:
            problems.append("mp.mmap_threshold %r, the freed mmapped chunk "
                            "was %d B" % (mp.get("mmap_threshold"), threshold))
        if mp.get("trim_threshold") != 2 * threshold:
            problems.append("mp.trim_threshold %r, want %d"
                            % (mp.get("trim_threshold"), 2 * threshold))
        if mp.get("mmap_threshold_dynamic") is not True:
            problems.append("mp.mmap_threshold_dynamic %r"
                            % (mp.get("mmap_threshold_dynamic"),))
    if heaps is not None:
        found = [c for c in extra["chunks"] if c["addr"] == block_mem - 16]
        if (len(found) != 1 or found[0]["state"] != "inuse"
                or found[0]["arena"] != 0
                or found[0]["size"] != block_head & ~SIZE_BITS):
            problems.append("the 4 MiB block %#x: chunks has %r"
                            % (block_mem, found))
    report.group("threshold: the freed 8 MiB chunk raised the threshold",
                 problems, "threshold %d, 4 MiB block %#x in the heap"
                 % (threshold, block_mem))

    forms = threshold_texts(threshold)
    pins = [p for p in ex["pins"] if p["kind"] == "mmap-threshold"]
    texts = list(strings_in(ex)) + [
        d.get("message", "") for d in extra.get("diagnostics", [])
        if isinstance(d, dict)]
    named = [t for t in texts if any(f in t for f in forms)]
    sized = [p for p in pins if p["size"] == threshold]
    problems = []
    if not named and not sized:
        problems.append("neither a text in explain or the diagnostics nor an "
                        "mmap-threshold pin's size names the threshold %d (%d "
                        "mmap-threshold pins)" % (threshold, len(pins)))
    report.group("threshold: explain names the raised mmap threshold",
                 problems, "%d mmap-threshold pins, %d texts naming %d"
                 % (len(pins), len(named), threshold))


SCENARIOS = {
    "lists": scenario_lists,
    "numpy-sizes": scenario_numpy_sizes,
    "numpy-view": scenario_numpy_view,
    "floats": scenario_floats,
    "lid": scenario_lidded,
    "thread": scenario_lidded,
    "threshold": scenario_threshold,
}


# --- driver ------------------------------------------------------------------

def run_checks(truth, doc, summary=None, chunks_doc=None, mp_doc=None,
               pyarenas=None, lookups=None, summary_text=None):
    """All checks of one explain output; summary_text is the text itself."""
    report = Report()
    ex = explain_of(doc)
    problems = shape_problems(ex)
    report.group("explain JSON shape", problems)
    if problems:
        return report
    report.group("explain vocabulary: region kinds, owners, pin kinds of the"
                 " interface", vocabulary_problems(ex))
    pid = one(truth, "pid")[0]
    target = doc.get("target", {}).get("pid")
    report.group("the report is about the target", [] if target == pid else
                 ["target.pid %r, the target is %d" % (target, pid)])
    heaps = None
    if summary is not None and chunks_doc is not None:
        heaps = Heaps(summary, chunks_doc)
    check_rss(report, ex, truth)
    check_trim(report, ex, heaps)
    check_pins(report, ex)
    check_heap_top(report, ex, heaps, lookups or {})
    if summary_text is not None:
        check_summary_text(report, ex, summary_text)
    extra = {"chunks": chunks_doc["chunks"] if chunks_doc else [],
             "mp": (mp_doc or {}).get("mp"), "pyarenas": pyarenas,
             "diagnostics": doc.get("diagnostics", [])}
    scenario = one(truth, "scenario")[0]
    if scenario in SCENARIOS:
        SCENARIOS[scenario](report, truth, ex, heaps, extra)
    else:
        report.group("scenario", ["unknown scenario %r" % (scenario,)])
    return report


def run_trim(truth, docs):
    report = Report()
    for doc in docs:
        problems = shape_problems(explain_of(doc))
        if problems:
            report.group("explain JSON shape", problems)
            return report
    check_trim_real(report, truth, docs)
    return report


def finish(report):
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


def input_failure(error):
    print("FAIL input: %s: %s" % (type(error).__name__, error))
    print("0 passed, 1 failed")
    return 1


def usage():
    sys.stderr.write(__doc__)
    return 2


def plan(path):
    """The addresses of the heap-top pins, for the --at lookups."""
    try:
        pins = explain_of(load_json(path)).get("pins", [])
    except INPUT_ERRORS:
        return 0
    for pin in pins if isinstance(pins, list) else []:
        if (isinstance(pin, dict) and pin.get("kind") == "heap-top"
                and is_int(pin.get("addr"))):
            print(pin["addr"])
    return 0


def main(argv):
    args = argv[1:]
    if args == ["--selftest"]:
        return selftest()
    if len(args) == 2 and args[0] == "--write-sample":
        return write_sample(args[1])
    if len(args) == 2 and args[0] == "--plan":
        return plan(args[1])
    if len(args) >= 3 and args[0] == "--trim":
        try:
            report = run_trim(parse_truth(args[1]),
                              [load_json(path) for path in args[2:]])
        except INPUT_ERRORS as error:
            return input_failure(error)
        return finish(report)
    if len(args) < 2 or args[0].startswith("-") or args[1].startswith("-"):
        return usage()
    files = {"truth": args[0], "explain": args[1]}
    at = {}
    rest = args[2:]
    while rest:
        opt = rest.pop(0)
        try:
            if opt == "--at":
                addr = int(rest.pop(0), 0)
                at[addr] = rest.pop(0)
            elif opt in ("--summary", "--chunks", "--mp", "--pyarenas",
                         "--summary-text"):
                files[opt[2:]] = rest.pop(0)
            else:
                return usage()
        except (IndexError, ValueError):
            return usage()
    try:
        truth = parse_truth(files["truth"])
        docs = {k: load_json(files[k]) for k in
                ("explain", "summary", "chunks", "mp", "pyarenas")
                if k in files}
        lookups = {a: load_json(p) for a, p in at.items()}
        text = None
        if "summary-text" in files:
            with open(files["summary-text"], encoding="utf-8",
                      errors="replace") as stream:
                text = stream.read()
        report = run_checks(truth, docs["explain"], docs.get("summary"),
                            docs.get("chunks"), docs.get("mp"),
                            docs.get("pyarenas"), lookups, text)
    except INPUT_ERRORS as error:
        return input_failure(error)
    return finish(report)


# --- hand-made documents (self-test, sample) ---------------------------------
#
# Each scenario below is a small made-up process: the truth lines its
# target would print, and the summary/chunks/mp/pyarenas/explain documents
# a correct heapinspect would print for it, consistent with each other
# (addresses, glibc 2.36 trim arithmetic, RSS sums).  The self-test runs
# every check on them (all must pass), then plants one fault at a time
# (each must make the named check group fail).

BRK = 0x555555a00000
LIST_GROW = 3088            # pymalloc's arena vector of 64 entries


def chunk(addr, size, state, arena=0):
    return {"addr": addr, "mem": addr + 16, "size": size,
            "usable": size - 8, "state": state, "arena": arena}


def region(kind, mapped, resident, live, overhead=0):
    return {"kind": kind, "mapped": mapped, "resident": resident,
            "live": live, "free": resident - live - overhead,
            "overhead": overhead}


def make_docs(pid, chunks=None, arenas=None, mp=None, regions=(),
              owners=(), pins=(), by_arena=()):
    """The documents of one made-up process; returns (docs, measured)."""
    mp_row = {"trim_threshold": 128 * KIB, "mmap_threshold": 128 * KIB,
              "mmap_threshold_dynamic": False, "no_dyn_threshold": 0,
              "top_pad": 128 * KIB, "tcache_count": 7,
              "tcache_max_bytes": 1032, "sbrk_base": BRK}
    mp_row.update(mp or {})
    regions = list(regions)
    total = sum(r["resident"] for r in regions)
    measured = total + PAGE
    by_arena = list(by_arena)
    head = {"schema": "heapinspect/1",
            "target": {"pid": pid, "exe": "/made-up", "source": "live"},
            "diagnostics": []}
    explain = dict(head, command="explain", explain={
        "rss": {"measured_anon": measured, "resident_anon": total,
                "regions": regions, "live_by_owner": list(owners),
                "remainder": measured - total},
        "trim": {"would_return": sum(r["top_trim"] + r["madvise"]
                                     for r in by_arena),
                 "by_arena": by_arena},
        "pins": sorted(pins, key=lambda p: -p["bytes"])})
    docs = {"explain": explain,
            "mp": dict(head, command="mp", mp=mp_row)}
    if chunks is not None:
        docs["summary"] = dict(head, command="summary", mp=mp_row,
                               arenas=arenas)
        docs["chunks"] = dict(head, command="chunks", chunks=chunks)
    return docs, measured


def top_pin(run, lid_chunks, owner=None, arena=0):
    first = lid_chunks[0]
    return {"kind": "heap-top", "bytes": run["size"],
            "resident": run["size"] - 2 * PAGE, "addr": first["addr"],
            "size": first["size"], "state": first["state"], "owner": owner,
            "arena": arena, "run": {"addr": run["addr"], "size": run["size"]},
            "lid": {"count": len(lid_chunks),
                    "bytes": sum(c["size"] for c in lid_chunks)},
            "what": "the %d-byte %s chunk at %#x keeps %d free bytes below "
                    "it from the top" % (first["size"], first["state"],
                                         first["addr"], run["size"]),
            "release": "free the chunks above %#x, or malloc_trim(0)"
                       % first["addr"]}


def lookup(c):
    return {"chunks": [c]}


def sample_lid(arena=0, base=BRK):
    """explain_truth lid (arena 0) or thread (arena 1, heap at base)."""
    pid, n, csize = 4242, 1000, 816
    start = base + (0x8c0 if arena else 0) + 0x290
    tcached = [chunk(start + i * csize, csize, "tcache", arena)
               for i in range(7)]
    run = chunk(start + 7 * csize, (n - 7) * csize, "unsorted", arena)
    lid = chunk(run["addr"] + run["size"], 80, "inuse", arena)
    top = chunk(lid["addr"] + 80, 132000, "top", arena)
    chunks = [chunk(start - 0x290, 0x290, "inuse", arena)] + tcached + [
        run, lid, top]
    arenas = [{"index": 0, "top": {"addr": top["addr"], "size": top["size"]},
               "heaps": []}]
    top_trim = align_down(top["size"] - MINSIZE - 1, PAGE) - 30 * PAGE
    by_arena = [{"arena": 0, "top_trim": top_trim,
                 "madvise": madvise_of(run["addr"], run["size"])}]
    kind = "brk-heap"
    if arena:
        main_top = chunk(BRK + 0x290, 0x21000 - 0x290, "top")
        chunks = [chunk(BRK, 0x290, "inuse"), main_top] + chunks
        arenas = [{"index": 0, "top": {"addr": main_top["addr"],
                                       "size": main_top["size"]},
                   "heaps": []},
                  {"index": 1, "top": {"addr": top["addr"],
                                       "size": top["size"]},
                   "heaps": [{"addr": base, "size": 64 * MIB,
                              "mprotect_size": 2 * MIB}]}]
        by_arena = [{"arena": 0, "top_trim": 0, "madvise": 0},
                    {"arena": 1, "top_trim": 0,
                     "madvise": by_arena[0]["madvise"]}]
        kind = "arena-heaps"
    pin = top_pin(run, [lid], arena=arena)
    resident = run["size"] + 0x290 + 7 * csize + 80 + 2 * PAGE
    docs, measured = make_docs(
        pid, chunks, arenas,
        regions=[region(kind, 4 * MIB, resident, 0x290 + 80, 2 * PAGE),
                 region("other-anon", MIB, 64 * KIB, 64 * KIB)],
        owners=[{"owner": "raw-malloc", "bytes": 0x290 + 80}],
        pins=[pin], by_arena=by_arena)
    drop = docs["explain"]["explain"]["trim"]["would_return"]
    truth = ["scenario %s" % ("thread" if arena else "lid"), "pid %d" % pid,
             "chunk_size %d" % csize,
             "freed %d %d %d" % (start, lid["addr"], n),
             "lid %d %#x" % (lid["mem"], 0x51 | (NON_MAIN_ARENA if arena
                                                 else 0)),
             "rss %d" % (measured - 2 * PAGE),
             "trim %d %d 1" % (measured, measured - drop)]
    docs["at.%d" % lid["addr"]] = lookup(lid)
    docs["summary-text"] = ("arenas ...\nTop pins:\n  [heap-top] %d B at "
                            "%#x: %s\n" % (pin["bytes"], lid["addr"],
                                           pin["what"]))
    return truth, docs


def sample_thread():
    return sample_lid(arena=1, base=0x7f0000000000)


def sample_lists():
    pid, n, csize = 777, 4000, 816
    low = BRK + 0x10000
    run1 = chunk(low, 2000 * csize, "largebin")
    vector = chunk(low + run1["size"], LIST_GROW, "inuse")
    run2 = chunk(vector["addr"] + LIST_GROW, (n - 2007) * csize, "largebin")
    tc_low = run2["addr"] + run2["size"]
    tcached = [chunk(tc_low + i * csize, csize, "tcache") for i in range(7)]
    top = chunk(tc_low + 7 * csize, 14640, "top")
    chunks = [chunk(BRK, 0x10000, "inuse"), run1, vector, run2] + tcached
    chunks.append(top)
    arenas = [{"index": 0, "top": {"addr": top["addr"], "size": top["size"]},
               "heaps": []}]
    pins = [top_pin(run1, [vector] + tcached), top_pin(run2, tcached)]
    madv = madvise_of(run1["addr"], run1["size"])
    madv += madvise_of(run2["addr"], run2["size"])
    top_trim = align_down(top["size"] - MINSIZE - 1, PAGE)
    heap_bytes = top["addr"] + top["size"] - BRK
    docs, measured = make_docs(
        pid, chunks, arenas,
        mp={"trim_threshold": MIB, "mmap_threshold": MIB // 2,
            "mmap_threshold_dynamic": True},
        regions=[region("brk-heap", heap_bytes, heap_bytes,
                        0x10000 + LIST_GROW, PAGE),
                 region("pymalloc-arenas", 4 * MIB, 3 * MIB, MIB, PAGE)],
        owners=[{"owner": "python:dict", "bytes": 600 * KIB},
                {"owner": "python:list", "bytes": KIB},
                {"owner": "raw-malloc", "bytes": 0x10000 + LIST_GROW}],
        pins=pins, by_arena=[{"arena": 0, "top_trim": top_trim,
                              "madvise": madv}])
    last = [tc_low + (7 - k) * csize for k in range(1, 17)]
    drop = madv + top_trim - 3 * PAGE
    truth = ["scenario lists", "pid %d" % pid,
             "items %d %d" % (n, n * csize),
             "last_items " + " ".join(str(a) for a in last),
             "rss_built %d" % (measured + 4 * MIB),
             "rss_deleted %d" % measured, "rss %d" % measured,
             "trim %d %d 1" % (measured, measured - drop)]
    for pin in pins:
        docs["at.%d" % pin["addr"]] = lookup(
            chunk(pin["addr"], pin["size"], pin["state"]))
    return truth, docs


def sample_numpy_sizes():
    pid = 31
    small_data, big_data = BRK + 0x40010, 0x7f1200000010
    freed = chunk(BRK + 0x40000, 80080, "unsorted")
    above = chunk(freed["addr"] + freed["size"], PAGE, "inuse")
    top = chunk(above["addr"] + PAGE, 50000, "top")
    chunks = [chunk(BRK, 0x40000, "inuse"), freed, above, top]
    arenas = [{"index": 0, "top": {"addr": top["addr"], "size": top["size"]},
               "heaps": []}]
    by_arena = [{"arena": 0,
                 "top_trim": align_down(top["size"] - MINSIZE - 1, PAGE),
                 "madvise": madvise_of(freed["addr"], freed["size"])}]
    docs, measured = make_docs(
        pid, chunks, arenas,
        regions=[region("brk-heap", MIB, 512 * KIB, 300 * KIB, PAGE)],
        owners=[{"owner": "numpy", "bytes": 4000},
                {"owner": "python:str", "bytes": 90000}],
        by_arena=by_arena)
    truth = ["scenario numpy-sizes", "pid %d" % pid,
             "array 10000 %d 80017 0" % small_data,
             "array 100000 %d 802818 802816" % big_data, "rss %d" % measured]
    return truth, docs


def sample_numpy_view():
    pid = 32
    view, base_data = 0x7f00aa001230, 0x7f0011000010
    resident = 80003072
    pin = {"kind": "numpy-view", "bytes": 160002048,
           "resident": resident + PAGE, "addr": view, "size": 16,
           "state": "mmapped", "owner": "numpy.ndarray",
           "what": "a 16-byte view keeps a 160,002,048-byte buffer",
           "release": "del the view, or keep a copy: tiny = tiny.copy()"}
    other = top_pin(chunk(BRK + 0x10000, 0x50000, "largebin"),
                    [chunk(BRK + 0x60000, 32, "inuse")], owner="str")
    docs, measured = make_docs(
        pid, regions=[region("mmapped-chunks", 160002048, resident + PAGE,
                             resident + PAGE),
                      region("brk-heap", 8 * MIB, 6 * MIB, 5 * MIB, 100)],
        owners=[{"owner": "numpy", "bytes": resident + PAGE + 200},
                {"owner": "python:str", "bytes": MIB}],
        pins=[pin, other])
    truth = ["scenario numpy-view", "pid %d" % pid, "view %d 16" % view,
             "base %d %d 160002050 160000000" % (view - 192, base_data),
             "base_resident %d" % resident, "rss %d" % measured]
    return truth, docs


def sample_floats():
    pid = 33
    arenas, kept, pins = [], [], []
    for i in range(7):
        addr = 0x7f5500000000 + i * MIB
        held = [{"type": "float", "count": 7, "bytes": 224,
                 "example": addr + 64}]
        if i == 0:
            held.insert(0, {"type": "function", "count": 200,
                            "bytes": 30000, "example": addr + 96})
        used = 7 if i < 6 else 0
        arenas.append({"addr": addr, "index": i, "pools": 63,
                       "free_pools": 60 if used else 63,
                       "used_pools": 3 if used else 0, "used_blocks": used,
                       "used_bytes": 32 * used, "low_use": i != 5,
                       "held_by": held if used else [],
                       "unrecognised_blocks": 0})
        if used:
            kept.append(addr + 64)
        if i == 5:
            continue
        pins.append({"kind": "pymalloc-arena", "bytes": MIB,
                     "resident": MIB - 2 * PAGE, "addr": addr, "size": MIB,
                     "owner": held[0]["type"] if used else None,
                     "what": "%d live objects keep a 1 MiB arena" % used,
                     "release": "del them" if used else "nothing: pymalloc "
                                "keeps one empty arena"})
    pyarenas = {"schema": "heapinspect/1", "python": {"arena_size": MIB},
                "pymalloc": {"arenas": arenas}}
    docs, measured = make_docs(
        pid, regions=[region("pymalloc-arenas", 7 * MIB, 6 * MIB, 5000,
                             PAGE)],
        owners=[{"owner": "python:float", "bytes": 1000}], pins=pins)
    docs["pyarenas"] = pyarenas
    truth = ["scenario floats", "pid %d" % pid,
             "kept " + " ".join(str(k) for k in kept), "rss %d" % measured]
    return truth, docs


def sample_threshold():
    pid = 34
    threshold = 8 * MIB + PAGE
    block = chunk(BRK + 0x21000, 4 * MIB + 16, "inuse")
    top = chunk(block["addr"] + block["size"], 128 * KIB, "top")
    chunks = [chunk(BRK, 0x290, "inuse"),
              chunk(BRK + 0x290, 0x21000 - 0x290, "inuse"), block, top]
    arenas = [{"index": 0, "top": {"addr": top["addr"], "size": top["size"]},
               "heaps": []}]
    pin = {"kind": "mmap-threshold", "bytes": block["size"],
           "resident": 4 * MIB, "addr": block["addr"],
           "size": block["size"], "state": "inuse", "owner": None,
           "what": "a freed 8 MiB mmapped chunk raised the mmap threshold to"
                   " {:,} B: this chunk is in the heap".format(threshold),
           "release": "mallopt(M_MMAP_THRESHOLD, ...) keeps it fixed"}
    docs, measured = make_docs(
        pid, chunks, arenas,
        mp={"mmap_threshold": threshold, "trim_threshold": 2 * threshold,
            "mmap_threshold_dynamic": True},
        regions=[region("brk-heap", 5 * MIB, 4 * MIB + 64 * KIB, 4 * MIB)],
        owners=[{"owner": "raw-malloc", "bytes": 4 * MIB}], pins=[pin],
        by_arena=[{"arena": 0, "top_trim": 0, "madvise": 0}])
    truth = ["scenario threshold", "pid %d" % pid,
             "mmap_freed %#x" % (threshold | IS_MMAPPED),
             "block %d %#x" % (block["mem"], block["size"] | 1),
             "rss %d" % measured, "trim %d %d 1" % (measured, measured)]
    return truth, docs


SAMPLES = {"lid": sample_lid, "thread": sample_thread, "lists": sample_lists,
           "numpy-sizes": sample_numpy_sizes,
           "numpy-view": sample_numpy_view, "floats": sample_floats,
           "threshold": sample_threshold}


def failed_groups(output):
    return [line[5:].rsplit(": ", 1)[0] for line in output.splitlines()
            if line.startswith("FAIL ")]


def sample_report(lines, docs, runs=None):
    """Run every check on made-up documents; returns (failed group names,
    output).  runs: the explain documents of the runs to compare (default:
    the explain document twice)."""
    truth = parse_truth_text("\n".join(lines))
    lookups = {int(k[3:]): v for k, v in docs.items() if k.startswith("at.")}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            run_checks(truth, docs["explain"], docs.get("summary"),
                       docs.get("chunks"), docs.get("mp"),
                       docs.get("pyarenas"), lookups,
                       docs.get("summary-text"))
            if "trim" in truth:
                run_trim(truth, runs or [docs["explain"],
                                         copy.deepcopy(docs["explain"])])
        except INPUT_ERRORS as error:
            print("FAIL input: %s: %s" % (type(error).__name__, error))
    return failed_groups(out.getvalue()), out.getvalue()


def ex_of(docs):
    return docs["explain"]["explain"]


def the_pin(docs, kind="heap-top"):
    return [p for p in ex_of(docs)["pins"] if p["kind"] == kind][0]


def set_line(lines, key, text):
    lines[:] = [text if line.split()[0] == key else line for line in lines]


def shift_measured(docs, delta):
    rss = ex_of(docs)["rss"]
    rss["measured_anon"] += delta
    rss["remainder"] += delta


def bump_madvise(docs, delta):
    trim = ex_of(docs)["trim"]
    trim["by_arena"][-1]["madvise"] += delta
    trim["would_return"] += delta


def disagreeing_run(docs):
    other = copy.deepcopy(docs["explain"])
    other["explain"]["pins"][0]["addr"] += 16
    return [docs["explain"], other]


def fault_pin_in_freed_buffer(lines, docs):
    ex_of(docs)["pins"].append({
        "kind": "mmap-threshold", "bytes": 1, "resident": 0,
        "addr": 0x7f1200000000, "size": 802816, "owner": None,
        "what": "x", "release": "y"})


def fault_pin_on_busy_arena(lines, docs):
    pins = ex_of(docs)["pins"]
    pins.append(dict(pins[-1], addr=0x7f5500000000 + 5 * MIB))


# (what, scenario, mutate(truth lines, docs) -> runs or None, the check
# group that must fail)
FAULTS = [
    ("live+free+overhead != resident", "lid",
     lambda t, d: ex_of(d)["rss"]["regions"][0].update(live=1),
     "rss regions"),
    ("resident > mapped", "lid",
     lambda t, d: ex_of(d)["rss"]["regions"][1].update(mapped=0),
     "rss regions"),
    ("regions miss more than the tolerance", "lid",
     lambda t, d: shift_measured(d, 2 * MIB), "rss attribution"),
    ("remainder wrong", "lid",
     lambda t, d: ex_of(d)["rss"].update(remainder=1), "rss attribution"),
    ("resident_anon far from measured_anon", "lid",
     lambda t, d: ex_of(d)["rss"].update(resident_anon=100 * MIB),
     "rss attribution"),
    ("measured_anon far from the target's RssAnon", "lid",
     lambda t, d: set_line(t, "rss", "rss %d" % (100 * MIB)),
     "rss attribution"),
    ("owners exceed live", "lid",
     lambda t, d: ex_of(d)["rss"]["live_by_owner"].append(
         {"owner": "numpy", "bytes": 10**9}), "rss live_by_owner"),
    ("owner named twice", "lid",
     lambda t, d: ex_of(d)["rss"]["live_by_owner"].append(
         {"owner": "raw-malloc", "bytes": 1}), "rss live_by_owner"),
    ("owner outside the interface", "lid",
     lambda t, d: ex_of(d)["rss"]["live_by_owner"].append(
         {"owner": "glibc", "bytes": 1}), "explain vocabulary"),
    ("region kind outside the interface", "lid",
     lambda t, d: ex_of(d)["rss"]["regions"][1].update(kind="stack"),
     "explain vocabulary"),
    ("pin without release", "lid",
     lambda t, d: the_pin(d).update(release=""), "explain JSON shape"),
    ("heap-top pin without lid", "lid",
     lambda t, d: the_pin(d).pop("lid"), "explain JSON shape"),
    ("would_return != sum of by_arena", "lid",
     lambda t, d: ex_of(d)["trim"].update(would_return=1), "trim figures"),
    ("madvise beyond what glibc can release", "lid",
     lambda t, d: bump_madvise(d, 64 * PAGE), "trim figures"),
    ("top_trim in a thread arena", "thread",
     lambda t, d: ex_of(d)["trim"]["by_arena"][1].update(top_trim=PAGE),
     "trim figures"),
    ("by_arena names an arena that does not exist", "lid",
     lambda t, d: ex_of(d)["trim"]["by_arena"].append(
         {"arena": 5, "top_trim": 0, "madvise": 0}), "trim figures"),
    ("would_return 2 MiB off the real drop", "lid",
     lambda t, d: set_line(t, "trim", "trim %d %d 1" % (
         ex_of(d)["rss"]["measured_anon"],
         ex_of(d)["rss"]["measured_anon"] - 3 * MIB)),
     "trim.would_return"),
    ("the target changed before malloc_trim", "lid",
     lambda t, d: set_line(t, "trim", "trim %d %d 1" % (50 * MIB, 50 * MIB)),
     "trim.would_return"),
    ("the debuginfo and --no-debuginfo runs disagree", "lid",
     lambda t, d: disagreeing_run(d), "the debuginfo"),
    ("pins unsorted", "numpy-view",
     lambda t, d: ex_of(d)["pins"].reverse(), "pins ranked"),
    ("pin resident > bytes", "lid",
     lambda t, d: the_pin(d).update(resident=the_pin(d)["bytes"] + 1),
     "pins ranked"),
    ("heap-top pin missing", "lid",
     lambda t, d: ex_of(d).update(pins=[]), "heap-top pins"),
    ("heap-top pin at the wrong chunk", "lid",
     lambda t, d: the_pin(d).update(addr=the_pin(d)["addr"] + 80),
     "heap-top pins"),
    ("heap-top lid miscounted", "lid",
     lambda t, d: the_pin(d).update(lid={"count": 2, "bytes": 160}),
     "heap-top pins"),
    ("heap-top pin for a run below trim_threshold", "lid",
     lambda t, d: d["summary"]["mp"].update(trim_threshold=10**9),
     "heap-top pins"),
    ("lookup disagrees on the pin's state", "lid",
     lambda t, d: d["at.%d" % the_pin(d)["addr"]]["chunks"][0].update(
         state="tcache"), "heap-top pins"),
    ("text summary without the top pin's address", "lid",
     lambda t, d: d.update({"summary-text": "Top pins:\n [heap-top] 0x12\n"}),
     "the text summary"),
    ("text summary without the top pin's kind", "numpy-view",
     lambda t, d: d.update({"summary-text": "pins: 0x%x\n"
                            % ex_of(d)["pins"][0]["addr"]}),
     "the text summary"),
    ("lid pin in the main arena", "thread",
     lambda t, d: the_pin(d).update(arena=0), "thread: the lid"),
    ("lid run shorter than the freed blocks", "lid",
     lambda t, d: set_line(t, "freed", "freed %d %d 1000" % (
         the_pin(d)["run"]["addr"] - 100 * 816, the_pin(d)["addr"])),
     "lid: the lid"),
    ("lid pin owned by Python in a C program", "lid",
     lambda t, d: the_pin(d).update(owner="python:str"), "lid: the lid"),
    ("lists: the top run's pin is not the tcache'd a[-7]", "lists",
     lambda t, d: set_line(t, "last_items", "last_items " + "1 " * 16),
     "lists: the freed"),
    ("lists: runs short of the freed item arrays", "lists",
     lambda t, d: set_line(t, "items", "items 4000 %d" % (10 * 4000 * 816)),
     "lists: the freed"),
    ("lists: item arrays still owned by lists", "lists",
     lambda t, d: ex_of(d)["rss"]["live_by_owner"][1].update(bytes=10**5),
     "lists: the freed"),
    ("lists: the seed did not reproduce", "lists",
     lambda t, d: set_line(t, "rss_deleted", "rss_deleted 1000"),
     "lists: the seed"),
    ("numpy-sizes: the 10**5 buffer was not mmapped", "numpy-sizes",
     lambda t, d: t.__setitem__(3, "array 100000 %d 802817 0" % 0x55550010),
     "numpy-sizes: the seed"),
    ("numpy-sizes: a pin inside the freed mmapped buffer", "numpy-sizes",
     fault_pin_in_freed_buffer, "numpy-sizes: no pin"),
    ("numpy-sizes: the small buffer still in use", "numpy-sizes",
     lambda t, d: d["chunks"]["chunks"][1].update(state="inuse"),
     "numpy-sizes: no pin"),
    ("numpy-view: pin not at id(tiny)", "numpy-view",
     lambda t, d: the_pin(d, "numpy-view").update(addr=1), "numpy-view"),
    ("numpy-view: pin bytes short of big.nbytes", "numpy-view",
     lambda t, d: the_pin(d, "numpy-view").update(bytes=10**8,
                                                  resident=10**8),
     "numpy-view"),
    ("numpy-view: resident not the buffer's", "numpy-view",
     lambda t, d: the_pin(d, "numpy-view").update(resident=PAGE),
     "numpy-view"),
    ("numpy-view: buffer not counted as numpy's", "numpy-view",
     lambda t, d: ex_of(d)["rss"]["live_by_owner"][0].update(bytes=10),
     "numpy-view"),
    ("floats: a low-use arena not pinned", "floats",
     lambda t, d: ex_of(d)["pins"].pop(1), "floats"),
    ("floats: float-only arena with another owner", "floats",
     lambda t, d: ex_of(d)["pins"][1].update(owner="int"), "floats"),
    ("floats: owner with a python: prefix (pins name the type itself)", "floats",
     lambda t, d: ex_of(d)["pins"][1].update(owner="python:float"), "floats"),
    ("floats: pin bytes not the arena size", "floats",
     lambda t, d: ex_of(d)["pins"][-1].update(bytes=MIB // 2, resident=0),
     "floats"),
    ("floats: the empty arena pinned with an owner", "floats",
     lambda t, d: ex_of(d)["pins"][-1].update(owner="python:float"),
     "floats"),
    ("floats: a pin on an arena that is not low-use", "floats",
     fault_pin_on_busy_arena, "floats"),
    ("threshold: mp not raised", "threshold",
     lambda t, d: d["mp"]["mp"].update(mmap_threshold=128 * KIB),
     "threshold: the freed"),
    ("threshold: the 4 MiB block not in the heap", "threshold",
     lambda t, d: d["chunks"]["chunks"].pop(2), "threshold: the freed"),
    ("threshold: not named", "threshold",
     lambda t, d: ex_of(d).update(pins=[]), "threshold: explain names"),
    ("threshold: a pin that does not name it", "threshold",
     lambda t, d: the_pin(d, "mmap-threshold").update(what="raised"),
     "threshold: explain names"),
    ("report about another process", "floats",
     lambda t, d: d["explain"]["target"].update(pid=1),
     "the report is about"),
]


def selftest():
    bad = 0
    for name, make in SAMPLES.items():
        failed, out = sample_report(*make())
        if failed:
            print("FAIL selftest: the correct %s sample fails:" % name)
            sys.stdout.write(out)
            bad += 1
        else:
            print("PASS selftest: the correct %s sample passes" % name)
    for what, scenario, mutate, expect in FAULTS:
        lines, docs = SAMPLES[scenario]()
        runs = mutate(lines, docs)
        failed, _ = sample_report(lines, docs,
                                  runs if isinstance(runs, list) else None)
        if any(group.startswith(expect) for group in failed):
            print("PASS selftest: caught %s" % what)
        else:
            print("FAIL selftest: missed %s (failed: %s)"
                  % (what, ", ".join(failed) or "nothing"))
            bad += 1
    bad += selftest_command_line()
    print("%d samples and %d planted faults, %d problems"
          % (len(SAMPLES), len(FAULTS), bad))
    return 1 if bad else 0


def selftest_command_line():
    """The lid sample through files and the command line, as the test
    passes them: both invocations must exit 0."""
    import tempfile
    with tempfile.TemporaryDirectory() as directory:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            write_sample(directory)
        commands = [line.split()[1:] for line in out.getvalue().splitlines()]
        for args in commands:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                status = main(["check_explain.py"] + args)
            if status != 0:
                print("FAIL selftest: the sample's files through the command "
                      "line: exit %d" % status)
                sys.stdout.write(out.getvalue())
                return 1
    print("PASS selftest: the sample's files through the command line")
    return 0


def write_sample(directory):
    lines, docs = sample_lid()
    os.makedirs(directory, exist_ok=True)
    truth = os.path.join(directory, "truth")
    with open(truth, "w", encoding="ascii") as stream:
        stream.write("\n".join(lines) + "\nREADY\n")
    explain = os.path.join(directory, "explain.json")
    args = [os.path.abspath(__file__), truth, explain]
    for key, doc in docs.items():
        if key == "summary-text":
            path = os.path.join(directory, "summary.txt")
            with open(path, "w", encoding="utf-8") as stream:
                stream.write(doc)
            args += ["--summary-text", path]
            continue
        path = os.path.join(directory, key + ".json")
        with open(path, "w", encoding="utf-8") as stream:
            json.dump(doc, stream, indent=1)
            stream.write("\n")
        if key.startswith("at."):
            args += ["--at", key[3:], path]
        elif key != "explain":
            args += ["--" + key, path]
    print(" ".join(args))
    print(" ".join([args[0], "--trim", truth, explain]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
