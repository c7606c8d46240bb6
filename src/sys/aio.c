/* aio.c - Linux AIO: io_setup, io_submit, io_getevents, io_pgetevents, io_cancel and
 * io_destroy. The contexts are the host's, whose I/O goes straight to guest memory (the
 * host memory behind it); kvmse translates the program's iocbs on the way in and the
 * events on the way out.
 *
 * A context's id is, as in Linux, the address of a ring in the program's memory: a
 * read-only page whose header has no ring magic, so that libaio asks the kernel for
 * events rather than reading the ring itself. Each submitted iocb is a struct aio_op
 * until its event is read: the host's iocb (its buffers as host iovecs that stay valid
 * while the I/O runs), and what the program's event must say. The tables are per host
 * process, so per guest process; a forked child has no contexts, as in Linux, and
 * execve ends them. */
#include "sys.h"
#include "../util.h"
#include <linux/aio_abi.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define AIO_MAX_IOV 1024        /* UIO_MAXIOV */

struct aio_op {
	struct iocb host;               /* what the host runs; aio_data points here */
	aio_context_t ctx;
	uint64_t iocb, data;            /* the program's iocb and its aio_data */
	struct aio_op *next, *prev;
	struct iovec iov[];             /* the buffers, for PREADV/PWRITEV */
};

