"""bench.py - heapinspect's benchmark (`make bench`): inspector time, target
pause and inspector memory against the physical limit of the copy, on targets
built at several scales.  A benchmark, not a test: it prints figures and
verdicts and never fails on them.

Usage: python3 bench.py --build DIR [--srcdir DIR] [--python PY]
                        [--json FILE] [--repeat N] [--quick] [--only KINDS]
       python3 bench.py --build DIR --replot FILE

For each target (tests/bench/glibc_bench_target at 10^5, 10^6, 10^7 chunks;
tests/bench/py_bench_target.py at 10^5, 10^6, 5*10^6 objects and 10^3, 10^5
NumPy arrays) it starts the process once and, while it lives, measures:
  - `heapinspect --json PID` and `heapinspect explain --json PID`: wall time,
    peak RSS (getrusage of the child), and the JSON's target.bytes_copied and
    target.pause_seconds (REPEAT runs each, medians; RSS: the largest);
  - the pause as the target lived it: its heartbeat thread's longest gap,
    reset before each run and read after it; and the same longest gap over a
    window as long as one summary run with no inspection (the noise floor);
  - the copy limit: tests/bench/rawcopy on the memory image `heapinspect
    --save` wrote, i.e. a bare process_vm_readv of the same pages.
It prints three tables (figures; ratios to the copy limit and verdicts; the
summary's time by phase, HEAPINSPECT_TIMING=1), the slope from the smallest
to the largest scale of each kind, and writes everything to FILE.
--quick divides every scale by 100 (for trying the benchmark out); --only
takes a comma-separated subset of c,py,np; --replot FILE prints the tables of
an earlier run's JSON again.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SCALES = {  # kind -> sizes of the targets built
    "c": [10**5, 10**6, 10**7],
    "py": [10**5, 10**6, 5 * 10**6],
    "np": [10**3, 10**5],
}
QUICK_DIVISOR = 100
MIN_NOISE_WINDOW_S = 0.5  # the noise-floor window is at least this long
RAWCOPY_RUNS = 5
RSS_BYTES_PER_CHUNK = 64  # the RSS target: copied bytes + 64 B per chunk
THROUGHPUT_TARGET = 0.5  # walk throughput >= half the raw copy bandwidth
PAUSE_TARGET = 1.2  # pause <= 1.2 x the raw copy time
KIB = 1024
MB = 1e6


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", required=True)
    p.add_argument("--srcdir", default=os.path.join(os.path.dirname(__file__), "..", ".."))
    p.add_argument("--python", default="/usr/bin/python3.11",
                   help="the CPython the Python targets run on (NumPy for arrays)")
    p.add_argument("--json", default="bench.json")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--only", default="c,py,np")
    p.add_argument("--replot", metavar="FILE",
                   help="measure nothing: print the tables of a bench.json again")
    return p.parse_args()


class Target:
    """A benchmark target process and its heartbeat control channel."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, bufsize=1)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError("%s did not start: %r" % (argv, line))
        self.pid = self.proc.pid

    def ask(self, command):
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.proc.stdout.readline().strip()

    def reset(self):
        self.ask("reset")

    def gap_seconds(self):
        return int(self.ask("gap").split()[1]) / 1e9

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def run_timed(argv, out_path, env=None):
    """Run ARGV with stdout to OUT_PATH: (wall seconds, peak RSS bytes,
    exit status, stderr text)."""
    with open(out_path, "w") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        return wall, usage.ru_maxrss * KIB, proc.returncode, err.read()


def parse_timing(text):
    """HEAPINSPECT_TIMING's "timing: PHASE SECONDS s" lines, as a dict."""
    return {m.group(1): float(m.group(2))
            for m in re.finditer(r"^timing: (\S+)\s+([0-9.]+) s$", text, re.M)}


def count_units(doc):
    """Chunks (arenas + mmapped), Python objects and NumPy arrays of DOC."""
    chunks = sum(a["chunks"]["count"] for a in doc.get("arenas", []))
    chunks += doc.get("mmapped", {}).get("count", 0)
    census = doc.get("census") or {}
    numpy = doc.get("numpy") or {}
    return {"chunks": chunks, "objects": census.get("objects", 0),
            "arrays": numpy.get("arrays", 0)}


