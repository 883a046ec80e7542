#!/usr/bin/env python3
"""check_mmap_churn.py - the chunks targets/mmap_churn held at a pause
against heapinspect's mmapped chunks from the same pause.

Usage:
  check_mmap_churn.py IMAGE MMAPPED_JSON SUMMARY_JSON LIVE_ADDR THREADS SLOTS

IMAGE is the snapshot saved (--save) by the inspection that printed
MMAPPED_JSON (`--json mmapped`), SUMMARY_JSON its `--json summary` (read
from IMAGE); LIVE_ADDR, THREADS and SLOTS are what the
target printed on its "live" line.  The target's live[THREADS][SLOTS]
array of {pointer, requested size} is read from the image: the target's
own account of the chunks it held when it was paused.  Passes (exit 0,
one line of figures) if:
  - every published pointer is the user address (mem) of a reported
    mmapped chunk with at least the requested usable size;
  - no two published pointers are the same;
  - the chunks reported beyond those are at most THREADS (a thread may be
    paused between its allocation and publishing it, or between clearing a
    slot and freeing its chunk);
  - the report agrees with glibc's own mp_ counters (n_mmaps, mmapped_mem).
Else exit 1, naming the first discrepancies.  Python 3 standard library.
"""

import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mutate_image import Image  # noqa: E402  (the image parser)


def main():
    image_path, json_path, summary_path, live_addr, threads, slots = sys.argv[1:7]
    live_addr, threads, slots = int(live_addr, 16), int(threads), int(slots)
    img = Image(image_path)
    raw = img.read(live_addr, threads * slots * 16)
    published = [struct.unpack_from("<QQ", raw, i * 16) for i in range(threads * slots)]
    published = [(p, n) for p, n in published if p]
    doc = json.load(open(json_path))
    chunks = {c["mem"]: c for c in doc["mmapped"]["chunks"]}
    problems = []
    if len({p for p, _ in published}) != len(published):
        problems.append("a pointer is published twice")
    for p, n in published:
        c = chunks.get(p)
        if c is None:
            problems.append(f"published chunk 0x{p:x} ({n} B) is not reported")
        elif c["usable"] < n:
            problems.append(f"chunk 0x{p:x}: usable {c['usable']} < requested {n}")
    extra = len(chunks) - len(published)
    if not 0 <= extra <= threads:
        problems.append(f"{len(chunks)} chunks reported, {len(published)} published "
                        f"(at most {threads} may be in flight)")
    mp, mm = json.load(open(summary_path))["mp"], doc["mmapped"]
    if (mm["count"], mm["bytes"]) != (mp["n_mmaps"], mp["mmapped_mem"]):
        problems.append(f"reported {mm['count']} chunks / {mm['bytes']} B, mp_ says "
                        f"{mp['n_mmaps']} / {mp['mmapped_mem']} B")
    memaligned = sum(1 for c in chunks.values() if c["prev_size"])
    if problems:
        print("; ".join(problems[:5]))
        return 1
    print(f"{len(published)} published chunks found ({memaligned} memaligned), {extra} in flight")
    return 0


if __name__ == "__main__":
    sys.exit(main())
