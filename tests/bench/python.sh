#!/bin/sh
# bench/python.sh - how long `heapinspect types` (the full census) takes on
# CPython processes with 1 and 5 million live objects (floats, 1-tuples and
# strings), and how long the process is paused.  A benchmark, not a test.
#
# Usage: tests/bench/python.sh [BUILD_DIR] [PYTHON]
set -eu
. "$(dirname "$0")/lib.sh"
build=${1:-build}
py=${2:-/usr/bin/python3.11}
hi=$build/heapinspect
printf '%-10s %10s %8s %9s %12s\n' "objects" "found" "wall_s" "pause_ms" "peak_rss_MB"
for n in 1000000 5000000; do
	fifo=$(mktemp -u); mkfifo "$fifo"
	"$py" -c "
import time, sys
n = $n
a = [float(i) for i in range(n // 2)]
b = [(i,) for i in range(n * 3 // 10)]
c = [str(i) for i in range(n // 5)]
print('ready', flush=True)
time.sleep(600)" >"$fifo" &
	pid=$!
	read -r _ <"$fifo"; rm -f "$fifo"
	med=$(median5 /tmp/hi-pybench.json /tmp/hi-pybench-rss "$hi" types --json "$pid")
	python3 - "$n" "$med" /tmp/hi-pybench.json /tmp/hi-pybench-rss <<'PY'
import json, sys
n, med, js, rss = sys.argv[1:]
d = json.load(open(js))
print("%-10s %10d %8.3f %9.1f %12.1f" % (n, d["census"]["objects"], float(med),
      d["target"]["pause_seconds"] * 1000, int(open(rss).read().split()[-1]) / 1024))
PY
	kill "$pid"
done
