/* uring.c - io_uring, run by a host ring behind a copy of it in guest memory.
 *
 * The host kernel must never hold a guest address: it would take it for kvmse's, and an
 * operation that completes later writes through the host mapping of the moment, which
 * by then may back other guest memory (a page table, even). So the program's rings are
 * plain guest memory that kvmse lays out (the offsets in io_uring_params are its own),
 * and io_uring_enter carries each submission to a host ring of kvmse's, with a buffer of
 * kvmse's for its data; completions come back through that ring, their data is copied
 * to the program's memory through its page tables, and the entry is posted in the
 * program's completion ring. The program sees completions when it enters the kernel
 * (io_uring_enter, as liburing's waits do), not while it only looks at its ring.
 *
 * Served: the operations below (others complete with EINVAL), registered buffers and
 * files, eventfds, probes. Not served: SQPOLL and IOPOLL rings, provided buffers, big
 * SQEs and CQEs, a ring a forked child inherits (its calls on it are EOPNOTSUPP: the
 * host ring would be its parent's too).
 */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/io_uring.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

/* The program's rings: a header, then the array or the entries. */
#define H_HEAD 0
#define H_TAIL 4
#define H_MASK 8
#define H_ENTRIES 12
#define H_FLAGS 16              /* SQ: flags; CQ: overflow */
#define H_MORE 20               /* SQ: dropped; CQ: flags */
#define H_BODY 64

#define SETUP_OK (IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | \
		  IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG | IORING_SETUP_SINGLE_ISSUER | \
		  IORING_SETUP_DEFER_TASKRUN)
/* ... and what the host ring gets of them (the calls come from several host threads) */
#define SETUP_HOST (IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP | IORING_SETUP_SUBMIT_ALL | \
		    IORING_SETUP_COOP_TASKRUN)
#define FEATURES (IORING_FEAT_NODROP | IORING_FEAT_SUBMIT_STABLE | IORING_FEAT_RW_CUR_POS | \
		  IORING_FEAT_CUR_PERSONALITY | IORING_FEAT_FAST_POLL | IORING_FEAT_POLL_32BITS | \
		  IORING_FEAT_EXT_ARG | IORING_FEAT_NATIVE_WORKERS)
#define RINGS_MAX 64
#define IO_MAX (64u << 20)      /* the most data one operation moves here */

/* A submission until its completion is posted. */
struct op {
	uint64_t id;                    /* the host entry's user_data */
	uint64_t user_data;             /* the program's */
	uint8_t opcode;
	bool skip_success;              /* IOSQE_CQE_SKIP_SUCCESS */
	void *buf;                      /* kvmse's buffer of the data */
	struct iovec hiov;              /* ... as the host's iovec */
	struct iovec *giov;             /* where a read's data goes (guest addresses) */
	int ngiov;
	bool whole;                     /* a fixed-size result: all of buf is given on success */
	struct msghdr msg;              /* SENDMSG, RECVMSG: the host's header ... */
	gva_t gmsg;                     /* ... and the program's (RECVMSG's is written back) */
	char *path[2];                  /* paths, open_how, epoll_event: what the host takes */
	socklen_t alen;                 /* ACCEPT: the address's length ... */
	gva_t galen;                    /* ... and where the program has it */
};

struct ring {
	_Atomic ino_t ino;              /* the host ring's inode (0: a free slot) */
	dev_t dev;
	unsigned flags, sq_entries, cq_entries;
	_Atomic gva_t sq, cq, sqes;     /* the program's mappings (0: none yet) */
	uint8_t *hsq, *hcq;             /* kvmse's of the host's rings */
	struct io_uring_sqe *hsqes;
	size_t hsq_len, hcq_len, hsqes_len;
	struct io_sqring_offsets so;
	struct io_cqring_offsets co;
	uint32_t head;                  /* the next entry of the program's to take */
	struct op *ops;
	size_t nops, capops;
	uint64_t next_id;
	struct io_uring_cqe *over;      /* completions its full ring could not take */
	size_t nover;
	struct iovec *bufs;             /* registered buffers (guest addresses) */
	unsigned nbufs;
	bool warned;
};

/* The rings, and every call on them, but for two that run under the memory lock (mmap,
 * and uring_is for it): the order is this lock, then the memory lock (a copy from the
 * program's memory may fill a page). Those two look a ring up without it: its slot
 * stays while the program has it open, and slots are published by 'ino' last. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ring rings[RINGS_MAX];
static atomic_bool made;                /* a ring was ever made */

static struct ring *find(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return NULL;
	for (int i = 0; i < RINGS_MAX; i++)
		if (rings[i].ino && rings[i].ino == st.st_ino && rings[i].dev == st.st_dev)
			return &rings[i];
	return NULL;
}

bool uring_is(int fd)
{
	return atomic_load(&made) && find(fd);  /* (most programs have none: no fstat then) */
}

static void op_free(struct op *o)
{
	free(o->buf);
	free(o->giov);
	free(o->msg.msg_name);
	free(o->msg.msg_control);
	free(o->path[0]);
	free(o->path[1]);
}

static void ring_free(struct ring *r)
{
	atomic_store(&r->ino, 0);
	munmap(r->hsq, r->hsq_len);
	if (r->hcq != r->hsq)
		munmap(r->hcq, r->hcq_len);
	munmap(r->hsqes, r->hsqes_len);
	for (size_t i = 0; i < r->nops; i++)
		op_free(&r->ops[i]);
	free(r->ops);
	free(r->over);
	free(r->bufs);
	memset(r, 0, sizeof(*r));
}

