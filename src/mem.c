/* mem.c - guest-physical page allocator, page-table builder and guest-virtual access. */
#include "mem.h"
#include "util.h"
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>

_Thread_local unsigned mem_held;

void mem_init(struct mem *m, uint64_t size, uint64_t reserved)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
	/* Reserved, not committed: the host fills pages on first touch. */
	m->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->host == MAP_FAILED)
		die_errno("cannot reserve %llu MiB of guest memory", (unsigned long long)(size >> 20));
	/* Fewer host faults for big guests; only advice, so no THP is no error. */
	(void)madvise(m->host, size, MADV_HUGEPAGE);
	m->capfree = 16;
	m->free = xmalloc(m->capfree * sizeof(*m->free));
	m->free[0].start = PAGE_ALIGN_UP(reserved);
	m->free[0].pages = (size - m->free[0].start) / PAGE_SIZE;
	m->nfree = 1;
	m->used_pages = m->free[0].start / PAGE_SIZE;
	m->root = mem_alloc_page(m);
	pthread_mutex_init(&m->lock, NULL);
}

void mem_destroy(struct mem *m)
{
	if (munmap(m->host, m->size) < 0)
		die_errno("munmap of guest memory");
	free(m->free);
	free(m->backed);
	pthread_mutex_destroy(&m->lock);
}

/* Guest memory stays out of a core dump of kvmse (best effort: the process is ending). */
void mem_no_dump(struct mem *m)
{
	if (m->host)
		madvise(m->host, m->size, MADV_DONTDUMP);
}

/* Private, zeroed and uncommitted again, as mem_init made it. */
static void make_private(struct mem *m, gpa_t gpa, uint64_t pages)
{
	if (mmap(m->host + gpa, pages * PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0) == MAP_FAILED)
		die_errno("cannot remap guest memory");
	(void)madvise(m->host + gpa, pages * PAGE_SIZE, MADV_HUGEPAGE);  /* (so it merges) */
}

static void add_extent(struct mem_extent **v, size_t *n, size_t *cap, size_t i, struct mem_extent e)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 8;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	memmove(&(*v)[i + 1], &(*v)[i], (*n - i) * sizeof(**v));
	(*v)[i] = e;
	(*n)++;
}

uint64_t mem_alloc(struct mem *m, uint64_t pages, gpa_t *gpa)
{
	size_t best = m->nfree;
	/* First fit for the whole run; else the first run there is. */
	for (size_t i = 0; i < m->nfree; i++) {
		if (m->free[i].pages >= pages) {
			best = i;
			break;
		}
	}
	if (best == m->nfree) {
		if (!m->nfree)
			return 0;
		best = 0;
	}
	struct mem_extent *e = &m->free[best];
	uint64_t n = MIN(pages, e->pages);
	*gpa = e->start;
	e->start += n * PAGE_SIZE;
	e->pages -= n;
	if (!e->pages) {
		memmove(e, e + 1, (m->nfree - best - 1) * sizeof(*e));
		m->nfree--;
	}
	m->used_pages += n;
	if (*gpa + n * PAGE_SIZE > m->visible && m->grow)
		m->grow(m->hook_ctx, *gpa + n * PAGE_SIZE);
	return n;
}

int mem_alloc_aligned(struct mem *m, uint64_t pages, uint64_t align, gpa_t *gpa)
{
	for (size_t i = 0; i < m->nfree; i++) {
		struct mem_extent *e = &m->free[i];
		uintptr_t host = (uintptr_t)m->host + e->start;
		gpa_t at = e->start + (((host + align - 1) & ~(uintptr_t)(align - 1)) - host);
		gpa_t end = e->start + e->pages * PAGE_SIZE;
		if (at + pages * PAGE_SIZE > end)
			continue;
		struct mem_extent tail = { at + pages * PAGE_SIZE, (end - at) / PAGE_SIZE - pages };
		size_t next = i + 1;
		e->pages = (at - e->start) / PAGE_SIZE;         /* the head stays free */
		if (!e->pages) {
			memmove(e, e + 1, (m->nfree - i - 1) * sizeof(*e));
			m->nfree--;
			next = i;
		}
		if (tail.pages)
			add_extent(&m->free, &m->nfree, &m->capfree, next, tail);
		m->used_pages += pages;
		if (at + pages * PAGE_SIZE > m->visible && m->grow)
			m->grow(m->hook_ctx, at + pages * PAGE_SIZE);
		*gpa = at;
		return 0;
	}
	return -ENOMEM;
}

