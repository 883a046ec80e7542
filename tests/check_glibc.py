#!/usr/bin/python3
"""check_glibc.py - compare glibc_truth's ground truth with heapinspect JSON.

Usage:
  check_glibc.py [--method symbol|heuristic] TRUTHFILE SUMMARY_JSON CHUNKS_JSON
      TRUTHFILE     written by tests/targets/glibc_truth (format at its top)
      SUMMARY_JSON  output of `heapinspect summary --json PID`
      CHUNKS_JSON   output of `heapinspect chunks --json PID`
      --method M    also require glibc.main_arena.method == M
  check_glibc.py --build-id ELF
      print the GNU build-id of ELF in hex (for finding separate debuginfo)

Prints one PASS/FAIL line per check group (with the first differences under
a FAIL) and last a line "N passed, N failed"; exits 1 if anything failed.
Standard library only; runs on Debian 12's /usr/bin/python3 (3.11).

Invariants kept, all read from glibc 2.36 malloc/malloc.c (__malloc_info,
int_mallinfo, __libc_free):
  - Agreement is exact.  __malloc_info sums chunksize_nomask() over the
    regular bins, so its bin rows and "rest" totals include each binned
    chunk's flag bits while the JSON carries masked sizes.  Every path that
    puts a chunk into a regular bin writes its size field as
    size | PREV_INUSE (_int_free, malloc_consolidate, the remainders of
    _int_malloc; NON_MAIN_ARENA is dropped), so the raw value is the masked
    one plus exactly 1 per chunk, in every arena.
  - Fastbin rows are printed as from = size - 15, to = size (the size of the
    bin's first chunk), total = count * size; the top chunk is counted once
    in "rest" with its masked size; bin 1 is printed as <unsorted .../>.
    Rows carry no bin index, so each is matched to its JSON bin by the index
    its sizes imply (to - from == 15 marks a fastbin row: index to/16 - 2;
    else bin_index(from)).
  - heap nr=i of malloc_info is JSON arena i (both follow main_arena.next).
  - mp_.mmapped_mem counts whole mappings (prev_size + size for a memaligned
    mmapped chunk), and so must heapinspect's mmapped.bytes.
  - Held blocks must be found by "mem" in the chunks list: "inuse" (main
    thread in arena 0, workers in another arena) or "mmapped" (arena -1),
    with the truth's usable size.  The last frees must not be in use.
"""

import json
import struct
import sys
import xml.etree.ElementTree as ElementTree

PREV_INUSE = 1
FAST_FROM_DELTA = 15            # MALLOC_ALIGNMENT - 1 on x86-64
SIZE_FLAGS = 7
MIN_LARGE_SIZE = 1024           # x86-64: 64 small bins of width 16
LARGEBIN_STEPS = ((6, 48, 48), (9, 20, 91), (12, 10, 110), (15, 4, 119),
                  (18, 2, 124))  # largebin_index_64: shift, limit, base
DEFAULT_MMAP_THRESHOLD = 128 * 1024
MALLINFO2_FIELDS = ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                    "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")
MP_FIELDS = ("mmap_threshold", "trim_threshold", "top_pad",
             "no_dyn_threshold")
SHOW = 8                        # differences printed per failed group


class Truth:
    """The parsed truth file."""

    def __init__(self):
        self.mode = None
        self.pid = None
        self.threads = {}
        self.mp = {}
        self.mallinfo2 = {}
        self.blocks = []
        self.freed = []
        self.xml_lines = []
        self.ended = False
        self.malloc = None


def parse_fields(words):
    fields = {}
    for word in words:
        name, _, value = word.partition("=")
        fields[name] = int(value)
    return fields


def parse_block(words):
    return {"addr": int(words[1], 16), "usable": int(words[2]),
            "kind": words[3], "owner": int(words[4])}


def parse_truth(path):
    truth = Truth()
    in_xml = False
    with open(path, encoding="ascii") as stream:
        for line in stream:
            line = line.rstrip("\n")
            if line.startswith("<malloc "):
                in_xml = True
            if in_xml:
                truth.xml_lines.append(line)
                in_xml = line != "</malloc>"
                continue
            words = line.split()
            if not words:
                continue
            key = words[0]
            if key == "mode":
                truth.mode = words[1]
            elif key == "pid":
                truth.pid = int(words[1])
            elif key == "thread":
                truth.threads[int(words[1])] = int(words[2])
            elif key == "mp":
                truth.mp = parse_fields(words[1:])
            elif key == "mallinfo2":
                truth.mallinfo2[words[1]] = parse_fields(words[2:])
            elif key == "block":
                truth.blocks.append(parse_block(words))
            elif key == "freed":
                truth.freed.append(parse_block(words))
            elif key == "end":
                truth.ended = True
    truth.malloc = parse_malloc_info("\n".join(truth.xml_lines))
    return truth


