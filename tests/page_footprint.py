#!/usr/bin/env python3
"""page_footprint.py PID - what a process has in memory, page by page.

Prints RssAnon, RssFile and RssShmem of /proc/PID/status, then one line per
mapping: its range, path and which of its pages /proc/PID/pagemap says are
present (as runs of page indexes).  Two outputs taken around something that
must leave the process alone (an inspection) must be identical: a read of
a never-touched page maps the zero page or the file's page into the
process, and shows up here even where RSS does not change.
"""
import struct
import sys

PRESENT = 1 << 63
PAGE = 4096


def runs(entries):
    out, start = [], None
    for i, e in enumerate(entries + [0]):
        if e & PRESENT and start is None:
            start = i
        elif not e & PRESENT and start is not None:
            out.append("%d-%d" % (start, i - 1))
            start = None
    return ",".join(out)


def main():
    pid = int(sys.argv[1])
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.split(":")[0] in ("RssAnon", "RssFile", "RssShmem"):
                print(" ".join(line.split()))
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/pagemap" % pid, "rb") as pm:
        for line in maps:
            fields = line.split()
            start, end = (int(x, 16) for x in fields[0].split("-"))
            path = fields[5] if len(fields) > 5 else ""
            if path in ("[vsyscall]", "[vvar]", "[vdso]", "[vvar_vclock]"):
                continue
            pm.seek(start // PAGE * 8)
            raw = pm.read((end - start) // PAGE * 8)
            entries = list(struct.unpack("<%dQ" % (len(raw) // 8), raw))
            print("%s %s %s present %s" % (fields[0], fields[1], path, runs(entries)))


main()