void mem_free(struct mem *m, gpa_t gpa, uint64_t pages)
{
	mem_zero(m, gpa, pages);
	m->used_pages -= pages;
	size_t i = 0;
	while (i < m->nfree && m->free[i].start < gpa)
		i++;
	bool merge_prev = i > 0 && m->free[i - 1].start + m->free[i - 1].pages * PAGE_SIZE == gpa;
	bool merge_next = i < m->nfree && gpa + pages * PAGE_SIZE == m->free[i].start;
	if (merge_prev && merge_next) {
		m->free[i - 1].pages += pages + m->free[i].pages;
		memmove(&m->free[i], &m->free[i + 1], (m->nfree - i - 1) * sizeof(*m->free));
		m->nfree--;
	} else if (merge_prev) {
		m->free[i - 1].pages += pages;
	} else if (merge_next) {
		m->free[i].start = gpa;
		m->free[i].pages += pages;
	} else {
		add_extent(&m->free, &m->nfree, &m->capfree, i, (struct mem_extent){ gpa, pages });
	}
}

static void note_backed(struct mem *m, gpa_t gpa, uint64_t pages)
{
	size_t i = 0;
	while (i < m->nbacked && m->backed[i].start < gpa)
		i++;
	add_extent(&m->backed, &m->nbacked, &m->capbacked, i, (struct mem_extent){ gpa, pages });
}

int mem_back(struct mem *m, gpa_t gpa, uint64_t pages, int fd, uint64_t off, enum mem_backing how)
{
	int prot = PROT_READ | (how == MEM_SHARED_RO ? 0 : PROT_WRITE);
	int type = how == MEM_FILE_PRIVATE ? MAP_PRIVATE :
		   how == MEM_DROPPABLE ? MAP_DROPPABLE : MAP_SHARED;
	int flags = type | MAP_FIXED | (fd < 0 ? MAP_ANONYMOUS : 0);
	if (mmap(m->host + gpa, pages * PAGE_SIZE, prot, flags, fd, fd < 0 ? 0 : (off_t)off) == MAP_FAILED) {
		int e = errno;
		make_private(m, gpa, pages);
		return -e;
	}
	note_backed(m, gpa, pages);
	return 0;
}

int mem_back_shm(struct mem *m, gpa_t gpa, uint64_t pages, int shmid, int shmflg)
{
	/* (a failed attach leaves the memory as it was) */
	if (shmat(shmid, m->host + gpa, SHM_REMAP | (shmflg & (SHM_RDONLY | SHM_EXEC))) == (void *)-1)
		return -errno;
	note_backed(m, gpa, pages);
	return 0;
}

/* Runs of [gpa, end) given to mem_back become private anonymous memory again. */
static void private_again(struct mem *m, gpa_t gpa, gpa_t end)
{
	for (size_t i = 0; i < m->nbacked;) {
		struct mem_extent *e = &m->backed[i];
		gpa_t s = e->start, t = e->start + e->pages * PAGE_SIZE;
		if (t <= gpa || s >= end) {
			i++;
			continue;
		}
		gpa_t a = MAX(s, gpa), b = MIN(t, end);
		make_private(m, a, (b - a) / PAGE_SIZE);
		if (s < a && b < t) {           /* the middle: the rest splits in two */
			e->pages = (a - s) / PAGE_SIZE;
			add_extent(&m->backed, &m->nbacked, &m->capbacked, i + 1,
				   (struct mem_extent){ b, (t - b) / PAGE_SIZE });
			i += 2;
		} else if (s < a) {
			e->pages = (a - s) / PAGE_SIZE;
			i++;
		} else if (b < t) {
			e->start = b;
			e->pages = (t - b) / PAGE_SIZE;
			i++;
		} else {
			memmove(e, e + 1, (m->nbacked - i - 1) * sizeof(*e));
			m->nbacked--;
		}
	}
}

