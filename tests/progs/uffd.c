/* uffd.c - userfaultfd: the API handshake and its errors; registering and its errors;
 * missing pages resolved by a handler thread with COPY, ZEROPAGE and MOVE, a WAKE that
 * resolves nothing (the access faults again), a partial COPY, MADV_DONTNEED and
 * MREMAP_DONTUNMAP making pages missing again; UFFD_FEATURE_SIGBUS and POISON; write
 * protection; minor faults on a memfd resolved by CONTINUE; a forked child without the
 * registrations; a fault waiting when the context is closed. */
// run: api
// run: missing
// run: signals
// run: wp
// run: minor
// run: fork
// run: close
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* <linux/userfaultfd.h>'s (musl's headers lack it, older ones lack MOVE and POISON) */
struct msg {
	uint8_t event, r1;
	uint16_t r2;
	uint32_t r3;
	uint64_t flags, address;
	uint32_t ptid, r4;
} __attribute__((packed));
struct api { uint64_t api, features, ioctls; };
struct range { uint64_t start, len; };
struct reg { struct range range; uint64_t mode, ioctls; };
struct copy { uint64_t dst, src, len, mode; int64_t result; };
struct ranged { struct range range; uint64_t mode; int64_t result; };
struct wprotect { struct range range; uint64_t mode; };
#define IO_API _IOWR(0xAA, 0x3F, struct api)
#define IO_REGISTER _IOWR(0xAA, 0x00, struct reg)
#define IO_UNREGISTER _IOR(0xAA, 0x01, struct range)
#define IO_WAKE _IOR(0xAA, 0x02, struct range)
#define IO_COPY _IOWR(0xAA, 0x03, struct copy)
#define IO_ZEROPAGE _IOWR(0xAA, 0x04, struct ranged)
#define IO_MOVE _IOWR(0xAA, 0x05, struct copy)
#define IO_WP _IOWR(0xAA, 0x06, struct wprotect)
#define IO_CONTINUE _IOWR(0xAA, 0x07, struct ranged)
#define IO_POISON _IOWR(0xAA, 0x08, struct ranged)
#define MODE_MISSING 1
#define MODE_WP 2
#define MODE_MINOR 4
#define F_WP (1u << 0)
#define F_SIGBUS (1u << 7)
#define F_THREAD_ID (1u << 8)
#define F_MINOR_SHMEM (1u << 10)
#define F_EXACT (1u << 11)
#define F_POISON (1u << 14)
#define F_MOVE (1u << 16)
#define PG 4096UL

static int uffd(int flags, uint64_t features)
{
	int fd = (int)syscall(SYS_userfaultfd, flags);
	CHECK(fd >= 0);
	struct api a = { 0xAA, features, 0 };
	CHECK(ioctl(fd, IO_API, &a) == 0);
	return fd;
}

static long do_register(int fd, void *p, uint64_t len, uint64_t mode, uint64_t *ioctls)
{
	struct reg r = { { (uint64_t)(uintptr_t)p, len }, mode, 0 };
	long rc = ioctl(fd, IO_REGISTER, &r);
	if (ioctls)
		*ioctls = r.ioctls;
	return rc;
}

static char *anon(int pages)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

/* The next message (waiting for it). */
static struct msg next_msg(int fd)
{
	struct pollfd pfd = { fd, POLLIN, 0 };
	CHECK(poll(&pfd, 1, 10000) == 1);
	struct msg m;
	CHECK(read(fd, &m, sizeof(m)) == sizeof(m));
	CHECK(m.event == 0x12);
	return m;
}

