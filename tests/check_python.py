#!/usr/bin/python3
"""check_python.py - compare py_truth.py's oracle and census with heapinspect.

Usage:
  check_python.py [--method symbol|runtime|heuristic]
                  ORACLE CENSUS PYMALLOC_JSON TYPES_JSON
      ORACLE         sys._debugmallocstats() output written by
                     tests/targets/py_truth.py (two or more identical copies)
      CENSUS         the census file written by py_truth.py (format at its top)
      PYMALLOC_JSON  output of `heapinspect pymalloc --json PID`
      TYPES_JSON     output of `heapinspect types --json PID`
      --method M     also require python.state.method == M
  check_python.py --oracle ORACLE
      parse the oracle alone, check it against itself and print its figures
  check_python.py --build-id ELF
      print the GNU build-id of ELF in hex (for finding separate debuginfo)

Prints one PASS/FAIL line per check group (with the first differences under
a FAIL) and last a line "N passed, N failed"; exits 1 if anything failed.
Standard library only; runs on Debian 12's /usr/bin/python3 (3.11).

What is compared (doc/json-schema.md, "Python (CPython pymalloc)"):
  - Every size-class row of the oracle (size, pools, blocks in use, avail
    blocks) with pymalloc.classes, exactly, and no other rows.
  - "# arenas allocated current", "# arenas highwater mark" (when the JSON
    has arenas_highwater), "M unused pools", "# bytes in allocated/available
    blocks", "# bytes lost to pool headers/quantization/arena alignment",
    ARENA_SIZE and POOL_SIZE with the pymalloc members and python.*.
  - pymalloc.arenas against the oracle: one entry per allocated arena, and
    summed over them free_pools = unused pools, used_blocks and used_bytes =
    the blocks and bytes in use, pools - free_pools = the pools of the table,
    (64 - pools) * POOL_SIZE = the arena alignment loss ("pools" is the
    arena's ntotalpools: 64, or 63 when its base is not pool aligned).
  - Per type name: the census counts GC-tracked objects (gc.get_objects()),
    so a "types" row's "tracked" member, or "count" when it has none, summed
    over the rows of that name, must equal the census for every name in the
    census and be 0 for every other row with "gc": true.  Objects of GC
    types that are not tracked (tuples and dicts of atoms) are not in the
    census.
  - The target's own non-GC objects (int, float, str, bytes) are a lower
    bound of "count" for their type.
Type names are C tp_name strings; both sides are escaped the same way
(bytes outside 0x21-0x7e and '\\' as \\xNN) before comparing.

Invariants kept (CPython 3.8 - 3.13 Objects/obmalloc.c,
_PyObject_DebugMallocStats): the table lists every size class with at least
one pool whose count is > 0; avail = NUMBLOCKS - count summed over them;
unused pools = sum of nfreepools (empty and never-carved pools); arena
alignment loss = POOL_SIZE per arena whose base is not POOL_SIZE aligned.
The oracle is checked against these identities first, so a parse error
cannot pass silently.
"""

import json
import os
import re
import sys

sys.dont_write_bytecode = True     # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_glibc import Report, build_id, load_json  # noqa: E402  (same directory)

POOL_OVERHEAD = 48                # sizeof(struct pool_header), 3.8 - 3.13
MAX_POOLS_IN_ARENA = 64
ALIGNMENT = 16
NB_SMALL_SIZE_CLASSES = 32
SMALL_REQUEST_THRESHOLD = 512
SIZES_BEFORE_3_10 = (256 * 1024, 4 * 1024)      # ARENA_SIZE, POOL_SIZE
SIZES_SINCE_3_10 = (1024 * 1024, 16 * 1024)
PAGE = 4096
METHODS = ("symbol", "runtime", "heuristic")

HEADER_RE = re.compile(r"^Small block threshold = (\d+), in (\d+) size "
                       r"classes\.$")
ROW_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$")
VALUE_RE = re.compile(r"^(\S.*?)\s*=\s*([\d,]+)$")
ARENAS_RE = re.compile(r"^(\d+) arenas \* (\d+) bytes/arena$")
UNUSED_RE = re.compile(r"^(\d+) unused pools \* (\d+) bytes$")
FREELIST_RE = re.compile(r"^(\d+) free (.*?) \* (\d+) bytes each$")

