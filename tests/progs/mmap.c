/* mmap, munmap, mprotect and mremap patterns, file mappings included; mapping one file
 * until the process has its most mappings (ENOMEM, and then everything still works);
 * mseal: what it forbids, in the process and in a forked child; remap_file_pages;
 * the flags MAP_SHARED_VALIDATE refuses, and MAP_SYNC; MAP_DROPPABLE memory (a fork's
 * child gets it zeroed, MADV_DONTNEED zeroes it, no file or lock may go with it);
 * memfd_secret memory (shared only, what a fork's child and system calls see of it,
 * SIGBUS past the end of its file); protection keys on a CPU without them. */
// run:
// run: secret
// run: validate
// run: droppable
// run-once: many-files
// run: seal
// run: remap
// run: pkeys
#include "common.h"
#include <cpuid.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define MB (1u << 20)

static void many_files(void)
{
	int fd = memfd_create("many", 0);
	CHECK(fd >= 0 && ftruncate(fd, 4096) == 0);
	static void *maps[1 << 17];
	size_t n = 0;
	void *m;
	while (n < sizeof(maps) / sizeof(maps[0]) &&
	       (m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)) != MAP_FAILED)
		*(volatile char *)(maps[n++] = m) = 1;
	printf("stopped by ENOMEM: %d, after more than 10000: %d\n", errno == ENOMEM, n > 10000);
	for (size_t i = 0; i < n; i++)
		CHECK(munmap(maps[i], 4096) == 0);
	char *again = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(again != MAP_FAILED);
	printf("mapped again, reads %d\n", again[0]);
}

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

/* Three pages, the middle one sealed; each forbidden change is EPERM and changes nothing. */
static void seal(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED && munmap(a + 3 * pg, pg) == 0);
	memset(a, 7, 3 * pg);
	SHOW(syscall(SYS_mseal, a, pg, 1));                 /* EINVAL: flags */
	SHOW(syscall(SYS_mseal, a + 1, pg, 0));             /* EINVAL: alignment */
	SHOW(syscall(SYS_mseal, a, -pg, 0));                /* EINVAL: wraps */
	SHOW(syscall(SYS_mseal, a + 2 * pg, 2 * pg, 0));    /* ENOMEM: not mapped */
	SHOW(syscall(SYS_mseal, a, 0, 0));
	SHOW(syscall(SYS_mseal, a + pg, pg, 0));
	SHOW(syscall(SYS_mseal, a + pg, pg, 0));            /* again: no change */
	SHOW(munmap(a, 3 * pg));
	SHOW(mprotect(a, 3 * pg, PROT_READ));
	SHOW(mprotect(a + pg, 1, PROT_READ | PROT_WRITE));
	SHOW(mremap(a + pg, pg, 2 * pg, MREMAP_MAYMOVE) == MAP_FAILED ? -1 : 0);
	SHOW(mremap(a, pg, pg, MREMAP_MAYMOVE | MREMAP_FIXED, a + pg) == MAP_FAILED ? -1 : 0);
	SHOW(mmap(a + pg, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED ? -1 : 0);
	SHOW(madvise(a + pg, pg, MADV_DONTNEED));           /* writable: allowed */
	printf("sealed page after DONTNEED: %d\n", a[pg]);
	a[pg] = 9;
	/* Neighbours are not sealed. */
	SHOW(mprotect(a, pg, PROT_READ));
	SHOW(munmap(a + 2 * pg, pg));
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		SHOW(munmap(a + pg, pg));
		a[pg] = 3;
		fflush(stdout);
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	printf("parent's page: %d\n", a[pg]);

	/* Read-only private memory, sealed: its contents may not be dropped. */
	char *r = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	r[0] = 5;
	CHECK(mprotect(r, pg, PROT_READ) == 0);
	SHOW(syscall(SYS_mseal, r, pg, 0));
	SHOW(madvise(r, pg, MADV_DONTNEED));
	SHOW(madvise(r, pg, MADV_WILLNEED));
	printf("read-only sealed page: %d\n", r[0]);
}

