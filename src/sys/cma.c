/* cma.c - process_vm_readv and process_vm_writev: another process's memory, a page at a
 * time through a buffer of kvmse's.
 *
 * The program's own memory is reached as any system call reaches it. Another process of
 * the same kvmse tree (forked from this one: guest execve stays in its process) has its
 * guest memory at the same host address, and its struct mem where this one has its own:
 * kvmse reads that with the host's process_vm_readv (which checks the program's right to
 * as Linux does), then walks the other's page tables there, and copies at the host
 * address behind each page. A process that is not such a one (a native program) has its
 * addresses as they are. */
#include "sys.h"
#include "../util.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

struct remote {
	pid_t pid;
	bool self, kvmse;
	struct mem m;           /* the other's, as read (host and root matter) */
};

static long host_rw(pid_t pid, void *local, uint64_t remote, size_t n, bool write)
{
	struct iovec l = { local, n }, r = { (void *)(uintptr_t)remote, n };
	ssize_t got = write ? process_vm_writev(pid, &l, 1, &r, 1, 0) : process_vm_readv(pid, &l, 1, &r, 1, 0);
	return got == (ssize_t)n ? 0 : got < 0 ? -errno : -EFAULT;
}

/* The host address in the other kvmse process behind its user page at 'va'. */
static long walk(const struct remote *r, uint64_t va, bool write, uint64_t *host)
{
	gpa_t table = r->m.root;
	for (int level = 3; level >= 0; level--) {
		uint64_t e, at = (uint64_t)(uintptr_t)r->m.host + table + ((va >> (12 + 9 * level)) & 511) * 8;
		if (table >= r->m.size || host_rw(r->pid, &e, at, 8, false) < 0)
			return -EFAULT;
		if ((e & (PTE_P | PTE_U)) != (PTE_P | PTE_U) || (level && (e & PTE_PS)) ||
		    (!level && write && !(e & PTE_W)))
			return -EFAULT;
		table = e & PTE_ADDR;
	}
	if (table >= r->m.size)
		return -EFAULT;
	*host = (uint64_t)(uintptr_t)r->m.host + table + (va & (PAGE_SIZE - 1));
	return 0;
}

/* Copy n bytes (within one page of the other's) between buf and the other's 'va'. */
static long chunk(struct proc *p, const struct remote *r, void *buf, uint64_t va, size_t n, bool write)
{
	if (r->self)
		return (write ? mem_write(p->mem, va, buf, n) : mem_read(p->mem, buf, va, n)) < 0 ? -EFAULT : 0;
	uint64_t at = va;
	if (r->kvmse) {
		long rc = walk(r, va, write, &at);
		if (rc)
			return rc;
	}
	return host_rw(r->pid, buf, at, n, write);
}

/* Which process 'pid' is; 0, or -ESRCH, -EPERM as the host says. */
static long find(struct proc *p, pid_t pid, struct remote *r)
{
	*r = (struct remote){ .pid = pid, .self = pid == getpid() };
	pthread_mutex_lock(&p->ps->lock);
	for (int i = 0; i < p->ps->nthreads; i++)
		r->self |= p->ps->threads[i]->tid == pid;
	pthread_mutex_unlock(&p->ps->lock);
	if (r->self)
		return 0;
	long rc = host_rw(pid, &r->m, (uint64_t)(uintptr_t)p->mem, sizeof(r->m), false);
	if (rc == -ESRCH || rc == -EPERM)
		return rc;
	r->kvmse = !rc && r->m.host == p->mem->host && r->m.size == p->mem->size;
	return 0;
}

/* The program's iovec array: its entries into v; the total (at most SSIZE_MAX), or
 * -errno. A local buffer must lie in user memory (Linux's access_ok). */
static long iovecs(struct proc *p, uint64_t va, uint64_t n, struct iovec *v, bool local)
{
	if (n > IOV_MAX)
		return -EINVAL;
	if (n && mem_read(p->mem, v, va, n * sizeof(*v)) < 0)
		return -EFAULT;
	uint64_t total = 0;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t base = (uint64_t)(uintptr_t)v[i].iov_base;
		if (v[i].iov_len > SSIZE_MAX)
			return -EINVAL;
		if (local && (base > TASK_SIZE || v[i].iov_len > TASK_SIZE - base))
			return -EFAULT;
		total = MIN(total + v[i].iov_len, (uint64_t)SSIZE_MAX);
	}
	return (long)total;
}

/* The copy itself, a page of the other's at most at a time: the bytes copied, or the
 * error if none were. */
static long copy(struct proc *p, const struct remote *r, const struct iovec *lv, uint64_t nl,
		 const struct iovec *rv, uint64_t nr, bool write)
{
	uint8_t buf[PAGE_SIZE];
	uint64_t done = 0, li = 0, loff = 0;
	for (uint64_t ri = 0; ri < nr; ri++) {
		for (uint64_t off = 0; off < rv[ri].iov_len;) {
			while (li < nl && loff == lv[li].iov_len)
				li++, loff = 0;
			if (li == nl)
				return (long)done;
			uint64_t va = (uint64_t)(uintptr_t)rv[ri].iov_base + off;
			size_t n = MIN(MIN(rv[ri].iov_len - off, PAGE_SIZE - (va & (PAGE_SIZE - 1))),
				       lv[li].iov_len - loff);
			uint64_t local = (uint64_t)(uintptr_t)lv[li].iov_base + loff;
			long rc = 0;
			if ((write && mem_read(p->mem, buf, local, n) < 0) ||
			    (rc = chunk(p, r, buf, va, n, write)) < 0 ||
			    (!write && mem_write(p->mem, local, buf, n) < 0))
				return done ? (long)done : rc < 0 ? rc : -EFAULT;
			done += n;
			off += n;
			loff += n;
		}
	}
	return (long)done;
}

static long vm_rw(struct proc *p, const uint64_t a[6], bool write)
{
	if (a[5])
		return -EINVAL;
	struct iovec *lv = xmalloc(2 * IOV_MAX * sizeof(*lv)), *rv = lv + IOV_MAX;
	long local = iovecs(p, a[1], a[2], lv, true), rc = local < 0 ? local : iovecs(p, a[3], a[4], rv, false);
	struct remote r;
	if (rc > 0 && !local)
		rc = 0;         /* (nothing to copy: Linux looks no further) */
	else if (rc > 0 && (rc = find(p, (pid_t)a[0], &r)) == 0)
		rc = copy(p, &r, lv, a[2], rv, a[4], write);
	free(lv);
	return rc;
}

long sys_process_vm_readv(struct proc *p, const uint64_t a[6]) { return vm_rw(p, a, false); }
long sys_process_vm_writev(struct proc *p, const uint64_t a[6]) { return vm_rw(p, a, true); }
