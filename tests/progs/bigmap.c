/* A mapping far bigger than memory (MAP_NORESERVE, as sanitizers reserve their shadow)
 * gets pages only where it is touched: by the program, by a system call writing into it
 * or reading from it, by MADV_POPULATE_WRITE or mlock. Untouched pages read as zeros,
 * are not resident, a fork's child and parent each see their own, and a vfork child's
 * stores are its parent's. smaps flags it "nr"; a writable mapping without MAP_NORESERVE
 * is charged to overcommit instead. */
#include "common.h"
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23          /* (Linux 5.14, newer than musl's headers) */
#endif

#define GIB (1UL << 30)
#define SIZE (1UL << 40)                /* 1 TiB */

static sigjmp_buf env;

static void on_segv(int sig)
{
	siglongjmp(env, sig);
}

static int resident(const char *p)
{
	unsigned char v = 0;
	CHECK(mincore((void *)p, 1, &v) == 0);
	return v & 1;
}

/* Through a pipe: the kernel's (or kvmse's) own writes into untouched memory and reads
 * from it. */
static void syscalls(char *m)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	CHECK(write(fds[1], "hello", 6) == 6);
	SHOW(read(fds[0], m + 100 * GIB + 4000, 6));        /* straddles two pages */
	printf("read back: %s\n", m + 100 * GIB + 4000);
	SHOW(write(fds[1], m + 200 * GIB, 8));
	unsigned long long v = 1;
	CHECK(read(fds[0], &v, 8) == 8);
	printf("zeros from an untouched page: %llu\n", v);
	close(fds[0]);
	close(fds[1]);
}

static void child_and_parent(char *m)
{
	m[300 * GIB] = 42;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		m[301 * GIB] = 7;       /* the parent's copy of this page stays untouched */
		_exit(m[300 * GIB] + m[301 * GIB]);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child's status %d; parent sees %d %d\n", WEXITSTATUS(st), m[300 * GIB], m[301 * GIB]);
	/* a vfork child runs on its parent's memory: what it stores there stays */
	pid = vfork();
	CHECK(pid >= 0);
	if (pid == 0) {
		m[302 * GIB + 5] = 11;
		m[300 * GIB + 1] = 12;
		_exit(0);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("after vfork: %d %d\n", m[302 * GIB + 5], m[300 * GIB + 1]);
}

/* A guard page in the middle of untouched memory stays a guard when its neighbour is
 * touched (Linux 6.13 and later; older ones say EINVAL, natively and under kvmse). */
static void guard(char *m)
{
	char *g = m + 400 * GIB + 8 * 4096;
	if (madvise(g, 4096, 102 /* MADV_GUARD_INSTALL */) < 0) {
		printf("no guard regions: %s\n", strerror(errno));
		return;
	}
	g[4096] = 1;
	signal(SIGSEGV, on_segv);
	int sig = sigsetjmp(env, 1);
	if (!sig)
		g[0] = 1;
	signal(SIGSEGV, SIG_DFL);
	printf("touching the guard: signal %d; its neighbour: %d\n", sig, g[4096]);
}

/* Its VmFlags line in smaps ("nr", not "ac"). */
static void vmflags(const char *m)
{
	char line[256], start[32];
	snprintf(start, sizeof(start), "%lx-", (unsigned long)m);
	FILE *f = fopen("/proc/self/smaps", "r");
	CHECK(f);
	bool in = false;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, start, strlen(start)))
			in = true;
		else if (in && !strncmp(line, "VmFlags:", 8)) {
			printf("MAP_NORESERVE's %s", line);
			break;
		}
	}
	fclose(f);
}

/* Without MAP_NORESERVE, private writable memory is charged: with vm.overcommit_memory
 * 0, one mapping bigger than RAM and swap together is refused, and so is a fork of a
 * process that has one (two adjacent halves, merged). */
static void charged(void)
{
	struct sysinfo si;
	CHECK(sysinfo(&si) == 0);
	unsigned long size = ((si.totalram + si.totalswap) * si.mem_unit + GIB) & ~(GIB - 1);
	char *m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("a writable mapping bigger than memory: %s\n", m == MAP_FAILED ? strerror(errno) : "made");
	if (m != MAP_FAILED)
		munmap(m, size);
	m = mmap(NULL, size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("a read-only one: %s\n", m == MAP_FAILED ? strerror(errno) : "made");
	CHECK(m != MAP_FAILED);
	for (int half = 0; half < 2; half++)
		CHECK(mmap(m + half * size / 2, size / 2, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	printf("fork with two writable halves of it: %s\n", pid < 0 ? strerror(errno) : "made");
	if (pid > 0)
		CHECK(waitpid(pid, NULL, 0) == pid);
	munmap(m, size);
}

int main(void)
{
	char *m = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		       -1, 0);
	CHECK(m != MAP_FAILED);
	unsigned long sum = 0;
	for (unsigned long off = 0; off < SIZE; off += 64 * GIB)
		m[off + off / GIB] = (char)(off / GIB);
	for (unsigned long off = 0; off < SIZE; off += 64 * GIB)
		sum += (unsigned char)m[off + off / GIB];
	printf("1 TiB mapped, 16 bytes written, sum %lu\n", sum);
	printf("resident: touched %d, untouched %d\n", resident(m + 64 * GIB), resident(m + 500 * GIB));

	syscalls(m);
	child_and_parent(m);
	vmflags(m);
	charged();

	SHOW(madvise(m + 600 * GIB, 4096, MADV_POPULATE_WRITE));
	printf("resident after MADV_POPULATE_WRITE: %d\n", resident(m + 600 * GIB));
	SHOW(mlock(m + 700 * GIB, 4096));
	printf("resident after mlock: %d, reads %d\n", resident(m + 700 * GIB), m[700 * GIB]);
	SHOW(munlock(m + 700 * GIB, 4096));
	guard(m);

	/* reserved PROT_NONE, opened whole: still filled as touched */
	CHECK(mprotect(m + 800 * GIB, 256UL << 20, PROT_NONE) == 0);
	CHECK(mprotect(m + 800 * GIB, 256UL << 20, PROT_READ | PROT_WRITE) == 0);
	m[800 * GIB + (255UL << 20)] = 9;
	printf("after mprotect: %d %d\n", m[800 * GIB], m[800 * GIB + (255UL << 20)]);

	/* moved and grown by mremap: what was touched moves, the rest stays untouched */
	char *r = mmap(NULL, 128UL << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	r[0] = 1;
	r[(128UL << 20) - 1] = 2;
	r = mremap(r, 128UL << 20, 1UL << 30, MREMAP_MAYMOVE);
	CHECK(r != MAP_FAILED);
	r[(1UL << 30) - 1] = 3;
	printf("after mremap: %d %d %d %d\n", r[0], r[(128UL << 20) - 1], r[64UL << 20], r[(1UL << 30) - 1]);
	CHECK(munmap(r, 1UL << 30) == 0);

	SHOW(munmap(m, SIZE));
	char *again = mmap(m, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			   -1, 0);
	CHECK(again != MAP_FAILED);
	printf("mapped again: %d %d\n", again[64 * GIB + 64], again[300 * GIB]);
	return 0;
}
