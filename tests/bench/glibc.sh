#!/bin/sh
# bench/glibc.sh - how long `heapinspect summary` takes, and how long the
# target is paused, on heaps of growing size.  A benchmark, not a test: it
# prints figures and asserts nothing.
#
# Usage: tests/bench/glibc.sh [BUILD_DIR]   (default: ./build)
# For each scale it starts glibc_bench_target LIVE FREE MAXSIZE, runs the summary
# five times and reports the median wall time, the pause the inspector
# measured, the bytes it copied, and its peak RSS.
set -eu
. "$(dirname "$0")/lib.sh"
build=${1:-build}
hi=$build/heapinspect
tgt=$build/tests/bench/glibc_bench_target
make -C "$build" -s tests/bench/glibc_bench_target >/dev/null
printf '%-28s %8s %9s %10s %12s %9s\n' "live free maxsize" "wall_s" "pause_ms" "copied_MB" "peak_rss_MB" "chunks"
for scale in "100000 100000 1000" "1000000 1000000 128" "1000000 1000000 1000" "3000000 3000000 128"; do
	fifo=$(mktemp -u); mkfifo "$fifo"
	# shellcheck disable=SC2086
	"$tgt" $scale >"$fifo" &
	pid=$!
	read -r _ <"$fifo"; rm -f "$fifo"
	med=$(median5 /tmp/hi-bench.json /tmp/hi-bench-rss "$hi" --json "$pid")
	python3 - "$scale" "$med" /tmp/hi-bench.json /tmp/hi-bench-rss <<'PY'
import json, sys
scale, med, js, rss = sys.argv[1:]
d = json.load(open(js))
n = sum(a["chunks"]["count"] for a in d["arenas"])
print("%-28s %8.3f %9.1f %10.1f %12.1f %9d" % (scale, float(med),
      d["target"]["pause_seconds"] * 1000, d["target"]["bytes_copied"] / 1e6,
      int(open(rss).read().split()[-1]) / 1024, n))
PY
	kill "$pid"
done
