/* uffd.c - userfaultfd: the program resolves some of its own page faults.
 *
 * A context is a pipe, as a signalfd is: the program reads struct uffd_msg records from
 * its end, where kvmse writes one for each fault a context must resolve. The faulting
 * thread then sleeps on its vCPU's host thread (uffd_fault) until a resolution of its
 * page wakes it, a signal comes, or the context is closed; then the access runs again,
 * and faults again if it must. Registrations and page states belong to the memory map
 * (mm.c, mm_uffd_*): a missing page is one with no backing page, which kvmse otherwise
 * never leaves. A context is found by its pipe (dev, ino) and lives in this process
 * only: a forked child has none, and loses the registrations (as Linux without
 * UFFD_FEATURE_EVENT_FORK). kvmse's own accesses to a missing page (a read() into it)
 * fail with EFAULT, as under UFFD_USER_MODE_ONLY, rather than wait. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define FD(i) user_fd(a[i])
#define CTX_MAX 64

/* (newer than some headers: Linux 6.4, 6.6 and 6.8) */
#define FEATURE_WP_UNPOPULATED (1u << 13)
#define FEATURE_POISON (1u << 14)
#define FEATURE_MOVE (1u << 16)
#define IOC_MOVE 0x05
#define IOC_POISON 0x08
#define MOVE_ALLOW_SRC_HOLES 2u
struct move_arg { uint64_t dst, src, len, mode; int64_t move; };
struct poison_arg { struct uffdio_range range; uint64_t mode; int64_t updated; };
#define IOC_NEW _IO(0xAA, 0x00)         /* USERFAULTFD_IOC_NEW of /dev/userfaultfd */

static const uint64_t features = UFFD_FEATURE_PAGEFAULT_FLAG_WP | UFFD_FEATURE_SIGBUS |
				 UFFD_FEATURE_THREAD_ID | UFFD_FEATURE_MINOR_SHMEM |
				 UFFD_FEATURE_EXACT_ADDRESS | FEATURE_WP_UNPOPULATED |
				 FEATURE_POISON | FEATURE_MOVE;
/* The range ioctls UFFDIO_REGISTER offers (Linux's UFFD_API_RANGE_IOCTLS) */
static const uint64_t range_ioctls = 1u << _UFFDIO_WAKE | 1u << _UFFDIO_COPY |
				     1u << _UFFDIO_ZEROPAGE | 1u << IOC_MOVE |
				     1u << _UFFDIO_WRITEPROTECT | 1u << _UFFDIO_CONTINUE |
				     1u << IOC_POISON;

struct ctx {
	int wr;                 /* kvmse's end of the pipe; 0: free */
	dev_t dev;              /* the program's end */
	ino_t ino;
	uint64_t features;
	bool ready;             /* UFFDIO_API done */
};

