# exitless.sh - sourced by run.sh: the exitless transport's own cases (--syscalls exitless).
EXL=("${KV[@]}" --syscalls exitless)
WAIT_PROG="$TESTS/build/glibc/pipe_wait"

# A read that blocks in the host until a writer sends, 400 ms later: the same output as
# natively, and kvmse's CPU time stays far below the wait (nobody spins through it).
cpu_of() { # cpu_of OUT CMD...: run CMD with a late writer; print user+system seconds
	local out=$1 t; shift
	TIMEFORMAT='%3U %3S'
	t=$( { time { { sleep 0.4; echo late; } | "$@" >"$out" 2>/dev/null; } ; } 2>&1 )
	echo "$t" | awk '{ print $1 + $2 }'
}
cpu_of "$WORK/n.out" "$WAIT_PROG" >/dev/null
cpu=$(cpu_of "$WORK/k.out" "${EXL[@]}" "$WAIT_PROG")
diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
# (the bound is loose for the sanitizer build's slower start; spinning would take 0.4 s)
awk -v c="$cpu" 'BEGIN { exit !(c < 0.25) }' || echo "kvmse used $cpu s of CPU during a 0.4 s wait" >>"$WORK/why"
[ -s "$WORK/why" ] && result "exitless: read blocked 400 ms [cpu ${cpu}s]" bad ||
	result "exitless: read blocked 400 ms [cpu ${cpu}s]" ok

# A signal from outside while the read is blocked in the server: the program dies of it,
# as natively. (A FIFO kept open for writing here keeps the read waiting. The signal's
# action is made the default first: a caller such as nohup may have left it ignored.)
sig_while_blocked() { # OUT SIG CMD...
	local out=$1 sig=$2 i; shift 2
	rm -f "$WORK/fifo"; mkfifo "$WORK/fifo"
	exec 9<>"$WORK/fifo"
	: >"$out"       # (emptied first: the last run's "ready" must not be seen)
	env --default-signal="$sig" "$@" <"$WORK/fifo" >"$out" 2>/dev/null &
	local pid=$!
	for i in $(seq 500); do grep -q ready "$out" && break; sleep 0.02; done
	sleep 0.1
	kill -"$sig" "$pid"
	{ wait "$pid"; } 2>/dev/null
	echo "status $?" >>"$out"
	exec 9>&-
}
for sig in TERM USR1 HUP; do
	sig_while_blocked "$WORK/n.out" $sig "$WAIT_PROG"
	sig_while_blocked "$WORK/k.out" $sig "${EXL[@]}" "$WAIT_PROG"
	diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
	[ -s "$WORK/why" ] && result "exitless: SIG$sig during a blocked read" bad ||
		result "exitless: SIG$sig during a blocked read" ok
done

# Garbage over the channel page, and forged requests: fixed answers for the forged calls,
# then the program survives or dies of SIGSEGV; kvmse itself says nothing else.
cat >"$WORK/scribble.want" <<'EOF'
exit_group: -38
exit: -38
mmap: -38
arch_prctl: -38
number 100000: -38
number -1: -38
forged write
getppid: right
write: 13
bad pointer: -14
EOF
for seed in 1 2 3 4 5; do
	"${EXL[@]}" "$TESTS/build/guest/scribble" $seed >"$WORK/k.out" 2>"$WORK/k.err"
	st=$?
	: >"$WORK/why"
	[ $st = 0 ] || [ $st = 139 ] || echo "status $st" >>"$WORK/why"
	head -10 "$WORK/k.out" | diff -u "$WORK/scribble.want" - >>"$WORK/why"
	grep -v 'killed by SIGSEGV' "$WORK/k.err" | head -5 >>"$WORK/why"
	[ -s "$WORK/why" ] && result "exitless: scribbled channel, seed $seed" bad ||
		result "exitless: scribbled channel, seed $seed" ok
done

# The transports do what they say (so the runs above in each mode are not the same run):
# with exit no call goes through the channel; with exitless some do. How many depends on
# how busy the host is (the server stands down while its answers come late), so the
# exitless run is tried up to three times for one that used the channel.
channel_calls() {
	rm -rf "$WORK/stats.txt" "$WORK/cwd"; mkdir -p "$WORK/cwd"
	(cd "$WORK/cwd" && "${KV[@]}" --syscalls "$1" --stats "$WORK/stats.txt" "$TESTS/build/glibc/files" >/dev/null 2>&1)
	awk '$1 == "cpu.syscalls.exitless" || $1 == "cpu.syscalls.waited" { n += $2; seen = 1 }
		END { if (seen) print n }' "$WORK/stats.txt" 2>/dev/null
}
for mode in exit exitless; do
	: >"$WORK/why"
	if [ $mode = exit ]; then
		n=$(channel_calls exit)
		[ "${n:-x}" = 0 ] || echo "${n:-no stats:} calls went through the channel" >>"$WORK/why"
	else
		for _ in 1 2 3; do
			n=$(channel_calls exitless)
			[ "${n:-0}" -gt 0 ] && break
		done
		[ "${n:-0}" -gt 0 ] || echo "no call went through the channel in 3 runs" >>"$WORK/why"
	fi
	[ -s "$WORK/why" ] && result "transport $mode: calls through the channel" bad ||
		result "transport $mode: calls through the channel" ok
done
