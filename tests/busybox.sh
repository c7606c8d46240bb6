# busybox.sh - sourced by run.sh: busybox-static applets natively vs under kvmse.
BB=/bin/busybox
FIX="$WORK/fixture"
mkdir -p "$FIX/tree/a/b" "$FIX/tree/c"
seq 1 20000 | awk '{print ($1 * 7919) % 10007 " w" $1 % 13}' >"$FIX/nums.txt"
for i in 1 2 3; do echo "file $i" >"$FIX/tree/a/f$i.txt"; done
echo deep >"$FIX/tree/a/b/deep.h"; echo other >"$FIX/tree/c/x.h"
touch -d '2020-01-02 03:04:05' "$FIX/tree" "$FIX/tree"/* "$FIX/tree"/*/* "$FIX/tree"/a/b/*
head -c 3000000 /dev/urandom | od -An -tx1 >"$FIX/big.txt"

bb() { compare "busybox $*" "$FIX/nums.txt" "$BB" "$@"; }
if [ -x "$BB" ] && dpkg -s busybox-static >/dev/null 2>&1; then
	bb echo hello world
	bb cat "$FIX/nums.txt"
	bb sort -n "$FIX/nums.txt"
	bb sort
	bb uniq -c "$FIX/tree/a/f1.txt"
	bb wc "$FIX/nums.txt" "$FIX/big.txt"
	bb md5sum "$FIX/big.txt"
	bb sha256sum "$FIX/big.txt"
	bb sed -e 's/w1/W-ONE/g' -e '/^9/d' "$FIX/nums.txt"
	bb awk '{ s[$2] += $1 } END { for (k in s) n++; print n, s["w3"] }' "$FIX/nums.txt"
	bb grep -c 'w7$' "$FIX/nums.txt"
	bb find "$FIX/tree" -name '*.h'
	bb ls -la --full-time "$FIX/tree/a"
	bb ls -lR "$FIX/tree"
	bb seq 1 3 30
	bb expr 6 \* 7
	bb date -u -d @1234567890 '+%Y-%m-%d %H:%M:%S'
	bb gzip -c "$FIX/big.txt"
	"$BB" gzip -c "$FIX/big.txt" >"$FIX/big.txt.gz"
	bb gunzip -c "$FIX/big.txt.gz"
	bb tar -cf - -C "$FIX" tree
	"$BB" tar -cf "$FIX/t.tar" -C "$FIX" tree
	bb tar -xvf "$FIX/t.tar"
	bb sh -c 'seq 10000 | sort -rn | head -5 | md5sum'
	bb sh "$TESTS/data/shell.sh"
	# a jail without /proc or /dev: kvmse still finds its own (pipelines fork, exec)
	# (LeakSanitizer reads /proc to stop the process at its exit: not in there)
	mkdir -p "$FIX/jail/bin" && cp "$BB" "$FIX/jail/bin/busybox" && KV[1]=ASAN_OPTIONS=detect_leaks=0
	bb chroot "$FIX/jail" /bin/busybox sh -c \
		'cd /; B=/bin/busybox; $B ls / | $B sort; $B seq 3 | $B md5sum; exec $B env X=1 $B sh -c "echo \$X"'
	KV[1]=ASAN_OPTIONS=detect_leaks=1
else
	echo "SKIP busybox applets: /bin/busybox is not busybox-static (apt-get install busybox-static)"
	skip=$((skip + 1))
fi
