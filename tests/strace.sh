# strace.sh - sourced by run.sh: `kvmse --strace` prints what strace(1) prints for the same
# program, from the program's marker call on (start-up differs: kvmse has no rseq), with
# addresses, which move between runs, blanked.
strace_norm() {
	sed -n '/strace-start/,$p' "$1" | sed -E 's/0x[0-9a-f]{6,}/ADDR/g; s/ +=/ =/'
}
for v in glibc musl; do
	d="$WORK/cwd"
	rm -rf "$d"; mkdir -p "$d"
	(cd "$d" && strace -o "$WORK/n.tr" "$TESTS/build/$v/files" >/dev/null 2>&1)
	rm -rf "$d"; mkdir -p "$d"
	(cd "$d" && "${KV[@]}" --strace "$TESTS/build/$v/files" >/dev/null 2>"$WORK/k.tr")
	diff -u <(strace_norm "$WORK/n.tr") <(strace_norm "$WORK/k.tr") | head -30 >"$WORK/why"
	[ -s "$WORK/n.tr" ] || echo "strace produced nothing" >>"$WORK/why"
	[ -s "$WORK/why" ] && result "strace format: $v/files" bad || result "strace format: $v/files" ok
done

# Clock reads through the vDSO are no system calls, under kvmse as natively: strace sees
# only the 10 of the program's 100 that are.
for v in glibc musl; do
	strace -o "$WORK/n.tr" "$TESTS/build/$v/vdso" count >/dev/null 2>&1
	"${KV[@]}" --strace "$TESTS/build/$v/vdso" count >/dev/null 2>"$WORK/k.tr"
	n=$(grep -c '^clock_gettime' "$WORK/n.tr") k=$(grep -c '^clock_gettime' "$WORK/k.tr")
	[ "$n" = "$k" ] && result "strace: $v/vdso clock reads" ok ||
		{ echo "clock_gettime calls: $n natively, $k under kvmse" >"$WORK/why"; result "strace: $v/vdso clock reads" bad; }
done

# An execve's line names the file it ran, though its success replaced the memory that
# named it (strace reads the arguments as the call enters).
for v in glibc musl; do
	strace -o "$WORK/n.tr" "$TESTS/build/$v/procs" exec-signals >/dev/null 2>&1
	"${KV[@]}" --strace "$TESTS/build/$v/procs" exec-signals >/dev/null 2>"$WORK/k.tr"
	exec_line() { grep -o 'execve("/proc/self/exe", .* = 0$' "$1" | sed -E 's/, .* =/ =/'; }
	n=$(exec_line "$WORK/n.tr") k=$(exec_line "$WORK/k.tr")
	[ -n "$n" ] && [ "$n" = "$k" ] && result "strace: $v/procs execve's path" ok ||
		{ printf 'natively: %s\nunder kvmse: %s\n' "$n" "$k" >"$WORK/why"; result "strace: $v/procs execve's path" bad; }
done