void uring_forked(void)
{
	for (int i = 0; i < RINGS_MAX; i++)
		if (rings[i].ino)
			ring_free(&rings[i]);
}

/* Rings no descriptor of the program's is open on any more are dropped. */
static void collect_one(int fd, void *arg)
{
	bool *live = arg;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return;
	for (int i = 0; i < RINGS_MAX; i++)
		if (rings[i].ino && rings[i].ino == st.st_ino && rings[i].dev == st.st_dev)
			live[i] = true;
}

static struct ring *free_slot(void)
{
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < RINGS_MAX; i++)
			if (!rings[i].ino)
				return &rings[i];
		bool live[RINGS_MAX] = { false };
		fd_each_guest(collect_one, live);
		for (int i = 0; i < RINGS_MAX; i++)
			if (!live[i])
				ring_free(&rings[i]);
	}
	return NULL;
}

static void *map_host(int fd, size_t len, off_t off)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, off);
	return m == MAP_FAILED ? NULL : m;
}

/* kvmse's own mappings of the host ring. */
static long map_rings(struct ring *r, int fd, const struct io_uring_params *hp)
{
	r->so = hp->sq_off;
	r->co = hp->cq_off;
	r->hsq_len = hp->sq_off.array + hp->sq_entries * 4;
	r->hcq_len = hp->cq_off.cqes + hp->cq_entries * sizeof(struct io_uring_cqe);
	if (hp->features & IORING_FEAT_SINGLE_MMAP)
		r->hsq_len = r->hcq_len = MAX(r->hsq_len, r->hcq_len);
	r->hsqes_len = hp->sq_entries * sizeof(struct io_uring_sqe);
	r->hsq = map_host(fd, r->hsq_len, IORING_OFF_SQ_RING);
	r->hcq = !r->hsq || (hp->features & IORING_FEAT_SINGLE_MMAP) ? r->hsq :
		 map_host(fd, r->hcq_len, IORING_OFF_CQ_RING);
	r->hsqes = map_host(fd, r->hsqes_len, IORING_OFF_SQES);
	if (!r->hsq || !r->hcq || !r->hsqes)
		return -ENOMEM;
	/* the host's array is the identity: entry i is sqes[i] */
	for (unsigned i = 0; i < hp->sq_entries; i++)
		((uint32_t *)(r->hsq + r->so.array))[i] = i;
	return 0;
}

long sys_io_uring_setup(struct proc *p, const uint64_t a[6])
{
	struct io_uring_params gp;
	if (mem_read(p->mem, &gp, a[1], sizeof(gp)) < 0)
		return -EFAULT;
	if (gp.flags & ~(uint32_t)SETUP_OK) {
		if (!p->opt->quiet)
			pr_warn("io_uring_setup: flags %#x are not supported: EINVAL", gp.flags & ~(uint32_t)SETUP_OK);
		return -EINVAL;
	}
	struct io_uring_params hp = { .flags = gp.flags & SETUP_HOST, .cq_entries = gp.cq_entries };
	memcpy(hp.resv, gp.resv, sizeof(hp.resv));     /* (the host refuses what is set) */
	hp.sq_thread_cpu = gp.sq_thread_cpu;
	hp.sq_thread_idle = gp.sq_thread_idle;
	hp.wq_fd = gp.wq_fd;
	int fd = (int)syscall(SYS_io_uring_setup, (unsigned)a[0], &hp);
	if (fd < 0)
		return -errno;
	struct stat st;
	pthread_mutex_lock(&lock);
	struct ring *r = fstat(fd, &st) == 0 ? free_slot() : NULL;
	long rc = r ? map_rings(r, fd, &hp) : -EMFILE;
	if (rc == 0) {
		r->dev = st.st_dev;
		r->flags = gp.flags;
		r->sq_entries = hp.sq_entries;
		r->cq_entries = hp.cq_entries;
		atomic_store(&r->ino, st.st_ino);
		atomic_store(&made, true);
	} else if (r) {
		ring_free(r);
	}
	pthread_mutex_unlock(&lock);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	gp.sq_entries = hp.sq_entries;
	gp.cq_entries = hp.cq_entries;
	gp.features = hp.features & FEATURES;
	gp.sq_off = (struct io_sqring_offsets){ .head = H_HEAD, .tail = H_TAIL, .ring_mask = H_MASK,
						.ring_entries = H_ENTRIES, .flags = H_FLAGS,
						.dropped = H_MORE, .array = H_BODY };
	gp.cq_off = (struct io_cqring_offsets){ .head = H_HEAD, .tail = H_TAIL, .ring_mask = H_MASK,
						.ring_entries = H_ENTRIES, .overflow = H_FLAGS,
						.cqes = H_BODY, .flags = H_MORE };
	if (mem_write(p->mem, a[1], &gp, sizeof(gp)) < 0) {
		close(fd);      /* (the slot goes at the next collection) */
		return -EFAULT;
	}
	return fd;
}

/* mmap of a ring descriptor: the program's copy of the ring at 'off', shared memory (as
 * long as the program asks: Linux does not hold it to the ring's size). */