/* A shared mapping of a four-page file whose first page is made to show the file's last:
 * reads and writes go to that page of the file, and /proc/self/maps shows its offset. */
static void remap(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("pages", O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	for (char c = 'a'; c < 'e'; c++) {
		char page[4096];
		memset(page, c, sizeof(page));
		CHECK(write(fd, page, sizeof(page)) == (ssize_t)sizeof(page));
	}
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	SHOW(remap_file_pages(m, pg, PROT_READ, 3, 0));             /* prot must be 0 */
	SHOW(remap_file_pages(m, 5 * pg, 0, 0, 0));                 /* past the mapping */
	SHOW(remap_file_pages(m, pg, 0, 3, 0));
	printf("pages: %c %c %c %c\n", m[0], m[pg], m[2 * pg], m[3 * pg]);
	m[1] = 'X';
	char c;
	CHECK(pread(fd, &c, 1, 3 * pg + 1) == 1);
	printf("written to the file's last page: %c\n", c);
	char line[256];
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, off;
		if (sscanf(line, "%lx-%*x %*s %lx", &lo, &off) == 2 && lo == (unsigned long)m)
			printf("maps: offset %#lx\n", off);
	}
	fclose(f);
	char *priv = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(priv != MAP_FAILED);
	SHOW(remap_file_pages(priv, pg, 0, 1, 0));                  /* not shared */
	SHOW(remap_file_pages((void *)4096, pg, 0, 1, 0));          /* nothing there */
	CHECK(munmap(m, 4 * pg) == 0 && munmap(priv, pg) == 0 && close(fd) == 0);
}

#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif

/* One page mapped with 'flags' (then unmapped): "ok" or the error. */
static void try_map(const char *what, int prot, int flags, int fd)
{
	void *m = mmap(NULL, 4096, prot, flags, fd, 0);
	printf("%s: %s\n", what, m == MAP_FAILED ? strerror(errno) : "ok");
	if (m != MAP_FAILED)
		CHECK(munmap(m, 4096) == 0);
}

static void validate(void)
{
	int fd = open("file", O_CREAT | O_RDWR | O_TRUNC, 0600);
	int ro = open("file", O_RDONLY);
	int zero = open("/dev/zero", O_RDWR);
	CHECK(fd >= 0 && ro >= 0 && zero >= 0 && ftruncate(fd, 4096) == 0);
	try_map("validate", PROT_READ, MAP_SHARED_VALIDATE, fd);
	try_map("validate anonymous", PROT_READ, MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1);
	try_map("validate, sync", PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, fd);
	try_map("validate, sync, writable read-only", PROT_WRITE, MAP_SHARED_VALIDATE | MAP_SYNC, ro);
	try_map("shared, sync", PROT_READ, MAP_SHARED | MAP_SYNC, fd);
	try_map("private, sync", PROT_READ, MAP_PRIVATE | MAP_SYNC, fd);
	try_map("validate /dev/zero, sync", PROT_READ, MAP_SHARED_VALIDATE | MAP_SYNC, zero);
	try_map("validate, populate, locked", PROT_READ,
		MAP_SHARED_VALIDATE | MAP_POPULATE | MAP_LOCKED | MAP_NORESERVE, fd);
	try_map("validate, fixed-noreplace", PROT_READ, MAP_SHARED_VALIDATE | MAP_FIXED_NOREPLACE, fd);
	for (int bit = 9; bit < 32; bit++)
		if (bit != 19 && bit != 20 && (1u << bit) != MAP_HUGETLB) {
			char what[32];
			snprintf(what, sizeof(what), "validate, bit %d", bit);
			try_map(what, PROT_READ, MAP_SHARED_VALIDATE | (int)(1u << bit), fd);
		}
}

#ifndef MAP_DROPPABLE
#define MAP_DROPPABLE 0x08      /* (Linux 6.11, newer than some headers) */
#endif