def size_row(element):
    return {name: int(element.get(name))
            for name in ("from", "to", "total", "count")}


def typed_values(element, tag, value_names):
    values = {}
    for child in element.findall(tag):
        values[child.get("type")] = {name: int(child.get(name))
                                     for name in value_names}
    return values


def parse_heap(element):
    sizes = element.find("sizes")
    unsorted = sizes.find("unsorted")
    return {
        "nr": int(element.get("nr")),
        "rows": [size_row(row) for row in sizes.findall("size")],
        "unsorted": size_row(unsorted) if unsorted is not None else None,
        "total": typed_values(element, "total", ("count", "size")),
        "system": typed_values(element, "system", ("size",)),
        "aspace": typed_values(element, "aspace", ("size",)),
    }


def parse_malloc_info(text):
    root = ElementTree.fromstring(text)
    return {
        "heaps": [parse_heap(heap) for heap in root.findall("heap")],
        "total": typed_values(root, "total", ("count", "size")),
        "system": typed_values(root, "system", ("size",)),
        "aspace": typed_values(root, "aspace", ("size",)),
    }


def flags_fit(raw, masked, nchunks):
    """raw sums the size fields of nchunks binned chunks, masked their sizes:
    each binned chunk's size field carries PREV_INUSE and no other flag."""
    return raw - masked == nchunks * PREV_INUSE


class Report:
    """Collects PASS/FAIL lines per check group."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def group(self, name, problems, summary=""):
        if problems:
            self.failed += 1
            print("FAIL %s: %d difference(s)" % (name, len(problems)))
            for problem in problems[:SHOW]:
                print("    " + problem)
            if len(problems) > SHOW:
                print("    ... %d more" % (len(problems) - SHOW))
        else:
            self.passed += 1
            print("PASS %s%s" % (name, ": " + summary if summary else ""))


def expect(problems, what, got, want):
    if got != want:
        problems.append("%s: heapinspect %r, truth %r" % (what, got, want))


def bin_index(size):
    """glibc 2.36 bin_index() on x86-64: smallbin_index, largebin_index_64."""
    if size < MIN_LARGE_SIZE:
        return size >> 4
    for shift, limit, base in LARGEBIN_STEPS:
        if size >> shift <= limit:
            return base + (size >> shift)
    return 126


def xml_row_key(row):
    """(0, fastbin index) or (1, bin index) of a malloc_info <size/> row."""
    if row["to"] - row["from"] == FAST_FROM_DELTA:
        return (0, (row["to"] >> 4) - 2)
    return (1, bin_index(row["from"] & ~SIZE_FLAGS))


def json_bin_key(jbin):
    return (0 if jbin["kind"] == "fast" else 1, jbin["index"])


def key_label(key):
    if key[0] == 0:
        return "fastbin %d" % key[1]
    return "%s bin %d" % ("small" if key[1] < 64 else "large", key[1])


def fast_row_problems(label, row, fbin):
    want = {"from": fbin["max"] - FAST_FROM_DELTA, "to": fbin["max"],
            "total": fbin["bytes"], "count": fbin["count"]}
    if fbin["min"] == fbin["max"] and row == want:
        return []
    return ["%s: malloc_info %s, heapinspect min=%d and %s"
            % (label, row, fbin["min"], want)]


def bin_row_problems(label, row, jbin):
    n = jbin["count"]
    ok = (row["count"] == n
          and flags_fit(row["from"], jbin["min"], 1)
          and flags_fit(row["to"], jbin["max"], 1)
          and flags_fit(row["total"], jbin["bytes"], n))
    if ok:
        return []
    return ["%s: malloc_info from=%d to=%d total=%d count=%d, heapinspect "
            "min=%d max=%d bytes=%d count=%d (masked sizes)"
            % (label, row["from"], row["to"], row["total"], row["count"],
               jbin["min"], jbin["max"], jbin["bytes"], n)]


def rows_problems(where, heap, arena):
    """Match malloc_info's <size/> rows to the JSON bins by bin index."""
    problems = []
    rows = {xml_row_key(row): row for row in heap["rows"]}
    bins = {json_bin_key(b): b for b in arena.get("bins", [])
            if b["kind"] != "unsorted"}
    for key in sorted(set(rows) | set(bins)):
        row, jbin = rows.get(key), bins.get(key)
        label = "%s %s" % (where, key_label(key))
        if jbin is None:
            problems.append("%s: malloc_info %s, heapinspect reports it "
                            "empty" % (label, row))
        elif row is None:
            problems.append("%s: heapinspect %s, malloc_info has no row"
                            % (label, jbin))
        elif key[0] == 0:
            problems += fast_row_problems(label, row, jbin)
        else:
            problems += bin_row_problems(label, row, jbin)
    unsorted = [b for b in arena.get("bins", []) if b["kind"] == "unsorted"]
    if heap["unsorted"] is None or not unsorted:
        if heap["unsorted"] is not None or unsorted:
            problems.append("%s unsorted: malloc_info %s, heapinspect %s"
                            % (where, heap["unsorted"], unsorted))
    else:
        problems += bin_row_problems(where + " unsorted", heap["unsorted"],
                                     unsorted[0])
    return problems


