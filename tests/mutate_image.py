#!/usr/bin/env python3
"""mutate_image.py - hostile variants of a heapinspect memory image.

Used by tests/hostile-images.test: that test saves a healthy image of
targets/demo_target with --dump-image, and this script rewrites it into
the kinds of image that used to make heapinspect crash or hang (wrapping
addresses and sizes, heap_info cycles, absurd mappings, odd libc paths and
banners).  Python 3 standard library only.

  mutate_image.py make CASE IN OUT --summary S.json --chunks C.json
      Write IN with the corruption CASE applied to OUT (see CASES below).
      Exit 77 with a reason on stderr when IN lacks what CASE needs.

  mutate_image.py fuzz IMAGE --summary S.json --chunks C.json
                  --seed N --round R --count K --undo FILE
      Mutate IMAGE in place: first put back the bytes saved in FILE (if it
      exists: the previous round), then make K random changes (bit flips,
      odd words, random bytes) to heap metadata - chunk headers, arena and
      heap_info structures, tcache structures - chosen by a generator seeded
      from N and R, and save the bytes they overwrote in FILE.

S.json and C.json are heapinspect's `summary --json` and `chunks --json`
reports of IN (IMAGE); the addresses patched come from them.

Image format (inspector/target_image.c, little-endian, versions 1 and 2;
version 2 adds a residency section after the region bytes and a footer
{u64 section offset, "HIRESID2"}, carried over unchanged):
  "HEAPIMG1", u32 version, u32 pid, u64 exe_len, maps_len, nthreads, nregions,
  exe bytes, maps text, nthreads x {u64 tid, fs_base},
  nregions x {u64 start, end, file_offset}, region bytes.
"""

import argparse
import json
import os
import random
import struct
import sys

HEADER = struct.Struct("<8sIIQQQQ")
THREAD = struct.Struct("<QQ")
REGION = struct.Struct("<QQQ")
U64 = struct.Struct("<Q")
MAGIC = b"HEAPIMG1"
FOOTER_MAGIC = b"HIRESID2"
PAGE = 4096
WRAP = 2**64 - 16  # an address just below 2^64, 16-aligned
MMAPPED = 0x2  # IS_MMAPPED in a chunk's size field
SKIP = 77


class CannotBuild(Exception):
    """The image lacks what a case needs (the test skips the case)."""