/* A faulting thread asleep until a resolution of its page (or a wake) covers it. */
struct waiter {
	gva_t addr;
	int ctx;
	_Atomic uint32_t woken;
	struct waiter *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ctx ctxs[CTX_MAX];
static struct waiter *waiters;

/* Wake the waiters of context c in [start, end) (c < 0: all of them). */
static void wake(int c, gva_t start, gva_t end)
{
	pthread_mutex_lock(&lock);
	for (struct waiter *w = waiters; w; w = w->next) {
		if ((c < 0 || w->ctx == c) && w->addr >= start && w->addr < end) {
			atomic_store(&w->woken, 1);
			syscall(SYS_futex, &w->woken, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Has the program closed every descriptor of context c? */
static bool closed(int c)
{
	struct pollfd pfd = { .fd = ctxs[c].wr, .events = POLLOUT };
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLERR | POLLHUP));
}

/* (memory lock held) Context c is gone: its registrations go, its waiters run again. */
static void release(struct proc *p, int c)
{
	mm_uffd_drop(p, c);
	wake(c, 0, ~0ULL);
	fd_close(&ctxs[c].wr);
	ctxs[c] = (struct ctx){ 0 };
}

/* A new context: the program's end of its pipe, or -errno. */
static long create(struct proc *p, int flags)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY))
		return -EINVAL;
	int sv[2];
	if (pipe2(sv, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	struct stat st;
	if ((!(flags & O_NONBLOCK) && fcntl(sv[0], F_SETFL, 0) < 0) ||
	    (!(flags & O_CLOEXEC) && fcntl(sv[0], F_SETFD, 0) < 0) || fstat(sv[0], &st) < 0) {
		long e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	mem_lock(p->mem);
	int c = -1;
	for (int i = 0; i < CTX_MAX; i++) {
		if (ctxs[i].wr && closed(i))
			release(p, i);
		if (!ctxs[i].wr && c < 0)
			c = i;
	}
	if (c >= 0) {
		ctxs[c] = (struct ctx){ .wr = sv[1], .dev = st.st_dev, .ino = st.st_ino };
		fd_hide(&ctxs[c].wr);
	}
	mem_unlock(p->mem);
	if (c < 0) {
		close(sv[0]);
		close(sv[1]);
		return -ENOMEM;
	}
	return sv[0];
}

long sys_userfaultfd(struct proc *p, const uint64_t a[6])
{
	return create(p, (int)a[0]);
}

/* The context the program's descriptor fd is, or -1. */
static int find(int fd)
{
	struct stat st;
	if (fd_hidden(fd) || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return -1;
	for (int i = 0; i < CTX_MAX; i++)
		if (ctxs[i].wr && ctxs[i].dev == st.st_dev && ctxs[i].ino == st.st_ino)
			return i;
	return -1;
}

bool uffd_is(int fd)
{
	bool any = false;       /* (none made: no fstat, on splice's path) */
	for (int i = 0; i < CTX_MAX && !any; i++)
		any = __atomic_load_n(&ctxs[i].wr, __ATOMIC_RELAXED) != 0;
	if (!any)
		return false;
	pthread_mutex_lock(&lock);
	bool is = find(fd) >= 0;
	pthread_mutex_unlock(&lock);
	return is;
}

static long api(struct proc *p, int c, uint64_t va)
{
	struct uffdio_api u;
	if (mem_read(p->mem, &u, va, sizeof(u)) < 0)
		return -EFAULT;
	long rc = 0;
	if (u.api != UFFD_API || (u.features & ~features) || ctxs[c].ready) {
		memset(&u, 0, sizeof(u));
		rc = -EINVAL;
	} else {
		ctxs[c].ready = true;
		ctxs[c].features = u.features;
		u.features = features;
		u.ioctls = 1u << _UFFDIO_REGISTER | 1u << _UFFDIO_UNREGISTER | 1ULL << _UFFDIO_API;
	}
	return mem_write(p->mem, va, &u, sizeof(u)) < 0 ? -EFAULT : rc;
}

/* Linux's validate_range: page-aligned, not empty, within user memory. */
static long check_range(uint64_t start, uint64_t len)
{
	if ((start | len) & (PAGE_SIZE - 1) || !len)
		return -EINVAL;
	return start >= TASK_SIZE || len > TASK_SIZE - start ? -EINVAL : 0;
}

static long do_register(struct proc *p, int c, uint64_t va)
{
	struct uffdio_register u;
	if (mem_read(p->mem, &u, va, sizeof(u)) < 0)
		return -EFAULT;
	long rc = check_range(u.range.start, u.range.len);
	if (rc)
		return rc;
	if (!u.mode || (u.mode & ~(uint64_t)MM_UFFD_MODES) ||
	    ((u.mode & UFFDIO_REGISTER_MODE_MINOR) && !(ctxs[c].features & UFFD_FEATURE_MINOR_SHMEM)))
		return -EINVAL;
	mem_lock(p->mem);
	rc = mm_uffd_register(p, u.range.start, u.range.start + u.range.len,
			      MM_UFFD_CTX(c) | (unsigned)u.mode);
	mem_unlock(p->mem);
	if (rc)
		return rc;
	u.ioctls = range_ioctls;
	if (!(u.mode & UFFDIO_REGISTER_MODE_WP))
		u.ioctls &= ~(1ULL << _UFFDIO_WRITEPROTECT);
	if (!(u.mode & UFFDIO_REGISTER_MODE_MINOR))
		u.ioctls &= ~(1ULL << _UFFDIO_CONTINUE);
	return mem_write(p->mem, va + offsetof(struct uffdio_register, ioctls), &u.ioctls,
			 sizeof(u.ioctls)) < 0 ? -EFAULT : 0;
}

static long range_op(struct proc *p, int c, uint64_t va, bool unregister)
{
	struct uffdio_range r;
	if (mem_read(p->mem, &r, va, sizeof(r)) < 0)
		return -EFAULT;
	long rc = check_range(r.start, r.len);
	if (rc)
		return rc;
	if (unregister) {
		mem_lock(p->mem);
		rc = mm_uffd_register(p, r.start, r.start + r.len, 0);
		mem_unlock(p->mem);
	}
	if (!rc)
		wake(unregister ? -1 : c, r.start, r.start + r.len);
	return rc;
}

/* A resolution, page by page. COPY and MOVE read {dst, src, len, mode, result}, the
 * others {start, len, mode, result} (WRITEPROTECT has no result). The result gets the
 * bytes done, or the error if none were; a partial one is EAGAIN. */
enum op { OP_COPY, OP_ZERO, OP_MOVE, OP_POISON, OP_CONTINUE, OP_WP };

struct resolve {
	uint64_t dst, src, len, mode;
};

static int one_page(struct proc *p, int c, enum op op, const struct resolve *r, uint64_t off)
{
	uint8_t page[PAGE_SIZE];
	gva_t dst = r->dst + off;
	switch (op) {
	case OP_COPY:
		if (mem_read(p->mem, page, r->src + off, PAGE_SIZE) < 0)
			return -EFAULT;
		return mm_uffd_fill(p, c, dst, page, r->mode & UFFDIO_COPY_MODE_WP);
	case OP_ZERO:
		return mm_uffd_fill(p, c, dst, NULL, false);
	case OP_MOVE: {
		int rc = mm_uffd_move(p, c, dst, r->src + off);
		return rc == -ENOENT && (r->mode & MOVE_ALLOW_SRC_HOLES) ? 0 : rc;
	}
	case OP_POISON:
		return mm_uffd_poison(p, c, dst);
	case OP_CONTINUE:
		return mm_uffd_continue(p, c, dst);
	case OP_WP:
		return mm_uffd_wp(p, c, dst, r->mode & UFFDIO_WRITEPROTECT_MODE_WP);
	}
	return -EINVAL;
}

/* The modes each operation accepts (bit 0 is DONTWAKE for all but WRITEPROTECT). */
static const uint64_t modes[] = {
	[OP_COPY] = UFFDIO_COPY_MODE_DONTWAKE | UFFDIO_COPY_MODE_WP,
	[OP_ZERO] = UFFDIO_ZEROPAGE_MODE_DONTWAKE,
	[OP_MOVE] = 1 | MOVE_ALLOW_SRC_HOLES,
	[OP_POISON] = 1,
	[OP_CONTINUE] = UFFDIO_CONTINUE_MODE_DONTWAKE | 2 /* WP */,
	[OP_WP] = UFFDIO_WRITEPROTECT_MODE_WP | UFFDIO_WRITEPROTECT_MODE_DONTWAKE,
};

static long resolve(struct proc *p, int c, enum op op, uint64_t va)
{
	bool two = op == OP_COPY || op == OP_MOVE;
	uint64_t f[4];
	if (mem_read(p->mem, f, va, (two ? 4 : 3) * 8) < 0)
		return -EFAULT;
	struct resolve r = two ? (struct resolve){ f[0], f[1], f[2], f[3] } :
				 (struct resolve){ f[0], 0, f[1], f[2] };
	bool dontwake = op == OP_WP ? (r.mode & UFFDIO_WRITEPROTECT_MODE_DONTWAKE) : (r.mode & 1);
	long rc = check_range(r.dst, r.len);
	if (!rc && ((r.mode & ~modes[op]) || (op == OP_WP && dontwake && (r.mode & UFFDIO_WRITEPROTECT_MODE_WP)) ||
		    (two && r.src + r.len <= r.src) || (op == OP_MOVE && check_range(r.src, r.len))))
		rc = -EINVAL;
	if (rc)
		return rc;
	uint64_t done = 0;
	mem_lock(p->mem);
	while (done < r.len && (rc = one_page(p, c, op, &r, done)) == 0)
		done += PAGE_SIZE;
	mem_unlock(p->mem);
	if (done && !dontwake && !(op == OP_WP && (r.mode & UFFDIO_WRITEPROTECT_MODE_WP)))
		wake(c, r.dst, r.dst + done);
	int64_t result = done ? (int64_t)done : rc;
	if (op != OP_WP && mem_write(p->mem, va + (two ? 4 : 3) * 8, &result, sizeof(result)) < 0)
		return -EFAULT;
	return done == r.len ? 0 : done ? -EAGAIN : rc;
}

/* ioctl of type 0xAA: a context's requests; /dev/userfaultfd's USERFAULTFD_IOC_NEW (the
 * host's device says whether it may, then the context is kvmse's); else the host's. */
long uffd_ioctl(struct proc *p, const uint64_t a[6])
{
	unsigned long req = (unsigned)a[1];
	int c = find((int)a[0]);
	if (c < 0 && req == IOC_NEW) {
		long fd = HOST(SYS_ioctl, FD(0), req, (a[2] & ~(uint64_t)O_CLOEXEC) | O_CLOEXEC);
		if (fd < 0)
			return fd;
		close((int)fd);
		return create(p, (int)a[2]);
	}
	if (c < 0)
		return HOST(SYS_ioctl, FD(0), req, user_opaque(a[2]));
	if (req == UFFDIO_API)
		return api(p, c, a[2]);
	if (!ctxs[c].ready)
		return -EINVAL;
	switch (req) {
	case UFFDIO_REGISTER: return do_register(p, c, a[2]);
	case UFFDIO_UNREGISTER: return range_op(p, c, a[2], true);
	case UFFDIO_WAKE: return range_op(p, c, a[2], false);
	case UFFDIO_COPY: return resolve(p, c, OP_COPY, a[2]);
	case UFFDIO_ZEROPAGE: return resolve(p, c, OP_ZERO, a[2]);
	case _IOWR(UFFDIO, IOC_MOVE, struct move_arg): return resolve(p, c, OP_MOVE, a[2]);
	case _IOWR(UFFDIO, IOC_POISON, struct poison_arg): return resolve(p, c, OP_POISON, a[2]);
	case UFFDIO_CONTINUE: return resolve(p, c, OP_CONTINUE, a[2]);
	case UFFDIO_WRITEPROTECT: return resolve(p, c, OP_WP, a[2]);
	default: return -EINVAL;
	}
}

/* (memory lock held) A fault message for context c. */
static void post(struct proc *p, int c, gva_t addr, bool wr, unsigned why)
{
	struct uffd_msg m = { .event = UFFD_EVENT_PAGEFAULT };
	m.arg.pagefault.flags = (wr ? UFFD_PAGEFAULT_FLAG_WRITE : 0) |
				(why == UFFDIO_REGISTER_MODE_WP ? UFFD_PAGEFAULT_FLAG_WP : 0) |
				(why == UFFDIO_REGISTER_MODE_MINOR ? UFFD_PAGEFAULT_FLAG_MINOR : 0);
	m.arg.pagefault.address = ctxs[c].features & UFFD_FEATURE_EXACT_ADDRESS ? addr :
				  addr & ~(uint64_t)(PAGE_SIZE - 1);
	if (ctxs[c].features & UFFD_FEATURE_THREAD_ID)
		m.arg.pagefault.feat.ptid = (uint32_t)p->tid;
	/* (a full pipe loses it; the wait is the same) */
	(void)!write(ctxs[c].wr, &m, sizeof(m));
}

/* Sleep until woken, a host signal (the program's, or a kick), or the context closes. */
static void sleep_on(struct proc *p, struct waiter *w)
{
	for (;;) {
		const struct timespec t = { 0, 100000000 };
		long rc = syscall(SYS_futex, &w->woken, FUTEX_WAIT_PRIVATE, 0, &t, NULL, 0);
		if (atomic_load(&w->woken) || (rc < 0 && errno == EINTR) || p->exited)
			return;
		mem_lock(p->mem);
		bool gone = !ctxs[w->ctx].wr || closed(w->ctx);
		mem_unlock(p->mem);
		if (gone)
			return;
	}
}

int uffd_fault(struct proc *p, gva_t addr, bool write)
{
	mem_lock(p->mem);
	unsigned reg, why = mm_uffd_reason(p, addr, write, &reg);
	int c = (int)(reg >> 4) - 1;
	if (why && closed(c)) {
		release(p, c);
		why = 0;
	}
	if (!why || (why == UFFDIO_REGISTER_MODE_MISSING && (ctxs[c].features & UFFD_FEATURE_SIGBUS))) {
		mem_unlock(p->mem);
		return why ? MM_SIGBUS : 0;
	}
	struct waiter w = { .addr = addr & ~(uint64_t)(PAGE_SIZE - 1), .ctx = c };
	pthread_mutex_lock(&lock);
	w.next = waiters;
	waiters = &w;
	pthread_mutex_unlock(&lock);
	post(p, c, addr, write, why);
	mem_unlock(p->mem);
	sleep_on(p, &w);
	pthread_mutex_lock(&lock);
	struct waiter **pp = &waiters;
	while (*pp != &w)
		pp = &(*pp)->next;
	*pp = w.next;
	pthread_mutex_unlock(&lock);
	return 0;
}

/* Close kvmse's ends (the program's stay, and read end of file). */
static void forget_all(void)
{
	for (int i = 0; i < CTX_MAX; i++) {
		if (!ctxs[i].wr)
			continue;
		fd_close(&ctxs[i].wr);
		ctxs[i] = (struct ctx){ 0 };
	}
	waiters = NULL;
}

void uffd_forked(struct proc *p)
{
	mm_uffd_drop(p, -1);
	forget_all();
}

void uffd_exec(void)
{
	forget_all();
}