def arena_total_problems(where, heap, arena):
    problems = []
    fast = heap["total"]["fast"]
    rest = heap["total"]["rest"]
    expect(problems, where + " fast count", arena["fastbins"]["count"],
           fast["count"])
    expect(problems, where + " fast size", arena["fastbins"]["bytes"],
           fast["size"])
    binned = [arena[k] for k in ("unsorted", "smallbins", "largebins")]
    nbinned = sum(b["count"] for b in binned)
    expect(problems, where + " rest count (top + bins)", 1 + nbinned,
           rest["count"])
    masked = arena["top"]["size"] + sum(b["bytes"] for b in binned)
    if not flags_fit(rest["size"], masked, nbinned):
        problems.append("%s rest size: malloc_info %d, heapinspect top+bins "
                        "%d (+flag bits of %d chunks)"
                        % (where, rest["size"], masked, nbinned))
    expect(problems, where + " system_mem", arena["system_mem"],
           heap["system"]["current"]["size"])
    expect(problems, where + " max_system_mem", arena["max_system_mem"],
           heap["system"]["max"]["size"])
    return problems


def aspace_problems(where, heap, arena, main):
    if main:
        return []
    problems = []
    heaps = arena.get("heaps", [])
    expect(problems, where + " heap count", len(heaps),
           heap["aspace"]["subheaps"]["size"])
    expect(problems, where + " heap sizes", sum(h["size"] for h in heaps),
           heap["aspace"]["total"]["size"])
    expect(problems, where + " heap mprotect sizes",
           sum(h["mprotect_size"] for h in heaps),
           heap["aspace"]["mprotect"]["size"])
    return problems


def check_arenas(report, truth, summary):
    heaps = truth.malloc["heaps"]
    arenas = summary["arenas"]
    problems = []
    expect(problems, "number of arenas", len(arenas), len(heaps))
    report.group("arena count", problems, "%d arenas" % len(heaps))
    for heap, arena in zip(heaps, arenas):
        main = heap["nr"] == 0
        where = "arena %d" % heap["nr"]
        problems = []
        expect(problems, where + " index", arena["index"], heap["nr"])
        expect(problems, where + " main", arena["main"], main)
        problems += arena_total_problems(where, heap, arena)
        problems += rows_problems(where, heap, arena)
        problems += aspace_problems(where, heap, arena, main)
        report.group(where, problems, "%d fast, %d rest chunks, %d rows"
                     % (heap["total"]["fast"]["count"],
                        heap["total"]["rest"]["count"], len(heap["rows"])))


def check_malloc_info_totals(report, truth, summary):
    total = truth.malloc["total"]
    system = truth.malloc["system"]
    arenas = summary["arenas"]
    problems = []
    expect(problems, "fast count", sum(a["fastbins"]["count"]
                                       for a in arenas),
           total["fast"]["count"])
    expect(problems, "fast size", sum(a["fastbins"]["bytes"]
                                      for a in arenas),
           total["fast"]["size"])
    rest_count = 0
    for heap in truth.malloc["heaps"]:
        rest_count += heap["total"]["rest"]["count"]
    expect(problems, "rest count", rest_count, total["rest"]["count"])
    expect(problems, "system current", sum(a["system_mem"] for a in arenas),
           system["current"]["size"])
    expect(problems, "system max", sum(a["max_system_mem"] for a in arenas),
           system["max"]["size"])
    report.group("malloc_info totals", problems,
                 "fast %d/%d, system %d" % (total["fast"]["count"],
                                            total["fast"]["size"],
                                            system["current"]["size"]))