static void api(void)
{
	SHOW(syscall(SYS_userfaultfd, 0x80000));        /* (O_CLOEXEC with junk) */
	SHOW(syscall(SYS_userfaultfd, 0x40));
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	CHECK(fd >= 0);
	struct range r = { 0, PG };
	SHOW(ioctl(fd, IO_WAKE, &r));                   /* before the handshake */
	struct api a = { 0xAB, 0, 7 };
	SHOW(ioctl(fd, IO_API, &a));
	printf("after a bad api: %llx %llx %llx\n", (unsigned long long)a.api,
	       (unsigned long long)a.features, (unsigned long long)a.ioctls);
	a = (struct api){ 0xAA, 0, 0 };
	SHOW(ioctl(fd, IO_API, &a));
	uint64_t ours = F_WP | F_SIGBUS | F_THREAD_ID | F_MINOR_SHMEM | F_EXACT | F_POISON | F_MOVE;
	printf("api %llx, features %llx, ioctls %llx\n", (unsigned long long)a.api,
	       (unsigned long long)(a.features & ours), (unsigned long long)a.ioctls);
	SHOW(ioctl(fd, IO_API, &a));                    /* only once */
	SHOW(ioctl(fd, IO_API, (void *)16));

	char *p = anon(4);
	p[PG] = 1;                      /* a page written is not missing; one never touched is */
	uint64_t ioctls;
	SHOW(do_register(fd, p + 1, PG, MODE_MISSING, NULL));
	SHOW(do_register(fd, p, 0, MODE_MISSING, NULL));
	SHOW(do_register(fd, p, PG, 0, NULL));
	SHOW(do_register(fd, p, PG, 8, NULL));
	SHOW(do_register(fd, p, PG, MODE_MINOR, NULL)); /* (not asked for, and anonymous) */
	SHOW(do_register(fd, (void *)0x7fff00000000UL, PG, MODE_MISSING, NULL));
	SHOW(do_register(fd, p, 4 * PG, MODE_MISSING, &ioctls));
	printf("missing ioctls %llx\n", (unsigned long long)ioctls);
	SHOW(do_register(fd, p, 2 * PG, MODE_MISSING | MODE_WP, &ioctls));
	printf("missing+wp ioctls %llx\n", (unsigned long long)ioctls);
	int fd2 = uffd(0, 0);
	SHOW(do_register(fd2, p, PG, MODE_MISSING, NULL));     /* another's */
	int file = open("/proc/self/exe", O_RDONLY);
	void *f = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, file, 0);
	CHECK(f != MAP_FAILED);
	SHOW(do_register(fd2, f, PG, MODE_MISSING, NULL));     /* a file's */

	static char src[PG] __attribute__((aligned(4096))) = "copied";
	struct copy c = { (uint64_t)(uintptr_t)p, (uint64_t)(uintptr_t)src, 2 * PG, 0, 0 };
	SHOW(ioctl(fd, IO_COPY, &c));
	printf("copy result %lld, page 0 '%s'\n", (long long)c.result, p);
	c.result = 0;
	SHOW(ioctl(fd, IO_COPY, &c));
	printf("copy result %lld\n", (long long)c.result);
	c.mode = 8;
	SHOW(ioctl(fd, IO_COPY, &c));
	c = (struct copy){ (uint64_t)(uintptr_t)f, (uint64_t)(uintptr_t)src, PG, 0, 0 };
	SHOW(ioctl(fd, IO_COPY, &c));                   /* not registered */
	printf("copy result %lld\n", (long long)c.result);
	struct ranged z = { { (uint64_t)(uintptr_t)p + 3 * PG, PG }, 0, 0 };
	SHOW(ioctl(fd, IO_ZEROPAGE, &z));
	printf("zeropage result %lld, page 3 %d\n", (long long)z.result, p[3 * PG]);
	r = (struct range){ (uint64_t)(uintptr_t)p, 4 * PG };
	SHOW(ioctl(fd, IO_UNREGISTER, &r));
	printf("page 2 after unregistering: %d\n", p[2 * PG]);
	SHOW(ioctl(fd, 0xAA00 | 0x40, 0));             /* unknown */
	close(fd);
	close(fd2);
}