LABELS = {
    "# arenas allocated total": "allocated_total",
    "# arenas reclaimed": "reclaimed",
    "# arenas highwater mark": "highwater",
    "# arenas allocated current": "current",
    "# bytes in allocated blocks": "allocated_bytes",
    "# bytes in available blocks": "available_bytes",
    "# bytes lost to pool headers": "pool_headers",
    "# bytes lost to quantization": "quantization",
    "# bytes lost to arena alignment": "alignment",
    "Total": "total",
}


class Oracle:
    """One copy of sys._debugmallocstats()'s pymalloc section."""

    def __init__(self):
        self.threshold = None
        self.nclasses = None
        self.rows = {}                # size -> dict
        self.values = {}              # LABELS values -> int
        self.narenas = None
        self.arena_size = None
        self.unused_pools = None
        self.pool_size = None
        self.freelists = []           # (label, count, size)
        self.unknown = []


def number(text):
    return int(text.replace(",", ""))


def split_copies(text):
    """The oracle file holds one or more printouts, each beginning with the
    "Small block threshold" line; anything before the first is returned
    separately (it must be empty)."""
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if HEADER_RE.match(line)]
    if not starts:
        return "\n".join(lines), []
    copies = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        copies.append(lines[start:end])
    return "\n".join(lines[:starts[0]]), copies


def parse_copy(lines):
    oracle = Oracle()
    match = HEADER_RE.match(lines[0])
    oracle.threshold, oracle.nclasses = int(match.group(1)), \
        int(match.group(2))
    section = "table"
    for line in lines[1:]:
        stripped = line.strip()
        if not stripped or stripped.startswith("class ") or \
                set(stripped) <= set("- "):
            continue
        if stripped == "arena map counts":
            section = "arena map"
            continue
        row = ROW_RE.match(line)
        if row and section == "table":
            cls, size, pools, blocks, avail = (int(x) for x in row.groups())
            oracle.rows[size] = {"class": cls, "size": size, "pools": pools,
                                 "blocks_in_use": blocks,
                                 "avail_blocks": avail}
            continue
        value = VALUE_RE.match(stripped)
        if not value:
            oracle.unknown.append(line)
            continue
        label, amount = value.group(1), number(value.group(2))
        freelist = FREELIST_RE.match(label)
        if freelist:
            section = "free lists"
            oracle.freelists.append((freelist.group(2),
                                     int(freelist.group(1)),
                                     int(freelist.group(3))))
            continue
        if section != "table":
            continue                  # arena map figures: not compared
        section_label = LABELS.get(label)
        arenas = ARENAS_RE.match(label)
        unused = UNUSED_RE.match(label)
        if arenas:
            oracle.narenas = int(arenas.group(1))
            oracle.arena_size = int(arenas.group(2))
        elif unused:
            oracle.unused_pools = int(unused.group(1))
            oracle.pool_size = int(unused.group(2))
        elif section_label and section_label not in oracle.values:
            oracle.values[section_label] = amount
        else:
            oracle.unknown.append(line)   # e.g. Py_DEBUG extras: ignored
    if oracle.narenas is None or oracle.unused_pools is None or \
            "current" not in oracle.values:
        raise ValueError("oracle: the pymalloc summary lines are missing")
    return oracle


def parse_oracle(path):
    with open(path, encoding="utf-8", errors="replace") as stream:
        text = stream.read()
    before, copies = split_copies(text)
    if not copies:
        raise ValueError("oracle %s has no pymalloc section (PYTHONMALLOC="
                         "malloc, or not _debugmallocstats output): %r"
                         % (path, text[:200]))
    return before, ["\n".join(c) for c in copies], parse_copy(copies[0])


class Census:
    def __init__(self):
        self.fields = {}
        self.types = {}
        self.own = {}
        self.untracked = {}
        self.ended = False


def parse_census(path):
    census = Census()
    with open(path, encoding="utf-8", errors="replace") as stream:
        for line in stream:
            line = line.rstrip("\n")
            key, _, rest = line.partition(" ")
            if key in ("type", "own", "untracked"):
                name, count = rest.rsplit(" ", 1)
                table = {"type": census.types, "own": census.own,
                         "untracked": census.untracked}[key]
                table[name] = int(count)
            elif key == "end":
                census.ended = True
            elif key:
                census.fields[key] = rest
    for field in ("version", "hexversion", "pid", "tracked_total"):
        if field not in census.fields:
            raise ValueError("census %s has no '%s' line" % (path, field))
    return census