static void droppable(void)
{
	char *d = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_DROPPABLE, -1, 0);
	if (d == MAP_FAILED) {
		printf("no MAP_DROPPABLE: %s\n", strerror(errno));
		return;
	}
	memset(d, 'A', MB);
	printf("written: %c %c\n", d[0], d[MB - 1]);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(d[0] == 0 && d[MB - 1] == 0 ? 0 : 1);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("the child saw zeros: %s; the parent still %c\n", WEXITSTATUS(st) ? "no" : "yes", d[0]);
	SHOW(madvise(d, 4096, MADV_DONTNEED));
	printf("after MADV_DONTNEED: %d %c\n", d[0], d[4096]);
	SHOW(mprotect(d, 4096, PROT_READ));
	SHOW(munmap(d, MB));
	int fd = open("/proc/self/exe", O_RDONLY);
	CHECK(fd >= 0);
	SHOW(mmap(NULL, 4096, PROT_READ, MAP_DROPPABLE, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	SHOW(mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS | MAP_DROPPABLE | MAP_LOCKED, -1, 0) == MAP_FAILED ? -1 : 0);
	SHOW(mmap(NULL, 4096, PROT_READ, MAP_ANONYMOUS | MAP_DROPPABLE | MAP_GROWSDOWN, -1, 0) == MAP_FAILED ? -1 : 0);
}

static void secret(void)
{
	int fd = (int)syscall(447, 0);  /* memfd_secret (newer than some headers) */
	if (fd < 0) {
		printf("no memfd_secret: %s\n", strerror(errno));
		return;
	}
	CHECK(ftruncate(fd, 8192) == 0);
	SHOW(mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0) == MAP_FAILED ? -1 : 0);
	char *m = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	strcpy(m, "secret");
	strcpy(m + 4096, "second page");
	/* system calls read and write it (copy_from_user and copy_to_user reach it) */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	SHOW(write(pfd[1], m, 6));
	char buf[16] = { 0 };
	SHOW(read(pfd[0], buf, 6));
	printf("read back: %s\n", buf);
	SHOW(write(pfd[1], "xyz", 3));
	SHOW(read(pfd[0], m + 100, 3));
	printf("in it: %s\n", m + 100);
	SHOW(read(fd, buf, 4));         /* (no read or write of the file itself) */
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int saw = !strcmp(m, "secret");
		strcpy(m, "child");
		_exit(saw ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("the child saw it: %s; the parent now sees %s and %s\n", WEXITSTATUS(st) ? "no" : "yes",
	       m, m + 4096);
	fflush(stdout);
	m[2 * 4096] = 1;                /* past the end of the file */
	printf("not reached\n");
}

/* What the protection-key calls say where the CPU has none (no PKU in CPUID, so no
 * OSPKE either): kvmse's guest never has them on. */