long uring_mmap(struct proc *p, int fd, gva_t start, uint64_t len, int prot, uint64_t off)
{
	struct ring *r = find(fd);
	uint32_t n = 0;
	_Atomic gva_t *where = NULL;
	off &= IORING_OFF_MMAP_MASK;    /* (the rest of the offset is not looked at) */
	if (r && off == IORING_OFF_SQ_RING) {
		n = r->sq_entries;
		where = &r->sq;
	} else if (r && off == IORING_OFF_CQ_RING) {
		n = r->cq_entries;
		where = &r->cq;
	} else if (r && off == IORING_OFF_SQES) {
		where = &r->sqes;
	}
	long rc = !where ? -EINVAL :
		  mm_map_backed(p, start, len, prot, VMA_SHARED | mm_file_as(p, fd, "anon_inode:[io_uring]"),
				off / PAGE_SIZE, -1);
	if (rc == 0) {
		*where = start;
		uint32_t mask = n - 1;
		if (n && (mm_poke(p, start + H_MASK, &mask, 4) < 0 || mm_poke(p, start + H_ENTRIES, &n, 4) < 0))
			rc = -EFAULT;
		if (where == &r->sq)    /* (the head the program sees is where kvmse takes) */
			mm_poke(p, start + H_HEAD, &r->head, 4);
	}
	return rc < 0 ? rc : (long)start;
}

static uint32_t peek32(struct proc *p, gva_t va)
{
	uint32_t v = 0;
	return va && mem_read(p->mem, &v, va, 4) == 0 ? v : 0;
}

/* Into the program's ring, whatever the protection it mapped it with (as the kernel). */
static int poke(struct proc *p, gva_t va, const void *src, uint64_t len)
{
	if (!va)
		return -EFAULT;
	mem_lock(p->mem);
	int rc = mm_poke(p, va, src, len);
	mem_unlock(p->mem);
	return rc;
}

/* Post a completion in the program's ring, or keep it while the ring is full. */
static void post(struct proc *p, struct ring *r, uint64_t user_data, int32_t res, uint32_t flags)
{
	struct io_uring_cqe c = { .user_data = user_data, .res = res, .flags = flags };
	uint32_t tail = peek32(p, r->cq + H_TAIL), head = peek32(p, r->cq + H_HEAD);
	if (!r->nover && r->cq && tail - head < r->cq_entries &&
	    poke(p, r->cq + H_BODY + (tail & (r->cq_entries - 1)) * sizeof(c), &c, sizeof(c)) == 0) {
		tail++;
		poke(p, r->cq + H_TAIL, &tail, 4);
		return;
	}
	r->over = xrealloc(r->over, (r->nover + 1) * sizeof(c));
	r->over[r->nover++] = c;
	uint32_t sqflags = peek32(p, r->sq + H_FLAGS) | IORING_SQ_CQ_OVERFLOW;
	poke(p, r->sq + H_FLAGS, &sqflags, 4);
}

/* Kept completions go to the program's ring as it makes room. */
static void flush_over(struct proc *p, struct ring *r)
{
	size_t n = r->nover, done = 0;
	if (!n)
		return;
	r->nover = 0;
	uint32_t tail = peek32(p, r->cq + H_TAIL), head = peek32(p, r->cq + H_HEAD);
	for (; done < n && tail - head < r->cq_entries; done++, tail++)
		if (poke(p, r->cq + H_BODY + (tail & (r->cq_entries - 1)) * sizeof(r->over[0]),
			 &r->over[done], sizeof(r->over[0])) < 0)
			break;
	poke(p, r->cq + H_TAIL, &tail, 4);
	memmove(r->over, r->over + done, (n - done) * sizeof(r->over[0]));
	r->nover = n - done;
	if (!r->nover) {
		uint32_t sqflags = peek32(p, r->sq + H_FLAGS) & ~(uint32_t)IORING_SQ_CQ_OVERFLOW;
		poke(p, r->sq + H_FLAGS, &sqflags, 4);
	}
}

/* May the program's memory [va, va+len) be written (where a read's data goes)? */
static bool writable(struct proc *p, gva_t va, uint64_t len)
{
	struct iovec iov[16];
	uint64_t covered = 0;
	for (;;) {
		int n = mem_iov(p->mem, va, len, MEM_WRITE, iov, 16, &covered);
		if (n != -E2BIG)
			return n >= 0;
		va += covered;
		len -= covered;
	}
}

/* The guest's buffers of an operation, and kvmse's buffer for them (their data copied
 * in for a write): 0, or the -errno its completion gets. */
static long take_buffers(struct proc *p, struct op *o, const struct iovec *g, int n, bool in)
{
	uint64_t total = 0;
	for (int i = 0; i < n; i++) {
		total += g[i].iov_len;
		if (g[i].iov_len > IO_MAX || total > IO_MAX)
			return -EINVAL;
	}
	o->buf = xmalloc(total + 1);
	o->hiov = (struct iovec){ o->buf, total };
	uint64_t at = 0;
	for (int i = 0; i < n && in; i++) {
		if (mem_read(p->mem, (uint8_t *)o->buf + at, (gva_t)(uintptr_t)g[i].iov_base, g[i].iov_len) < 0)
			return -EFAULT;
		at += g[i].iov_len;
	}
	for (int i = 0; i < n && !in; i++)
		if (!writable(p, (gva_t)(uintptr_t)g[i].iov_base, g[i].iov_len))
			return -EFAULT;
	if (!in) {
		o->giov = xmalloc((size_t)n * sizeof(*g) + 1);
		memcpy(o->giov, g, (size_t)n * sizeof(*g));
		o->ngiov = n;
	}
	return 0;
}

