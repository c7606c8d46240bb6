#!/bin/sh
# deps.sh - install the Debian packages the tests and benchmarks need, or say which.
set -e
missing=""
command -v musl-gcc >/dev/null 2>&1 || missing="$missing musl-tools"
dpkg -s busybox-static >/dev/null 2>&1 || missing="$missing busybox-static"
command -v qemu-x86_64 >/dev/null 2>&1 || missing="$missing qemu-user"
command -v bc >/dev/null 2>&1 || missing="$missing bc"
command -v strace >/dev/null 2>&1 || missing="$missing strace"
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || missing="$missing libc6-dev"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
	echo "installing:$missing"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
else
	echo "missing packages:$missing (run: sudo apt-get install$missing)" >&2
	exit 1
fi
