# badinput.sh - sourced by run.sh: what kvmse says and returns for programs it cannot run.
BAD="$WORK/bad"
mkdir -p "$BAD/dir"
: >"$BAD/empty"; chmod +x "$BAD/empty"
head -c 100 "$TESTS/build/glibc/tls" >"$BAD/truncated"; chmod +x "$BAD/truncated"
head -c 3000 "$TESTS/build/glibc/tls" >"$BAD/truncated-seg"; chmod +x "$BAD/truncated-seg"
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000\267\000' >"$BAD/arm64"
head -c 4096 /dev/zero >>"$BAD/arm64"; chmod +x "$BAD/arm64"
echo 'not a program' >"$BAD/text"; chmod +x "$BAD/text"
cp "$TESTS/build/glibc/tls" "$BAD/noexec"; chmod -x "$BAD/noexec"
# a dynamic program whose loader is missing (the same length of path, so it stays valid)
sed 's|/lib64/ld-linux-x86-64.so.2|/nonexistent/ld-x86-64.so.2|' "$TESTS/build/dyn/tls" >"$BAD/noloader"
chmod +x "$BAD/noloader"

# expect NAME STATUS PATTERN CMD...: kvmse's status and one stderr line matching PATTERN.
expect() {
	local name=$1 want=$2 pat=$3; shift 3
	"$@" >"$WORK/b.out" 2>"$WORK/b.err" </dev/null; local st=$?
	: >"$WORK/why"
	[ "$st" = "$want" ] || echo "status $st, expected $want" >>"$WORK/why"
	[ "$(wc -l <"$WORK/b.err")" -le 1 ] || { echo "more than one line on stderr:"; cat "$WORK/b.err"; } >>"$WORK/why"
	cat "$WORK/b.out" "$WORK/b.err" | grep -q -- "$pat" || { echo "output does not match '$pat':"; cat "$WORK/b.err"; } >>"$WORK/why"
	[ -s "$WORK/why" ] && result "$name" bad || result "$name" ok
}
expect "bad input: missing file" 127 "No such file or directory" "$KVMSE" "$BAD/missing"
expect "bad input: directory" 126 "Is a directory" "$KVMSE" "$BAD/dir"
expect "bad input: empty file" 126 "not an ELF executable" "$KVMSE" "$BAD/empty"
expect "bad input: text file" 126 "not an ELF executable" "$KVMSE" "$BAD/text"
expect "bad input: truncated header" 126 "truncated ELF" "$KVMSE" "$BAD/truncated"
expect "bad input: truncated segments" 126 "truncated ELF" "$KVMSE" "$BAD/truncated-seg"
expect "bad input: other architecture" 126 "AArch64" "$KVMSE" "$BAD/arm64"
expect "bad input: not executable" 126 "Permission denied" "$KVMSE" "$BAD/noexec"
expect "bad input: missing dynamic loader" 127 "dynamic loader /nonexistent/ld-x86-64.so.2: No such file" \
	"$KVMSE" "$BAD/noloader"
# -L: the loader, and files the program names, are taken from under the prefix first.
mkdir -p "$BAD/root/lib64" "$BAD/broken/lib64"
cp /lib64/ld-linux-x86-64.so.2 "$BAD/root/lib64/"
echo "found under the prefix" >"$BAD/root/kvmse-marker"
echo 'not a loader' >"$BAD/broken/lib64/ld-linux-x86-64.so.2"; chmod +x "$BAD/broken/lib64/ld-linux-x86-64.so.2"
expect "-L: files under the prefix" 0 "found under the prefix" "$KVMSE" -L "$BAD/root" /bin/cat /kvmse-marker
expect "-L: other files as they are" 0 "root:" "$KVMSE" -L "$BAD/root" /bin/cat /etc/passwd
expect "-L: the loader from the prefix" 126 "ld-linux-x86-64.so.2: not an ELF" "$KVMSE" -L "$BAD/broken" /bin/true
expect "-L: not a directory" 2 "not a directory" "$KVMSE" -L "$BAD/missing" /bin/true
expect "bad input: no program" 2 "no program to run" "$KVMSE"
expect "bad input: bad option" 2 "unknown option --bogus" "$KVMSE" --bogus
expect "bad input: option without value" 2 "needs an argument" "$KVMSE" --stats
expect "bad input: bad --memory" 1 "memory" "$KVMSE" --memory 12 "$TESTS/build/glibc/tls"
# A guest that asks for more than --memory gets ENOMEM (malloc returns NULL).
expect "memory cap: ENOMEM beyond --memory" 99 "CHECK failed" "$KVMSE" --memory 64M "$TESTS/build/glibc/malloc"

