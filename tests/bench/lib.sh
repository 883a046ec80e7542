# bench/lib.sh - shared by the benchmark scripts (sourced).
#
# median5 JSON RSS HEAPINSPECT ARG...: run HEAPINSPECT ARG... five times,
# its output to JSON and its peak RSS (KiB, from /usr/bin/time) to RSS;
# prints the median wall time in seconds.
median5() {
	m5_json=$1 m5_rss=$2
	shift 2
	m5_times=""
	for _ in 1 2 3 4 5; do
		m5_t0=$(date +%s.%N)
		/usr/bin/time -f %M -o "$m5_rss" "$@" >"$m5_json"
		m5_t1=$(date +%s.%N)
		m5_times="$m5_times $(echo "$m5_t1 - $m5_t0" | bc)"
	done
	echo "$m5_times" | tr ' ' '\n' | grep . | sort -n | sed -n 3p
}