/* A read's data, as much as it got, to the program's buffers. */
static void give_data(struct proc *p, struct op *o, int32_t res)
{
	uint64_t left = o->whole ? (res >= 0 ? o->hiov.iov_len : 0) : res > 0 ? (uint64_t)res : 0, at = 0;
	for (int i = 0; i < o->ngiov && left; i++) {
		uint64_t n = MIN(left, o->giov[i].iov_len);
		mem_write(p->mem, (gva_t)(uintptr_t)o->giov[i].iov_base, (uint8_t *)o->buf + at, n);
		at += n;
		left -= n;
	}
}

#define CONTROL_MAX (1 << 20)

/* SENDMSG and RECVMSG: the header, its name, data and control in kvmse's memory. */
static long take_msg(struct proc *p, struct op *o, gva_t va, bool send)
{
	struct msghdr m;
	if (mem_read(p->mem, &m, va, sizeof(m)) < 0)
		return -EFAULT;
	if (m.msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	if (m.msg_controllen > CONTROL_MAX)
		return -ENOBUFS;
	struct iovec *v = xmalloc(m.msg_iovlen * sizeof(*v) + 1);
	long rc = mem_read(p->mem, v, (gva_t)(uintptr_t)m.msg_iov, m.msg_iovlen * sizeof(*v)) < 0 ? -EFAULT :
		  take_buffers(p, o, v, (int)m.msg_iovlen, send);
	free(v);
	o->gmsg = va;
	o->msg = (struct msghdr){ .msg_iov = &o->hiov, .msg_iovlen = 1, .msg_flags = m.msg_flags,
				  .msg_namelen = MIN(m.msg_namelen, (socklen_t)sizeof(struct sockaddr_storage)),
				  .msg_controllen = m.msg_controllen };
	if (m.msg_name) {
		o->msg.msg_name = xcalloc(1, sizeof(struct sockaddr_storage));
		if (send && mem_read(p->mem, o->msg.msg_name, (gva_t)(uintptr_t)m.msg_name, o->msg.msg_namelen) < 0)
			rc = rc ? rc : -EFAULT;
	}
	if (m.msg_control && m.msg_controllen) {
		o->msg.msg_control = xcalloc(1, m.msg_controllen);
		if (send && mem_read(p->mem, o->msg.msg_control, (gva_t)(uintptr_t)m.msg_control, m.msg_controllen) < 0)
			rc = rc ? rc : -EFAULT;
	}
	if (!rc && send && o->msg.msg_control && sys_passes_hidden(&o->msg))
		rc = -EBADF;
	return rc;
}

/* RECVMSG's name, control data and header fields to the program. */
static void give_msg(struct proc *p, struct op *o)
{
	struct msghdr m;
	if (mem_read(p->mem, &m, o->gmsg, sizeof(m)) < 0)
		return;
	if (m.msg_name)
		mem_write(p->mem, (gva_t)(uintptr_t)m.msg_name, o->msg.msg_name, MIN(m.msg_namelen, o->msg.msg_namelen));
	if (m.msg_control)
		mem_write(p->mem, (gva_t)(uintptr_t)m.msg_control, o->msg.msg_control,
			  MIN(m.msg_controllen, o->msg.msg_controllen));
	m.msg_namelen = o->msg.msg_namelen;
	m.msg_controllen = o->msg.msg_controllen;
	m.msg_flags = o->msg.msg_flags;
	mem_write(p->mem, o->gmsg, &m, sizeof(m));
}

/* Path k of an operation: kvmse's copy, which the host takes when the entry is
 * submitted (as it takes any path). */
static long take_path(struct proc *p, struct op *o, int k, __u64 *field)
{
	if (!*field)
		return 0;
	const char *h = user_path(p, *field, 0);
	if (!user_path_whole(h, 0))
		return -EFAULT;
	o->path[k] = xstrdup(h);
	*field = (uintptr_t)o->path[k];
	return 0;
}

/* Fixed-size data the host takes when the entry is submitted (an open_how, an
 * epoll_event, a timeout). */
static long take_struct(struct proc *p, struct op *o, int k, __u64 *field, uint64_t len)
{
	if (!*field)
		return 0;
	if (len > PAGE_SIZE)
		return -E2BIG;
	o->path[k] = xmalloc(len + 1);
	if (mem_read(p->mem, o->path[k], *field, len) < 0)
		return -EFAULT;
	*field = (uintptr_t)o->path[k];
	return 0;
}

/* ACCEPT: the peer's address and its length, given back at completion. */
static long take_accept(struct proc *p, struct op *o, struct io_uring_sqe *h)
{
	if (!h->addr)
		return 0;
	o->galen = h->addr2;
	if (mem_read(p->mem, &o->alen, o->galen, sizeof(o->alen)) < 0 || (int)o->alen < 0)
		return (int)o->alen < 0 ? -EINVAL : -EFAULT;
	struct iovec g = { (void *)(uintptr_t)h->addr, MIN(o->alen, (socklen_t)sizeof(struct sockaddr_storage)) };
	long rc = take_buffers(p, o, &g, 1, false);
	h->addr = (uintptr_t)o->buf;
	h->addr2 = (uintptr_t)&o->alen;
	return rc;
}

static uint64_t host_id_of(struct ring *r, uint64_t user_data)
{
	for (size_t i = 0; i < r->nops; i++)
		if (r->ops[i].user_data == user_data)
			return r->ops[i].id;
	return ~0ULL;   /* (matches nothing: ENOENT) */
}

/* Entry 'g' of the program's as the host's entry 'h' (its buffers kvmse's): 0, or the
 * -errno it completes with at once. */
static long translate(struct proc *p, struct ring *r, const struct io_uring_sqe *g, struct io_uring_sqe *h,
		      struct op *o)
{
	*h = *g;
	if (!(g->flags & IOSQE_FIXED_FILE))
		h->fd = user_fd((uint32_t)g->fd);
	if (g->flags & IOSQE_BUFFER_SELECT)
		return -EINVAL;
	h->flags &= (uint8_t)~IOSQE_CQE_SKIP_SUCCESS;
	struct iovec one = { (void *)(uintptr_t)g->addr, g->len };
	long rc = 0;
	switch (g->opcode) {
	case IORING_OP_NOP: case IORING_OP_FSYNC: case IORING_OP_POLL_ADD: case IORING_OP_CLOSE:
	case IORING_OP_SYNC_FILE_RANGE: case IORING_OP_FALLOCATE: case IORING_OP_FADVISE:
	case IORING_OP_SHUTDOWN:
		return 0;
	case IORING_OP_POLL_REMOVE: case IORING_OP_ASYNC_CANCEL: case IORING_OP_TIMEOUT_REMOVE:
		h->addr = host_id_of(r, g->addr);
		return 0;
	case IORING_OP_TIMEOUT: case IORING_OP_LINK_TIMEOUT:
		return take_struct(p, o, 0, &h->addr, sizeof(struct __kernel_timespec));
	case IORING_OP_SOCKET:
		return 0;
	case IORING_OP_SPLICE: case IORING_OP_TEE:
		if (!(g->splice_flags & SPLICE_F_FD_IN_FIXED))
			h->splice_fd_in = user_fd((uint32_t)g->splice_fd_in);
		return 0;
	case IORING_OP_EPOLL_CTL:
		h->off = (uint64_t)user_fd(g->off);
		return take_struct(p, o, 0, &h->addr, sizeof(struct epoll_event));
	case IORING_OP_CONNECT:
		return take_struct(p, o, 0, &h->addr, g->off);
	case IORING_OP_ACCEPT:
		return take_accept(p, o, h);
	case IORING_OP_OPENAT:
		return take_path(p, o, 0, &h->addr);
	case IORING_OP_OPENAT2:
		rc = take_path(p, o, 0, &h->addr);
		return rc ? rc : take_struct(p, o, 1, &h->addr2, g->len);
	case IORING_OP_STATX:
		rc = take_path(p, o, 0, &h->addr);
		one = (struct iovec){ (void *)(uintptr_t)g->addr2, sizeof(struct statx) };
		if (!rc)
			rc = take_buffers(p, o, &one, 1, false);
		o->whole = true;
		h->addr2 = (uintptr_t)o->buf;
		return rc;
	case IORING_OP_UNLINKAT: case IORING_OP_MKDIRAT:
		return take_path(p, o, 0, &h->addr);
	case IORING_OP_RENAMEAT: case IORING_OP_LINKAT: case IORING_OP_SYMLINKAT:
		if (g->opcode != IORING_OP_SYMLINKAT)
			h->len = (uint32_t)user_fd(g->len);
		rc = take_path(p, o, 0, &h->addr);
		return rc ? rc : take_path(p, o, 1, &h->addr2);
	case IORING_OP_READ_FIXED: case IORING_OP_WRITE_FIXED:
		if (g->buf_index >= r->nbufs || g->addr < (uintptr_t)r->bufs[g->buf_index].iov_base ||
		    g->addr + g->len > (uintptr_t)r->bufs[g->buf_index].iov_base + r->bufs[g->buf_index].iov_len)
			return -EFAULT;
		h->opcode = g->opcode == IORING_OP_READ_FIXED ? IORING_OP_READ : IORING_OP_WRITE;
		h->buf_index = 0;
		/* fall through */
	case IORING_OP_READ: case IORING_OP_WRITE: case IORING_OP_SEND: case IORING_OP_RECV: {
		bool in = h->opcode == IORING_OP_WRITE || h->opcode == IORING_OP_SEND;
		rc = take_buffers(p, o, &one, 1, in);
		h->addr = (uintptr_t)o->buf;
		return rc;
	}
	case IORING_OP_SENDMSG: case IORING_OP_RECVMSG:
		rc = take_msg(p, o, g->addr, g->opcode == IORING_OP_SENDMSG);
		h->addr = (uintptr_t)&o->msg;
		return rc;
	case IORING_OP_READV: case IORING_OP_WRITEV: {
		if (g->len > IOV_MAX)
			return -EINVAL;
		struct iovec *v = xmalloc(g->len * sizeof(*v) + 1);
		if (mem_read(p->mem, v, g->addr, g->len * sizeof(*v)) < 0)
			rc = -EFAULT;
		if (!rc)
			rc = take_buffers(p, o, v, (int)g->len, g->opcode == IORING_OP_WRITEV);
		free(v);
		h->addr = (uintptr_t)&o->hiov;
		h->len = 1;
		return rc;
	}
	default:
		if (!r->warned && !p->opt->quiet)
			pr_warn("io_uring: operation %u is not supported: EINVAL", g->opcode);
		r->warned = true;
		return -EINVAL;
	}
}

/* An entry kvmse fails or drops itself: its CQE (or the dropped count) waits until the
 * host has said how far it took the entries before it. */
struct fail {
	uint32_t i;
	int32_t res;
	uint64_t user_data;
	bool dropped;
};

/* Take the program's new entries (at most 'want') to the host ring: how many were taken;
 * *host gets how many the host ring got, pos[k] the program's index of the k-th, and
 * f[0..*nf) the entries that failed here. */
static uint32_t take(struct proc *p, struct ring *r, uint32_t want, uint32_t *host, uint32_t *pos,
		     struct fail *f, uint32_t *nf)
{
	uint32_t *htail = (uint32_t *)(r->hsq + r->so.tail);
	uint32_t hhead = __atomic_load_n((uint32_t *)(r->hsq + r->so.head), __ATOMIC_ACQUIRE);
	uint32_t t0 = *htail, gtail = peek32(p, r->sq + H_TAIL), taken = 0;
	uint32_t mask = r->sq_entries - 1;
	*host = 0;
	while (taken < want && r->head + taken != gtail && t0 + *host - hhead < r->sq_entries) {
		uint32_t i = r->head + taken, idx = peek32(p, r->sq + H_BODY + 4 * (i & mask));
		taken++;
		struct io_uring_sqe g;
		if (idx >= r->sq_entries || !r->sqes ||
		    mem_read(p->mem, &g, r->sqes + idx * sizeof(g), sizeof(g)) < 0) {
			f[(*nf)++] = (struct fail){ .i = i, .dropped = true };
			continue;
		}
		if (r->nops == r->capops) {
			r->capops = r->capops ? 2 * r->capops : 16;
			r->ops = xrealloc(r->ops, r->capops * sizeof(*r->ops));
		}
		struct op *o = &r->ops[r->nops];
		*o = (struct op){ .id = ++r->next_id, .user_data = g.user_data, .opcode = g.opcode,
				  .skip_success = g.flags & IOSQE_CQE_SKIP_SUCCESS };
		struct io_uring_sqe *h = &r->hsqes[(t0 + *host) & mask];
		long rc = translate(p, r, &g, h, o);
		if (rc < 0) {
			op_free(o);
			f[(*nf)++] = (struct fail){ .i = i, .res = (int32_t)rc, .user_data = g.user_data };
			if (!(r->flags & IORING_SETUP_SUBMIT_ALL))
				break;
			continue;
		}
		h->user_data = o->id;
		r->nops++;
		pos[(*host)++] = i;
	}
	__atomic_store_n(htail, t0 + *host, __ATOMIC_RELEASE);
	return taken;
}

/* The host's completions to the program's ring. */
static void reap(struct proc *p, struct ring *r)
{
	uint32_t *hhead = (uint32_t *)(r->hcq + r->co.head);
	uint32_t tail = __atomic_load_n((uint32_t *)(r->hcq + r->co.tail), __ATOMIC_ACQUIRE);
	const struct io_uring_cqe *cqes = (const struct io_uring_cqe *)(r->hcq + r->co.cqes);
	flush_over(p, r);
	for (uint32_t h = *hhead; h != tail; h++) {
		struct io_uring_cqe c = cqes[h & (r->cq_entries - 1)];
		for (size_t i = 0; i < r->nops; i++) {
			struct op *o = &r->ops[i];
			if (o->id != c.user_data)
				continue;
			if (o->giov)
				give_data(p, o, c.res);
			if (o->opcode == IORING_OP_RECVMSG && c.res >= 0)
				give_msg(p, o);
			if (o->galen && c.res >= 0)
				mem_write(p->mem, o->galen, &o->alen, sizeof(o->alen));
			if (!(o->skip_success && c.res >= 0))
				post(p, r, o->user_data, c.res, c.flags);
			if (!(c.flags & IORING_CQE_F_MORE)) {
				op_free(o);
				*o = r->ops[--r->nops];
			}
			break;
		}
	}
	__atomic_store_n(hhead, tail, __ATOMIC_RELEASE);
}

/* Submit what the program asks to: the count taken, or -errno. */
static long submit(struct proc *p, struct ring *r, int fd, uint32_t want)
{
	uint32_t *pos = xmalloc(r->sq_entries * sizeof(*pos) + 1), nhost, nf = 0, head = r->head;
	struct fail *f = xmalloc(r->sq_entries * sizeof(*f) + 1);
	uint32_t taken = take(p, r, want, &nhost, pos, f, &nf);
	long rc = nhost ? sys_ret(syscall(SYS_io_uring_enter, fd, nhost, 0, 0, NULL, 0)) : 0;
	uint32_t done = rc < 0 ? 0 : (uint32_t)rc;
	if (done < nhost) {
		/* What the host did not take is withdrawn: the program's entries from the
		 * first of them on are still to be taken. */
		uint32_t *htail = (uint32_t *)(r->hsq + r->so.tail);
		__atomic_store_n(htail, *htail - (nhost - done), __ATOMIC_RELEASE);
		for (uint32_t k = done; k < nhost; k++)
			op_free(&r->ops[--r->nops]);
		taken = pos[done] - head;
	}
	/* Those failed here past that point are taken again by a later call. */
	for (uint32_t k = 0; k < nf && f[k].i - head < taken; k++) {
		if (f[k].dropped) {
			uint32_t dropped = peek32(p, r->sq + H_MORE) + 1;
			poke(p, r->sq + H_MORE, &dropped, 4);
		} else {
			post(p, r, f[k].user_data, f[k].res, 0);
		}
	}
	free(f);
	free(pos);
	r->head = head + taken;
	poke(p, r->sq + H_HEAD, &r->head, 4);
	return taken ? (long)taken : rc < 0 ? rc : 0;
}

/* The program's ring holds at least 'want' completions, or the wait ends: 0 or -errno.
 * The host waits for its own ring, without the lock. */
static long wait_events(struct proc *p, int fd, uint32_t want, const struct timespec *ts)
{
	struct timespec end = { 0 };
	if (ts) {
		clock_gettime(CLOCK_MONOTONIC, &end);
		end.tv_sec += ts->tv_sec + (end.tv_nsec + ts->tv_nsec) / 1000000000;
		end.tv_nsec = (end.tv_nsec + ts->tv_nsec) % 1000000000;
	}
	for (;;) {
		pthread_mutex_lock(&lock);
		struct ring *r = find(fd);      /* (again: it is not held while the host waits) */
		if (r)
			reap(p, r);
		uint32_t have = r ? peek32(p, r->cq + H_TAIL) - peek32(p, r->cq + H_HEAD) : 0;
		pthread_mutex_unlock(&lock);
		if (!r)
			return -EBADF;
		if (have >= want)
			return 0;
		struct io_uring_getevents_arg arg = { 0 };
		struct __kernel_timespec left;
		if (ts) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			int64_t ns = (end.tv_sec - now.tv_sec) * 1000000000LL + (end.tv_nsec - now.tv_nsec);
			if (ns <= 0)
				return -ETIME;
			left = (struct __kernel_timespec){ ns / 1000000000, ns % 1000000000 };
			arg.ts = (uintptr_t)&left;
		}
		long rc = syscall(SYS_io_uring_enter, fd, 0, 1, IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG,
				  &arg, sizeof(arg));
		if (rc < 0 && errno != ETIME)
			return -errno;
	}
}

