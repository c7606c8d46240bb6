/* io_uring: a ring mapped as liburing maps it; writes, reads (plain, vectored, into a
 * registered buffer), a read that completes later, a no-op, fsync, poll and its cancel,
 * a timeout, sendmsg and recvmsg with a name; files by path (mkdir, open, statx,
 * link, rename, unlink) and a splice; connect, accept, send, recv, shutdown; a wait a
 * signal ends; a probe; bad descriptors, addresses and sizes. Each submission is waited for, so completions come in a known order. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>

/* (the parts of <linux/io_uring.h> used here: musl's headers lack it) */
struct sqe {
	uint8_t opcode, flags;
	uint16_t ioprio;
	int32_t fd;
	uint64_t off, addr;
	uint32_t len, op_flags;
	uint64_t user_data;
	uint16_t buf_index, personality;
	int32_t splice_fd_in;
	uint64_t addr3, pad;
};
struct cqe {
	uint64_t user_data;
	int32_t res;
	uint32_t flags;
};
struct params {
	uint32_t sq_entries, cq_entries, flags, sq_thread_cpu, sq_thread_idle, features, wq_fd, resv[3];
	struct { uint32_t head, tail, ring_mask, ring_entries, flags, dropped, array, resv1; uint64_t resv2; } sq;
	struct { uint32_t head, tail, ring_mask, ring_entries, overflow, cqes, flags, resv1; uint64_t resv2; } cq;
};
enum { NOP, READV, WRITEV, FSYNC, READ_FIXED, WRITE_FIXED, POLL_ADD, POLL_REMOVE, SYNC_RANGE,
       SENDMSG, RECVMSG, TIMEOUT, TIMEOUT_REMOVE, ACCEPT, CANCEL, LINK_TIMEOUT, CONNECT,
       FALLOCATE, OPENAT, CLOSE, FILES_UPDATE, STATX, READ, WRITE, FADVISE, MADVISE, SEND,
       RECV, OPENAT2, EPOLL_CTL, SPLICE, PROVIDE_BUFFERS, REMOVE_BUFFERS, TEE, SHUTDOWN,
       RENAMEAT, UNLINKAT, MKDIRAT, SYMLINKAT, LINKAT };
#define GETEVENTS 1
/* (a call that must fail with EBADF: said only if it does not) */
#define SHOW_IF_NOT_EBADF(e) do { long r_ = (long)(e); if (r_ != -1 || errno != EBADF) show(#e, r_); } while (0)

static int ring;
static struct params par;
static uint8_t *sq, *cq;
static struct sqe *sqes;

static long enter(unsigned submit, unsigned wait, unsigned flags)
{
	return syscall(SYS_io_uring_enter, ring, submit, wait, flags, NULL, 0);
}

/* Queue one entry (the caller fills it). */
static struct sqe *next(uint8_t op, int fd, uint64_t addr, uint32_t len, uint64_t off, uint64_t data)
{
	uint32_t *tail = (uint32_t *)(sq + par.sq.tail), mask = *(uint32_t *)(sq + par.sq.ring_mask);
	uint32_t i = *tail & mask;
	struct sqe *e = &sqes[i];
	memset(e, 0, sizeof(*e));
	*e = (struct sqe){ .opcode = op, .fd = fd, .addr = addr, .len = len, .off = off, .user_data = data };
	((uint32_t *)(sq + par.sq.array))[i] = i;
	__atomic_store_n(tail, *tail + 1, __ATOMIC_RELEASE);
	return e;
}

/* Take the next completion: prints it. */
static void reap(void)
{
	uint32_t *head = (uint32_t *)(cq + par.cq.head), *tail = (uint32_t *)(cq + par.cq.tail);
	uint32_t mask = *(uint32_t *)(cq + par.cq.ring_mask);
	if (*head == __atomic_load_n(tail, __ATOMIC_ACQUIRE))
		CHECK(enter(0, 1, GETEVENTS) >= 0);
	struct cqe *c = (struct cqe *)(cq + par.cq.cqes) + (*head & mask);
	printf("completion %llu: %d%s\n", (unsigned long long)c->user_data, c->res,
	       c->res < 0 ? strerror(-c->res) : "");
	__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
}

static void run(void)
{
	printf("submitted: %ld\n", enter(1, 1, GETEVENTS));
	reap();
}

