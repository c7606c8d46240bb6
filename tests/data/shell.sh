# shell.sh - run by busybox sh natively and under kvmse (tests/busybox.sh): pipelines,
# subshells, command substitution, here-documents, loops that start many processes,
# xargs, find -exec, traps, exit statuses.
set -u
echo "pipeline: $(seq 10000 | sort -rn | head -5 | md5sum)"
echo "subshell: $( (cd /; pwd); echo "back in $(basename "$PWD")" )"
x=$(echo outer $(echo inner $(echo innermost)))
echo "nested: $x"
cat <<EOT | tr a-z A-Z
here-document with $x
second line
EOT
n=0
for i in $(seq 200); do
	n=$((n + $(echo 1)))
	true | cat >/dev/null
done
echo "200 loops with 2 processes each: $n"
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	sh -c "exit $((i % 4))" || echo "child $i exited $?"
done | sort | uniq -c | sort
mkdir -p work/a/b work/c
for f in work/a/one work/a/b/two work/c/three; do echo "$f" >"$f.txt"; done
echo "find -exec:"
find work -name '*.txt' -exec cat {} \; | sort
echo "xargs:"
find work -name '*.txt' | sort | xargs -n 1 basename
find work -type f | xargs wc -l | sort | tail -1
echo "case and functions:"
greet() { case "$1" in a*) echo "a-word $1";; *) echo "other $1";; esac; return 3; }
greet apple; greet pear || echo "function status $?"
trap 'echo trapped USR1' USR1
kill -USR1 $$
echo "after trap"
( exit 7 ); echo "subshell exit $?"
sh -c 'kill -TERM $$'; echo "killed child: $?"
false | true; echo "pipeline status $?"
if ! grep -q nope work/c/three.txt; then echo "grep found nothing"; fi
v=$(sh -c 'echo from-child; exit 5'); echo "captured '$v' status $?"
printf '%s\n' c b a | sort -r | tr '\n' ' '; echo
echo "done: $(ls work | wc -l) entries"
rm -r work