def check_mmapped(report, truth, summary, chunks):
    mmap = truth.malloc["total"]["mmap"]
    problems = []
    expect(problems, "mmapped.count", summary["mmapped"]["count"],
           mmap["count"])
    expect(problems, "mmapped.bytes", summary["mmapped"]["bytes"],
           mmap["size"])
    expect(problems, "mp.n_mmaps", summary["mp"]["n_mmaps"], mmap["count"])
    expect(problems, "mp.mmapped_mem", summary["mp"]["mmapped_mem"],
           mmap["size"])
    listed = sum(1 for c in chunks if c["state"] == "mmapped")
    expect(problems, "mmapped chunks listed by `chunks`", listed,
           mmap["count"])
    report.group("mmapped", problems,
                 "%d chunks, %d bytes" % (mmap["count"], mmap["size"]))


def check_mallinfo2(report, truth, summary):
    problems = []
    want = truth.mallinfo2["before"]
    got = summary["totals"]
    for field in MALLINFO2_FIELDS:
        expect(problems, "totals." + field, got.get(field), want[field])
    report.group("mallinfo2 totals", problems,
                 "arena %d, uordblks %d" % (want["arena"], want["uordblks"]))


def check_mp(report, truth, summary):
    problems = []
    for field in MP_FIELDS:
        expect(problems, "mp." + field, summary["mp"].get(field),
               truth.mp[field])
    report.group("mp thresholds", problems,
                 " ".join("%s=%d" % (f, truth.mp[f]) for f in MP_FIELDS))


def chunk_index(chunks):
    return {c["mem"]: c for c in chunks}


def held_block_problem(block, chunk):
    where = "block 0x%x (%s, owner %d)" % (block["addr"], block["kind"],
                                          block["owner"])
    if chunk is None:
        return where + ": no chunk with this mem"
    state = "mmapped" if block["kind"] == "mmap" else "inuse"
    if chunk["state"] != state:
        return "%s: state %s, want %s" % (where, chunk["state"], state)
    if chunk.get("usable") != block["usable"]:
        return "%s: usable %s, want %d" % (where, chunk.get("usable"),
                                          block["usable"])
    arena = chunk.get("arena")
    if state == "mmapped" and arena != -1:
        return "%s: arena %s, want -1" % (where, arena)
    if state == "inuse" and (arena == 0) != (block["owner"] == 0):
        return "%s: arena %s, want %s" % (where, arena,
                                          "0" if block["owner"] == 0
                                          else "a thread arena")
    return None


def check_held(report, truth, by_mem):
    problems = []
    for block in truth.blocks:
        problem = held_block_problem(block, by_mem.get(block["addr"]))
        if problem:
            problems.append(problem)
    report.group("held blocks", problems,
                 "%d blocks in use with their usable size" % len(truth.blocks))


def check_freed(report, truth, by_mem):
    held = {block["addr"] for block in truth.blocks}
    problems = []
    checked = 0
    for block in truth.freed:
        if block["addr"] in held:
            continue        # the address was legitimately reused
        checked += 1
        chunk = by_mem.get(block["addr"])
        if chunk is not None and chunk["state"] in ("inuse", "mmapped"):
            problems.append("freed 0x%x (%s, owner %d): reported %s"
                            % (block["addr"], block["kind"], block["owner"],
                               chunk["state"]))
    report.group("freed blocks", problems,
                 "%d last frees are not in use" % checked)


def check_method(report, summary, method):
    problems = []
    expect(problems, "glibc.main_arena.method",
           summary["glibc"]["main_arena"]["method"], method)
    report.group("main_arena method", problems, method)


def coverage_problems(truth):
    """The scenario must leave every kind of chunk the test is about."""
    problems = []
    heaps = truth.malloc["heaps"]
    main = heaps[0]
    fast_rows = [r for r in main["rows"] if r["to"] - r["from"] == 15]
    bin_rows = [r for r in main["rows"] if r["to"] - r["from"] != 15]
    if len(heaps) < 9:
        problems.append("only %d arenas" % len(heaps))
    if not fast_rows:
        problems.append("main arena has no fastbin chunks")
    if not any(r["to"] < 1024 for r in bin_rows):
        problems.append("main arena has no small bin chunks")
    if not any(r["from"] >= 1024 for r in bin_rows):
        problems.append("main arena has no large bin chunks")
    for heap in heaps:
        if heap["unsorted"] is None or not heap["total"]["fast"]["count"]:
            problems.append("arena %d lacks unsorted or fastbin chunks"
                            % heap["nr"])
    if not truth.malloc["total"]["mmap"]["count"]:
        problems.append("no mmapped chunks")
    if truth.mode == "mallopt" and not any(r["to"] == 160
                                           for r in fast_rows):
        problems.append("no 0xa0 fastbin chunk although M_MXFAST is 160")
    if truth.mode == "dyn" and truth.mp["mmap_threshold"] \
            <= DEFAULT_MMAP_THRESHOLD:
        problems.append("mmap threshold was not raised")
    return problems