#define ENTER_FLAGS (IORING_ENTER_GETEVENTS | IORING_ENTER_SQ_WAKEUP | IORING_ENTER_SQ_WAIT | \
		     IORING_ENTER_EXT_ARG)

long sys_io_uring_enter(struct proc *p, const uint64_t a[6])
{
	int fd = user_fd(a[0]);
	uint32_t to_submit = (uint32_t)a[1], min = (uint32_t)a[2], flags = (uint32_t)a[3];
	if (flags & ~(uint32_t)ENTER_FLAGS)
		return -EINVAL;
	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	pthread_mutex_lock(&lock);
	struct ring *r = find(fd);
	long rc = !r ? -EOPNOTSUPP : to_submit ? submit(p, r, fd, to_submit) : 0;
	if (r)
		reap(p, r);     /* (what completed at once is there when the call returns) */
	pthread_mutex_unlock(&lock);
	if (!r || rc < 0 || (uint32_t)rc != to_submit || !(flags & IORING_ENTER_GETEVENTS))
		return rc;
	/* The wait's mask and timeout: a sigset_t, or with EXT_ARG a struct of both. */
	uint64_t mask = a[4], masklen = a[5];
	struct timespec ts, *tsp = NULL;
	if (flags & IORING_ENTER_EXT_ARG) {
		struct io_uring_getevents_arg ext = { 0 };
		if (a[5] != sizeof(ext))
			return rc ? rc : -EINVAL;
		if (a[4] && mem_read(p->mem, &ext, a[4], sizeof(ext)) < 0)
			return rc ? rc : -EFAULT;
		mask = ext.sigmask;
		masklen = ext.sigmask_sz;
		struct __kernel_timespec kts;
		if (ext.ts && mem_read(p->mem, &kts, ext.ts, sizeof(kts)) < 0)
			return rc ? rc : -EFAULT;
		if (ext.ts) {
			ts = (struct timespec){ kts.tv_sec, kts.tv_nsec };
			tsp = &ts;
		}
	}
	long w = mask ? sig_wait_mask(p, mask, masklen) : 0;
	if (w)
		return rc ? rc : w;
	w = sig_deliverable(p) ? -EINTR : wait_events(p, fd, min, tsp);
	w = mask ? sig_wait_done(p, w) : w;
	return rc ? rc : w;
}

