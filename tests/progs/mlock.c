/* mlock.c - mlock, munlock, mlock2, mlockall, munlockall, MAP_LOCKED: what they lock
 * shows as VmLck in /proc/self/status; a hole is ENOMEM, bad flags EINVAL; locked pages
 * are not dropped; /proc/self/smaps and smaps_rollup count them; MADV_WIPEONFORK. NUMA policies: set_mempolicy and get_mempolicy,
 * of the thread and of an address. */
#include "common.h"
#include <fcntl.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static long vmlck(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* (numaif.h's, which musl lacks) */
#define MPOL_DEFAULT_ 0
#define MPOL_PREFERRED_ 1
#define MPOL_BIND_ 2
#define MPOL_F_NODE_ 1
#define MPOL_F_ADDR_ 2

static void numa(char *page)
{
	int mode = -1;
	unsigned long mask[16] = { 0 }, node0 = 1;
	SHOW(syscall(SYS_get_mempolicy, &mode, mask, 1025, NULL, 0));
	printf("mode %d, mask %#lx\n", mode, mask[0]);
	SHOW(syscall(SYS_set_mempolicy, MPOL_PREFERRED_, &node0, 64));
	SHOW(syscall(SYS_get_mempolicy, &mode, mask, 1025, NULL, 0));
	printf("mode %d, mask %#lx\n", mode, mask[0]);
	page[0] = 1;
	SHOW(syscall(SYS_get_mempolicy, &mode, NULL, 0, page, MPOL_F_ADDR_));
	printf("mode at an address %d\n", mode);
	SHOW(syscall(SYS_get_mempolicy, &mode, NULL, 0, page, MPOL_F_ADDR_ | MPOL_F_NODE_));
	printf("node of a page %d\n", mode);
	SHOW(syscall(SYS_get_mempolicy, &mode, NULL, 0, (void *)4096, MPOL_F_ADDR_));
	SHOW(syscall(SYS_get_mempolicy, &mode, mask, 0, NULL, 0));
	SHOW(syscall(SYS_get_mempolicy, &mode, (void *)8, 1025, NULL, 0));
	SHOW(syscall(SYS_get_mempolicy, (void *)8, NULL, 0, NULL, 0));
	SHOW(syscall(SYS_set_mempolicy, 99, NULL, 0));
	SHOW(syscall(SYS_set_mempolicy, MPOL_PREFERRED_, (void *)8, 64));
	SHOW(syscall(SYS_set_mempolicy, MPOL_DEFAULT_, NULL, 0));
	/* a range's policy (mbind), and what it checks */
	long pg = sysconf(_SC_PAGESIZE);
	SHOW(syscall(SYS_mbind, page, 2 * pg, MPOL_BIND_, &node0, 64, 0));
	SHOW(syscall(SYS_get_mempolicy, &mode, NULL, 0, page, MPOL_F_ADDR_));
	printf("mode at the address %d\n", mode);
	SHOW(syscall(SYS_get_mempolicy, &mode, NULL, 0, page + 4 * pg, MPOL_F_ADDR_));
	printf("mode past the range %d\n", mode);
	SHOW(syscall(SYS_mbind, page + 1, pg, MPOL_BIND_, &node0, 64, 0));
	SHOW(syscall(SYS_mbind, page, pg, 99, &node0, 64, 0));
	SHOW(syscall(SYS_mbind, page, pg, MPOL_BIND_, (void *)8, 64, 0));
	SHOW(syscall(SYS_mbind, page, pg, MPOL_BIND_, &node0, 64, 0x100));
	SHOW(syscall(SYS_mbind, (void *)(1UL << 40), pg, MPOL_BIND_, &node0, 64, 0));
	SHOW(syscall(SYS_mbind, page, 0, MPOL_BIND_, &node0, 64, 0));
	SHOW(syscall(SYS_mbind, page, 2 * pg, MPOL_DEFAULT_, NULL, 0, 0));
}

/* /proc/self/smaps's record of the mapping at 'm' (its fields, not its first line) and
 * the Locked of smaps_rollup, at least that much. */
static void smaps(const char *m)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	CHECK(f);
	char line[512];
	bool in = false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char perms[8];
		if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && strlen(perms) == 4)
			in = lo == (unsigned long)m;
		else if (in)
			fputs(line, stdout);
	}
	fclose(f);
	f = fopen("/proc/self/smaps_rollup", "r");
	CHECK(f);
	unsigned long kb = 0;
	while (fgets(line, sizeof(line), f))
		sscanf(line, "Locked: %lu kB", &kb);
	fclose(f);
	printf("rollup: at least that locked %d\n", kb >= 1024);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	long pg = sysconf(_SC_PAGESIZE);
	char *mb = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(mb != MAP_FAILED && mlock(mb, 1 << 20) == 0);
	smaps(mb);
	CHECK(munmap(mb, 1 << 20) == 0);
	char *a = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED);
	numa(a);
	printf("VmLck at start: %ld kB\n", vmlck());
	SHOW(mlock(a + 10, 3 * pg));            /* 4 pages: the range is page-aligned outwards */
	printf("VmLck: %ld kB, contents kept: %d\n", vmlck(), a[10] == 0);
	SHOW(munlock(a, 16 * pg));
	printf("VmLck: %ld kB\n", vmlck());
	SHOW(syscall(SYS_mlock2, a, 2 * pg, 1 /* MLOCK_ONFAULT */));
	printf("VmLck: %ld kB\n", vmlck());
	SHOW(syscall(SYS_mlock2, a, pg, 2));
	SHOW(munlock(a, 2 * pg));
	CHECK(munmap(a + 8 * pg, pg) == 0);
	SHOW(mlock(a, 16 * pg));                /* ENOMEM: a hole */
	SHOW(munlock(a, 16 * pg));
	SHOW(mlock(a, 0));
	SHOW(mlockall(0));
	SHOW(mlockall(MCL_ONFAULT));
	SHOW(mlockall(MCL_FUTURE | 0x100));
	SHOW(mlockall(MCL_CURRENT));
	printf("some locked: %d\n", vmlck() > 0);
	SHOW(munlockall());
	printf("VmLck after munlockall: %ld kB\n", vmlck());

	/* Locked pages are not dropped or invalidated; a fork does not inherit the lock. */
	SHOW(mlock(a, 2 * pg));
	SHOW(madvise(a, pg, MADV_DONTNEED));
	SHOW(madvise(a + 2 * pg, pg, MADV_DONTNEED));
	SHOW(msync(a, pg, MS_INVALIDATE));
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		printf("child: VmLck %ld kB, MADV_DONTNEED %d\n", vmlck(), madvise(a, pg, MADV_DONTNEED));
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	SHOW(munlock(a, 2 * pg));
	SHOW(madvise(a, pg, MADV_DONTNEED));
	char *l = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	CHECK(l != MAP_FAILED);
	printf("MAP_LOCKED: VmLck %ld kB\n", vmlck());
	SHOW(madvise(l, pg, MADV_FREE));
	CHECK(munmap(l, 2 * pg) == 0);

	/* MADV_WIPEONFORK: a child sees zeros there, private anonymous memory only */
	a[0] = 7;
	a[pg] = 8;
	SHOW(madvise(a, pg, MADV_WIPEONFORK));
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	char *f = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED);
	SHOW(madvise(f, pg, MADV_WIPEONFORK));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		printf("child: wiped %d, kept %d\n", a[0], a[pg]);
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	SHOW(madvise(a, pg, MADV_KEEPONFORK));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		printf("child after MADV_KEEPONFORK: %d\n", a[0]);
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	printf("parent: %d %d\n", a[0], a[pg]);
	return 0;
}
