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
row "(b) getppid, ns per call" ns "$(median_out $B/calls getppid $N)" "$(RUNS=3 median_out "$KVMSE" $B/calls getppid 100000)" \
	"$(q median_out "$QEMU" $B/calls getppid $N)"
raw=$(RUNS=3 median_out $B/exitcost 100000 bitmap)
printf '%-34s %12s %12s\n' "    raw exit, OUT via I/O bitmap, ns" "" "$raw"
printf '%-34s %12s %12s\n' "    raw exit, OUT with IOPL 3, ns" "" "$(RUNS=3 median_out $B/exitcost 100000)"
printf '%-34s %12s %12s\n' "    kvmse --syscalls exit getppid / raw exit" "" \
	"$(ratio "$(RUNS=3 median_out "$KVMSE" --syscalls exit $B/calls getppid 100000)" "$raw")x"
s() { printf '%.3f' "$1"; }
row "(c) compute-bound, s" s "$(s "$(RUNS=3 median_time $B/compute)")" "$(s "$(RUNS=3 median_time "$KVMSE" $B/compute)")" \
	"$(q s "$(RUNS=1 median_time "$QEMU" $B/compute)")"
row "(d) touch 1 GiB fresh memory, s" s "$(s "$(RUNS=5 median_time $B/touch)")" "$(s "$(RUNS=5 median_time "$KVMSE" $B/touch)")" \
	"$(q s "$(RUNS=3 median_time "$QEMU" $B/touch)")"

# (e) one system call through each transport (ns per call).
echo
printf '%-34s %10s %10s %10s %10s %9s %9s\n' "(e) ns per call" native exit exitless qemu exitl/nat qemu/nat
for what in getppid write read clock; do
	nat=$(median_out $B/calls $what $N)
	ex=$(RUNS=3 median_out "$KVMSE" --syscalls exit $B/calls $what 50000)
	el=$(RUNS=3 median_out "$KVMSE" --syscalls exitless $B/calls $what 500000)
	qe=$(q median_out "$QEMU" $B/calls $what $N)
	printf '%-34s %10s %10s %10s %10s %9s %9s\n' "    $what" "$nat" "$ex" "$el" "$qe" \
		"$(ratio "$el" "$nat")x" "$( [ "$qe" = - ] && echo - || echo "$(ratio "$qe" "$nat")x")"
done

# raise(SIGUSR1) with a handler: glibc blocks signals around tgkill, so the signal comes
# as the mask is restored; then the handler, then rt_sigreturn.
nat=$(median_out $B/calls signal 200000)
ex=$(RUNS=3 median_out "$KVMSE" --syscalls exit $B/calls signal 5000)
el=$(RUNS=3 median_out "$KVMSE" --syscalls exitless $B/calls signal 20000)
qe=$(q median_out "$QEMU" $B/calls signal 200000)
printf '%-34s %10s %10s %10s %10s %9s %9s\n' "    raise+handler+sigreturn" "$nat" "$ex" "$el" "$qe" \
	"$(ratio "$el" "$nat")x" "$( [ "$qe" = - ] && echo - || echo "$(ratio "$qe" "$nat")x")"

# (f) programs that live on system calls: wall and CPU (user + system) seconds, medians.
# Every stage of a pipeline runs under the tool measured.
BB=$(command -v busybox)
[ -f $B/100m.bin ] || head -c 100M /dev/urandom >$B/100m.bin
# wall_cpu CMD: "wall cpu" of one run of the shell command CMD (with $T as the tool prefix).
wall_cpu() {
	local t
	TIMEFORMAT='%3R %3U %3S'
	t=$( { time bash -c "$1" >/dev/null 2>&1; } 2>&1 )
	echo "$t" | awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }'
}
# median_wall_cpu PREFIX CMD: medians (by wall time) of RUNS runs with T=PREFIX.
median_wall_cpu() {
	local i
	export T=$1
	for i in $(seq "$RUNS"); do wall_cpu "$2"; done | sort -g | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}
export BB B
prog_row() { # NAME CMD (CMD uses $T before each program)
	local nat ex el qe
	nat=$(RUNS=3 median_wall_cpu "" "$2")
	ex=$(RUNS=1 median_wall_cpu "$KVMSE --syscalls exit" "$2")
	el=$(RUNS=3 median_wall_cpu "$KVMSE --syscalls exitless" "$2")
	qe=$( [ -n "$QEMU" ] && RUNS=3 median_wall_cpu "$QEMU" "$2" || echo "- -")
	set -- "$1" $nat $ex $el $qe
	printf '%-34s %5s/%-5s %5s/%-5s %5s/%-5s %5s/%-5s %9s %9s\n' "    $1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "$9" \
		"$(ratio "$6" "$2")x" "$( [ "$8" = - ] && echo - || echo "$(ratio "$8" "$2")x")"
}
echo
printf '%-34s %11s %11s %11s %11s %9s %9s\n' "(f) wall/cpu s" native exit exitless qemu exitl/nat qemu/nat
prog_row "find /usr -name '*.h' | wc -l" '$T $BB find /usr -name "*.h" | $T $BB wc -l'
prog_row "dd 100M bs=4k | sha256sum" '$T $BB dd if=$B/100m.bin bs=4k | $T $BB sha256sum'
prog_row "ls -lR /usr/share/doc" '$T $BB ls -lR /usr/share/doc'

# (g) processes: fork + execve of a static hello + wait, per round (the child runs under
# the same tool: kvmse's execve runs kvmse again; under qemu, the child execs qemu).
H=$(realpath $B/hello)
nat=$(median_out $B/spawn 200 "$H")
kv=$(RUNS=3 median_out "$KVMSE" $B/spawn 200 "$H")
qe=$( [ -n "$QEMU" ] && RUNS=3 median_out "$QEMU" $B/spawn 200 "$QEMU" "$H" || echo -)
echo
row "(g) fork+exec+wait hello, ms" ms "$nat" "$kv" "$qe"

# (h) threads: two CPU-bound threads' throughput over one thread's (2.00 is perfect
# scaling on 2 cores), futex round trips per second between two threads, and a 100 ms
# sleep while another thread maps and unmaps memory (each munmap must reach every vCPU).
echo
printf '%-34s %12s %12s %12s\n' "(h) threads" native kvmse qemu
for what in scale pingpong sleep; do
	nat=$(RUNS=3 median_out $B/threads $what)
	kv=$(RUNS=3 median_out "$KVMSE" $B/threads $what)
	qe=$( [ -n "$QEMU" ] && RUNS=3 median_out "$QEMU" $B/threads $what || echo -)
	case $what in
	scale) label="2 threads / 1 thread throughput" ;;
	pingpong) label="futex ping-pong, round trips/s" ;;
	sleep) label="100 ms sleep beside munmaps, ms" ;;
	esac
	printf '%-34s %12s %12s %12s\n' "    $label" "$nat" "$kv" "$qe"
done