/* The operations served, as a probe tells them. */
static bool op_served(unsigned op)
{
	switch (op) {
	case IORING_OP_NOP: case IORING_OP_READV: case IORING_OP_WRITEV: case IORING_OP_FSYNC:
	case IORING_OP_READ_FIXED: case IORING_OP_WRITE_FIXED: case IORING_OP_POLL_ADD:
	case IORING_OP_POLL_REMOVE: case IORING_OP_SYNC_FILE_RANGE: case IORING_OP_TIMEOUT:
	case IORING_OP_TIMEOUT_REMOVE: case IORING_OP_ASYNC_CANCEL: case IORING_OP_LINK_TIMEOUT:
	case IORING_OP_FALLOCATE: case IORING_OP_CLOSE: case IORING_OP_READ: case IORING_OP_WRITE:
	case IORING_OP_FADVISE: case IORING_OP_SEND: case IORING_OP_RECV: case IORING_OP_SHUTDOWN:
	case IORING_OP_SENDMSG: case IORING_OP_RECVMSG: case IORING_OP_SOCKET: case IORING_OP_SPLICE:
	case IORING_OP_TEE: case IORING_OP_EPOLL_CTL: case IORING_OP_CONNECT: case IORING_OP_ACCEPT:
	case IORING_OP_OPENAT: case IORING_OP_OPENAT2: case IORING_OP_STATX: case IORING_OP_UNLINKAT:
	case IORING_OP_MKDIRAT: case IORING_OP_RENAMEAT: case IORING_OP_LINKAT: case IORING_OP_SYMLINKAT:
		return true;
	default:
		return false;
	}
}