void mem_zero(struct mem *m, gpa_t gpa, uint64_t pages)
{
	/* Give the memory back to the host: it reads as zero again. Shared memory or a
	 * file's cannot be dropped that way (it would read as what others or the file
	 * hold): its pages get new private memory. */
	private_again(m, gpa, gpa + pages * PAGE_SIZE);
	if (madvise(m->host + gpa, pages * PAGE_SIZE, MADV_DONTNEED) < 0)
		memset(m->host + gpa, 0, pages * PAGE_SIZE);
}

/* Pages for kvmse's own use come from runs of this many, so that page tables lie
 * together: one among the program's pages would make the host fill (and zero) a whole
 * transparent huge page for it, 2 MiB for each 2 MiB of address space mapped. */
#define PT_RUN 64

gpa_t mem_alloc_page(struct mem *m)
{
	if (!m->pt_left) {
		m->pt_left = mem_alloc(m, PT_RUN, &m->pt_next);
		if (!m->pt_left)
			die("guest memory exhausted (raise --memory)");
	}
	m->pt_left--;
	m->pt_next += PAGE_SIZE;
	return m->pt_next - PAGE_SIZE;
}

/* Index of 'va' in the table of 'level' (4 = PML4 ... 1 = PT). */
static unsigned pt_index(gva_t va, int level)
{
	return (va >> (12 + 9 * (level - 1))) & 511;
}

/* The entry for 'va' at 'level' (1 = leaf PTE, 2 = PDE), creating tables above it if asked. */
static uint64_t *walk(struct mem *m, gva_t va, int level, bool create)
{
	gpa_t table = m->root;
	for (int l = 4; l > level; l--) {
		uint64_t *e = (uint64_t *)mem_hva(m, table) + pt_index(va, l);
		if (!(*e & PTE_P)) {
			if (!create)
				return NULL;
			/* A new entry where none was present: every KVM sees this host write. */
			*e = mem_alloc_page(m) | PTE_P | PTE_W | PTE_U | PTE_A;
		} else if (*e & PTE_PS) {
			return NULL;
		}
		table = *e & PTE_ADDR;
	}
	return (uint64_t *)mem_hva(m, table) + pt_index(va, level);
}

uint64_t *mem_pte(struct mem *m, gva_t va, bool create)
{
	return walk(m, va, 1, create);
}

void mem_new_root(struct mem *m)
{
	gpa_t root = mem_alloc_page(m);
	/* the upper half (shim, direct map, entry slots) is shared, the lower starts empty */
	memcpy((uint8_t *)mem_hva(m, root) + PAGE_SIZE / 2, (uint8_t *)mem_hva(m, m->root) + PAGE_SIZE / 2,
	       PAGE_SIZE / 2);
	m->root = root;
}

void mem_map_large(struct mem *m, gva_t va, gpa_t gpa, uint64_t flags)
{
	*walk(m, va, 2, true) = gpa | flags | PTE_PS | PTE_P | PTE_A | PTE_D;
}

/*
 * A CPU (or a shadow-paging host) caches a translation only after setting the entry's
 * accessed bit with a locked write, and some leaf entries are made without it (mm.c's
 * pte_flags). So an entry whose bit is still clear when it is swapped, atomically, is
 * cached nowhere, and its change needs no flush (Linux's pte_needs_flush relies on the
 * same rule). A present entry that may be cached keeps the bit through later changes,
 * so each of them is flushed.
 */
