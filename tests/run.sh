#!/bin/bash
# run.sh KVMSE - run every test natively and under KVMSE; stdout, stderr and the exit
# status (or terminating signal) must match. kvmse's own "kvmse: " lines are not compared.
# Each comparison is made once per syscall transport in $MODES (default: all three),
# for each build of tests/progs in $VARIANTS (default: all four).
# Ends with "N passed, N failed, N skipped".
set -u
ulimit -S -c 0      # (soft: a test may raise its own, as procs.c deaths does)
KVMSE=$(realpath "$1")
cd "$(dirname "$0")"
TESTS=$PWD
pass=0 fail=0 skip=0
WORK=$(mktemp -d /tmp/kvmse-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# kvmse's own variables (sanitizer options) must not reach the guest.
KV=(env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    "$KVMSE" -U ASAN_OPTIONS -U UBSAN_OPTIONS)
read -ra MODES <<<"${MODES:-exit exitless auto}"
read -ra VARIANTS <<<"${VARIANTS:-glibc pie musl dyn}"      # how tests/progs are built

if [ ! -w /dev/kvm ] && [ ! -r /dev/kvm ]; then
	echo "kvmse: /dev/kvm is not usable here: these tests need KVM" >&2
	exit 1
fi

make -s -C "$TESTS" -j2 || { echo "building the test programs failed"; exit 1; }

# result NAME STATUS: count and print one test's outcome.
result() {
	if [ "$2" = ok ]; then
		pass=$((pass + 1)); echo "PASS $1"
	else
		fail=$((fail + 1)); echo "FAIL $1"; sed 's/^/    /' "$WORK/why" | head -40
	fi
}

# compare NAME STDIN CMD...: run CMD natively, then under kvmse in each mode, each time in
# the same fresh directory.
compare() {
	local name=$1 in=$2; shift 2
	local d="$WORK/cwd"
	rm -rf "$d"; mkdir -p "$d"
	# (bash's own "Segmentation fault" notes go to /dev/null; the program's stderr is kept)
	(cd "$d" && "$@" <"$in" >"$WORK/n.out" 2>"$WORK/n.err") 2>/dev/null; local ns=$?
	for mode in "${MODES[@]}"; do
		rm -rf "$d"; mkdir -p "$d"
		(cd "$d" && "${KV[@]}" --syscalls "$mode" "$@" <"$in" >"$WORK/k.out" 2>"$WORK/k.raw") 2>/dev/null
		local ks=$?
		# (LeakSanitizer's notes on threads that were ending as it stopped the process
		# at exit are not kvmse's output; a leak report still shows)
		grep -v -e '^kvmse: ' -e '^==[0-9]*==Running thread [0-9]* was not suspended' \
			-e '^==[0-9]*==Unable to get registers from thread' "$WORK/k.raw" >"$WORK/k.err"
		: >"$WORK/why"
		[ $ns = $ks ] || echo "exit status: native $ns, kvmse $ks" >>"$WORK/why"
		diff -u "$WORK/n.out" "$WORK/k.out" | head -20 | sed 's/^/stdout: /' >>"$WORK/why"
		diff -u "$WORK/n.err" "$WORK/k.err" | head -20 | sed 's/^/stderr: /' >>"$WORK/why"
		if [ -s "$WORK/why" ]; then
			grep '^kvmse: ' "$WORK/k.raw" | head -3 | sed 's/^/kvmse said: /' >>"$WORK/why"
		fi
		[ -s "$WORK/why" ] && result "$name [$mode]" bad || result "$name [$mode]" ok
	done
}

# Guest programs: each "// run: ARGS" line in a source is one run (none: one run, no args);
# "// run-once: ARGS" is one run of the glibc build in the default transport only (for
# slow ones); "// stdin: FILE" feeds FILE (relative to tests/data) on standard input.
for src in progs/*.c; do
	prog=$(basename "$src" .c)
	[ -n "${PROGS:-}" ] && [[ " $PROGS " != *" $prog "* ]] && continue    # (PROGS: only these)
	stdin=/dev/null
	s=$(sed -n 's|^// stdin: *||p' "$src")
	[ -n "$s" ] && stdin="$TESTS/data/$s"
	mapfile -t runs < <(sed -n 's|^// run:\s*||p' "$src")
	[ ${#runs[@]} = 0 ] && runs=("")
	for v in "${VARIANTS[@]}"; do
		for args in "${runs[@]}"; do
			# shellcheck disable=SC2086
			compare "$v/$prog${args:+ $args}" "$stdin" "$TESTS/build/$v/$prog" $args
		done
	done
	mapfile -t once < <(sed -n 's|^// run-once:\s*||p' "$src")
	if [ ${#once[@]} != 0 ] && [[ " ${VARIANTS[*]} " == *" glibc "* ]]; then
		all_modes=("${MODES[@]}")
		MODES=(auto)
		for args in "${once[@]}"; do
			# shellcheck disable=SC2086
			compare "glibc/$prog $args" "$stdin" "$TESTS/build/glibc/$prog" $args
		done
		MODES=("${all_modes[@]}")
	fi
done

. "$TESTS/strace.sh"
. "$TESTS/busybox.sh"
. "$TESTS/badinput.sh"
. "$TESTS/exitless.sh"
. "$TESTS/signals.sh"

echo "$pass passed, $fail failed, $skip skipped"
[ $fail = 0 ]