static long register_buffers(struct proc *p, struct ring *r, gva_t va, uint32_t n)
{
	if (r->nbufs)
		return -EBUSY;
	if (!n || n > 16384)
		return -EINVAL;
	struct iovec *v = xmalloc(n * sizeof(*v));
	if (mem_read(p->mem, v, va, n * sizeof(*v)) < 0) {
		free(v);
		return -EFAULT;
	}
	for (uint32_t i = 0; i < n; i++) {
		uint8_t byte;
		/* (the kernel pins them: each must be there, up to 1 GiB) */
		long rc = v[i].iov_len > (1u << 30) ? -EINVAL : 0;
		if (!rc && v[i].iov_len && (!v[i].iov_base ||
		    mem_read(p->mem, &byte, (gva_t)(uintptr_t)v[i].iov_base, 1) < 0 ||
		    mem_read(p->mem, &byte, (gva_t)(uintptr_t)v[i].iov_base + v[i].iov_len - 1, 1) < 0))
			rc = -EFAULT;
		if (rc) {
			free(v);
			return rc;
		}
	}
	r->bufs = v;
	r->nbufs = n;
	return 0;
}

static long probe(struct proc *p, int fd, gva_t va, uint32_t n)
{
	if (n > 256)
		n = 256;
	size_t len = sizeof(struct io_uring_probe) + n * sizeof(struct io_uring_probe_op);
	struct io_uring_probe *pr = xmalloc(len);
	if (mem_read(p->mem, pr, va, len) < 0) {
		free(pr);
		return -EFAULT;
	}
	long rc = sys_ret(syscall(SYS_io_uring_register, fd, IORING_REGISTER_PROBE, pr, n));
	for (unsigned i = 0; rc == 0 && i < n; i++)
		if (!op_served(pr->ops[i].op))
			pr->ops[i].flags &= (uint16_t)~IO_URING_OP_SUPPORTED;
	if (rc == 0 && mem_write(p->mem, va, pr, len) < 0)
		rc = -EFAULT;
	free(pr);
	return rc;
}