int mem_set_pte(struct mem *m, gva_t va, uint64_t val)
{
	uint64_t *e = walk(m, va, 1, true);
	uint64_t old = __atomic_load_n(e, __ATOMIC_RELAXED), new;
	do
		new = (val & PTE_P) ? val | (old & PTE_A) : val;
	while (!__atomic_compare_exchange_n(e, &old, new, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
	if ((old & (PTE_P | PTE_A)) == (PTE_P | PTE_A) && old != new && m->hook)
		m->hook(m->hook_ctx, (gpa_t)((uint8_t *)e - m->host), va);
	return 0;
}

/* Host address of the byte at 'va' if a ring-3 access 'acc' is allowed, else NULL. */
static uint8_t *translate(struct mem *m, gva_t va, enum mem_access acc)
{
	gpa_t table = m->root;
	for (int l = 4; l >= 1; l--) {
		uint64_t e = ((uint64_t *)mem_hva(m, table))[pt_index(va, l)];
		if (!(e & PTE_P) || !(e & PTE_U) || (acc == MEM_WRITE && !(e & PTE_W)))
			return NULL;
		if (l == 1 || (e & PTE_PS)) {
			uint64_t mask = (1ULL << (12 + 9 * (l - 1))) - 1;
			gpa_t gpa = (e & PTE_ADDR & ~mask) | (va & mask);
			if (gpa < m->size)
				return m->host + gpa;
			return acc == MEM_READ && gpa - m->size < m->ro_len ?
			       (uint8_t *)(uintptr_t)(m->ro_host + (gpa - m->size)) : NULL;
		}
		table = e & PTE_ADDR;
	}
	return NULL;
}

static bool canonical_user(gva_t va, uint64_t len)
{
	return va < (1ULL << 47) && len <= (1ULL << 47) - va;
}

/* translate, after the miss hook has given 'va' its page if it may */
static uint8_t *reach(struct mem *m, gva_t va, enum mem_access acc)
{
	uint8_t *p = translate(m, va, acc);
	if (!p && m->miss && canonical_user(va, 1) && m->miss(m->miss_ctx, va, acc == MEM_WRITE) == 0)
		p = translate(m, va, acc);
	return p;
}

/* May a system call make access 'acc' to [va, va+len)? The lower half's pages may be
 * filled in on the way (the miss hook); the upper half's read-only range is there. */
static bool nameable(const struct mem *m, gva_t va, uint64_t len, enum mem_access acc)
{
	return canonical_user(va, len) ||
	       (acc == MEM_READ && va >= m->ro_start && va < m->ro_end && len <= m->ro_end - va);
}

int mem_iov(struct mem *m, gva_t va, uint64_t len, enum mem_access acc,
	    struct iovec *iov, int max, uint64_t *covered)
{
	int n = 0;
	uint64_t done = 0;
	if (covered)
		*covered = 0;
	while (done < len) {
		gva_t cur = va + done;
		uint8_t *p = nameable(m, cur, 1, acc) ? reach(m, cur, acc) : NULL;
		if (!p)
			return -EFAULT;
		uint64_t chunk = MIN(PAGE_SIZE - (cur & (PAGE_SIZE - 1)), len - done);
		if (n && (uint8_t *)iov[n - 1].iov_base + iov[n - 1].iov_len == p) {
			iov[n - 1].iov_len += chunk;
		} else {
			if (n == max)
				return -E2BIG;
			iov[n].iov_base = p;
			iov[n].iov_len = chunk;
			n++;
		}
		done += chunk;
		if (covered)
			*covered = done;
	}
	return n;
}

void *mem_ptr(struct mem *m, gva_t va, uint64_t len, enum mem_access acc)
{
	struct iovec iov;
	if (!len)
		return NULL;
	return mem_iov(m, va, len, acc, &iov, 1, NULL) == 1 ? iov.iov_base : NULL;
}

/*
 * The host memory behind a guest page can fail (a shared file mapping past the end of a
 * file that shrank, a write to one on a full file system): kvmse's own copy then takes
 * SIGBUS. While a copy runs, the fault handler comes back here (mem_fault_recover), and
 * the copy fails with EFAULT, as a kernel's copy_to_user/copy_from_user would.
 */
struct recovery {
	const struct mem *m;
	sigjmp_buf jb;
};
static _Thread_local struct recovery *recovering;

void mem_fault_recover(const void *addr)
{
	struct recovery *r = recovering;
	const uint8_t *a = addr;
	if (r && a >= r->m->host && a < r->m->host + r->m->size) {
		recovering = NULL;
		siglongjmp(r->jb, 1);
	}
}

/* After a recovery: the handler ran with the signal blocked, which a jump keeps. */
static void recovered(void)
{
	sigset_t bus;
	sigemptyset(&bus);
	sigaddset(&bus, SIGBUS);
	sigaddset(&bus, SIGSEGV);
	pthread_sigmask(SIG_UNBLOCK, &bus, NULL);
}

/* Run fn(arg) so that a fault in m's memory ends it: false then. */
static bool guarded(const struct mem *m, void (*fn)(void *), void *arg)
{
	struct recovery r = { .m = m };
	if (sigsetjmp(r.jb, 0)) {
		recovered();
		return false;
	}
	recovering = &r;
	fn(arg);
	recovering = NULL;
	return true;
}

struct copy {
	struct mem *m;
	gva_t va;
	uint8_t *b;
	uint64_t len;
	enum mem_access acc;
	int rc;
};

/* Between a host buffer and guest memory, page by page. */
static void copy_pages(void *arg)
{
	struct copy *c = arg;
	while (c->len) {
		uint8_t *p = reach(c->m, c->va, c->acc);
		if (!p) {
			c->rc = -EFAULT;
			return;
		}
		uint64_t chunk = MIN(PAGE_SIZE - (c->va & (PAGE_SIZE - 1)), c->len);
		if (c->acc == MEM_WRITE)
			memcpy(p, c->b, chunk);
		else
			memcpy(c->b, p, chunk);
		c->va += chunk;
		c->b += chunk;
		c->len -= chunk;
	}
}

static int copy(struct mem *m, gva_t va, void *buf, uint64_t len, enum mem_access acc)
{
	if (len && !nameable(m, va, len, acc))
		return -EFAULT;
	struct copy c = { m, va, buf, len, acc, 0 };
	return guarded(m, copy_pages, &c) ? c.rc : -EFAULT;
}

int mem_read(struct mem *m, void *dst, gva_t va, uint64_t len)
{
	return copy(m, va, dst, len, MEM_READ);
}

int mem_write(struct mem *m, gva_t va, const void *src, uint64_t len)
{
	return copy(m, va, (void *)src, len, MEM_WRITE);
}

struct prefix {
	struct mem *m;
	uint8_t *d;
	gva_t va;
	size_t max, n;
	bool *nul;
};

static void prefix_pages(void *arg)
{
	struct prefix *f = arg;
	while (f->n < f->max && canonical_user(f->va + f->n, 1)) {
		uint8_t *p = reach(f->m, f->va + f->n, MEM_READ);
		if (!p)
			break;
		size_t chunk = MIN(PAGE_SIZE - ((f->va + f->n) & (PAGE_SIZE - 1)), f->max - f->n);
		uint8_t *z = f->nul ? memchr(p, 0, chunk) : NULL;
		if (z)
			chunk = (size_t)(z - p) + 1;
		memcpy(f->d + f->n, p, chunk);
		f->n += chunk;
		if (z) {
			*f->nul = true;
			break;
		}
	}
}

size_t mem_read_prefix(struct mem *m, void *dst, gva_t va, size_t max, bool *nul)
{
	if (nul)
		*nul = false;
	struct prefix f = { m, dst, va, max, 0, nul };
	guarded(m, prefix_pages, &f);   /* (a fault: what was copied before it) */
	return f.n;
}
