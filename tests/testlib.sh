# testlib.sh - helpers shared by the heapinspect shell tests; sourced, not run.
#
# Sourcing it: re-runs the calling test under timeout(1), so the whole test
# is bounded in time; checks HEAPINSPECT and TARGETDIR; makes a private
# temporary directory $tmp; installs traps that kill every target started
# with start_target and remove $tmp on every exit path.
#
# Results are printed as "ok - ..." and "FAIL - ..." lines; finish exits 1
# if any check failed, else 0.

if [ -z "${HEAPINSPECT_TEST_BOUNDED:-}" ]; then
	HEAPINSPECT_TEST_BOUNDED=1
	export HEAPINSPECT_TEST_BOUNDED
	exec timeout -k 10 "${HEAPINSPECT_TEST_TIMEOUT:-300}" /bin/sh "$0" "$@"
fi

if [ -z "${HEAPINSPECT:-}" ] || [ ! -x "$HEAPINSPECT" ]; then
	echo "HEAPINSPECT='${HEAPINSPECT:-}' is not an executable" >&2
	exit 1
fi
if [ -z "${TARGETDIR:-}" ] || [ ! -d "$TARGETDIR" ]; then
	echo "TARGETDIR='${TARGETDIR:-}' is not a directory" >&2
	exit 1
fi

tpids=
tmp=
cleanup() {
	for p in $tpids; do
		kill -KILL "$p" 2>/dev/null
	done
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/heapinspect-test.XXXXXX") || exit 1

# PYTHON may come from the environment (configure's choice).
if [ -z "${PYTHON:-}" ] || ! command -v "$PYTHON" >/dev/null; then
	PYTHON=/usr/bin/python3
	[ -x "$PYTHON" ] || PYTHON=$(command -v python3 || echo none)
fi

nfail=0
ok() { echo "ok - $*"; }
fail() { echo "FAIL - $*"; nfail=$((nfail + 1)); }
finish() {
	if [ "$nfail" -eq 0 ]; then
		echo "all checks passed"
		exit 0
	fi
	echo "$nfail check(s) failed"
	exit 1
}

# start_target NAME PROGRAM [ARG...]: start a target, wait up to 10 s for
# its READY line.  Sets tpid and tout (its stdout file; stderr is $tout.err).
start_target() {
	tout=$tmp/$1.out
	shift
	"$@" </dev/null >"$tout" 2>"$tout.err" &
	tpid=$!
	tpids="$tpids $tpid"
	st_n=0
	until grep -q '^READY$' "$tout" 2>/dev/null; do
		if ! kill -0 "$tpid" 2>/dev/null || [ "$st_n" -ge 1000 ]; then
			echo "target '$*' did not get ready: $(cat "$tout.err")" >&2
			return 1
		fi
		st_n=$((st_n + 1))
		sleep 0.01
	done
}

# stop_target PID: kill and reap a target.
stop_target() {
	kill -KILL "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	tpids=$(echo " $tpids " | sed "s/ $1 / /")
}

# target_ok PID: the process exists and none of its threads is stopped
# (t/T), dead (Z/X) or traced.  Waits up to 0.5 s for a transient state to
# pass.  On failure sets why.
target_ok() {
	to_n=0
	while ! target_ok_now "$1"; do
		to_n=$((to_n + 1))
		[ "$to_n" -ge 25 ] && return 1
		sleep 0.02
	done
}
target_ok_now() {
	[ -d "/proc/$1/task" ] || { why="process $1 is gone"; return 1; }
	for t in /proc/"$1"/task/*; do
		state=$(sed 's/.*) //; s/ .*//' "$t/stat" 2>/dev/null)
		case $state in
		t|T|Z|X|x|'') why="thread ${t##*/} is in state '$state'"; return 1 ;;
		esac
		tracer=$(awk '$1 == "TracerPid:" { print $2 }' "$t/status" 2>/dev/null)
		if [ "$tracer" != 0 ]; then
			why="thread ${t##*/} is traced by '$tracer'"
			return 1
		fi
	done
}

# run SECONDS ARG...: run heapinspect ARG... bounded in time; stdout in
# $tmp/out, stderr in $tmp/err, exit status in rc.  $RUN_AS, if set, is a
# command prefix (e.g. setpriv ...).
run() {
	run_secs=$1
	shift
	$RUN_AS timeout -k 2 "$run_secs" "$HEAPINSPECT" "$@" </dev/null \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
}

# what_rc: describes rc for a failure message, with the start of stderr.
what_rc() {
	case $rc in
	124) echo "timed out (hang)" ;;
	137) echo "killed after not ending on time (hang)" ;;
	12[5-7]) echo "exit $rc: could not run" ;;
	*)
		if [ "$rc" -gt 128 ]; then
			echo "killed by signal $((rc - 128)) (crash)"
		else
			echo "exit $rc"
		fi ;;
	esac
	[ -s "$tmp/err" ] && printf 'stderr: %s\n' "$(head -c 400 "$tmp/err")"
}

# err_has STRING...: stderr of the last run contains every STRING
# (case-insensitive).
err_has() {
	for s in "$@"; do
		grep -qiF -- "$s" "$tmp/err" || return 1
	done
}

# json_diag FILE: prints "DIAGNOSTICS ERRORS" for a heapinspect JSON report,
# or "invalid" if it is not a JSON object with a diagnostics array.
# Without python3 it falls back to counting "severity" members.
json_diag() {
	if [ "$PYTHON" = none ]; then
		n=$(grep -o '"severity"' "$1" | wc -l)
		e=$(grep -o '"severity" *: *"error"' "$1" | wc -l)
		grep -q '"schema"' "$1" && echo "$n $e" || echo invalid
		return
	fi
	"$PYTHON" - "$1" <<'EOF'
import json, sys
try:
    with open(sys.argv[1]) as f:
        d = json.load(f)
    diags = d["diagnostics"]
    assert isinstance(diags, list) and d["schema"] == "heapinspect/1"
    print(len(diags), sum(1 for x in diags if x.get("severity") == "error"))
except Exception:
    print("invalid")
EOF
}

# rand_ms MAX: a random integer in [0, MAX].
rand_ms() {
	od -An -N4 -tu4 /dev/urandom | awk -v m="$1" '{ print $1 % (m + 1) }'
}

# secs MS: MS milliseconds as seconds for sleep/timeout (at least 0.001).
secs() {
	awk -v m="$1" 'BEGIN { if (m < 1) m = 1; printf "%.3f", m / 1000 }'
}

now_ms() {
	date +%s%3N
}