# On a terminal: the program's terminal ioctls reach the real tty (script(1) makes one).
if command -v script >/dev/null 2>&1; then
	script -qec "$TESTS/build/glibc/tty" /dev/null </dev/null >"$WORK/n.out" 2>&1
	script -qec "${KV[*]} $TESTS/build/glibc/tty" /dev/null </dev/null >"$WORK/k.out" 2>&1
	diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
	grep -q 'TIOCGWINSZ: 0' "$WORK/n.out" || echo "no terminal after all" >>"$WORK/why"
	[ -s "$WORK/why" ] && result "tty: terminal ioctls on a pty" bad || result "tty: terminal ioctls on a pty" ok
else
	echo "SKIP tty: script(1) missing (apt-get install bsdutils)"; skip=$((skip + 1))
fi

# Without a usable /dev/kvm: one line, status 1.
if command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	expect "no KVM: /dev/kvm is not KVM" 1 "/dev/kvm" unshare -m sh -c \
		"mount --bind /dev/null /dev/kvm && exec '$KVMSE' '$TESTS/build/glibc/tls'"
	expect "no KVM: /dev/kvm missing" 1 "/dev/kvm does not exist" unshare -m sh -c \
		"mount -t tmpfs none /dev && exec '$KVMSE' '$TESTS/build/glibc/tls'"
else
	echo "SKIP no-KVM cases: unshare -m is not permitted here"; skip=$((skip + 1))
fi
nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1 && [ "$(stat -c %a /dev/kvm)" = 600 ] &&
	nobody "$KVMSE" --version >/dev/null 2>&1; then
	expect "no KVM: permission denied" 1 "permission denied" nobody "$KVMSE" "$TESTS/build/glibc/tls"
else
	echo "SKIP no-KVM permission case: needs root, /dev/kvm mode 600, and kvmse runnable as nobody"
	skip=$((skip + 1))
fi

# Running out of --memory is ENOMEM for the guest, which carries on; kvmse never dies of it.
expect "memory cap: exhausted, guest carries on" 0 "until ENOMEM" "$KVMSE" --memory 32M "$TESTS/build/glibc/exhaust" 1000

# A signal from outside: ignored by the program, it does nothing; else it kills, as natively.
# term_when_ready OUT CMD...: run CMD in the background, SIGTERM it once it printed "ready"
# (it waits up to 10 s for that, for a loaded host).
term_when_ready() {
	local out=$1; shift
	: >"$out"       # (emptied first: the last run's "ready" must not be seen)
	"$@" >"$out" 2>/dev/null &
	local pid=$! i
	for i in $(seq 500); do grep -q ready "$out" && break; sleep 0.02; done
	kill -TERM "$pid"
	wait "$pid"
	echo "status $?" >>"$out"
}
for mode in ignore-term default-term; do
	term_when_ready "$WORK/n.out" "$TESTS/build/glibc/sigign" $mode
	term_when_ready "$WORK/k.out" "${KV[@]}" "$TESTS/build/glibc/sigign" $mode
	diff -u "$WORK/n.out" "$WORK/k.out" >"$WORK/why"
	[ -s "$WORK/why" ] && result "signal from outside: $mode" bad || result "signal from outside: $mode" ok
done