static void file_io(void)
{
	char path[] = "/tmp/kvmse-uring-XXXXXX";
	int fd = mkstemp(path);
	CHECK(fd >= 0);
	unlink(path);
	static char out[8192], in[8192];
	for (int i = 0; i < 8192; i++)
		out[i] = (char)('a' + i % 26);
	next(WRITE, fd, (uintptr_t)out, 8192, 0, 1);
	run();
	next(FSYNC, fd, 0, 0, 0, 2);
	run();
	char a[100], b[200];
	struct iovec v[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	next(READV, fd, (uintptr_t)v, 2, 10, 3);
	run();
	printf("read: %.5s %.5s\n", a, b + 195);
	struct iovec reg = { in, sizeof(in) };
	SHOW(syscall(SYS_io_uring_register, ring, 0 /* BUFFERS */, &reg, 1));
	SHOW(syscall(SYS_io_uring_register, ring, 0, &reg, 1));
	next(READ_FIXED, fd, (uintptr_t)(in + 4096), 4096, 4096, 4);
	run();
	printf("fixed: %.3s %d\n", in + 4096, memcmp(in + 4096, out + 4096, 4096) == 0);
	next(READ_FIXED, fd, (uintptr_t)(in + 8000), 4096, 0, 5);     /* past the buffer */
	run();
	SHOW(syscall(SYS_io_uring_register, ring, 1 /* UNREGISTER_BUFFERS */, NULL, 0));
	SHOW(syscall(SYS_io_uring_register, ring, 1, NULL, 0));
	next(READ, fd, 0x1000, 16, 0, 6);                               /* a bad address */
	run();
	next(READ, 9999, (uintptr_t)in, 16, 0, 7);                      /* a bad descriptor */
	run();
	close(fd);
}

static void pipes(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	char buf[16] = { 0 };
	/* a read that waits for data */
	next(READ, p[0], (uintptr_t)buf, sizeof(buf), 0, 10);
	printf("submitted: %ld\n", enter(1, 0, 0));
	CHECK(write(p[1], "later", 5) == 5);
	reap();
	printf("read later: %s\n", buf);
	next(NOP, -1, 0, 0, 0, 11);
	run();
	/* a poll, cancelled */
	next(POLL_ADD, p[0], 0, 0, 0, 12)->op_flags = POLLIN;
	printf("submitted: %ld\n", enter(1, 0, 0));
	next(CANCEL, -1, 12, 0, 0, 13);
	printf("submitted: %ld\n", enter(1, 2, GETEVENTS));
	reap();
	reap();
	/* a poll that fires */
	next(POLL_ADD, p[0], 0, 0, 0, 14)->op_flags = POLLIN;
	printf("submitted: %ld\n", enter(1, 0, 0));
	CHECK(write(p[1], "x", 1) == 1);
	reap();
	struct { int64_t sec, nsec; } ts = { 0, 20000000 };
	next(TIMEOUT, -1, (uintptr_t)&ts, 1, 0, 15);
	run();
	close(p[0]);
	close(p[1]);
}

/* A socket of 'type' bound to a name in a new directory 'dir'. */
static int bound(int type, char *dir, struct sockaddr_un *addr)
{
	CHECK(mkdtemp(dir));
	*addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(addr->sun_path, sizeof(addr->sun_path), "%s/s", dir);
	int s = socket(AF_UNIX, type, 0);
	CHECK(s >= 0 && bind(s, (struct sockaddr *)addr, sizeof(*addr)) == 0);
	return s;
}

static void messages(void)
{
	char dir[] = "/tmp/kvmse-uring-XXXXXX";
	struct sockaddr_un to, from;
	int rx = bound(SOCK_DGRAM, dir, &to), tx = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK(tx >= 0);
	char data[] = "hello ring", got[32] = { 0 };
	struct iovec v = { data, sizeof(data) }, w = { got, sizeof(got) };
	struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to), .msg_iov = &v, .msg_iovlen = 1 };
	next(SENDMSG, tx, (uintptr_t)&m, 1, 0, 20);
	run();
	struct msghdr r = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &w, .msg_iovlen = 1 };
	next(RECVMSG, rx, (uintptr_t)&r, 1, 0, 21);
	run();
	printf("received: %s, name length %d, flags %d\n", got, r.msg_namelen > 0, r.msg_flags);
	unlink(to.sun_path);
	rmdir(dir);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A wait with nothing to come ends with a signal. */
static void interrupted(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval t = { .it_value = { 0, 50000 } };
	CHECK(setitimer(ITIMER_REAL, &t, NULL) == 0);
	SHOW(enter(0, 1, GETEVENTS));
}

