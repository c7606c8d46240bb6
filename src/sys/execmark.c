/* execmark.c - which children have made an execve, as setpgid must know.
 *
 * Linux refuses setpgid on a child that has exec'd (EACCES). A kvmse execve is made in
 * place, so the host still sees a child that never did. Each process that forks gets a
 * shared map, one bit per pid, which its children inherit across the host fork: a child
 * clears its bit at once (a pid is reused) and sets it at its first execve. */
#include "sys.h"
#include "../fd.h"
#include "../util.h"
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PID_LIMIT (1u << 22)    /* Linux's PID_MAX_LIMIT */

static _Atomic uint8_t *kids;   /* this process's: its children mark it */
static _Atomic uint8_t *parent; /* the parent's, where this process marks itself */

static void mark(_Atomic uint8_t *map, pid_t pid, bool on)
{
	if (!map || pid <= 0 || (unsigned)pid >= PID_LIMIT)
		return;
	uint8_t b = (uint8_t)(1u << (pid % 8));
	if (on)
		atomic_fetch_or(&map[pid / 8], b);
	else
		atomic_fetch_and(&map[pid / 8], (uint8_t)~b);
}

void execmark_before_fork(void)
{
	if (kids)
		return;
	/* (pages come as bits are set: a few for most programs) */
	void *m = mmap(NULL, PID_LIMIT / 8, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m != MAP_FAILED)    /* (without it, setpgid cannot tell: the host's answer) */
		kids = m;
}

void execmark_forked(void)
{
	if (parent)
		munmap((void *)parent, PID_LIMIT / 8);
	parent = kids;
	kids = NULL;
	mark(parent, getpid(), false);
}

void execmark_exec(void)
{
	mark(parent, getpid(), true);
}

/* Whether 'pid' is a child of this process's that has exec'd: its bit is set, and its
 * parent is this process (a CLONE_PARENT child marks here too, but is not ours). */
bool execmark_child_execd(pid_t pid)
{
	if (!kids || pid <= 0 || (unsigned)pid >= PID_LIMIT || !(kids[pid / 8] & (1u << (pid % 8))))
		return false;
	char name[32], stat[512];
	snprintf(name, sizeof(name), "%d/stat", pid);
	fd_proc_read(name, stat, sizeof(stat));
	const char *end = strrchr(stat, ')');    /* (the name may hold anything) */
	int ppid;
	return end && sscanf(end + 1, " %*c %d", &ppid) == 1 && ppid == getpid();
}
