#!/bin/bash
# run.sh KVMSE - native vs kvmse vs qemu-x86_64, medians of several runs, with ratios.
set -eu
KVMSE=$(realpath "$1")
cd "$(dirname "$0")"
make -s
B=build
QEMU=$(command -v qemu-x86_64 || true)
RUNS=${RUNS:-5}

# median_time CMD...: median wall seconds of RUNS runs (output discarded).
median_time() {
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >/dev/null 2>&1 || { echo "benchmark command failed: $*" >&2; exit 1; }
		t1=$(date +%s.%N)
		echo "$t1 - $t0" | bc -l
	done | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
# per_run_ms CMD...: median over RUNS of the mean wall time of 20 back-to-back runs, in ms.
per_run_ms() {
	for _ in $(seq "$RUNS"); do
		local t0 t1
		t0=$(date +%s%N)
		for _ in $(seq 20); do "$@" >/dev/null 2>&1 || { echo "benchmark command failed: $*" >&2; exit 1; }; done
		t1=$(date +%s%N)
		echo "($t1 - $t0) / 20000000" | bc -l
	done | sort -g | awk '{ a[NR] = $1 } END { printf "%.2f\n", a[int((NR + 1) / 2)] }'
}
# median_out CMD...: median of what CMD prints (a number) over RUNS runs.
median_out() {
	for _ in $(seq "$RUNS"); do "$@"; done | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}
ratio() { echo "scale=2; $1 / $2" | bc -l; }
row() { # name unit native kvmse qemu
	printf '%-34s %12s %12s %12s %9s %9s\n' "$1" "$3" "$4" "$5" "$(ratio "$4" "$3")x" \
		"$( [ "$5" = - ] && echo - || echo "$(ratio "$5" "$3")x")"
}
q() { if [ -n "$QEMU" ]; then "$@"; else echo -; fi; }

printf '%-34s %12s %12s %12s %9s %9s\n' benchmark native kvmse qemu kvmse/nat qemu/nat
row "(a) hello world, ms" ms "$(per_run_ms $B/hello)" "$(per_run_ms "$KVMSE" $B/hello)" \
	"$(q per_run_ms "$QEMU" $B/hello)"
N=1000000
row "(b) getppid, ns per call" ns "$(median_out $B/getppid $N)" "$(RUNS=3 median_out "$KVMSE" $B/getppid 100000)" \
	"$(q median_out "$QEMU" $B/getppid $N)"
raw=$(RUNS=3 median_out $B/exitcost 100000 bitmap)
printf '%-34s %12s %12s\n' "    raw exit, OUT via I/O bitmap, ns" "" "$raw"
printf '%-34s %12s %12s\n' "    raw exit, OUT with IOPL 3, ns" "" "$(RUNS=3 median_out $B/exitcost 100000)"
printf '%-34s %12s %12s\n' "    kvmse getppid / raw exit" "" "$(ratio "$(RUNS=3 median_out "$KVMSE" $B/getppid 100000)" "$raw")x"
s() { printf '%.3f' "$1"; }
row "(c) compute-bound, s" s "$(s "$(RUNS=3 median_time $B/compute)")" "$(s "$(RUNS=3 median_time "$KVMSE" $B/compute)")" \
	"$(q s "$(RUNS=1 median_time "$QEMU" $B/compute)")"
row "(d) touch 1 GiB fresh memory, s" s "$(s "$(RUNS=5 median_time $B/touch)")" "$(s "$(RUNS=5 median_time "$KVMSE" $B/touch)")" \
	"$(q s "$(RUNS=3 median_time "$QEMU" $B/touch)")"