/* Files by path: mkdir, open, statx, rename, link, unlink; a splice out of a pipe. */
static void paths(void)
{
	char dir[] = "/tmp/kvmse-uring-XXXXXX", a[64], b[64];
	CHECK(mkdtemp(dir));
	snprintf(a, sizeof(a), "%s/sub", dir);
	next(MKDIRAT, AT_FDCWD, (uintptr_t)a, 0700, 0, 30);
	run();
	snprintf(a, sizeof(a), "%s/sub/f", dir);
	next(OPENAT, AT_FDCWD, (uintptr_t)a, 0600, 0, 31)->op_flags = O_CREAT | O_RDWR;
	printf("submitted: %ld\n", enter(1, 1, GETEVENTS));
	uint32_t *head = (uint32_t *)(cq + par.cq.head), mask = *(uint32_t *)(cq + par.cq.ring_mask);
	int fd = ((struct cqe *)(cq + par.cq.cqes))[*head & mask].res;
	printf("opened: %d\n", fd >= 0);
	reap();
	int p[2];
	CHECK(pipe(p) == 0 && write(p[1], "spliced", 7) == 7);
	struct sqe *e = next(SPLICE, fd, 0, 7, 0, 32);
	e->splice_fd_in = p[0];
	e->addr = (uint64_t)-1;         /* splice_off_in: none (a pipe) */
	run();
	struct statx { uint32_t mask, blksize; uint64_t attributes; uint32_t nlink, uid, gid;
		       uint16_t mode, pad; uint64_t ino, size; uint8_t rest[256 - 40]; } st = { 0 };
	e = next(STATX, AT_FDCWD, (uintptr_t)a, 0x7ff /* STATX_BASIC_STATS */, (uintptr_t)&st, 33);
	run();
	printf("statx: size %llu mode %o links %u\n", (unsigned long long)st.size, st.mode & 0777, st.nlink);
	snprintf(b, sizeof(b), "%s/sub/g", dir);
	next(LINKAT, AT_FDCWD, (uintptr_t)a, AT_FDCWD, (uintptr_t)b, 34);
	run();
	snprintf(b, sizeof(b), "%s/sub/h", dir);
	next(RENAMEAT, AT_FDCWD, (uintptr_t)a, AT_FDCWD, (uintptr_t)b, 35);
	run();
	next(UNLINKAT, AT_FDCWD, (uintptr_t)a, 0, 0, 36);             /* gone: ENOENT */
	run();
	next(UNLINKAT, AT_FDCWD, (uintptr_t)b, 0, 0, 37);
	run();
	snprintf(b, sizeof(b), "%s/sub/g", dir);
	next(UNLINKAT, AT_FDCWD, (uintptr_t)b, 0, 0, 38);
	run();
	next(OPENAT, AT_FDCWD, 0x1000, 0, 0, 39);                     /* a bad path */
	run();
	next(CLOSE, fd, 0, 0, 0, 40);
	run();
	snprintf(a, sizeof(a), "%s/sub", dir);
	next(UNLINKAT, AT_FDCWD, (uintptr_t)a, 0, 0, 41)->op_flags = AT_REMOVEDIR;
	run();
	close(p[0]);
	close(p[1]);
	rmdir(dir);
}

/* A stream socket: connect, accept (with the peer's address), send, recv. */
static void stream(void)
{
	char dir[] = "/tmp/kvmse-uring-XXXXXX";
	struct sockaddr_un addr, peer;
	int l = bound(SOCK_STREAM, dir, &addr), c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(c >= 0 && listen(l, 1) == 0);
	next(CONNECT, c, (uintptr_t)&addr, 0, sizeof(addr), 50);
	run();
	socklen_t len = sizeof(peer);
	memset(&peer, 0x55, sizeof(peer));
	next(ACCEPT, l, (uintptr_t)&peer, 0, (uintptr_t)&len, 51);
	printf("submitted: %ld\n", enter(1, 1, GETEVENTS));
	uint32_t *head = (uint32_t *)(cq + par.cq.head), mask = *(uint32_t *)(cq + par.cq.ring_mask);
	int s = ((struct cqe *)(cq + par.cq.cqes))[*head & mask].res;
	printf("accepted: %d, address length %u family %d\n", s >= 0, len, peer.sun_family);
	reap();
	next(SEND, c, (uintptr_t)"stream", 6, 0, 52);
	run();
	char buf[16] = { 0 };
	next(RECV, s, (uintptr_t)buf, sizeof(buf), 0, 53);
	run();
	printf("received: %s\n", buf);
	next(SHUTDOWN, c, 0, SHUT_WR, 0, 54);
	run();
	close(s);
	close(c);
	close(l);
	unlink(addr.sun_path);
	rmdir(dir);
}

