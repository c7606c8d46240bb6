/* aio.c - Linux AIO by its system calls (as LTP and libaio make them): io_setup,
 * io_submit of reads and writes (one buffer, vectors, a buffer over many pages), fsync,
 * poll of a pipe, an eventfd told of completions, io_getevents and io_pgetevents with
 * their events' data and iocbs, io_cancel, io_destroy; bad arguments; a forked child has
 * none of its parent's contexts, nor a program that execve runs. */
// run:
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/aio_abi.h>'s, which musl's headers lack */
struct iocb_ {
	uint64_t data;
	uint32_t key, rw_flags;
	uint16_t opcode;
	int16_t reqprio;
	uint32_t fildes;
	uint64_t buf, nbytes;
	int64_t offset;
	uint64_t reserved2;
	uint32_t flags, resfd;
};
struct event_ {
	uint64_t data, obj;
	int64_t res, res2;
};
enum { PREAD, PWRITE, FSYNC, FDSYNC, POLL = 5, NOOP, PREADV, PWRITEV };
#define FLAG_RESFD 1

static long setup(unsigned nr, uint64_t *ctx) { return syscall(SYS_io_setup, nr, ctx); }
static long submit(uint64_t ctx, long nr, struct iocb_ **v) { return syscall(SYS_io_submit, ctx, nr, v); }
static long getevents(uint64_t ctx, long min, long nr, struct event_ *ev, struct timespec *t)
{
	return syscall(SYS_io_getevents, ctx, min, nr, ev, t);
}

static struct iocb_ cb(int op, int fd, void *buf, uint64_t n, int64_t off, uint64_t data)
{
	return (struct iocb_){ .data = data, .opcode = op, .fildes = fd,
			       .buf = (uint64_t)(uintptr_t)buf, .nbytes = n, .offset = off };
}

/* Reap n events and print them in data order (completion order may vary). */
static void reap(uint64_t ctx, int n, struct iocb_ *base)
{
	struct event_ ev[16];
	int got = 0;
	while (got < n) {
		long rc = getevents(ctx, 1, n - got, ev + got, NULL);
		CHECK(rc > 0);
		got += (int)rc;
	}
	for (uint64_t want = 0; want < 64; want++)
		for (int i = 0; i < n; i++)
			if (ev[i].data == want)
				printf("event %lu: iocb %ld, res %ld, res2 %ld\n", (unsigned long)want,
				       (long)((struct iocb_ *)(uintptr_t)ev[i].obj - base), (long)ev[i].res,
				       (long)ev[i].res2);
}

static void io(uint64_t ctx)
{
	int fd = open("data", O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	int efd = eventfd(0, EFD_CLOEXEC);
	CHECK(efd >= 0);
	long pg = sysconf(_SC_PAGESIZE);
	size_t big = 256 * (size_t)pg;
	char *out = malloc(big), *in = malloc(big);
	CHECK(out && in);
	for (size_t i = 0; i < big; i++)
		out[i] = (char)(i * 7 + i / 4096);
	char hello[] = "hello, aio", a[6] = "", b[6] = "";
	struct iovec v[2] = { { a, 5 }, { b, 5 } };
	struct iocb_ c[8];
	c[0] = cb(PWRITE, fd, hello, 10, 0, 0);
	c[1] = cb(PWRITE, fd, out, big, pg, 1);
	c[1].flags = FLAG_RESFD;
	c[1].resfd = efd;
	struct iocb_ *list[8] = { &c[0], &c[1] };
	SHOW(submit(ctx, 2, list));
	reap(ctx, 2, c);
	uint64_t count = 0;
	SHOW(read(efd, &count, sizeof(count)));
	printf("eventfd: %lu\n", (unsigned long)count);

	c[2] = cb(FSYNC, fd, NULL, 0, 0, 2);
	c[3] = cb(PREADV, fd, v, 2, 0, 3);
	c[4] = cb(PREAD, fd, in, big, pg, 4);
	c[5] = cb(PREAD, fd, in, 16, 1 << 30, 5);               /* past the end: 0 */
	list[0] = &c[2];
	list[1] = &c[3];
	list[2] = &c[4];
	list[3] = &c[5];
	SHOW(submit(ctx, 4, list));
	reap(ctx, 4, c);
	printf("preadv: %s|%s, big read same %d\n", a, b, !memcmp(in, out, big));

	/* A buffer that ends in unmapped memory: the read stops there. */
	char *edge = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(edge != MAP_FAILED && munmap(edge + pg, pg) == 0);
	c[6] = cb(PREAD, fd, edge + pg - 8, 64, pg, 6);
	list[0] = &c[6];
	SHOW(submit(ctx, 1, list));
	reap(ctx, 1, c);
	printf("edge: same %d\n", !memcmp(edge + pg - 8, out, 8));

	/* poll of an empty pipe completes once it is written to. */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	c[7] = cb(POLL, pfd[0], (void *)(uintptr_t)POLLIN, 0, 0, 7);
	list[0] = &c[7];
	SHOW(submit(ctx, 1, list));
	struct timespec zero = { 0, 0 };
	struct event_ ev[4];
	SHOW(getevents(ctx, 0, 4, ev, &zero));
	CHECK(write(pfd[1], "x", 1) == 1);
	reap(ctx, 1, c);

	/* A poll cancelled: its event says so. */
	char x;
	CHECK(read(pfd[0], &x, 1) == 1);
	SHOW(submit(ctx, 1, list));
	SHOW(syscall(SYS_io_cancel, ctx, &c[7], ev));
	reap(ctx, 1, c);
	SHOW(syscall(SYS_io_cancel, ctx, &c[7], ev));               /* done: EINVAL */
	SHOW(syscall(SYS_io_cancel, ctx, (void *)1, ev));

	/* io_pgetevents with a mask, and a timeout */
	struct timespec ms = { 0, 1000000 };
	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR1);
	struct { void *mask; size_t size; } sig = { &mask, 8 };
	SHOW(syscall(SYS_io_pgetevents, ctx, 1, 4, ev, &ms, &sig));
	sig.size = 3;
	SHOW(syscall(SYS_io_pgetevents, ctx, 1, 4, ev, &ms, &sig));
	SHOW(syscall(SYS_io_pgetevents, ctx, 1, 4, ev, &ms, (void *)1));
	close(pfd[0]);
	close(pfd[1]);
	close(efd);
	close(fd);
	free(in);
	free(out);
}