def inspect_once(hi, target, command, tmp):
    """One inspection of TARGET with COMMAND (None: the summary)."""
    argv = [hi] + ([command] if command else []) + ["--json", str(target.pid)]
    out = os.path.join(tmp, "out.json")
    env = dict(os.environ, HEAPINSPECT_TIMING="1")
    target.reset()
    wall, rss, status, err = run_timed(argv, out, env)
    gap = target.gap_seconds()
    if status not in (0, 3):
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), status, err))
    with open(out) as f:
        doc = json.load(f)
    errors = [d["message"] for d in doc.get("diagnostics", []) if d["severity"] == "error"]
    return {"wall": wall, "rss": rss, "status": status, "heartbeat_gap": gap,
            "first_error": errors[0] if errors else None,
            "pause": doc["target"]["pause_seconds"],
            "bytes_copied": doc["target"]["bytes_copied"],
            "phases": parse_timing(err), "units": count_units(doc)}


def summarise_runs(runs):
    """Medians of REPEAT runs of one command (RSS: the largest)."""
    phases = {k: statistics.median(r["phases"].get(k, 0) for r in runs)
              for k in runs[0]["phases"]}
    return {"wall": statistics.median(r["wall"] for r in runs),
            "heartbeat_gap": statistics.median(r["heartbeat_gap"] for r in runs),
            "pause": statistics.median(r["pause"] for r in runs),
            "rss": max(r["rss"] for r in runs),
            "bytes_copied": statistics.median(r["bytes_copied"] for r in runs),
            "exit_status": max(r["status"] for r in runs),
            "first_error": next((r["first_error"] for r in runs if r["first_error"]), None),
            "phases": phases, "units": runs[-1]["units"],
            "runs": [{k: r[k] for k in ("wall", "heartbeat_gap", "pause", "rss")}
                     for r in runs]}


def noise_floor(target, window, repeat):
    """Median over REPEAT windows of WINDOW seconds of the longest gap
    with no inspection."""
    gaps = []
    for _ in range(repeat):
        target.reset()
        time.sleep(window)
        gaps.append(target.gap_seconds())
    return statistics.median(gaps)


def census_objects(hi, target, tmp):
    """Live Python objects, from `heapinspect types` (the summary's JSON
    does not carry the census)."""
    out = os.path.join(tmp, "types.json")
    run_timed([hi, "types", "--json", str(target.pid)], out)
    with open(out) as f:
        return (json.load(f).get("census") or {}).get("objects", 0)


def raw_copy(build, hi, target, tmp):
    """rawcopy on the image `heapinspect --save` writes of TARGET."""
    image = os.path.join(tmp, "image.himg")
    subprocess.run([hi, "--save", image, "--json", str(target.pid)], check=False,
                   stdout=subprocess.DEVNULL)
    try:
        out = subprocess.run([os.path.join(build, "tests", "bench", "rawcopy"), image,
                              str(target.pid), str(RAWCOPY_RUNS)],
                             check=True, capture_output=True, text=True).stdout
    finally:
        if os.path.exists(image):
            os.unlink(image)
    return json.loads(out)


def measure(args, kind, scale, argv, tmp):
    """Every figure for one target process."""
    hi = os.path.join(args.build, "heapinspect")
    t0 = time.perf_counter()
    target = Target(argv)
    built = time.perf_counter() - t0
    try:
        res = {"kind": kind, "scale": scale, "build_seconds": built}
        for name, command in (("summary", None), ("explain", "explain")):
            res[name] = summarise_runs([inspect_once(hi, target, command, tmp)
                                        for _ in range(args.repeat)])
        window = max(MIN_NOISE_WINDOW_S, res["summary"]["wall"])
        res["noise_floor"] = noise_floor(target, window, args.repeat)
        res["noise_window"] = window
        res["raw"] = raw_copy(args.build, hi, target, tmp)
        res["units"] = dict(res["summary"]["units"])
        if kind != "c":
            res["units"]["objects"] = census_objects(hi, target, tmp)
    finally:
        target.stop()
    res["summary"]["phase_split"] = phase_split(res)
    res["verdicts"] = verdicts(res)
    return res