/* The handler thread of 'missing': each message answered as its page asks. */
static int hfd;
static char *hbase;
static int wakes_left;
static char *moved_from;

static void *handler(void *arg)
{
	(void)arg;
	static char src[PG] __attribute__((aligned(4096)));
	for (;;) {
		struct msg m = next_msg(hfd);
		long page = (long)((m.address - (uint64_t)(uintptr_t)hbase) / PG);
		printf("fault on page %ld, offset %llu, flags %llu, by main %d\n", page,
		       (unsigned long long)(m.address % PG), (unsigned long long)m.flags,
		       m.ptid == (uint32_t)getpid());
		fflush(stdout);
		uint64_t at = m.address & ~(PG - 1);
		if (page == 0) {
			memset(src, 'a', PG);
			struct copy c = { at, (uint64_t)(uintptr_t)src, PG, 0, 0 };
			CHECK(ioctl(hfd, IO_COPY, &c) == 0 && c.result == PG);
		} else if (page == 1) {
			struct ranged z = { { at, PG }, 0, 0 };
			CHECK(ioctl(hfd, IO_ZEROPAGE, &z) == 0);
		} else if (page == 2) {
			moved_from = anon(1);
			strcpy(moved_from, "moved");
			struct copy c = { at, (uint64_t)(uintptr_t)moved_from, PG, 0, 0 };
			CHECK(ioctl(hfd, IO_MOVE, &c) == 0 && c.result == PG);
		} else if (page == 3 && wakes_left) {
			wakes_left--;
			struct range r = { at, PG };
			CHECK(ioctl(hfd, IO_WAKE, &r) == 0);    /* not resolved: faults again */
		} else if (page == 3) {
			memset(src, 'd', PG);
			struct copy c = { at, (uint64_t)(uintptr_t)src, PG, 0, 0 };
			CHECK(ioctl(hfd, IO_COPY, &c) == 0);
		} else {
			struct ranged z = { { at, PG }, 0, 0 };
			CHECK(ioctl(hfd, IO_ZEROPAGE, &z) == 0);
			return NULL;
		}
	}
}

static void missing(void)
{
	hfd = uffd(O_CLOEXEC, F_THREAD_ID | F_EXACT | F_MOVE);
	hbase = anon(5);
	CHECK(do_register(hfd, hbase, 5 * PG, MODE_MISSING, NULL) == 0);
	wakes_left = 2;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, handler, NULL) == 0);
	printf("page 0 reads '%c'\n", ((volatile char *)hbase)[123]);
	((volatile char *)hbase)[PG + 5] = 'b';
	printf("page 1 reads '%c' '%d'\n", hbase[PG + 5], hbase[PG + 6]);
	char moved[8];
	memcpy(moved, hbase + 2 * PG, sizeof(moved));  /* (not in printf: it holds stdout's lock) */
	printf("page 2 reads '%s', its source %d\n", moved, moved_from[0]);
	printf("page 3 reads '%c'\n", ((volatile char *)hbase)[3 * PG + 7]);
	/* zapped, page 0 is missing again */
	CHECK(madvise(hbase, PG, MADV_DONTNEED) == 0);
	printf("page 0 reads '%c' again\n", ((volatile char *)hbase)[9]);
	/* moved away with MREMAP_DONTUNMAP, page 0 stays registered and missing */
	char *away = mremap(hbase, PG, PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP);
	CHECK(away != MAP_FAILED);
	printf("moved page reads '%c'\n", away[9]);
	printf("page 0 reads '%c' after the move\n", ((volatile char *)hbase)[10]);
	((volatile char *)hbase)[4 * PG] = 1;          /* the handler's last */
	pthread_join(t, NULL);
	close(hfd);
}

static sigjmp_buf jb;
static void on_bus(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("signal %d, code %d, at page offset %ld\n", sig, si->si_code,
	       (long)((char *)si->si_addr - hbase));
	siglongjmp(jb, 1);
}