class Image:
    """A memory image: the header, maps, thread and region tables are
    parsed; region bytes stay in the file until save() copies them, with
    every patch applied."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            head = f.read(HEADER.size)
            magic, version, self.pid, exe_len, maps_len, nthreads, nregions = \
                HEADER.unpack(head)
            if magic != MAGIC or version not in (1, 2):
                raise ValueError(f"{path}: not a version 1 or 2 heapinspect image")
            self.version = version
            self.exe = f.read(exe_len)
            self.maps = f.read(maps_len).decode()
            self.threads = [list(THREAD.unpack(f.read(THREAD.size)))
                            for _ in range(nthreads)]
            # [start, end, source]: source is a file offset in self.path
            # or the bytes of a region added by add_region()
            self.regions = [list(REGION.unpack(f.read(REGION.size)))
                            for _ in range(nregions)]
        self.patches = {}  # address -> bytes, applied by save()
        self.residency = b""  # version 2: the residency section, kept as is
        if self.version == 2:
            with open(path, "rb") as f:
                data = f.read()
            if data[-8:] != FOOTER_MAGIC:
                raise ValueError(f"{path}: version 2 image without its footer")
            self.residency = data[U64.unpack_from(data, len(data) - 16)[0]:-16]

    # --- reading and patching memory -------------------------------------
    def region_at(self, addr, length=1):
        for r in self.regions:
            if r[0] <= addr and addr + length <= r[1]:
                return r
        raise CannotBuild(f"0x{addr:x} (+{length}) is not in a copied region")

    def file_offset(self, addr, length):
        start, _, source = self.region_at(addr, length)
        if not isinstance(source, int):
            raise CannotBuild(f"0x{addr:x} is in an added region")
        return source + addr - start

    def read(self, addr, length):
        start, _, source = self.region_at(addr, length)
        if isinstance(source, int):
            with open(self.path, "rb") as f:
                f.seek(source + addr - start)
                data = bytearray(f.read(length))
        else:
            data = bytearray(source[addr - start:addr - start + length])
        for at, patch in self.patches.items():  # patches already made
            lo, hi = max(at, addr), min(at + len(patch), addr + length)
            if lo < hi:
                data[lo - addr:hi - addr] = patch[lo - at:hi - at]
        return bytes(data)

    def read64(self, addr):
        return U64.unpack(self.read(addr, 8))[0]

    def write(self, addr, data):
        self.region_at(addr, len(data))
        self.patches[addr] = bytes(data)

    def write64(self, addr, value):
        self.write(addr, U64.pack(value % 2**64))

    def find_word(self, start, length, value):
        """Address of the first 8-aligned word equal to VALUE in
        [start, start+length)."""
        data = self.read(start, length)
        for i in range(0, length - 7, 8):
            if U64.unpack_from(data, i)[0] == value:
                return start + i
        raise CannotBuild(f"no word 0x{value:x} in [0x{start:x}, +{length})")

    # --- changing the layout ----------------------------------------------
    def add_region(self, start, data, map_length=None):
        """Add an anonymous rw mapping of MAP_LENGTH bytes (default: all of
        DATA) at START to the maps text, and a region holding DATA (whole
        pages) at its start."""
        end = start + (map_length or len(data))
        lines = self.maps.splitlines()
        lines.append(f"{start:x}-{end:x} rw-p 00000000 00:00 0")
        lines.sort(key=lambda line: int(line.split("-", 1)[0], 16))
        self.maps = "\n".join(lines) + "\n"
        self.regions.append([start, start + len(data), bytes(data)])
        self.regions.sort(key=lambda r: r[0])

    def mappings(self):
        """(start, end, path) of every maps line."""
        for line in self.maps.splitlines():
            fields = line.split(None, 5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            yield start, end, fields[5] if len(fields) > 5 else ""

    def free_range(self, start, length):
        return all(end <= start or begin >= start + length
                   for begin, end, _ in self.mappings())

    def rename_mappings(self, old, new):
        lines = []
        for line in self.maps.splitlines():
            fields = line.split(None, 5)
            if len(fields) > 5 and fields[5] == old:
                line = line[:len(line) - len(old)] + new
            lines.append(line)
        self.maps = "\n".join(lines) + "\n"

    # --- writing --------------------------------------------------------------
    def save(self, out):
        """Write the image to OUT: tables, region bytes in table order, and
        the patches over them."""
        exe, maps = self.exe, self.maps.encode()
        offset = (HEADER.size + len(exe) + len(maps) + THREAD.size * len(self.threads)
                  + REGION.size * len(self.regions))
        new_offset = {}
        with open(self.path, "rb") as src, open(out, "wb") as dst:
            dst.write(HEADER.pack(MAGIC, self.version, self.pid, len(exe), len(maps),
                                  len(self.threads), len(self.regions)))
            dst.write(exe + maps)
            for tid, fs_base in self.threads:
                dst.write(THREAD.pack(tid, fs_base))
            for start, end, _ in self.regions:
                dst.write(REGION.pack(start, end, offset))
                new_offset[start] = offset
                offset += end - start
            for start, end, source in self.regions:
                if isinstance(source, int):
                    src.seek(source)
                    left = end - start
                    while left:
                        block = src.read(min(left, 1 << 20))
                        if not block:
                            raise ValueError(f"{self.path} is truncated")
                        dst.write(block)
                        left -= len(block)
                else:
                    dst.write(source)
            if self.version == 2:
                dst.write(self.residency + U64.pack(offset) + FOOTER_MAGIC)
            for addr, patch in self.patches.items():
                start = self.region_at(addr, len(patch))[0]
                dst.seek(new_offset[start] + addr - start)
                dst.write(patch)


# --- what the reports say ------------------------------------------------------

class Reports:
    def __init__(self, summary_path, chunks_path):
        with open(summary_path) as f:
            self.summary = json.load(f)
        with open(chunks_path) as f:
            self.chunks = json.load(f)["chunks"]

    def arena(self, main):
        for a in self.summary["arenas"]:
            if a["main"] == main:
                return a
        raise CannotBuild("the image has no " + ("main" if main else "thread") + " arena")

    def middle_chunk(self, arena_index, state="inuse"):
        """The middle one of the arena's chunks in STATE."""
        found = [c for c in self.chunks if c["arena"] == arena_index and c["state"] == state]
        if not found:
            raise CannotBuild(f"arena {arena_index} has no {state} chunk")
        return found[len(found) // 2]


def top_field(img, arena):
    """Address of malloc_state.top of ARENA: the word holding its top
    address, found in the first 256 bytes (offset 0x60 in 2.27+)."""
    return img.find_word(arena["addr"], 256, arena["top"]["addr"])


# --- the cases ---------------------------------------------------------------

def main_top_wrap(img, rep):
    """main_arena.top points 16 bytes below 2^64."""
    img.write64(top_field(img, rep.arena(True)), WRAP)


def thread_top_wrap(img, rep):
    """A thread arena's top points 16 bytes below 2^64 (its heap_info is
    looked for at the top's 64 MiB-aligned base)."""
    img.write64(top_field(img, rep.arena(False)), WRAP)


def top_size_41(img, rep):
    """The main arena's top chunk has size 0x4141414141414141 (an overflow
    of the chunk below it)."""
    img.write64(rep.arena(True)["top"]["addr"] + 8, 0x4141414141414141)


def top_size_wrap(img, rep):
    """The top chunks of the main arena and of a thread arena claim a size
    that makes them end exactly at 2^64 - 16."""
    for arena in (rep.arena(True), rep.arena(False)):
        top = arena["top"]["addr"]
        flags = img.read64(top + 8) & 7
        img.write64(top + 8, (WRAP - top) | flags)


def chunk_size_wrap(img, rep):
    """An in-use chunk of the main arena and one of a thread arena claim a
    size that makes them end exactly at 2^64 - 16."""
    for arena in (rep.arena(True), rep.arena(False)):
        c = rep.middle_chunk(arena["index"])
        flags = img.read64(c["addr"] + 8) & 7
        img.write64(c["addr"] + 8, (WRAP - c["addr"]) | flags)


HEAP_MAX = 64 << 20  # a thread heap's alignment (HEAP_MAX_SIZE, 64-bit)


def heap_cycle(img, rep):
    """A thread arena's top moves to a new heap H2 whose heap_info.prev is
    another new heap H3, and H3's prev is H2: the chain never reaches the
    arena's first heap (where a walk of it stops), it loops.  Each new heap
    is one page: a heap_info, then one chunk up to the end of the page (in
    H2 the top chunk)."""
    arena = rep.arena(False)
    free = []
    h = arena["heaps"][0]["addr"] - HEAP_MAX
    while h > 0 and len(free) < 2:
        if img.free_range(h, HEAP_MAX):
            free.append(h)
        h -= HEAP_MAX
    if len(free) < 2:
        raise CannotBuild("no two free 64 MiB-aligned ranges below the thread heap")
    h2, h3 = free
    first = 0x30  # the first chunk: after heap_info (48 bytes in 2.35+, 32 before)
    for heap, prev in ((h2, h3), (h3, h2)):
        page = bytearray(PAGE)
        # heap_info: ar_ptr, prev, size, mprotect_size, pagesize (2.35+)
        struct.pack_into("<5Q", page, 0, arena["addr"], prev, PAGE, PAGE, PAGE)
        struct.pack_into("<Q", page, first + 8, (PAGE - first) | 1)  # PREV_INUSE
        img.add_region(heap, page)
    img.write64(top_field(img, arena), h2 + first)


def mmap_span_2e63(img, rep):
    """An anonymous mapping longer than 2^63 bytes, its first pages holding
    mmapped-chunk headers that span all of it with prev_size 0, so the
    memalign header search runs over alignments up to 2^63 (and beyond, if
    the doubling wraps to 0).  Page 0 suits glibc < 2.43, page 1 glibc 2.43
    (16 bytes mapped past the chunk)."""
    top = max(end for start, end, _ in img.mappings() if end <= 2**47)
    start = (top + 0x100000) & ~(PAGE - 1)
    length = 2**63 + 2 * PAGE
    if not img.free_range(start, length):
        raise CannotBuild("no room above the highest mapping")
    pages = bytearray(2 * PAGE)
    struct.pack_into("<QQ", pages, 0, 0, length | MMAPPED)
    struct.pack_into("<QQ", pages, PAGE, 0, (length - PAGE - 16) | MMAPPED)
    img.add_region(start, pages, length)


def tls_at_zero(img, rep):
    """A thread's fs_base is 0x100 and a page is mapped at address 0: the
    scan for the tcache pointer below fs_base reaches address 0."""
    if not img.threads:
        raise CannotBuild("the image has no threads")
    if not img.free_range(0, PAGE):
        raise CannotBuild("address 0 is mapped already")
    img.add_region(0, bytes(PAGE))
    img.threads[-1][1] = 0x100


def libc_path(rep):
    path = rep.summary["glibc"]["libc"]
    if not path.startswith("/"):
        raise CannotBuild(f"libc path {path!r} has no directory")
    return path


def libc_no_slash(img, rep):
    """libc's maps lines name it without a directory: 'libc.so.6'."""
    path = libc_path(rep)
    img.rename_mappings(path, path.rsplit("/", 1)[1])


def libc_deleted(img, rep):
    """libc's maps lines end in ' (deleted)', as after a libc upgrade."""
    path = libc_path(rep)
    img.rename_mappings(path, path + " (deleted)")


def banner_truncated(img, rep):
    """The 'GNU C Library ... release version ' banner stops at the last
    byte of libc's read-only mapping, with no version number and no NUL
    after it; the real banner is defaced so that this one is found."""
    path = libc_path(rep)
    for start, end, name in img.mappings():
        if name != path:
            continue
        try:
            data = img.read(start, end - start)
        except CannotBuild:
            continue  # not copied (executable text)
        hit = data.find(b"GNU C Library")
        if hit < 0:
            continue
        ver = data.find(b"release version ", hit)
        if ver < 0:
            raise CannotBuild("libc banner has no 'release version'")
        banner = data[hit:ver + len(b"release version ")]
        img.write(start + hit, b"gnu c library")
        img.write(end - len(banner), banner)
        return
    raise CannotBuild("no 'GNU C Library' banner in libc's copied mappings")


CASES = {
    "main-top-wrap": main_top_wrap,
    "thread-top-wrap": thread_top_wrap,
    "top-size-41": top_size_41,
    "top-size-wrap": top_size_wrap,
    "chunk-size-wrap": chunk_size_wrap,
    "heap-cycle": heap_cycle,
    "mmap-span-2e63": mmap_span_2e63,
    "tls-at-zero": tls_at_zero,
    "libc-no-slash": libc_no_slash,
    "libc-deleted": libc_deleted,
    "banner-truncated": banner_truncated,
}


# --- random mutations ------------------------------------------------------------

ODD_WORDS = (0, 1, 0x10, 0x11, 0x20, 0x21, 0x1000, 0x8000000000000000,
             0x4141414141414141, 2**64 - 16, 2**64 - 1)


def fuzz_targets(rep):
    """Groups of (address, length) ranges of heap metadata worth mutating:
    chunk headers, arena structures (struct malloc_state is 2200 bytes in
    2.27+), thread heaps' heap_info, tcache_perthread_structs."""
    s = rep.summary
    return [
        [(c["addr"], 48 if c["state"] != "mmapped" else 16) for c in rep.chunks],
        [(a["addr"], 2200) for a in s["arenas"]],
        [(h["addr"], 48) for a in s["arenas"] if not a["main"] for h in a["heaps"]],
        [(t["addr"], 0x280) for t in s.get("tcaches", [])],
    ]


def mutation(rng, old):
    """New bytes for the 8 bytes OLD: a word replaced by an odd value or
    random bits, or one byte with a bit flipped or replaced."""
    kind = rng.random()
    if kind < 0.4:
        return U64.pack(rng.choice(ODD_WORDS) if rng.random() < 0.7 else rng.getrandbits(64))
    new = bytearray(old)
    i = rng.randrange(8)
    new[i] = old[i] ^ (1 << rng.randrange(8)) if kind < 0.8 else rng.randrange(256)
    return bytes(new)


def fuzz(args):
    img = Image(args.image)
    groups = [g for g in fuzz_targets(Reports(args.summary, args.chunks)) if g]
    rng = random.Random(args.seed * 100003 + args.round)
    undo = []
    with open(args.image, "r+b") as f:
        if os.path.exists(args.undo):  # put back what the previous round changed
            with open(args.undo) as u:
                for offset, old in json.load(u):
                    f.seek(offset)
                    f.write(bytes.fromhex(old))
        for group in (rng.choice(groups) for _ in range(args.count)):
            addr, length = rng.choice(group)
            addr = (addr + rng.randrange(length)) & ~7
            try:
                offset = img.file_offset(addr, 8)
            except CannotBuild:
                continue
            f.seek(offset)
            old = f.read(8)
            undo.insert(0, (offset, old.hex()))  # newest first
            f.seek(offset)
            f.write(mutation(rng, old))
    with open(args.undo, "w") as u:
        json.dump(undo, u)


def make(args):
    img = Image(args.input)
    CASES[args.case](img, Reports(args.summary, args.chunks))
    img.save(args.output)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("make", help="write one hostile variant")
    m.add_argument("case", choices=sorted(CASES))
    m.add_argument("input")
    m.add_argument("output")
    f = sub.add_parser("fuzz", help="mutate an image in place")
    f.add_argument("image")
    for q in (m, f):
        q.add_argument("--summary", required=True)
        q.add_argument("--chunks", required=True)
    f.add_argument("--seed", type=int, required=True)
    f.add_argument("--round", type=int, required=True)
    f.add_argument("--count", type=int, default=2)
    f.add_argument("--undo", required=True)
    args = p.parse_args()
    try:
        if args.mode == "make":
            make(args)
        else:
            fuzz(args)
    except CannotBuild as e:
        print(f"mutate_image.py: {args.mode} {getattr(args, 'case', '')}: {e}",
              file=sys.stderr)
        return SKIP
    return 0


if __name__ == "__main__":
    sys.exit(main())