static void pkeys(void)
{
	unsigned a, b, c, d;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 3))) {
		printf("this CPU has protection keys: not compared\n");
		return;
	}
	char *m = mmap(NULL, 2 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	SHOW(syscall(SYS_pkey_alloc, 0, 0));
	SHOW(syscall(SYS_pkey_alloc, 1, 0));
	SHOW(syscall(SYS_pkey_alloc, 0, 4));
	SHOW(syscall(SYS_pkey_free, 0));
	SHOW(syscall(SYS_pkey_free, 1));
	SHOW(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, 1));
	SHOW(syscall(SYS_pkey_mprotect, m + 1, 4096, PROT_READ, 1));
	SHOW(syscall(SYS_pkey_mprotect, m, 0, PROT_READ, 1));
	SHOW(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ | 0x100, 1));
	SHOW(syscall(SYS_pkey_mprotect, m, 4096, PROT_READ, -1));
	/* read-only now: a read into it fails */
	int fd = open("/dev/zero", O_RDONLY);
	CHECK(fd >= 0);
	SHOW(read(fd, m, 16));
	close(fd);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "secret")) {
		secret();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "droppable")) {
		droppable();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "validate")) {
		validate();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "remap")) {
		remap();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "pkeys")) {
		pkeys();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "seal")) {
		seal();
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "many-files")) {
		many_files();
		return 0;
	}
	long pg = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 8 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED);
	for (unsigned i = 0; i < 8 * MB; i += 512)
		CHECK(a[i] == 0);
	memset(a, 0x5a, 8 * MB);
	/* Punch a hole, then fill it with MAP_FIXED: the new pages are zero. */
	CHECK(munmap(a + MB, MB) == 0);
	char *b = mmap(a + MB, MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(b == a + MB);
	CHECK(b[0] == 0 && b[MB - 1] == 0 && a[MB - 1] == 0x5a && a[2 * MB] == 0x5a);
	/* MAP_FIXED over live data replaces it. */
	char *c = mmap(a + 3 * MB, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(c == a + 3 * MB && c[0] == 0 && c[2 * pg] == 0x5a);
	/* mprotect down and up keeps contents. */
	CHECK(mprotect(a, 4 * MB, PROT_READ) == 0);
	CHECK(a[5] == 0x5a);
	CHECK(mprotect(a, 4 * MB, PROT_NONE) == 0);
	CHECK(mprotect(a, 4 * MB, PROT_READ | PROT_WRITE) == 0);
	a[5] = 1;
	CHECK(a[6] == 0x5a);
	/* mremap: grow in place or move; contents follow. */
	char *d = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 4 * pg; i++)
		d[i] = (char)(i % 251);
	char *e = mremap(d, 4 * pg, 64 * pg, MREMAP_MAYMOVE);
	CHECK(e != MAP_FAILED);
	for (int i = 0; i < 4 * pg; i++)
		CHECK(e[i] == (char)(i % 251));
	CHECK(e[63 * pg] == 0);
	char *f = mremap(e, 64 * pg, 2 * pg, 0);
	CHECK(f == e && f[pg + 3] == (char)((pg + 3) % 251));
	/* Moving to a fixed place. */
	char *g = mmap(NULL, 16 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *h = mremap(f, 2 * pg, 2 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, g + 4 * pg);
	CHECK(h == g + 4 * pg && h[7] == 7);
	/* Errors as Linux gives them. */
	SHOW(munmap(a + 1, pg));
	SHOW(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) == MAP_FAILED);
	SHOW(mprotect(a + 1, pg, PROT_READ));
	SHOW(mremap(a, pg, 2 * pg, MREMAP_FIXED, a + 100 * MB) == MAP_FAILED);
	SHOW(madvise(a, pg, 12345));
	/* MADV_DONTNEED zeroes private anonymous pages. */
	a[3 * pg] = 9;
	CHECK(madvise(a + 3 * pg, pg, MADV_DONTNEED) == 0);
	CHECK(a[3 * pg] == 0);
	/* A private file mapping shows the file. */
	int fd = open("mapped.txt", O_RDWR | O_CREAT | O_TRUNC, 0644);
	CHECK(fd >= 0);
	CHECK(write(fd, "file contents here\n", 19) == 19);
	char *m = mmap(NULL, 19, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(m != MAP_FAILED);
	printf("mapped: %.19s", m);
	CHECK(m[19] == 0 && m[pg - 1] == 0);
	char *w = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	w[0] = 'F';
	CHECK(m[0] == 'f');
	CHECK(munmap(m, 19) == 0 && munmap(w, pg) == 0);
	close(fd);
	CHECK(munmap(a, 8 * MB) == 0);
	/* Many small maps and unmaps. */
	for (int i = 0; i < 2000; i++) {
		char *p = mmap(NULL, (size_t)(i % 7 + 1) * pg, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED && p[0] == 0);
		p[0] = 1;
		CHECK(munmap(p, (size_t)(i % 7 + 1) * pg) == 0);
	}
	puts("mmap ok");
	return 0;
}