static void signals(void)
{
	struct sigaction sa = { .sa_sigaction = on_bus, .sa_flags = SA_SIGINFO };
	sigaction(SIGBUS, &sa, NULL);
	int fd = uffd(O_NONBLOCK, F_SIGBUS | F_EXACT);  /* (poll of a blocking one: POLLERR) */
	hbase = anon(2);
	CHECK(do_register(fd, hbase, 2 * PG, MODE_MISSING, NULL) == 0);
	if (!sigsetjmp(jb, 1))
		printf("read %d\n", ((volatile char *)hbase)[PG + 3]);
	struct pollfd pfd = { fd, POLLIN, 0 };
	SHOW(poll(&pfd, 1, 0));                         /* no message */
	close(fd);
	fd = uffd(0, F_POISON);
	CHECK(do_register(fd, hbase, 2 * PG, MODE_MISSING, NULL) == 0);
	struct ranged z = { { (uint64_t)(uintptr_t)hbase, PG }, 0, 0 };
	SHOW(ioctl(fd, IO_POISON, &z));
	printf("poison result %lld\n", (long long)z.result);
	SHOW(ioctl(fd, IO_POISON, &z));                 /* not missing now */
	if (!sigsetjmp(jb, 1))
		printf("read %d\n", ((volatile char *)hbase)[5]);
	static char src[PG];
	struct copy c = { (uint64_t)(uintptr_t)hbase, (uint64_t)(uintptr_t)src, PG, 0, 0 };
	SHOW(ioctl(fd, IO_COPY, &c));                   /* poisoned is not missing */
	close(fd);
}

static int wfd;
static void *unprotect(void *arg)
{
	char *p = arg;
	struct msg m = next_msg(wfd);
	printf("fault at offset %llu, flags %llu, page still reads %d\n",
	       (unsigned long long)(m.address - (uint64_t)(uintptr_t)p), (unsigned long long)m.flags, p[0]);
	fflush(stdout);
	struct ranged w = { { m.address & ~(PG - 1), PG }, 0, 0 };
	CHECK(ioctl(wfd, IO_WP, &w) == 0);
	return NULL;
}

static void wp(void)
{
	wfd = uffd(0, F_WP);
	char *p = anon(3);
	memset(p, 7, 2 * PG);                           /* (page 2 never touched) */
	CHECK(do_register(wfd, p, 3 * PG, MODE_WP | MODE_MISSING, NULL) == 0);
	struct ranged w = { { (uint64_t)(uintptr_t)p, 3 * PG }, 1, 0 };
	SHOW(ioctl(wfd, IO_WP, &w));
	w.mode = 3;                                     /* WP with DONTWAKE */
	SHOW(ioctl(wfd, IO_WP, &w));
	printf("reads %d %d\n", p[0], p[PG]);          /* reading is allowed */
	pthread_t t;
	CHECK(pthread_create(&t, NULL, unprotect, p + PG) == 0);
	((volatile char *)p)[PG + 1] = 9;
	pthread_join(t, NULL);
	printf("wrote %d; page 1 reads %d\n", p[PG + 1], p[PG]);
	/* a page copied in write-protected */
	static char src[PG] = "src";
	struct copy c = { (uint64_t)(uintptr_t)p + 2 * PG, (uint64_t)(uintptr_t)src, PG, 2, 0 };
	SHOW(ioctl(wfd, IO_COPY, &c));
	CHECK(pthread_create(&t, NULL, unprotect, p + 2 * PG) == 0);
	((volatile char *)p)[2 * PG] = 'S';
	pthread_join(t, NULL);
	printf("page 2 reads '%s'\n", p + 2 * PG);
	close(wfd);
	/* The context gone, writes go through. */
	p[0] = 1;
	printf("page 0 writable again: %d\n", p[0]);
	int fd = uffd(0, 0);
	w = (struct ranged){ { (uint64_t)(uintptr_t)p, PG }, 1, 0 };
	SHOW(ioctl(fd, IO_WP, &w));                     /* not registered for WP */
	close(fd);
}