def verdicts(res):
    """The three targets of the issue, with the figures they compare."""
    raw = res["raw"]["copy_seconds"]
    s = res["summary"]
    pause = s["heartbeat_gap"]
    rss = max(s["rss"], res["explain"]["rss"])
    rss_limit = res["raw"]["present_bytes"] + RSS_BYTES_PER_CHUNK * res["units"]["chunks"]
    items_limit = rss_limit + RSS_BYTES_PER_CHUNK * res["units"]["objects"]
    return {
        "throughput": {"ratio": raw / s["wall"], "target": THROUGHPUT_TARGET,
                       "pass": raw / s["wall"] >= THROUGHPUT_TARGET},
        "pause": {"ratio": pause / raw, "target": PAUSE_TARGET,
                  "pass": pause <= PAUSE_TARGET * raw},
        "rss": {"limit": rss_limit, "ratio": rss / rss_limit, "target": 1.0,
                "pass": rss <= rss_limit},
        # the same with Python objects counted as chunks (pymalloc blocks are
        # the chunks of a Python heap); informative, not the target
        "rss_items": {"limit": items_limit, "ratio": rss / items_limit, "target": 1.0,
                      "pass": rss <= items_limit},
    }


def target_argv(args, kind, scale):
    if kind == "c":
        prog = os.path.join(args.build, "tests", "bench", "glibc_bench_target")
        return [prog, str(scale // 2), str(scale - scale // 2)]
    script = os.path.join(args.srcdir, "tests", "bench", "py_bench_target.py")
    return [args.python, script, "objects" if kind == "py" else "arrays", str(scale)]


def have_numpy(python):
    return subprocess.run([python, "-c", "import numpy"], capture_output=True).returncode == 0


def kinds_to_run(args):
    kinds = [k for k in args.only.split(",") if k in SCALES]
    if "np" in kinds and not have_numpy(args.python):
        print("bench: %s has no NumPy: the NumPy targets are skipped" % args.python)
        kinds.remove("np")
    if not os.path.exists(args.python):
        kinds = [k for k in kinds if k == "c"]
    return kinds


LABEL = {"c": "C chunks", "py": "Py objects", "np": "NumPy arrays"}
UNIT = {"c": "chunks", "py": "objects", "np": "arrays"}


def fmt_n(n):
    """10^5, 5*10^6, or the plain number."""
    digits = str(n)
    zeros = len(digits) - len(digits.rstrip("0"))
    if zeros < 3 or digits.rstrip("0") not in ("1", "5"):
        return digits
    return ("10^%d" if digits[0] == "1" else "5*10^%d") % zeros


def label(r):
    return "%s %s" % (LABEL[r["kind"]], fmt_n(r["scale"]))


def print_figures(results):
    print("\nFigures (medians of the runs; times in ms, sizes in MB = 10^6 B)")
    head = ("%-20s %9s %9s %9s %9s %7s %8s %8s %8s %7s %7s %6s %7s %5s"
            % ("target", "chunks", "units", "copiedMB", "presentMB", "raw_ms", "fresh_ms",
               "summ_ms", "expl_ms", "hb_ms", "insp_ms", "noise", "rssMB", "MB/s"))
    print(head)
    print("-" * len(head))
    for r in results:
        s, e, u, raw = r["summary"], r["explain"], r["units"], r["raw"]
        print("%-20s %9d %9d %9.1f %9.1f %7.1f %8.1f %8.1f %8.1f %7.1f %7.1f %6.1f %7.1f %5.0f"
              % (label(r), u["chunks"], unit_count(r), s["bytes_copied"] / MB,
                 raw["present_bytes"] / MB, raw["copy_seconds"] * 1e3,
                 raw["fault_seconds"] * 1e3, s["wall"] * 1e3,
                 e["wall"] * 1e3, s["heartbeat_gap"] * 1e3, s["pause"] * 1e3,
                 r["noise_floor"] * 1e3, max(s["rss"], e["rss"]) / MB,
                 raw["present_bytes"] / MB / s["wall"]))
    print("copiedMB: target.bytes_copied (JSON, zero-filled absent pages included); "
          "presentMB: the pages of those regions with contents (not the zero page), what rawcopy reads;\n"
          "raw_ms: rawcopy (process_vm_readv, buffer faulted in first); fresh_ms: the same "
          "into a buffer not faulted in (the copy plus our page faults);\n"
          "summ/expl_ms: inspector wall time; hb_ms: the target's heartbeat gap (summary runs); "
          "insp_ms: target.pause_seconds;\n"
          "noise: heartbeat gap with no inspection; MB/s: presentMB / summary wall time; "
          "units: what the slope counts: chunks (C),\n"
          "live Python objects (Py, the census of `heapinspect types`), arrays (NumPy).")


def verdict_word(v):
    return "pass" if v["pass"] else "short"


def print_ratios(results):
    print("\nRatios to the copy limit, and the targets")
    head = ("%-20s %8s %8s %8s %8s %9s | %-11s %-11s %-11s %-13s"
            % ("target", "summ/raw", "expl/raw", "hb/raw", "insp/raw", "noise/raw",
               "thru>=0.5", "pause<=1.2", "rss<=1", "(rss+obj)"))
    print(head)
    print("-" * len(head))
    for r in results:
        raw, v = r["raw"]["copy_seconds"], r["verdicts"]
        print("%-20s %8.1f %8.1f %8.2f %8.2f %9.2f | %-11s %-11s %-11s %-13s"
              % (label(r), r["summary"]["wall"] / raw,
                 r["explain"]["wall"] / raw, r["summary"]["heartbeat_gap"] / raw,
                 r["summary"]["pause"] / raw, r["noise_floor"] / raw,
                 "%s %.2f" % (verdict_word(v["throughput"]), v["throughput"]["ratio"]),
                 "%s %.2f" % (verdict_word(v["pause"]), v["pause"]["ratio"]),
                 "%s %.2f" % (verdict_word(v["rss"]), v["rss"]["ratio"]),
                 "(%s %.2f)" % (verdict_word(v["rss_items"]), v["rss_items"]["ratio"])))
    print("thru: raw copy time / summary wall time (= walk throughput / raw bandwidth, "
          "same bytes); pause: heartbeat gap (summary runs) / raw copy time;\n"
          "rss: inspector peak RSS / (presentMB + 64 B x chunks); (rss+obj): the same "
          "with 64 B per live Python object too (not the issue's target).")
    for r in results:
        for name in ("summary", "explain"):
            if r[name]["exit_status"]:
                print("note: %s: %s exited %d (heap reported inconsistent): %s"
                      % (label(r), name, r[name]["exit_status"], r[name]["first_error"]))


def slope_figures(r):
    """The figures whose growth we follow, per result."""
    return {"summary_s": r["summary"]["wall"], "explain_s": r["explain"]["wall"],
            "heartbeat_s": r["summary"]["heartbeat_gap"], "raw_s": r["raw"]["copy_seconds"],
            "rss_B": max(r["summary"]["rss"], r["explain"]["rss"]),
            "present_B": r["raw"]["present_bytes"]}


def unit_count(r):
    u = r["units"]
    return {"c": u["chunks"], "py": u["objects"], "np": u["arrays"]}[r["kind"]]


def slopes(results):
    """Per kind: cost per unit from the smallest to the largest scale, and
    how far the middle scale is from the straight line through the ends."""
    out = {}
    for kind in SCALES:
        rs = sorted((r for r in results if r["kind"] == kind), key=unit_count)
        if len(rs) < 2:
            continue
        lo, hi = rs[0], rs[-1]
        dn = unit_count(hi) - unit_count(lo)
        if dn <= 0:
            continue
        f_lo, f_hi = slope_figures(lo), slope_figures(hi)
        entry = {"unit": UNIT[kind], "per_unit": {k: (f_hi[k] - f_lo[k]) / dn for k in f_lo}}
        if len(rs) == 3:
            mid, f_mid = rs[1], slope_figures(rs[1])
            x = (unit_count(mid) - unit_count(lo)) / dn
            entry["middle_vs_line"] = {k: f_mid[k] / (f_lo[k] + x * (f_hi[k] - f_lo[k]))
                                       for k in f_lo if f_lo[k] + x * (f_hi[k] - f_lo[k])}
        out[kind] = entry
    return out


def print_slopes(sl):
    print("\nHow cost grows: slope from the smallest to the largest scale, per unit")
    for kind, e in sl.items():
        p = e["per_unit"]
        print("%-13s per %-7s summary %7.1f ns  explain %7.1f ns  pause %7.1f ns  "
              "raw copy %6.1f ns  RSS %6.1f B  present %6.1f B"
              % (LABEL[kind], e["unit"][:-1], p["summary_s"] * 1e9, p["explain_s"] * 1e9,
                 p["heartbeat_s"] * 1e9, p["raw_s"] * 1e9, p["rss_B"], p["present_B"]))
        if "middle_vs_line" in e:
            m = e["middle_vs_line"]
            print("%-13s middle scale / straight line: summary %.2f  explain %.2f  "
                  "pause %.2f  RSS %.2f  (1.00 = linear)"
                  % ("", m.get("summary_s", 0), m.get("explain_s", 0),
                     m.get("heartbeat_s", 0), m.get("rss_B", 0)))


def phase_split(r):
    """The summary's wall time by phase, in seconds: HEAPINSPECT_TIMING's
    copy phase split into the pause and the rest (planning and faulting in
    the buffers before it, freeing after it); "other": start-up and exit."""
    ph, s = dict(r["summary"]["phases"]), r["summary"]
    copy = ph.pop("copy", 0)
    out = {"prepare": max(0.0, copy - s["pause"]), "pause": s["pause"]}
    out.update(ph)
    out["other"] = max(0.0, s["wall"] - sum(out.values()))
    return out


def print_phases(results):
    print("\nWhere the summary's time goes (ms, medians; HEAPINSPECT_TIMING phases, "
          "its copy phase split into prepare + pause)")
    names = ["prepare", "pause", "symbols", "locate", "walk", "python", "explain",
             "render", "other"]
    print("%-20s" % "target" + "".join("%9s" % n for n in names))
    for r in results:
        ph = phase_split(r)
        print("%-20s" % label(r) + "".join("%9.1f" % (ph.get(n, 0) * 1e3) for n in names))


def print_all(doc):
    results, sl, load = doc["results"], doc["slopes"], doc["load_average"]
    print_figures(results)
    print_ratios(results)
    print_phases(results)
    print_slopes(sl)
    print("\nload average (1, 5, 15 min) before: %.2f %.2f %.2f, after: %.2f %.2f %.2f "
          "(%d CPUs): other work inflates every figure" % (*load["before"], *load["after"],
                                                            doc["cpus"]))


def run_all(args):
    """Measure every target; the document bench.json holds."""
    scales = {k: [max(1, s // QUICK_DIVISOR) if args.quick else s for s in v]
              for k, v in SCALES.items()}
    results, load_before = [], os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="hibench.") as tmp:
        for kind in kinds_to_run(args):
            for scale in scales[kind]:
                print("bench: %s ..." % label({"kind": kind, "scale": scale}),
                      file=sys.stderr, flush=True)
                results.append(measure(args, kind, scale, target_argv(args, kind, scale), tmp))
    return {"results": results, "slopes": slopes(results), "repeat": args.repeat,
            "quick": args.quick, "python": args.python, "cpus": os.cpu_count(),
            "load_average": {"before": load_before, "after": os.getloadavg()}}


def main():
    args = parse_args()
    if args.replot:
        with open(args.replot) as f:
            print_all(json.load(f))
        return
    doc = run_all(args)
    print_all(doc)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=1)
    print("\nbench: all figures in %s" % args.json)


if __name__ == "__main__":
    main()
