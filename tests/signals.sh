# signals.sh - sourced by run.sh: signals sent from outside to a program that spins in
# user code (SIGTERM, default and handled; SIGINT from a shell's Ctrl-C is the same path)
# or waits in pause (a real-time signal), one that stops itself, and --strace's lines for
# delivered signals against strace(1)'s.

# spin_kill NAME SIG CMD...: start CMD, wait for its "ready", send SIG; print output and status.
spin_kill() {
	local out=$1 sig=$2; shift 2
	: >"$out"       # (emptied first: the last run's "ready" must not be seen)
	"$@" >"$out" 2>&1 &
	local pid=$! i
	for i in $(seq 100); do grep -q ready "$out" && break; sleep 0.05; done
	sleep 0.1
	kill -"$sig" $pid
	wait $pid
	echo "status $?" >>"$out"
}
for v in glibc musl; do
	for how in "TERM spin" "TERM spin-handler" "40 rt" "64 rt"; do
		read -r sig prog <<<"$how"
		spin_kill "$WORK/n.out" "$sig" "$TESTS/build/$v/sigasync" "$prog"
		for mode in "${MODES[@]}"; do
			spin_kill "$WORK/k.raw" "$sig" "${KV[@]}" --syscalls "$mode" "$TESTS/build/$v/sigasync" "$prog"
			grep -v '^kvmse: ' "$WORK/k.raw" >"$WORK/k.out"
			diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
			[ -s "$WORK/why" ] && result "signal $sig to $v/sigasync $prog [$mode]" bad ||
				result "signal $sig to $v/sigasync $prog [$mode]" ok
		done
	done
done

# Signal queues used many times over their room: kvmse sizes its queues by the hard
# RLIMIT_SIGPENDING it starts with, so here it starts with a low one.
for v in glibc musl; do
	prlimit --sigpending=200:200 "$TESTS/build/$v/sigstate" queue-rounds >"$WORK/n.out" 2>&1
	echo "status $?" >>"$WORK/n.out"
	for mode in "${MODES[@]}"; do
		prlimit --sigpending=200:200 "${KV[@]}" --syscalls "$mode" "$TESTS/build/$v/sigstate" \
			queue-rounds >"$WORK/k.raw" 2>&1
		echo "status $?" >>"$WORK/k.raw"
		grep -v '^kvmse: ' "$WORK/k.raw" >"$WORK/k.out"
		diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
		[ -s "$WORK/why" ] && result "$v/sigstate queue-rounds, hard limit 200 [$mode]" bad ||
			result "$v/sigstate queue-rounds, hard limit 200 [$mode]" ok
	done
done

# stop_cont OUT CMD...: start CMD, which stops itself; once stopped, continue it.
stop_cont() {
	local out=$1; shift
	"$@" >"$out" 2>&1 &
	local pid=$! i state=
	for i in $(seq 100); do
		state=$(awk '{ print $3 }' /proc/$pid/stat 2>/dev/null)
		[ "$state" = T ] && break
		sleep 0.05
	done
	kill -CONT $pid
	wait $pid
	echo "status $? (was $state)" >>"$out"
}
for v in glibc musl; do
	stop_cont "$WORK/n.out" "$TESTS/build/$v/sigasync" stop
	for mode in "${MODES[@]}"; do
		stop_cont "$WORK/k.raw" "${KV[@]}" --syscalls "$mode" "$TESTS/build/$v/sigasync" stop
		grep -v '^kvmse: ' "$WORK/k.raw" >"$WORK/k.out"
		diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
		[ -s "$WORK/why" ] && result "stop and continue $v/sigasync [$mode]" bad ||
			result "stop and continue $v/sigasync [$mode]" ok
	done
done

# The "--- SIGx {...} ---" lines, with pids and addresses blanked.
sig_lines() {
	grep -- '^--- ' "$1" | sed -E 's/si_pid=[0-9]+/si_pid=PID/; s/0x[0-9a-f]{5,}/ADDR/g'
}
for t in "sigstate queue" "sigstate masks" "sigfault div0" "sigfault guard" "sigfault int3" "sigasync pause"; do
	read -r prog args <<<"$t"
	strace -o "$WORK/n.tr" "$TESTS/build/glibc/$prog" $args >/dev/null 2>&1
	"${KV[@]}" --strace "$TESTS/build/glibc/$prog" $args >/dev/null 2>"$WORK/k.tr"
	diff -u <(sig_lines "$WORK/n.tr") <(sig_lines "$WORK/k.tr") >"$WORK/why"
	[ -s "$WORK/why" ] && result "strace signals: $t" bad || result "strace signals: $t" ok
done
