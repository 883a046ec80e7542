#!/bin/sh
# bench/numpy.sh - how long `heapinspect arrays` takes on a Python process
# with 10^3, 10^5 and 3*10^5 live NumPy arrays (a third small owners, a
# third views of them, a third 2-d arrays of 1..64 KiB), how long the
# process is paused, and the inspector's peak RSS.  A benchmark, not a
# test: median of 5 runs.
#
# Usage: tests/bench/numpy.sh [BUILD_DIR] [PYTHON]
set -eu
. "$(dirname "$0")/lib.sh"
build=${1:-build}
py=${2:-/usr/bin/python3.11}
hi=$build/heapinspect
"$py" -c 'import numpy' 2>/dev/null || { echo "numpy.sh: $py has no NumPy"; exit 0; }
printf '%-10s %10s %8s %9s %12s\n' "arrays" "found" "wall_s" "pause_ms" "peak_rss_MB"
for n in 1000 100000 300000; do
	fifo=$(mktemp -u); mkfifo "$fifo"
	"$py" -c "
import time, numpy as np
n = $n
owners = [np.arange(i % 50 + 1, dtype=np.float64) for i in range(n // 3)]
views = [a[::2] for a in owners]
blocks = [np.zeros((4, (i % 16 + 1) * 32)) for i in range(n - 2 * (n // 3))]
print('ready', flush=True)
time.sleep(600)" >"$fifo" &
	pid=$!
	read -r _ <"$fifo"; rm -f "$fifo"
	med=$(median5 /tmp/hi-npbench.json /tmp/hi-npbench-rss "$hi" arrays --json "$pid")
	python3 - "$n" "$med" /tmp/hi-npbench.json /tmp/hi-npbench-rss <<'PY'
import json, sys
n, med, js, rss = sys.argv[1:]
d = json.load(open(js))
print("%-10s %10d %8.3f %9.1f %12.1f" % (n, d["numpy"]["arrays"], float(med),
      d["target"]["pause_seconds"] * 1000, int(open(rss).read().split()[-1]) / 1024))
PY
	kill "$pid"
done