static void errors(uint64_t ctx)
{
	uint64_t other = 1;
	SHOW(setup(1, NULL));
	SHOW(setup(1, &other));                                      /* not 0: EINVAL */
	other = 0;
	SHOW(setup(0, &other));
	SHOW(setup(-1, &other));
	int fd = open("data", O_RDONLY);
	CHECK(fd >= 0);
	char buf[8];
	struct iocb_ c = cb(PREAD, fd, buf, 8, 0, 9), bad = cb(PREAD, 9999, buf, 8, 0, 9);
	struct iocb_ *list[2] = { &c, &bad };
	SHOW(submit(ctx, -1, list));
	SHOW(submit(ctx + 1, 1, list));
	SHOW(submit(ctx, 1, (void *)1));
	struct iocb_ *badlist[1] = { (void *)1 };
	SHOW(submit(ctx, 1, badlist));
	SHOW(submit(ctx, 2, list));                                  /* 1: the second fails */
	SHOW(submit(ctx, 1, &list[1]));                              /* EBADF */
	bad = cb(99, fd, buf, 8, 0, 9);
	SHOW(submit(ctx, 1, &list[1]));                              /* EINVAL */
	bad = cb(PREADV, fd, (void *)1, 2, 0, 9);
	SHOW(submit(ctx, 1, &list[1]));                              /* EFAULT */
	bad = cb(PWRITE, fd, buf, 8, 0, 9);
	bad.reserved2 = 1;
	SHOW(submit(ctx, 1, &list[1]));
	struct event_ ev[2];
	SHOW(getevents(ctx, 1, 2, ev, NULL));
	SHOW(getevents(ctx, 2, 1, ev, NULL));
	SHOW(getevents(ctx, -1, 1, ev, NULL));
	SHOW(getevents(ctx + 1, 1, 1, ev, NULL));
	SHOW(getevents(ctx, 1, 1, ev, (void *)1));
	SHOW(syscall(SYS_io_destroy, ctx + 1));
	close(fd);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3) {
		/* Run by execve: the old program's contexts are gone. */
		uint64_t old = strtoull(argv[2], NULL, 0);
		SHOW(getevents(old, 0, 0, NULL, NULL));
		SHOW(syscall(SYS_io_destroy, old));
		return 0;
	}
	uint64_t ctx = 0;
	long rc = setup(16, &ctx);
	if (rc < 0) {
		printf("io_setup: %s\n", strerror(errno));
		return 0;
	}
	io(ctx);
	errors(ctx);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct event_ ev[1];
		struct timespec zero = { 0, 0 };
		SHOW(getevents(ctx, 0, 1, ev, &zero));
		SHOW(syscall(SYS_io_destroy, ctx));
		/* (the parent's ring page is still mapped in the child) */
		SHOW(mmap((void *)(uintptr_t)ctx, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == MAP_FAILED ? -1 : 0);
		uint64_t mine = 0;
		SHOW(setup(4, &mine));
		SHOW(syscall(SYS_io_destroy, mine));
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	/* A child that keeps a context busy and then runs execve. */
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uint64_t mine = 0;
		CHECK(setup(4, &mine) == 0);
		int pfd[2];
		CHECK(pipe(pfd) == 0);
		struct iocb_ c = cb(POLL, pfd[0], (void *)(uintptr_t)POLLIN, 0, 0, 1), *one = &c;
		CHECK(submit(mine, 1, &one) == 1);
		char arg[32];
		snprintf(arg, sizeof(arg), "%#lx", (unsigned long)mine);
		execl("/proc/self/exe", argv[0], "after-exec", arg, (char *)NULL);
		_exit(98);
	}
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
	printf("exec'd child: %d\n", WEXITSTATUS(status));
	SHOW(syscall(SYS_io_destroy, ctx));
	SHOW(syscall(SYS_io_destroy, ctx));
	return 0;
}
