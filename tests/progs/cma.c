/* cma.c - process_vm_readv and process_vm_writev: the program's own memory, and a forked
 * child's (read and written, several iovecs on both sides, a buffer over pages); a copy
 * that ends where the other's memory does (a partial count); a read-only page; the
 * errors (flags, counts, a bad local or remote address, no such process), and nothing to
 * copy, which looks at nothing else. */
// run:
#include "common.h"
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static long rd(pid_t pid, struct iovec *l, unsigned long nl, struct iovec *r, unsigned long nr)
{
	return syscall(SYS_process_vm_readv, pid, l, nl, r, nr, 0);
}
static long wr(pid_t pid, struct iovec *l, unsigned long nl, struct iovec *r, unsigned long nr)
{
	return syscall(SYS_process_vm_writev, pid, l, nl, r, nr, 0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* in a child: its memory, at addresses the parent knows (fork keeps them) */
	char *big = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *edge = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(big != MAP_FAILED && ro != MAP_FAILED && edge != MAP_FAILED);
	munmap(edge + 4096, 4096);
	for (int i = 0; i < 3 * 4096; i++)
		big[i] = (char)('a' + i % 26);
	memset(edge, 'e', 4096);
	int ready[2], done[2];
	CHECK(pipe(ready) == 0 && pipe(done) == 0);
	pid_t child = fork();
	if (child == 0) {
		strcpy(big + 100, "the child's own");
		char c = 1;
		CHECK(write(ready[1], &c, 1) == 1);
		CHECK(read(done[0], &c, 1) == 1);
		printf("child sees '%.14s' and '%.5s'\n", big + 4090, big + 3 * 4096 - 5);
		fflush(stdout);
		_exit(0);
	}
	char c;
	CHECK(read(ready[0], &c, 1) == 1);

	char a[20] = { 0 }, b[30] = { 0 };
	struct iovec l[2] = { { a, 8 }, { b, 20 } };
	struct iovec r[2] = { { big + 100, 15 }, { big + 4090, 13 } };      /* (over a page) */
	SHOW(rd(child, l, 2, r, 2));
	printf("read '%s' '%s'\n", a, b);
	SHOW(rd(getpid(), l, 2, r, 2));                 /* our own copy */
	printf("own '%s' '%s'\n", a, b);
	struct iovec src = { "WRITTEN-ACROSS", 14 }, dst = { big + 4090, 14 };
	SHOW(wr(child, &src, 1, &dst, 1));
	struct iovec tail = { "tail!", 5 }, end = { big + 3 * 4096 - 5, 5 };
	SHOW(wr(child, &tail, 1, &end, 1));

	/* the other's memory ends: a partial count, then EFAULT */
	char e[8192];
	struct iovec le = { e, sizeof(e) }, re = { edge + 4000, 200 };
	SHOW(rd(child, &le, 1, &re, 1));
	re.iov_base = edge + 4096;
	SHOW(rd(child, &le, 1, &re, 1));
	struct iovec rr = { ro, 10 };
	SHOW(wr(child, &src, 1, &rr, 1));               /* read-only there */
	SHOW(rd(child, &le, 1, &rr, 1));
	/* errors */
	SHOW(syscall(SYS_process_vm_readv, child, l, 2, r, 2, 1));
	SHOW(rd(child, l, IOV_MAX + 1, r, 2));
	SHOW(rd(child, (struct iovec *)16, 2, r, 2));
	SHOW(rd(child, l, 2, (struct iovec *)16, 2));
	struct iovec lbad = { (void *)16, 8 };
	SHOW(rd(child, &lbad, 1, r, 1));
	SHOW(rd(child, l, 0, r, 2));                    /* nothing to copy */
	SHOW(rd(999999999, l, 0, r, 2));
	SHOW(rd(999999999, l, 2, r, 2));
	struct iovec huge[2] = { { a, SSIZE_MAX }, { b, 2 } };
	SHOW(rd(child, huge, 2, r, 2));

	CHECK(write(done[1], &c, 1) == 1);
	int st;
	waitpid(child, &st, 0);
	printf("child status %d\n", st);
	SHOW(rd(child, l, 2, r, 2));                    /* gone */
	return 0;
}