struct aio_ctx {
	uint64_t ring;                  /* the program's id: its ring page */
	aio_context_t host;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct aio_ctx *ctxs;
static size_t nctx;
static struct aio_op *ops;              /* in flight, or done and not yet read */

/* The start of the host's ring (struct aio_ring): 'nr' is how many events it holds. */
struct ring_head {
	uint32_t id, nr, head, tail, magic, compat_features, incompat_features, header_length;
};

/* How many events the host context's ring holds. */
static long ring_size(aio_context_t h)
{
	return (long)((const struct ring_head *)(uintptr_t)h)->nr;
}

/* (lock held) The host context of program id 'ring'; 0: none. */
static aio_context_t host_ctx(uint64_t ring)
{
	for (size_t i = 0; i < nctx; i++)
		if (ctxs[i].ring == ring)
			return ctxs[i].host;
	return 0;
}

static aio_context_t find_ctx(uint64_t ring)
{
	pthread_mutex_lock(&lock);
	aio_context_t h = host_ctx(ring);
	pthread_mutex_unlock(&lock);
	return h;
}

long sys_io_setup(struct proc *p, const uint64_t a[6])
{
	uint64_t old;
	if (mem_read(p->mem, &old, a[1], sizeof(old)) < 0)
		return -EFAULT;
	if (old)
		return -EINVAL;
	aio_context_t h = 0;
	long rc = HOST(SYS_io_setup, (unsigned)a[0], &h);
	if (rc < 0)
		return rc;
	struct ring_head head = { .nr = (uint32_t)ring_size(h),
				  .header_length = sizeof(head) };
	gva_t ring = mm_find_free(p, PAGE_SIZE);
	if (!ring || mm_map(p, ring, PAGE_SIZE, PROT_READ, 0) < 0) {
		syscall(SYS_io_destroy, h);
		return -ENOMEM;
	}
	if (mm_poke(p, ring, &head, sizeof(head)) < 0 ||
	    mem_write(p->mem, a[1], &ring, sizeof(ring)) < 0) {
		mm_unmap(p, ring, PAGE_SIZE);
		syscall(SYS_io_destroy, h);
		return -EFAULT;
	}
	pthread_mutex_lock(&lock);
	ctxs = xrealloc(ctxs, (nctx + 1) * sizeof(*ctxs));
	ctxs[nctx++] = (struct aio_ctx){ ring, h };
	pthread_mutex_unlock(&lock);
	return 0;
}

/* (lock held) */
static void op_unlink(struct aio_op *op)
{
	if (op->prev)
		op->prev->next = op->next;
	else
		ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
}

/* (lock held) Forget the ops of host context h, whose I/O has ended. */
static void drop_ops(aio_context_t h)
{
	for (struct aio_op *op = ops, *next; op; op = next) {
		next = op->next;
		if (op->ctx == h) {
			op_unlink(op);
			free(op);
		}
	}
}

long sys_io_destroy(struct proc *p, const uint64_t a[6])
{
	pthread_mutex_lock(&lock);
	size_t i = 0;
	while (i < nctx && ctxs[i].ring != a[0])
		i++;
	if (i == nctx) {
		pthread_mutex_unlock(&lock);
		return -EINVAL;
	}
	struct aio_ctx c = ctxs[i];
	ctxs[i] = ctxs[--nctx];
	pthread_mutex_unlock(&lock);
	/* (the host waits for the context's I/O to end) */
	long rc = HOST(SYS_io_destroy, c.host);
	pthread_mutex_lock(&lock);
	drop_ops(c.host);
	pthread_mutex_unlock(&lock);
	mm_unmap(p, c.ring, PAGE_SIZE);
	return rc;
}

/* The buffers of iocb 'g' as host iovecs in iov (count in *n); -EFAULT if its iovec array
 * cannot be read. Other opcodes have none. */
static long buffers(struct proc *p, const struct iocb *g, struct iovec *iov, int *n)
{
	enum mem_access acc = g->aio_lio_opcode == IOCB_CMD_PREAD ||
			      g->aio_lio_opcode == IOCB_CMD_PREADV ? MEM_WRITE : MEM_READ;
	switch (g->aio_lio_opcode) {
	case IOCB_CMD_PREAD:
	case IOCB_CMD_PWRITE:
		sys_add_segments(p, g->aio_buf, g->aio_nbytes, acc, iov, n, AIO_MAX_IOV, true);
		return 0;
	case IOCB_CMD_PREADV:
	case IOCB_CMD_PWRITEV:
		if (g->aio_nbytes > AIO_MAX_IOV)
			return -EINVAL;
		struct iovec giov[AIO_MAX_IOV];
		if (mem_read(p->mem, giov, g->aio_buf, g->aio_nbytes * sizeof(*giov)) < 0)
			return -EFAULT;
		for (uint64_t i = 0; i < g->aio_nbytes; i++)
			if (!sys_add_segments(p, (uint64_t)giov[i].iov_base, giov[i].iov_len, acc, iov, n,
					      AIO_MAX_IOV, true))
				break;
		return 0;
	default:
		return 0;
	}
}

/* The host's op for the program's iocb 'g' at 'va'; NULL and *err if it cannot be. */
static struct aio_op *translate(struct proc *p, const struct iocb *g, uint64_t va, aio_context_t h, long *err)
{
	struct iovec *iov = xmalloc(AIO_MAX_IOV * sizeof(*iov));
	int n = 0;
	*err = buffers(p, g, iov, &n);
	if (*err < 0) {
		free(iov);
		return NULL;
	}
	struct aio_op *op = xmalloc(sizeof(*op) + (size_t)n * sizeof(*iov));
	memcpy(op->iov, iov, (size_t)n * sizeof(*iov));
	free(iov);
	op->host = *g;
	op->ctx = h;
	op->iocb = va;
	op->data = g->aio_data;
	op->host.aio_data = (uint64_t)(uintptr_t)op;
	op->host.aio_fildes = (uint32_t)user_fd(g->aio_fildes);
	if (g->aio_flags & IOCB_FLAG_RESFD)
		op->host.aio_resfd = (uint32_t)user_fd(g->aio_resfd);
	switch (g->aio_lio_opcode) {
	case IOCB_CMD_PREAD:
	case IOCB_CMD_PWRITE:
		/* One run of host memory stays one buffer; more become a vector. */
		if (n == 1) {
			op->host.aio_buf = (uint64_t)(uintptr_t)op->iov[0].iov_base;
			break;
		}
		op->host.aio_lio_opcode = g->aio_lio_opcode == IOCB_CMD_PREAD ? IOCB_CMD_PREADV : IOCB_CMD_PWRITEV;
		/* fall through */
	case IOCB_CMD_PREADV:
	case IOCB_CMD_PWRITEV:
		op->host.aio_buf = (uint64_t)(uintptr_t)op->iov;
		op->host.aio_nbytes = (uint64_t)n;
		break;
	default:
		op->host.aio_buf = user_opaque(g->aio_buf);    /* (POLL's events) */
		break;
	}
	return op;
}

/* One iocb: 0 once the host has it, or why not. */
static long submit_one(struct proc *p, aio_context_t h, uint64_t va)
{
	struct iocb g;
	if (mem_read(p->mem, &g, va, sizeof(g)) < 0)
		return -EFAULT;
	long rc;
	struct aio_op *op = translate(p, &g, va, h, &rc);
	if (!op)
		return rc;
	/* Listed first: its event may be read before the host's call returns. */
	pthread_mutex_lock(&lock);
	op->prev = NULL;
	op->next = ops;
	if (ops)
		ops->prev = op;
	ops = op;
	pthread_mutex_unlock(&lock);
	struct iocb *one = &op->host;
	rc = HOST(SYS_io_submit, h, 1L, &one);
	if (rc == 1)
		return 0;
	pthread_mutex_lock(&lock);
	op_unlink(op);
	pthread_mutex_unlock(&lock);
	free(op);
	return rc;
}

long sys_io_submit(struct proc *p, const uint64_t a[6])
{
	long nr = (long)a[1];
	if (nr < 0)
		return -EINVAL;
	aio_context_t h = find_ctx(a[0]);
	if (!h)
		return -EINVAL;
	/* (more than the ring holds: only that many, as Linux) */
	nr = MIN(nr, ring_size(h));
	long i, rc = 0;
	for (i = 0; i < nr; i++) {
		uint64_t va;
		rc = mem_read(p->mem, &va, a[2] + (uint64_t)i * sizeof(va), sizeof(va)) < 0 ? -EFAULT :
		     submit_one(p, h, va);
		if (rc < 0)
			break;
	}
	return i ? i : rc;
}

/* The host's events as the program's: its iocb and data; each op read is done. */
static long events_out(struct proc *p, uint64_t va, struct io_event *ev, long n)
{
	pthread_mutex_lock(&lock);
	for (long i = 0; i < n; i++) {
		struct aio_op *op = (struct aio_op *)(uintptr_t)ev[i].data;
		ev[i].data = op->data;
		ev[i].obj = op->iocb;
		op_unlink(op);
		free(op);
	}
	pthread_mutex_unlock(&lock);
	return mem_write(p->mem, va, ev, (uint64_t)n * sizeof(*ev)) < 0 ? -EFAULT : n;
}

/* io_getevents and io_pgetevents: the host's wait, with 'timeout' (a host pointer). */
static long getevents(struct proc *p, const uint64_t a[6], const struct timespec *timeout)
{
	aio_context_t h = find_ctx(a[0]);
	long min_nr = (long)a[1], nr = (long)a[2];
	if (!h || min_nr < 0 || nr < 0 || min_nr > nr)
		return -EINVAL;
	/* (no more can be waiting than the ring holds) */
	nr = MIN(nr, ring_size(h));
	min_nr = MIN(min_nr, nr);
	struct io_event *ev = xmalloc((size_t)(nr ? nr : 1) * sizeof(*ev));
	long rc = HOST(SYS_io_getevents, h, min_nr, nr, ev, timeout);
	if (rc > 0)
		rc = events_out(p, a[3], ev, rc);
	free(ev);
	return rc;
}

/* (the timeout is read first, as Linux does; the host judges its values) */
long sys_io_getevents(struct proc *p, const uint64_t a[6])
{
	if (user_timeout_check(p, a[4], NULL) == -EFAULT)
		return -EFAULT;
	return getevents(p, a, a[4] ? user_in(p, a[4], sizeof(struct timespec)) : NULL);
}

/* The sixth argument: { const sigset_t *mask; size_t size; }, or NULL. */
long sys_io_pgetevents(struct proc *p, const uint64_t a[6])
{
	uint64_t pack[2] = { 0, 0 };
	long rc = user_timeout_check(p, a[4], NULL);
	if (rc == -EFAULT || (a[5] && mem_read(p->mem, pack, a[5], sizeof(pack)) < 0))
		return -EFAULT;
	if ((rc = sig_wait_mask(p, pack[0], pack[1])))
		return rc;
	static const struct timespec no_wait;
	bool now = sig_deliverable(p);
	rc = getevents(p, a, now ? &no_wait : a[4] ? user_in(p, a[4], sizeof(struct timespec)) : NULL);
	return sig_wait_done(p, now && rc == 0 ? -EINTR : rc);
}

long sys_io_cancel(struct proc *p, const uint64_t a[6])
{
	uint32_t key;
	if (mem_read(p->mem, &key, a[1] + offsetof(struct iocb, aio_key), sizeof(key)) < 0)
		return -EFAULT;
	if (key)
		return -EINVAL;
	pthread_mutex_lock(&lock);
	aio_context_t h = host_ctx(a[0]);
	struct aio_op *op = ops;
	while (op && !(op->ctx == h && op->iocb == a[1]))
		op = op->next;
	/* (the op stays listed: its event comes through io_getevents; the lock keeps it
	 * from being read meanwhile, and the host's cancel does not wait) */
	struct io_event ev;
	long rc = op && h ? HOST(SYS_io_cancel, h, &op->host, &ev) : -EINVAL;
	pthread_mutex_unlock(&lock);
	return rc;
}

void aio_exec(void)
{
	pthread_mutex_lock(&lock);
	for (size_t i = 0; i < nctx; i++) {
		syscall(SYS_io_destroy, ctxs[i].host);
		drop_ops(ctxs[i].host);
	}
	nctx = 0;
	pthread_mutex_unlock(&lock);
}

void aio_forked(void)
{
	pthread_mutex_init(&lock, NULL);
	while (ops) {
		struct aio_op *op = ops;
		ops = op->next;
		free(op);
	}
	nctx = 0;               /* (their ring pages stay mapped, as in Linux) */
}