static void *continue_it(void *arg)
{
	char *p = arg;
	struct msg m = next_msg(wfd);
	printf("minor fault at offset %llu, flags %llu\n",
	       (unsigned long long)(m.address - (uint64_t)(uintptr_t)p), (unsigned long long)m.flags);
	fflush(stdout);
	struct ranged r = { { m.address & ~(PG - 1), PG }, 0, 0 };
	CHECK(ioctl(wfd, IO_CONTINUE, &r) == 0 && r.result == PG);
	return NULL;
}

static void minor(void)
{
	int mfd = memfd_create("minor", 0);
	CHECK(mfd >= 0 && ftruncate(mfd, 2 * PG) == 0);
	char *a = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	char *b = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	CHECK(a != MAP_FAILED && b != MAP_FAILED);
	strcpy(a, "in the page cache");
	wfd = uffd(0, F_MINOR_SHMEM);
	uint64_t ioctls;
	SHOW(do_register(wfd, b, 2 * PG, MODE_MINOR, &ioctls));
	printf("minor ioctls %llx\n", (unsigned long long)ioctls);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, continue_it, b) == 0);
	char seen[32];
	memcpy(seen, b, sizeof(seen));          /* (not in printf: it holds stdout's lock) */
	printf("b reads '%s'\n", seen);
	pthread_join(t, NULL);
	struct ranged r = { { (uint64_t)(uintptr_t)b, PG }, 0, 0 };
	SHOW(ioctl(wfd, IO_CONTINUE, &r));              /* mapped already */
	/* not in the page cache: no minor fault, a new page */
	b[PG] = 'x';
	printf("a sees '%c'\n", a[PG]);
	close(wfd);
}

static void forked(void)
{
	int fd = uffd(O_NONBLOCK, 0);
	char *p = anon(2);
	p[0] = 5;
	CHECK(do_register(fd, p, 2 * PG, MODE_MISSING, NULL) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child reads %d %d\n", p[0], ((volatile char *)p)[PG]);
		p[PG] = 3;
		printf("child wrote %d\n", p[PG]);
		struct pollfd pfd = { fd, POLLIN, 0 };
		printf("child's poll %d\n", poll(&pfd, 1, 0));
		fflush(stdout);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	printf("child status %d\n", st);
	struct pollfd pfd = { fd, POLLIN, 0 };
	SHOW(poll(&pfd, 1, 0));
	static char src[PG] = "parent";
	struct copy c = { (uint64_t)(uintptr_t)p + PG, (uint64_t)(uintptr_t)src, PG, 0, 0 };
	SHOW(ioctl(fd, IO_COPY, &c));                   /* still missing here */
	printf("parent reads '%s'\n", p + PG);
	close(fd);
}

static void *closer(void *arg)
{
	(void)arg;
	struct msg m = next_msg(wfd);
	printf("fault flags %llu; closing\n", (unsigned long long)m.flags);
	fflush(stdout);
	close(wfd);
	return NULL;
}

static void closing(void)
{
	wfd = uffd(0, 0);
	char *p = anon(1);
	CHECK(do_register(wfd, p, PG, MODE_MISSING, NULL) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, closer, NULL) == 0);
	printf("reads %d after the close\n", ((volatile char *)p)[0]);
	pthread_join(t, NULL);
	p[0] = 4;
	printf("writes %d\n", p[0]);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "api"))
		api();
	else if (!strcmp(what, "missing"))
		missing();
	else if (!strcmp(what, "signals"))
		signals();
	else if (!strcmp(what, "wp"))
		wp();
	else if (!strcmp(what, "minor"))
		minor();
	else if (!strcmp(what, "fork"))
		forked();
	else if (!strcmp(what, "close"))
		closing();
	else
		return 2;
	return 0;
}