def escape_name(name):
    """Same escaping as py_truth.py's escape_name, from a JSON string."""
    out = []
    for byte in name.encode("utf-8", "surrogateescape"):
        if byte < 0x21 or byte > 0x7e or byte == 0x5c:
            out.append("\\x%02x" % byte)
        else:
            out.append(chr(byte))
    return "".join(out)


def expect(problems, what, got, want, source="oracle"):
    if got != want:
        problems.append("%s: heapinspect %r, %s %r" % (what, got, source,
                                                       want))


def numblocks(pool_size, size):
    return (pool_size - POOL_OVERHEAD) // size


def expected_sizes(hexversion):
    return SIZES_BEFORE_3_10 if hexversion < 0x030a0000 else SIZES_SINCE_3_10


def oracle_problems(oracle, hexversion):
    """The oracle against itself and obmalloc.c's identities."""
    problems = []
    v = oracle.values

    def same(what, got, want):
        if got != want:
            problems.append("%s: printed %r, derived %r" % (what, got, want))

    same("threshold", oracle.threshold, SMALL_REQUEST_THRESHOLD)
    same("size classes", oracle.nclasses, NB_SMALL_SIZE_CLASSES)
    if hexversion is not None:
        same("ARENA_SIZE, POOL_SIZE", (oracle.arena_size, oracle.pool_size),
             expected_sizes(hexversion))
    for size, row in sorted(oracle.rows.items()):
        same("class %d size" % row["class"], size, (row["class"] + 1) *
             ALIGNMENT)
        same("class %d blocks + avail" % row["class"],
             row["blocks_in_use"] + row["avail_blocks"],
             row["pools"] * numblocks(oracle.pool_size, size))
        if row["pools"] <= 0:
            problems.append("class %d listed with no pools" % row["class"])
    rows = oracle.rows.values()
    pools = sum(r["pools"] for r in rows)
    same("# bytes in allocated blocks", v.get("allocated_bytes"),
         sum(r["blocks_in_use"] * r["size"] for r in rows))
    same("# bytes in available blocks", v.get("available_bytes"),
         sum(r["avail_blocks"] * r["size"] for r in rows))
    same("# bytes lost to pool headers", v.get("pool_headers"),
         pools * POOL_OVERHEAD)
    same("# bytes lost to quantization", v.get("quantization"),
         sum(r["pools"] * ((oracle.pool_size - POOL_OVERHEAD) % r["size"])
             for r in rows))
    same("arenas in 'N arenas *' line", oracle.narenas, v.get("current"))
    same("Total", v.get("total"), oracle.narenas * oracle.arena_size)
    alignment = v.get("alignment", 0)
    same("pools in arenas (64 per arena - alignment loss)",
         pools + oracle.unused_pools,
         MAX_POOLS_IN_ARENA * oracle.narenas - alignment // oracle.pool_size)
    same("sum of all parts", v.get("allocated_bytes", 0) +
         v.get("available_bytes", 0) +
         oracle.unused_pools * oracle.pool_size + v.get("pool_headers", 0) +
         v.get("quantization", 0) + alignment, v.get("total"))
    return problems


def oracle_summary(oracle):
    return ("%d arenas * %d, %d unused pools * %d, %d classes, %d blocks "
            "in use" % (oracle.narenas, oracle.arena_size,
                        oracle.unused_pools, oracle.pool_size,
                        len(oracle.rows),
                        sum(r["blocks_in_use"]
                            for r in oracle.rows.values())))


def check_oracle(report, before, copies, oracle, hexversion):
    problems = []
    if before.strip():
        problems.append("text before the first printout: %r"
                        % before[:200])
    if len(copies) < 2:
        problems.append("%d printout(s); the target prints at least 2"
                        % len(copies))
    for n, copy in enumerate(copies[1:], 2):
        if copy != copies[0]:
            first = copies[0].splitlines()
            other = copy.splitlines()
            for i, (a, b) in enumerate(zip(first, other)):
                if a != b:
                    problems.append("printout %d differs from printout 1 at "
                                    "line %d: %r vs %r" % (n, i + 1, b, a))
                    break
            else:
                problems.append("printout %d has %d lines, printout 1 %d"
                                % (n, len(other), len(first)))
    report.group("oracle stable", problems,
                 "%d identical printouts" % len(copies))
    report.group("oracle identities", oracle_problems(oracle, hexversion),
                 oracle_summary(oracle))


def census_problems(census):
    problems = []
    if not census.ended:
        problems.append("census has no 'end' line")
    total = int(census.fields["tracked_total"])
    if sum(census.types.values()) != total:
        problems.append("type counts add up to %d, tracked_total is %d"
                        % (sum(census.types.values()), total))
    return problems


def check_python_member(report, census, docs, method):
    problems = []
    pid = int(census.fields["pid"])
    hexversion = int(census.fields["hexversion"])
    arena_size, pool_size = expected_sizes(hexversion)
    for name, doc in docs:
        py = doc.get("python")
        if not isinstance(py, dict):
            problems.append("%s: no 'python' member" % name)
            continue
        expect(problems, name + " target.pid", doc["target"]["pid"], pid,
               "want")
        expect(problems, name + " python.version", py.get("version"),
               census.fields["version"], "want")
        expect(problems, name + " python.hexversion", py.get("hexversion"),
               hexversion, "want")
        expect(problems, name + " python.layout", py.get("layout"),
               "cpython-%d.%d" % (hexversion >> 24, (hexversion >> 16) &
                                  0xff), "want")
        expect(problems, name + " python.free_threaded",
               py.get("free_threaded"), False, "want")
        expect(problems, name + " python.arena_size", py.get("arena_size"),
               arena_size, "want")
        expect(problems, name + " python.pool_size", py.get("pool_size"),
               pool_size, "want")
        expect(problems, name + " python.alignment", py.get("alignment"),
               ALIGNMENT, "want")
        expect(problems, name + " python.size_classes",
               py.get("size_classes"), NB_SMALL_SIZE_CLASSES, "want")
        got_method = (py.get("state") or {}).get("method")
        if method:
            expect(problems, name + " python.state.method", got_method,
                   method, "want")
        elif got_method not in METHODS:
            problems.append("%s python.state.method: %r, want one of %s"
                            % (name, got_method, ", ".join(METHODS)))
        errors = [d for d in doc.get("diagnostics", [])
                  if d.get("severity") == "error"]
        for diag in errors:
            problems.append("%s: error diagnostic: %s"
                            % (name, diag.get("message")))
    report.group("python", problems, "%s, pid %d%s"
                 % (census.fields["version"], pid,
                    ", method " + method if method else ""))


def check_scalars(report, oracle, pym):
    v = oracle.values
    problems = []
    expect(problems, "arenas_allocated_current",
           pym.get("arenas_allocated_current"), v["current"])
    if "arenas_highwater" in pym:
        expect(problems, "arenas_highwater", pym["arenas_highwater"],
               v.get("highwater"))
    maxarenas = pym.get("maxarenas")
    if not isinstance(maxarenas, int) or maxarenas < max(
            v["current"], v.get("highwater", 0)):
        problems.append("maxarenas: heapinspect %r, want >= %d (current and "
                        "highwater)" % (maxarenas, max(v["current"],
                                                       v.get("highwater",
                                                             0))))
    expect(problems, "unused_pools", pym.get("unused_pools"),
           oracle.unused_pools)
    expect(problems, "arena_alignment_loss",
           pym.get("arena_alignment_loss"), v.get("alignment"))
    report.group("arenas and pools", problems,
                 "%d arenas (highwater %s), %d unused pools, alignment "
                 "loss %d%s" % (v["current"], v.get("highwater"),
                                oracle.unused_pools, v.get("alignment"),
                                "" if "arenas_highwater" in pym
                                else "; no arenas_highwater in the JSON"))
    problems = []
    for member, key in (("bytes_in_allocated_blocks", "allocated_bytes"),
                        ("bytes_in_available_blocks", "available_bytes"),
                        ("pool_header_bytes", "pool_headers"),
                        ("quantization_bytes", "quantization")):
        expect(problems, member, pym.get(member), v.get(key))
    report.group("byte totals", problems,
                 "%d allocated, %d available, %d headers, %d quantization"
                 % (v["allocated_bytes"], v["available_bytes"],
                    v["pool_headers"], v["quantization"]))


def check_classes(report, oracle, pym):
    problems = []
    got = {}
    for row in pym.get("classes", []):
        if row.get("size") in got:
            problems.append("size %r listed twice" % row.get("size"))
        got[row.get("size")] = row
    fields = ("pools", "blocks_in_use", "avail_blocks")
    for size in sorted(set(got) | set(oracle.rows), key=str):
        want, have = oracle.rows.get(size), got.get(size)
        if have is None:
            problems.append("size %d: oracle %s, heapinspect has no row"
                            % (size, [want[f] for f in fields]))
        elif want is None:
            problems.append("size %r: heapinspect %s, oracle has no row"
                            % (size, [have.get(f) for f in fields]))
        else:
            a = [have.get(f) for f in fields]
            b = [want[f] for f in fields]
            if a != b:
                problems.append("size %d (pools, in use, avail): heapinspect "
                                "%s, oracle %s" % (size, a, b))
    report.group("size classes", problems,
                 "%d rows of (size, pools, blocks in use, avail blocks)"
                 % len(oracle.rows))


def check_arena_list(report, oracle, pym):
    arenas = pym.get("arenas")
    problems = []
    if not isinstance(arenas, list):
        report.group("arena list", ["pymalloc.arenas missing"])
        return
    v = oracle.values
    rows = oracle.rows.values()
    expect(problems, "number of arenas listed", len(arenas), v["current"])
    addrs = [a.get("addr") for a in arenas]
    if len(set(addrs)) != len(addrs):
        problems.append("an arena address is listed twice")
    for arena in arenas:
        addr, pools = arena.get("addr"), arena.get("pools")
        if not isinstance(addr, int) or addr % PAGE:
            problems.append("arena addr %r: not a page-aligned address"
                            % addr)
        if pools not in (MAX_POOLS_IN_ARENA - 1, MAX_POOLS_IN_ARENA) or \
                not 0 <= arena.get("free_pools", -1) <= pools:
            problems.append("arena 0x%x: pools %r, free_pools %r"
                            % (addr or 0, pools, arena.get("free_pools")))
            return report.group("arena list", problems)
        if pools == MAX_POOLS_IN_ARENA - 1 and \
                addr % oracle.pool_size == 0:
            problems.append("arena 0x%x is pool aligned but has %d pools"
                            % (addr, pools))

    def total(member):
        return sum(a.get(member, 0) for a in arenas)

    expect(problems, "sum of free_pools", total("free_pools"),
           oracle.unused_pools)
    expect(problems, "sum of used_blocks", total("used_blocks"),
           sum(r["blocks_in_use"] for r in rows))
    expect(problems, "sum of used_bytes", total("used_bytes"),
           v["allocated_bytes"])
    expect(problems, "sum of pools - free_pools",
           total("pools") - total("free_pools"),
           sum(r["pools"] for r in rows))
    expect(problems, "sum of (64 - pools) * POOL_SIZE",
           (MAX_POOLS_IN_ARENA * len(arenas) - total("pools")) *
           oracle.pool_size, v.get("alignment"))
    report.group("arena list", problems,
                 "%d arenas add up to the oracle's totals" % len(arenas))


def json_type_counts(types):
    """name -> (tracked-or-count sum, count sum, gc flags seen)."""
    table = {}
    for row in types:
        name = escape_name(row["type"])
        tracked = row["tracked"] if "tracked" in row else row["count"]
        entry = table.setdefault(name, [0, 0, set()])
        entry[0] += tracked
        entry[1] += row["count"]
        entry[2].add(bool(row.get("gc")))
    return table


def check_types(report, census, types):
    table = json_type_counts(types)
    uses_tracked = any("tracked" in row for row in types)
    problems = []
    for name in sorted(set(census.types) | set(
            n for n, e in table.items() if True in e[2] and e[0])):
        want = census.types.get(name, 0)
        got, _, flags = table.get(name, (0, 0, {True}))
        if False in flags and want:
            problems.append("%s: heapinspect reports gc false, the census "
                            "has %d tracked objects" % (name, want))
        if got != want:
            hint = ""
            if name in census.untracked and got > want:
                hint = (" (the target alone holds %d untracked %s objects; "
                        "tracked objects only)"
                        % (census.untracked[name], name))
            problems.append("%s: heapinspect %d, census %d%s"
                            % (name, got, want, hint))
    report.group("GC-tracked types", problems,
                 "%d type names, %d objects (JSON member %s)"
                 % (len(census.types), sum(census.types.values()),
                    "tracked" if uses_tracked else "count"))
    problems = []
    for name, want in sorted(census.own.items()):
        got, count, flags = table.get(name, (0, 0, set()))
        if count < want:
            problems.append("%s: heapinspect %d, the target alone holds %d"
                            % (name, count, want))
        if True in flags:
            problems.append("%s: heapinspect reports gc true" % name)
    report.group("non-GC types (lower bounds)", problems,
                 ", ".join("%s >= %d" % kv for kv in
                           sorted(census.own.items())))


def run_checks(report, paths, method):
    census = parse_census(paths[1])
    hexversion = int(census.fields["hexversion"])
    before, copies, oracle = parse_oracle(paths[0])
    check_oracle(report, before, copies, oracle, hexversion)
    report.group("census file", census_problems(census),
                 "%s tracked objects" % census.fields["tracked_total"])
    pym_doc, types_doc = load_json(paths[2]), load_json(paths[3])
    check_python_member(report, census, (("pymalloc", pym_doc),
                                         ("types", types_doc)), method)
    pym = pym_doc["pymalloc"]
    check_scalars(report, oracle, pym)
    check_classes(report, oracle, pym)
    check_arena_list(report, oracle, pym)
    check_types(report, census, types_doc["types"])
    report.group("free lists", free_list_problems(oracle, hexversion, types_doc),
                 "%d free-list lines" % len(oracle.freelists))


def free_list_problems(oracle, hexversion, doc):
    """heapinspect's free-list counts against _debugmallocstats's lines."""
    problems = []
    got = doc.get("free_lists")
    if got is None:
        return ["no free_lists member in types --json"]
    base = got.get("tuple_index_base", 0)
    for label, count, _size in oracle.freelists:
        words = label.split()
        if label.endswith("PyTupleObjects") and words[0].endswith("-sized"):
            n = int(words[0].split("-")[0])
            tuples = got.get("tuple", [])
            index = n - base
            value = tuples[index] if 0 <= index < len(tuples) else None
            expect(problems, "free %d-sized tuples" % n, value, count)
            continue
        key = {"PyFloatObjects": "float", "PyListObjects": "list",
               "PyDictObjects": "dict", "PyDictKeysObjects": "dictkeys"}.get(label)
        if key:
            expect(problems, "free %s objects" % key, got.get(key), count)
    return problems


def oracle_only(report, path):
    before, copies, oracle = parse_oracle(path)
    check_oracle(report, before, copies, oracle, None)
    v = oracle.values
    print("arenas: current %d, highwater %s, total %s, reclaimed %s"
          % (v["current"], v.get("highwater"), v.get("allocated_total"),
             v.get("reclaimed")))
    print("bytes: allocated %d, available %d, alignment loss %d"
          % (v["allocated_bytes"], v["available_bytes"],
             v.get("alignment", 0)))
    for size, row in sorted(oracle.rows.items()):
        print("class %2d size %3d pools %5d in use %7d avail %6d"
              % (row["class"], size, row["pools"], row["blocks_in_use"],
                 row["avail_blocks"]))
    for label, count, size in oracle.freelists:
        print("free list %s: %d * %d" % (label, count, size))


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
    if not (len(args) == 4 or
            (len(args) == 2 and args[0] == "--oracle" and not method)):
        sys.stderr.write(__doc__)
        return 2
    report = Report()
    try:
        if len(args) == 2:
            oracle_only(report, args[1])
        else:
            run_checks(report, args, method)
    except (OSError, ValueError, KeyError, TypeError, AttributeError,
            IndexError) as error:
        report.group("input", ["%s: %s" % (type(error).__name__, error)])
    print("%d passed, %d failed" % (report.passed, report.failed))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