/* Around the descriptor limit, where kvmse keeps its own: none is open to the program. */
static void high_fds(void)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	uint32_t *head = (uint32_t *)(cq + par.cq.head), mask = *(uint32_t *)(cq + par.cq.ring_mask);
	int ebadf = 0;
	char buf[8];
	for (int fd = (int)rl.rlim_cur - 16; fd < (int)rl.rlim_cur + 16; fd++) {
		next(READ, fd, (uintptr_t)buf, sizeof(buf), 0, 60);
		CHECK(enter(1, 1, GETEVENTS) == 1);
		ebadf += ((struct cqe *)(cq + par.cq.cqes))[*head & mask].res == -EBADF;
		__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
		int one = fd;
		SHOW_IF_NOT_EBADF(syscall(SYS_io_uring_register, ring, 2 /* FILES */, &one, 1));
	}
	printf("reads near the descriptor limit that were EBADF: %d of 32\n", ebadf);
}

/* An entry the kernel refuses stops the batch: the entries after it, even one that
 * will fail too, stay queued for the next call, and each completes once. */
static void stopped_batch(void)
{
	uint32_t *head = (uint32_t *)(cq + par.cq.head), mask = *(uint32_t *)(cq + par.cq.ring_mask);
	next(NOP, -1, 0, 0, 0, 70)->flags = 0x80;
	next(NOP, -1, 0, 0, 0, 71);
	next(READV, 0, 8, 1, 0, 72);
	printf("submitted of 3: %ld\n", enter(3, 0, 0));
	printf("submitted of 2: %ld\n", enter(2, 2, GETEVENTS));
	int seen[3] = { 0 }, res[3] = { 0 };
	while (*head != __atomic_load_n((uint32_t *)(cq + par.cq.tail), __ATOMIC_ACQUIRE)) {
		struct cqe *c = (struct cqe *)(cq + par.cq.cqes) + (*head & mask);
		if (c->user_data >= 70 && c->user_data < 73) {
			seen[c->user_data - 70]++;
			res[c->user_data - 70] = c->res;
		} else {
			printf("unexpected completion %llu\n", (unsigned long long)c->user_data);
		}
		__atomic_store_n(head, *head + 1, __ATOMIC_RELEASE);
	}
	for (int i = 0; i < 3; i++)
		printf("completion %d: %d time(s), %s\n", 70 + i, seen[i], strerror(-res[i]));
}

static void bad_calls(void)
{
	struct params p = { 0 };
	SHOW(syscall(SYS_io_uring_setup, 0, &p));
	SHOW(syscall(SYS_io_uring_setup, 4, (void *)0x1000));
	SHOW(syscall(SYS_io_uring_enter, 9999, 0, 0, 0, NULL, 0));
	SHOW(syscall(SYS_io_uring_enter, 0, 0, 0, 0, NULL, 0));
	SHOW(syscall(SYS_io_uring_enter, ring, 0, 0, 1u << 30, NULL, 0));
	SHOW(syscall(SYS_io_uring_register, 9999, 0, NULL, 0));
	SHOW(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, ring, 0) == MAP_FAILED ? -1 : 0);
	SHOW(mmap(NULL, 4096, PROT_READ, MAP_SHARED, ring, 0x1234000) == MAP_FAILED ? -1 : 0);
	struct { uint8_t last, version; uint16_t resv; uint32_t resv2[3]; struct { uint8_t op, resv;
		 uint16_t flags; uint32_t resv2; } ops[4]; } probe = { 0 };
	SHOW(syscall(SYS_io_uring_register, ring, 8 /* PROBE */, &probe, 4));
	for (int i = 0; i < 4; i++)
		printf("op %u supported: %d\n", probe.ops[i].op, probe.ops[i].flags & 1);
}

int main(void)
{
	ring = (int)syscall(SYS_io_uring_setup, 8, &par);
	if (ring < 0) {
		printf("no io_uring here: %s\n", strerror(errno));
		return 0;
	}
	printf("entries: %u %u\n", par.sq_entries, par.cq_entries);
	sq = mmap(NULL, par.sq.array + par.sq_entries * 4, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		  ring, 0);
	cq = mmap(NULL, par.cq.cqes + par.cq_entries * sizeof(struct cqe), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_POPULATE, ring, 0x8000000);
	sqes = mmap(NULL, par.sq_entries * sizeof(struct sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		    ring, 0x10000000);
	CHECK(sq != MAP_FAILED && cq != MAP_FAILED && sqes != MAP_FAILED);
	printf("ring: mask %u entries %u\n", *(uint32_t *)(sq + par.sq.ring_mask), *(uint32_t *)(cq + par.cq.ring_entries));
	file_io();
	pipes();
	messages();
	paths();
	stream();
	interrupted();
	high_fds();
	stopped_batch();
	bad_calls();
	return 0;
}