/* Descriptors for the host: the program's own (kvmse's are never open to it). */
static long register_fds(struct proc *p, int fd, unsigned op, gva_t va, uint32_t n)
{
	if (n > (1u << 20))
		return -EINVAL;
	int *fds = xmalloc(n * sizeof(int) + 1);
	long rc = mem_read(p->mem, fds, va, n * sizeof(int)) < 0 ? -EFAULT : 0;
	for (uint32_t i = 0; !rc && i < n; i++)
		if (fds[i] != -1 && fds[i] != IORING_REGISTER_FILES_SKIP)
			fds[i] = user_fd((uint32_t)fds[i]);
	if (!rc)
		rc = sys_ret(syscall(SYS_io_uring_register, fd, op, fds, n));
	free(fds);
	return rc;
}

long sys_io_uring_register(struct proc *p, const uint64_t a[6])
{
	int fd = user_fd(a[0]);
	unsigned op = (unsigned)a[1];
	uint32_t n = (uint32_t)a[3];
	if (fcntl(fd, F_GETFD) < 0)
		return -EBADF;
	pthread_mutex_lock(&lock);
	struct ring *r = find(fd);
	long rc = -EOPNOTSUPP;
	if (r) {
		switch (op) {
		case IORING_REGISTER_BUFFERS:
			rc = register_buffers(p, r, a[2], n);
			break;
		case IORING_UNREGISTER_BUFFERS:
			rc = r->nbufs ? 0 : -ENXIO;
			free(r->bufs);
			r->bufs = NULL;
			r->nbufs = 0;
			break;
		case IORING_REGISTER_FILES: case IORING_REGISTER_EVENTFD: case IORING_REGISTER_EVENTFD_ASYNC:
			rc = register_fds(p, fd, op, a[2], op == IORING_REGISTER_FILES ? n : 1);
			break;
		case IORING_UNREGISTER_FILES: case IORING_UNREGISTER_EVENTFD:
			rc = sys_ret(syscall(SYS_io_uring_register, fd, op, NULL, 0));
			break;
		case IORING_REGISTER_PROBE:
			rc = probe(p, fd, a[2], n);
			break;
		default:
			if (!p->opt->quiet)
				pr_warn("io_uring_register: operation %u is not supported: EINVAL", op);
			rc = -EINVAL;
		}
	}
	pthread_mutex_unlock(&lock);
	return rc;
}