def truth_problems(truth):
    """The truth file must be complete and agree with itself."""
    problems = []
    if not truth.ended:
        problems.append("truth file has no 'end' line")
    before = truth.mallinfo2.get("before")
    if before != truth.mallinfo2.get("after"):
        problems.append("mallinfo2 before and after differ")
    total = truth.malloc["total"]
    expect(problems, "malloc_info fast count vs mallinfo2 smblks",
           before["smblks"], total["fast"]["count"])
    expect(problems, "malloc_info fast size vs mallinfo2 fsmblks",
           before["fsmblks"], total["fast"]["size"])
    expect(problems, "malloc_info rest count vs mallinfo2 ordblks",
           before["ordblks"], total["rest"]["count"])
    expect(problems, "malloc_info mmap count vs mallinfo2 hblks",
           before["hblks"], total["mmap"]["count"])
    expect(problems, "malloc_info mmap size vs mallinfo2 hblkhd",
           before["hblkhd"], total["mmap"]["size"])
    expect(problems, "malloc_info system vs mallinfo2 arena",
           before["arena"], truth.malloc["system"]["current"]["size"])
    return problems + coverage_problems(truth)


def check_target(report, truth, summary):
    problems = []
    expect(problems, "target.pid", summary["target"]["pid"], truth.pid)
    report.group("target", problems, "pid %d, mode %s"
                 % (truth.pid, truth.mode))


def run_checks(truth, summary, chunks_doc, method):
    report = Report()
    report.group("truth file", truth_problems(truth),
                 "%d blocks, %d freed, %d arenas"
                 % (len(truth.blocks), len(truth.freed),
                    len(truth.malloc["heaps"])))
    check_target(report, truth, summary)
    if method:
        check_method(report, summary, method)
    check_mp(report, truth, summary)
    check_mallinfo2(report, truth, summary)
    check_malloc_info_totals(report, truth, summary)
    check_mmapped(report, truth, summary, chunks_doc["chunks"])
    check_arenas(report, truth, summary)
    by_mem = chunk_index(chunks_doc["chunks"])
    check_held(report, truth, by_mem)
    check_freed(report, truth, by_mem)
    return report


def build_id(path):
    """The NT_GNU_BUILD_ID note of a little-endian ELF64 file, in hex."""
    with open(path, "rb") as stream:
        data = stream.read()
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    for i in range(phnum):
        ptype, _, offset, _, _, filesz = struct.unpack_from(
            "<IIQQQQ", data, phoff + i * phentsize)
        if ptype != 4:                  # PT_NOTE
            continue
        pos, end = offset, offset + filesz
        while pos + 12 <= end:
            namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
            name_at = pos + 12
            desc_at = name_at + (namesz + 3) // 4 * 4
            if ntype == 3 and data[name_at:name_at + namesz] == b"GNU\0":
                return data[desc_at:desc_at + descsz].hex()
            pos = desc_at + (descsz + 3) // 4 * 4
    return None


def load_json(path):
    with open(path, encoding="utf-8") as stream:
        return json.load(stream)


def main(argv):
    if len(argv) == 3 and argv[1] == "--build-id":
        found = build_id(argv[2])
        if found is None:
            return 1
        print(found)
        return 0
    args = argv[1:]
    method = None
    if len(args) >= 2 and args[0] == "--method":
        method, args = args[1], args[2:]
    if len(args) != 3:
        sys.stderr.write(__doc__)
        return 2
    try:
        truth = parse_truth(args[0])
        summary = load_json(args[1])
        chunks_doc = load_json(args[2])
        report = run_checks(truth, summary, chunks_doc, method)
    except (OSError, ValueError, KeyError, TypeError, AttributeError,
            ElementTree.ParseError) as error:
        print("FAIL input: %s: %s" % (type(error).__name__, error))
        print("0 passed, 1 failed")
        return 1
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
