/* mm.c - the guest's memory map: VMAs, their pages, stack growth and page-fault decisions. */
#include "fd.h"
#include "proc.h"
#include "util.h"
#include <errno.h>
#include <limits.h>
#include <linux/userfaultfd.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define STACK_GUARD_GAP (256 * PAGE_SIZE)       /* Linux's stack_guard_gap */
#define STACK_GROW_CHUNK (64 * 1024)

struct vma *mm_find(struct proc *p, gva_t va)
{
	size_t lo = 0, hi = p->ps->nvma;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (va < p->ps->vmas[mid].start)
			hi = mid;
		else if (va >= p->ps->vmas[mid].end)
			lo = mid + 1;
		else
			return &p->ps->vmas[mid];
	}
	return NULL;
}

/*
 * The entry for protection 'prot'; dirty, so a first write costs no extra fault. Whether
 * it starts accessed is the caller's choice: an entry never accessed changes with no
 * flush (mem_set_pte), but a shadow-paging host maps only accessed entries ahead of use
 * (KVM's pte prefetch: eight at a fault; touching 1 GiB took 3x longer without it).
 */
static uint64_t pte_flags(int prot)
{
	if (!(prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
		return 0;
	uint64_t f = PTE_P | PTE_U | PTE_D;
	if (prot & PROT_WRITE)
		f |= PTE_W;
	if (!(prot & PROT_EXEC))
		f |= PTE_NX;
	return f;
}

/* What an entry holds that a populate keeps: its page, or a mark (a guard, past EOF). */
#define KEEP (PTE_ADDR | PTE_SW_GUARD | PTE_SW_BUS)

/*
 * Anonymous private mappings this big or bigger get their pages as they are first
 * touched, a block of LAZY_BLOCK at a time (fill), as Linux fills them: a program may
 * reserve far more than guest memory holds (MAP_NORESERVE, sanitizers' shadow memory),
 * and filling costs some 200 ns a page. Smaller ones are filled at once, since a fault
 * costs a VM exit.
 */
#define LAZY_MIN (64ULL << 20)
#define LAZY_BLOCK (2ULL << 20)
#define LAZY_BLOCK_MAX (64ULL << 20)

/* Give every page of [start, end) a backing page; entries of PROT_NONE pages stay absent.
 * 'ahead': the entries start accessed (pte_flags). */
static int populate(struct proc *p, gva_t start, gva_t end, int prot, bool ahead)
{
	uint64_t flags = pte_flags(prot);
	if (flags && ahead)
		flags |= PTE_A;
	uint64_t total = p->mem->size / PAGE_SIZE;
	gva_t va = start;
	while (va < end) {
		/* Keep room for the page tables a run may need (3 levels), never run dry. */
		if (p->mem->used_pages + 8 > total)
			return -ENOMEM;
		uint64_t *pte = mem_pte(p->mem, va, true);
		if (*pte & KEEP) {
			va += PAGE_SIZE;
			continue;
		}
		uint64_t want = 1;
		while (va + want * PAGE_SIZE < end && want < 512) {
			uint64_t *next = mem_pte(p->mem, va + want * PAGE_SIZE, false);
			if (next && (*next & KEEP))
				break;
			want++;
		}
		gpa_t gpa;
		uint64_t got = 0;
		if (p->mem->used_pages + want + 8 <= total)
			got = mem_alloc(p->mem, want, &gpa);
		if (!got)
			return -ENOMEM;
		for (uint64_t i = 0; i < got; i++, va += PAGE_SIZE)
			mem_set_pte(p->mem, va, (gpa + i * PAGE_SIZE) | flags);
	}
	return 0;
}

/* Drop the pages of [start, end), freeing their backing in runs. */
static void depopulate(struct proc *p, gva_t start, gva_t end)
{
	gpa_t run = 0;
	uint64_t n = 0;
	for (gva_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = mem_pte(p->mem, va, false);
		if (!pte) {
			/* No page table: skip to the next 2 MiB. */
			va = (va | ((2ULL << 20) - 1)) + 1 - PAGE_SIZE;
			continue;
		}
		gpa_t gpa = *pte & PTE_ADDR;
		if (!gpa) {
			*pte = 0;       /* (absent: a PTE_SW_BUS mark at most) */
			continue;
		}
		mem_set_pte(p->mem, va, 0);
		if (n && run + n * PAGE_SIZE == gpa) {
			n++;
			continue;
		}
		if (n)
			mem_free(p->mem, run, n);
		run = gpa;
		n = 1;
	}
	if (n)
		mem_free(p->mem, run, n);
}

static void vma_insert(struct proc *p, size_t i, struct vma v)
{
	if (p->ps->nvma == p->ps->capvma) {
		p->ps->capvma = p->ps->capvma ? p->ps->capvma * 2 : 16;
		p->ps->vmas = xrealloc(p->ps->vmas, p->ps->capvma * sizeof(*p->ps->vmas));
	}
	memmove(&p->ps->vmas[i + 1], &p->ps->vmas[i], (p->ps->nvma - i) * sizeof(v));
	p->ps->vmas[i] = v;
	p->ps->nvma++;
}

static void vma_remove(struct proc *p, size_t i)
{
	memmove(&p->ps->vmas[i], &p->ps->vmas[i + 1], (p->ps->nvma - i - 1) * sizeof(*p->ps->vmas));
	p->ps->nvma--;
}

/* vm.max_map_count, Linux's limit on a process's VMAs (every thread reads the same). */
static size_t max_map_count(void)
{
	static _Atomic size_t max;
	if (!atomic_load(&max)) {
		char buf[32];
		fd_proc_read("sys/vm/max_map_count", buf, sizeof(buf));
		unsigned long n = strtoul(buf, NULL, 10);
		atomic_store(&max, n ? n : 65530);
	}
	return atomic_load(&max);
}
/* Would taking [start, end) out of the middle of a VMA make one too many? Linux refuses
 * it (munmap's ENOMEM) once a process has its most. */
bool mm_cut_refused(struct proc *p, gva_t start, gva_t end)
{
	const struct vma *v = mm_find(p, start);
	return v && v->start < start && end < v->end && p->ps->nvma >= max_map_count();
}

/* Split so that no VMA crosses 'va'. */
static void vma_split(struct proc *p, gva_t va)
{
	struct vma *v = mm_find(p, va);
	if (!v || v->start == va)
		return;
	struct vma tail = *v;
	tail.start = va;
	tail.pgoff = v->pgoff + (va - v->start) / PAGE_SIZE;
	v->end = va;
	vma_insert(p, (size_t)(v - p->ps->vmas) + 1, tail);
}

/* Do two neighbouring VMAs merge? As in Linux: touching, same rights and kind, and
 * continuous page offsets (a VMA moved by mremap keeps its old ones). */
static bool mergeable(const struct vma *a, const struct vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->flags == b->flags &&
	       a->uffd == b->uffd && a->pgoff + (a->end - a->start) / PAGE_SIZE == b->pgoff;
}

/* Merge VMA i with its neighbours where they may. */
static void vma_merge(struct proc *p, size_t i)
{
	if (i + 1 < p->ps->nvma && mergeable(&p->ps->vmas[i], &p->ps->vmas[i + 1])) {
		p->ps->vmas[i].end = p->ps->vmas[i + 1].end;
		vma_remove(p, i + 1);
	}
	if (i > 0 && mergeable(&p->ps->vmas[i - 1], &p->ps->vmas[i])) {
		p->ps->vmas[i - 1].end = p->ps->vmas[i].end;
		vma_remove(p, i);
	}
}

/* The index of the first VMA that ends above 'va' (the one holding it, or the next). */
static size_t vma_reaching(const struct process *ps, gva_t va)
{
	size_t lo = 0, hi = ps->nvma;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ps->vmas[mid].end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of the first VMA that starts at 'va' or above. */
static size_t vma_index_after(struct proc *p, gva_t va)
{
	size_t i = vma_reaching(p->ps, va);
	return i < p->ps->nvma && p->ps->vmas[i].start < va ? i + 1 : i;
}

struct vma *mm_next(struct proc *p, gva_t va)
{
	size_t i = vma_reaching(p->ps, va);
	return i < p->ps->nvma ? &p->ps->vmas[i] : NULL;
}

bool mm_covered(struct proc *p, gva_t start, gva_t end)
{
	for (gva_t va = start; va < end;) {
		struct vma *v = mm_find(p, va);
		if (!v)
			return false;
		va = v->end;
	}
	return true;
}

bool mm_sealed(struct proc *p, gva_t start, gva_t end)
{
	for (size_t i = vma_reaching(p->ps, start); i < p->ps->nvma && p->ps->vmas[i].start < end; i++)
		if (p->ps->vmas[i].flags & VMA_SEALED)
			return true;
	return false;
}

/*
 * vm.overcommit_memory 0 (and, short of its commit limit, 2) refuses one charged mapping
 * bigger than RAM and swap together: a private writable one not MAP_NORESERVE, or shared
 * anonymous memory. Guest memory itself is the host's MAP_NORESERVE, so kvmse checks.
 * (The sum is kept; only a mapping bigger than it costs a look at the host again.)
 */
static uint64_t memory_and_swap(void)
{
	struct sysinfo si;
	return sysinfo(&si) < 0 ? UINT64_MAX : ((uint64_t)si.totalram + si.totalswap) * si.mem_unit;
}

bool mm_may_charge(uint64_t len)
{
	static _Atomic uint64_t known;
	if (len <= atomic_load(&known))
		return true;
	atomic_store(&known, memory_and_swap());
	char mode[8];
	fd_proc_read("sys/vm/overcommit_memory", mode, sizeof(mode));
	return mode[0] == '1' || len <= atomic_load(&known);
}

static bool charged(const struct vma *v)
{
	return !(v->flags & (VMA_NORESERVE | VMA_HUGE | VMA_SHM)) && (v->prot & PROT_WRITE) &&
	       (!(v->flags & VMA_SHARED) || !(v->flags >> VMA_FILE_SHIFT));
}

/* dup_mmap charges each VMA again. */
long mm_fork_charge(struct proc *p)
{
	for (size_t i = 0; i < p->ps->nvma; i++)
		if (charged(&p->ps->vmas[i]) && !mm_may_charge(p->ps->vmas[i].end - p->ps->vmas[i].start))
			return -ENOMEM;
	return 0;
}

/* (a raw call: a sanitizer's libc wrapper of munlock does nothing) */
int mm_host_munlock(void *a, size_t n, gva_t va, const void *unused)
{
	(void)va;
	(void)unused;
	return (int)syscall(SYS_munlock, a, n);
}

void mm_unmap(struct proc *p, gva_t start, uint64_t len)
{
	gva_t end = start + len;
	vma_split(p, start);
	vma_split(p, end);
	size_t i = vma_index_after(p, start);
	while (i < p->ps->nvma && p->ps->vmas[i].start < end) {
		const struct vma *v = &p->ps->vmas[i];
		/* the host memory behind a locked VMA is unlocked with it (it may serve others) */
		if (v->flags & VMA_LOCKED)
			mm_host_call(p, v->start, v->end, mm_host_munlock, NULL);
		depopulate(p, v->start, v->end);
		vma_remove(p, i);
	}
}

int mm_map(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags)
{
	/* Anonymous memory: Linux numbers its pages from the address. */
	return mm_map_at(p, start, len, prot, flags, start / PAGE_SIZE);
}

/* The pages from 'va' (below 'end') whose backing pages follow each other: how many, and
 * the first backing page in *gpa (0: 'va' has none). */
static uint64_t gpa_run(struct proc *p, gva_t va, gva_t end, gpa_t *gpa)
{
	uint64_t *pte = mem_pte(p->mem, va, false), n = 1;
	*gpa = pte ? *pte & PTE_ADDR : 0;
	while (*gpa && va + n * PAGE_SIZE < end) {
		uint64_t *next = mem_pte(p->mem, va + n * PAGE_SIZE, false);
		if (!next || (*next & PTE_ADDR) != *gpa + n * PAGE_SIZE)
			break;
		n++;
	}
	return n;
}

uint64_t mm_resident(struct proc *p, const struct vma *v)
{
	uint64_t n = 0;
	unsigned char vec[512];
	for (gva_t va = v->start; va < v->end;) {
		gpa_t gpa;
		uint64_t run = MIN(gpa_run(p, va, v->end, &gpa), sizeof(vec));
		if (gpa && mincore(mem_hva(p->mem, gpa), run * PAGE_SIZE, vec) == 0)
			for (uint64_t i = 0; i < run; i++)      /* (a guard keeps its page) */
				n += (vec[i] & 1) &&
				     !(*mem_pte(p->mem, va + i * PAGE_SIZE, false) & PTE_SW_GUARD);
		va += run * PAGE_SIZE;
	}
	return n;
}

#define PM_GUARD_REGION (1ULL << 58)

void mm_pagemap(struct proc *p, const struct vma *v, int host, int out)
{
	uint64_t e[512];
	for (gva_t va = v->start; va < v->end;) {
		gpa_t gpa;
		uint64_t run = MIN(gpa_run(p, va, v->end, &gpa), ARRAY_SIZE(e));
		size_t bytes = run * sizeof(e[0]);
		if (!gpa) {             /* no page (a guard mark at most): one at a time */
			uint64_t *pte = mem_pte(p->mem, va, false);
			e[0] = PM_GUARD_REGION;
			if (pte && (*pte & PTE_SW_GUARD) && pwrite(out, e, 8, (off_t)(va / PAGE_SIZE * 8)) != 8)
				return;
			va += PAGE_SIZE;
			continue;
		}
		off_t at = (off_t)((uintptr_t)mem_hva(p->mem, gpa) / PAGE_SIZE * 8);
		if (pread(host, e, bytes, at) != (ssize_t)bytes)
			memset(e, 0, bytes);
		for (uint64_t i = 0; i < run; i++)      /* (a guard keeps its page) */
			if (*mem_pte(p->mem, va + i * PAGE_SIZE, false) & PTE_SW_GUARD)
				e[i] = PM_GUARD_REGION;
		if (pwrite(out, e, bytes, (off_t)(va / PAGE_SIZE * 8)) != (ssize_t)bytes)
			return;
		va += run * PAGE_SIZE;
	}
}

/* The host mapping behind a VMA of these flags (mem_back). */
static enum mem_backing backing(unsigned flags)
{
	return (flags & VMA_DROPPABLE) ? MEM_DROPPABLE : !(flags & VMA_SHARED) ? MEM_FILE_PRIVATE :
	       (flags & VMA_NOWRITE) ? MEM_SHARED_RO : MEM_SHARED;
}

/*
 * The pages of a shared mapping get host memory a fork shares (or the file's pages), and
 * those of a private file mapping the file's pages copy-on-write, run by run. They are
 * populated even when PROT_NONE, so that no later populate gives one private memory.
 */
static int back(struct proc *p, gva_t start, gva_t end, int prot, unsigned flags, int fd,
		uint64_t off)
{
	enum mem_backing how = backing(flags);
	int rc = populate(p, start, end, prot, true);
	for (gva_t va = start; !rc && va < end;) {
		gpa_t gpa;
		uint64_t n = gpa_run(p, va, end, &gpa);
		rc = mem_back(p->mem, gpa, n, fd, off + (va - start), how);
		va += n * PAGE_SIZE;
	}
	return rc;
}

/* hugetlb memory: one run of guest-physical pages whose host address is aligned as the
 * host's huge pages must be, with the hugetlb file (for anonymous memory a memfd of
 * sys/mm.c's) mapped over it whole. The entries are 4 KiB ones all the same. */
static int back_huge(struct proc *p, gva_t start, gva_t end, int prot, unsigned flags, int fd,
		     uint64_t off)
{
	uint64_t pages = (end - start) / PAGE_SIZE, f = pte_flags(prot);
	gpa_t gpa;
	if (p->mem->used_pages + pages + 8 > p->mem->size / PAGE_SIZE ||
	    mem_alloc_aligned(p->mem, pages, mm_page_size(flags), &gpa) < 0)
		return -ENOMEM;
	for (uint64_t i = 0; i < pages; i++)
		mem_set_pte(p->mem, start + i * PAGE_SIZE, (gpa + i * PAGE_SIZE) | (f ? f | PTE_A : 0));
	return mem_back(p->mem, gpa, pages, fd, off, backing(flags));
}

/* Would a cut at 'va' split one of its VMA's huge pages? */
static bool splits_huge(struct proc *p, gva_t va)
{
	const struct vma *v = mm_find(p, va);
	return v && (v->flags & VMA_HUGE) && v->start < va && (va & (mm_page_size(v->flags) - 1));
}

bool mm_cut_huge(struct proc *p, gva_t start, gva_t end)
{
	return splits_huge(p, start) || splits_huge(p, end);
}

int mm_host_call(struct proc *p, gva_t start, gva_t end, mm_host_fn *fn, const void *ctx)
{
	int rc = 0;
	for (gva_t va = start; va < end;) {
		gpa_t gpa;
		uint64_t n = gpa_run(p, va, end, &gpa);
		if (gpa && fn(mem_hva(p->mem, gpa), n * PAGE_SIZE, va, ctx) < 0)
			rc = -errno;
		va += n * PAGE_SIZE;
	}
	return rc;
}

void mm_set_pgoff(struct proc *p, gva_t start, gva_t end, uint64_t pgoff)
{
	vma_split(p, start);
	vma_split(p, end);
	for (size_t i = vma_index_after(p, start); i < p->ps->nvma && p->ps->vmas[i].start < end; i++)
		p->ps->vmas[i].pgoff = pgoff + (p->ps->vmas[i].start - start) / PAGE_SIZE;
}

/* Linux's is_data_mapping: private, writable, not the stack (RLIMIT_DATA counts it). */
static bool is_data(int prot, unsigned flags)
{
	return (prot & PROT_WRITE) && !(flags & (VMA_SHARED | VMA_SHM | VMA_GROWSDOWN));
}

bool mm_may_expand(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags)
{
	const struct process *ps = p->ps;
	bool as = ps->rlim_as.rlim_cur != RLIM_INFINITY;
	bool data = ps->rlim_data.rlim_cur != RLIM_INFINITY && is_data(prot, flags);
	if (!as && !data)
		return true;
	uint64_t total = len, data_vm = len;
	for (size_t i = 0; i < ps->nvma; i++) {
		const struct vma *v = &ps->vmas[i];
		gva_t a = MAX(v->start, start), b = MIN(v->end, start + len);
		uint64_t kept = (v->end - v->start) - (a < b ? b - a : 0);
		total += kept;
		data_vm += is_data(v->prot, v->flags) ? kept : 0;
	}
	return (!as || total <= ps->rlim_as.rlim_cur) && (!data || data_vm <= ps->rlim_data.rlim_cur);
}

/* Host VMAs kept for kvmse's own mappings (its libraries, heap, thread stacks, vCPUs)
 * under vm.max_map_count, which counts both. */
#define HOST_VMA_RESERVE 4096

static int map(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags,
	       uint64_t pgoff, int fd)
{
	if (p->ps->nvma > max_map_count() || !mm_may_expand(p, start, len, prot, flags))
		return -ENOMEM;
	/* A shared, droppable or file mapping is a host mapping inside guest memory: it
	 * splits kvmse's one, up to two host VMAs more each. Past the host's limit, kvmse
	 * could no longer change its own mappings: the program's mmap is ENOMEM first. */
	if (((flags & (VMA_SHARED | VMA_DROPPABLE)) || fd >= 0) &&
	    2 * (p->mem->nbacked + 1) + HOST_VMA_RESERVE >= max_map_count())
		return -ENOMEM;
	mm_unmap(p, start, len);
	size_t i = vma_index_after(p, start);
	vma_insert(p, i, (struct vma){ start, start + len, prot, flags, pgoff, 0 });
	int rc = 0;
	if (flags & VMA_HUGE)
		rc = back_huge(p, start, start + len, prot, flags, fd, pgoff * PAGE_SIZE);
	else if ((flags & (VMA_SHARED | VMA_DROPPABLE)) || fd >= 0)
		rc = back(p, start, start + len, prot, flags, fd, pgoff * PAGE_SIZE);
	else if (pte_flags(prot) && len < LAZY_MIN)
		rc = populate(p, start, start + len, prot, true);
	if (rc < 0) {
		mm_unmap(p, start, len);
		return rc;
	}
	vma_merge(p, i);
	return 0;
}

int mm_map_at(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags, uint64_t pgoff)
{
	return map(p, start, len, prot, flags, pgoff, -1);
}

int mm_map_backed(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags,
		  uint64_t pgoff, int fd)
{
	return map(p, start, len, prot, flags, pgoff, fd);
}

/* Give [start, end), inside one VMA, protection 'prot'. */
static int protect_one(struct proc *p, gva_t start, gva_t end, int prot)
{
	const struct vma *v0 = mm_find(p, start);
	if ((prot & PROT_WRITE) && (v0->flags & VMA_NOWRITE))
		return -EACCES;
	/* Memory made private and writable counts against RLIMIT_DATA (mprotect_fixup). */
	if (is_data(prot, v0->flags) && !is_data(v0->prot, v0->flags) &&
	    !mm_may_expand(p, start, end - start, prot, v0->flags))
		return -ENOMEM;
	if (v0->prot != prot) {         /* each split, as Linux's split_vma, needs room */
		size_t splits = (v0->start < start) + (end < v0->end);
		if (splits && p->ps->nvma + splits - 1 >= max_map_count())
			return -ENOMEM;
	}
	vma_split(p, start);
	vma_split(p, end);
	size_t i = vma_index_after(p, start);
	struct vma *v = &p->ps->vmas[i];
	uint64_t flags = pte_flags(prot);
	v->prot = prot;
	/* Memory reserved PROT_NONE and opened a part at a time (thread stacks with their
	 * guard, arenas) is mostly never touched: its entries start not accessed, so that
	 * unmapping the rest costs no flush. */
	if (flags && !(v->uffd & UFFDIO_REGISTER_MODE_MISSING) && end - start < LAZY_MIN) {
		int rc = populate(p, start, end, prot, false);
		if (rc < 0)
			return rc;
	}
	for (gva_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = mem_pte(p->mem, va, false);
		/* A PROT_NONE page keeps its backing in the absent entry's address bits; a
		 * write-protected one stays so, and a guard page a guard page. */
		if (pte && (*pte & PTE_ADDR) && !(*pte & PTE_SW_GUARD))
			mem_set_pte(p->mem, va, (*pte & PTE_ADDR) |
				    ((*pte & PTE_SW_WP) && flags ? (flags & ~PTE_W) | PTE_SW_WP : flags));
	}
	vma_merge(p, i);
	return 0;
}

void mm_set_flag(struct proc *p, gva_t start, gva_t end, unsigned flag, bool on)
{
	for (gva_t va = start; va < end;) {
		struct vma *v = mm_find(p, va);
		if (!v) {
			size_t i = vma_index_after(p, va);
			va = i < p->ps->nvma ? p->ps->vmas[i].start : end;
			continue;
		}
		gva_t stop = MIN(v->end, end);
		vma_split(p, va);
		vma_split(p, stop);
		size_t i = vma_index_after(p, va);
		v = &p->ps->vmas[i];
		v->flags = on ? v->flags | flag : v->flags & ~flag;
		vma_merge(p, i);
		va = stop;
	}
}

int mm_protect(struct proc *p, gva_t start, uint64_t len, int prot)
{
	gva_t end = start + len;
	/* As Linux: VMA after VMA from 'start'; a hole stops it with ENOMEM, what was
	 * changed before it stays changed. */
	for (gva_t va = start; va < end;) {
		struct vma *v = mm_find(p, va);
		if (!v)
			return -ENOMEM;
		gva_t stop = MIN(v->end, end);
		int rc = protect_one(p, va, stop, prot);
		if (rc < 0)
			return rc;
		va = stop;
	}
	return 0;
}

bool mm_range_free(struct proc *p, gva_t start, uint64_t len)
{
	if (start + len < start || start + len > (1ULL << 47) - PAGE_SIZE)
		return false;
	struct vma *v = mm_next(p, start);
	return !v || v->start >= start + len;
}

gva_t mm_find_free(struct proc *p, uint64_t len)
{
	gva_t top = p->ps->mmap_base;
	for (size_t i = p->ps->nvma; i-- > 0;) {
		struct vma *v = &p->ps->vmas[i];
		if (v->start >= top)
			continue;
		if (v->end <= top && top - v->end >= len)
			return top - len;
		top = v->start;
	}
	return top >= len + (1ULL << 16) ? top - len : 0;
}

/* userfaultfd's page states (proc.h). */

/* The present entry for backing 'e' (its address bits) in VMA v. */
static uint64_t present_entry(const struct vma *v, uint64_t e)
{
	return (e & PTE_ADDR) | pte_flags(v->prot) | PTE_A;
}

static bool host_resident(struct proc *p, gpa_t gpa)
{
	unsigned char vec = 0;
	return mincore(mem_hva(p->mem, gpa), PAGE_SIZE, &vec) == 0 && (vec & 1);
}

/* Private memory that reads as zeros was (as far as kvmse can tell) never touched:
 * Linux would have no page there. (The host's residency cannot say: a transparent huge
 * page makes its neighbours resident.) */
static bool zero_page(struct proc *p, gpa_t gpa)
{
	const uint64_t *w = mem_hva(p->mem, gpa);
	for (size_t i = 0; i < PAGE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* A MINOR page is one the page cache holds: the host's page of the file is resident. */
static unsigned uffd_reason(struct proc *p, const struct vma *v, const uint64_t *pte, bool write)
{
	uint64_t e = pte ? *pte : 0;
	if ((v->uffd & UFFDIO_REGISTER_MODE_MISSING) && !(e & (PTE_ADDR | PTE_SW_BUS)))
		return UFFDIO_REGISTER_MODE_MISSING;
	if ((v->uffd & UFFDIO_REGISTER_MODE_WP) && write && (e & PTE_SW_WP))
		return UFFDIO_REGISTER_MODE_WP;
	if ((v->uffd & UFFDIO_REGISTER_MODE_MINOR) && (e & PTE_ADDR) && !(e & PTE_P) &&
	    host_resident(p, e & PTE_ADDR))
		return UFFDIO_REGISTER_MODE_MINOR;
	return 0;
}

unsigned mm_uffd_reason(struct proc *p, gva_t addr, bool write, unsigned *reg)
{
	struct vma *v = mm_find(p, addr);
	*reg = v ? v->uffd : 0;
	return v && v->uffd ? uffd_reason(p, v, mem_pte(p->mem, addr, false), write) : 0;
}

/* Linux's vma_can_userfault: private anonymous memory, or shared memory (MINOR only
 * here: kvmse's shared pages are always the host's, never missing). */
static int uffd_can(const struct vma *v, unsigned modes)
{
	bool shared = v->flags & VMA_SHARED, file = v->flags >> VMA_FILE_SHIFT;
	if (modes & UFFDIO_REGISTER_MODE_MINOR)
		return shared && !(modes & ~UFFDIO_REGISTER_MODE_MINOR) ? 0 : -EINVAL;
	return shared || file || (v->flags & VMA_SHM) ? -EINVAL : 0;
}

/* Apply VMA v's registration to its pages, or undo what no longer applies. */
static void uffd_arm(struct proc *p, const struct vma *v)
{
	unsigned m = v->uffd & MM_UFFD_MODES;
	bool accessible = pte_flags(v->prot);
	for (gva_t va = v->start; va < v->end; va += PAGE_SIZE) {
		uint64_t *pte = mem_pte(p->mem, va, false);
		uint64_t e = pte ? *pte : 0;
		if (!(e & PTE_ADDR)) {
			/* missing: it stays so, or gets its page (a poisoned one stays poisoned) */
			if (!e && !(m & UFFDIO_REGISTER_MODE_MISSING) && accessible)
				populate(p, va, va + PAGE_SIZE, v->prot, false);
		} else if ((m & UFFDIO_REGISTER_MODE_MISSING) && zero_page(p, e & PTE_ADDR)) {
			depopulate(p, va, va + PAGE_SIZE);
		} else if ((m & UFFDIO_REGISTER_MODE_MINOR) && (e & PTE_P)) {
			mem_set_pte(p->mem, va, e & PTE_ADDR);
		} else if ((!(m & UFFDIO_REGISTER_MODE_MINOR) && accessible && !(e & PTE_P)) ||
			   (!(m & UFFDIO_REGISTER_MODE_WP) && (e & PTE_SW_WP))) {
			mem_set_pte(p->mem, va, present_entry(v, e));
		}
	}
}

/* Give the VMAs meeting [start, end) registration 'reg': every one (only -2), those
 * registered (-1), or those of context 'only'. */
static void uffd_set(struct proc *p, gva_t start, gva_t end, unsigned reg, int only)
{
	for (size_t i = vma_reaching(p->ps, start); i < p->ps->nvma && p->ps->vmas[i].start < end; i++) {
		struct vma *v = &p->ps->vmas[i];
		if ((only == -1 && !v->uffd) || (only >= 0 && v->uffd >> 4 != MM_UFFD_CTX(only) >> 4))
			continue;
		gva_t s = MAX(v->start, start), e = MIN(v->end, end);
		vma_split(p, s);
		vma_split(p, e);
		i = vma_index_after(p, s);
		v = &p->ps->vmas[i];
		v->uffd = reg;
		uffd_arm(p, v);
	}
	for (size_t i = vma_reaching(p->ps, start); i < p->ps->nvma && p->ps->vmas[i].start < end;) {
		size_t n = p->ps->nvma;
		vma_merge(p, i);
		i += p->ps->nvma == n;
	}
}

int mm_uffd_register(struct proc *p, gva_t start, gva_t end, unsigned reg)
{
	struct vma *first = mm_next(p, start);
	if (!first)
		return -ENOMEM;
	if (first->start >= end)
		return -EINVAL;
	for (size_t i = vma_reaching(p->ps, start); reg && i < p->ps->nvma && p->ps->vmas[i].start < end; i++) {
		const struct vma *v = &p->ps->vmas[i];
		int rc = uffd_can(v, reg & MM_UFFD_MODES);
		if (rc)
			return rc;
		if (v->uffd && v->uffd >> 4 != reg >> 4)
			return -EBUSY;
	}
	uffd_set(p, start, end, reg, reg ? -2 : -1);
	return 0;
}

void mm_uffd_drop(struct proc *p, int ctx)
{
	uffd_set(p, 0, 1ULL << 47, 0, ctx);
}

/* The VMA at 'va' if context ctx registered it with 'mode', else NULL. */
static struct vma *uffd_vma(struct proc *p, int ctx, gva_t va, unsigned mode)
{
	struct vma *v = mm_find(p, va);
	return v && v->uffd >> 4 == MM_UFFD_CTX(ctx) >> 4 && (v->uffd & mode) ? v : NULL;
}

/* A missing page's entry, for a fill: NULL with *rc set if it is not missing. A poisoned
 * page is missing to all but POISON ('strict'), as Linux's pte_none_mostly says. */
static uint64_t *uffd_missing(struct proc *p, const struct vma *v, gva_t va, bool strict, int *rc)
{
	*rc = -ENOENT;
	if (!v)
		return NULL;
	*rc = -ENOMEM;
	if (p->mem->used_pages + 9 > p->mem->size / PAGE_SIZE)
		return NULL;
	uint64_t *pte = mem_pte(p->mem, va, true);
	*rc = *pte & (strict ? ~0ULL : PTE_ADDR) ? -EEXIST : 0;
	return *rc ? NULL : pte;
}

int mm_uffd_fill(struct proc *p, int ctx, gva_t va, const void *data, bool wp)
{
	int rc;
	const struct vma *v = uffd_vma(p, ctx, va, UFFDIO_REGISTER_MODE_MISSING);
	if (!uffd_missing(p, v, va, false, &rc))
		return rc;
	gpa_t gpa;
	if (!mem_alloc(p->mem, 1, &gpa))
		return -ENOMEM;
	/* filled before it is mapped: no other thread may see it half written */
	if (data)
		memcpy(mem_hva(p->mem, gpa), data, PAGE_SIZE);
	uint64_t e = present_entry(v, gpa);
	if (wp && (v->uffd & UFFDIO_REGISTER_MODE_WP))
		e = (e & ~PTE_W) | PTE_SW_WP;
	mem_set_pte(p->mem, va, e);
	return 0;
}

/* The source page itself moves; the source is missing after, or (not registered so) a
 * fresh zero page. */
int mm_uffd_move(struct proc *p, int ctx, gva_t dst, gva_t src)
{
	int rc;
	const struct vma *v = uffd_vma(p, ctx, dst, UFFDIO_REGISTER_MODE_MISSING);
	const struct vma *sv = mm_find(p, src);
	uint64_t *pte = uffd_missing(p, v, dst, false, &rc);
	if (!pte)
		return rc;
	if (!sv || uffd_can(sv, UFFDIO_REGISTER_MODE_MISSING))
		return -EINVAL;
	uint64_t *spte = mem_pte(p->mem, src, false);
	if (!spte || !(*spte & PTE_P))
		return -ENOENT;
	gpa_t gpa = *spte & PTE_ADDR;
	mem_set_pte(p->mem, src, 0);
	mem_set_pte(p->mem, dst, present_entry(v, gpa));
	if (!(sv->uffd & UFFDIO_REGISTER_MODE_MISSING))
		populate(p, src, src + PAGE_SIZE, sv->prot, false);
	return 0;
}

int mm_uffd_poison(struct proc *p, int ctx, gva_t va)
{
	int rc;
	uint64_t *pte = uffd_missing(p, uffd_vma(p, ctx, va, UFFDIO_REGISTER_MODE_MISSING), va, true, &rc);
	if (pte)
		*pte = PTE_SW_BUS;      /* (absent before and after: nothing to flush) */
	return rc;
}

int mm_uffd_continue(struct proc *p, int ctx, gva_t va)
{
	const struct vma *v = uffd_vma(p, ctx, va, UFFDIO_REGISTER_MODE_MINOR);
	uint64_t *pte = v ? mem_pte(p->mem, va, false) : NULL;
	if (!v)
		return -ENOENT;
	if (!pte || !(*pte & PTE_ADDR))
		return -EFAULT;
	if (*pte & PTE_P)
		return -EEXIST;
	mem_set_pte(p->mem, va, present_entry(v, *pte));
	return 0;
}

/* Every present page is protected, touched or not (UFFD_FEATURE_WP_UNPOPULATED's way):
 * no write may escape the context. */
int mm_uffd_wp(struct proc *p, int ctx, gva_t va, bool on)
{
	const struct vma *v = uffd_vma(p, ctx, va, UFFDIO_REGISTER_MODE_WP);
	if (!v)
		return -ENOENT;
	uint64_t *pte = mem_pte(p->mem, va, false);
	if (!pte || !(*pte & PTE_P) || !!(*pte & PTE_SW_WP) == on)
		return 0;
	if (on)
		mem_set_pte(p->mem, va, (*pte & ~PTE_W) | PTE_SW_WP);
	else
		mem_set_pte(p->mem, va, present_entry(v, *pte));
	return 0;
}

/* Pages for the block of LAZY_BLOCK around 'addr', inside VMA v (what it has kept). A
 * fault just past the last block filled doubles the block, up to LAZY_BLOCK_MAX, as a
 * readahead would: a program touching memory in order takes a few dozen VM exits per
 * GiB, not 512. */
static int fill(struct proc *p, const struct vma *v, gva_t addr)
{
	struct process *ps = p->ps;
	gva_t block = addr & ~(LAZY_BLOCK - 1);
	uint64_t len = LAZY_BLOCK;
	if (block == ps->fill_next)
		len = MIN(2 * ps->fill_len, LAZY_BLOCK_MAX);
	gva_t end = MIN(block + len, v->end);
	int rc = populate(p, MAX(block, v->start), end, v->prot, true);
	ps->fill_next = end;
	ps->fill_len = len;
	return rc;
}

/* The host's memory behind them too, as Linux's populate faults pages in (best effort:
 * hosts before 5.14 have no MADV_POPULATE_WRITE, and the memory comes at first touch). */
static int host_populate(void *a, size_t n, gva_t va, const void *unused)
{
	(void)va;
	(void)unused;
	(void)madvise(a, n, MADV_POPULATE_WRITE);
	return 0;
}

int mm_populate(struct proc *p, gva_t start, gva_t end)
{
	for (gva_t va = start; va < end;) {
		const struct vma *v = mm_find(p, va);
		if (!v) {
			struct vma *n = mm_next(p, va);
			va = n ? n->start : end;
			continue;
		}
		gva_t stop = MIN(v->end, end);
		/* (shared and file mappings have all their pages from the start) */
		if (pte_flags(v->prot) && !(v->uffd & UFFDIO_REGISTER_MODE_MISSING) &&
		    !(v->flags & VMA_SHARED) && !mm_file_of(p, v)) {
			int rc = populate(p, va, stop, v->prot, true);
			if (rc < 0)
				return rc;
			mm_host_call(p, va, stop, host_populate, NULL);
		}
		va = stop;
	}
	return 0;
}

/* mem.c's miss hook: kvmse's own access to a page the program has not touched yet gets
 * the page, as a kernel's copy_to_user faults it in. A stack does not grow for it (nor
 * does Linux's since 6.5), and a userfaultfd's page waits for its handler, so EFAULT. */
int mm_miss(void *ctx, gva_t va, bool write)
{
	struct process *ps = ctx;
	struct proc p = { .ps = ps, .mem = &ps->mem };  /* (all the memory map uses of it) */
	bool held = mem_held;
	if (!held)
		mem_lock(p.mem);
	const struct vma *v = mm_find(&p, va);
	int rc = v && !v->uffd ? mm_fault(&p, va, write, false) : -1;
	if (!held)
		mem_unlock(p.mem);
	return rc;
}

int mm_fault(struct proc *p, gva_t addr, bool write, bool exec)
{
	struct vma *v = mm_find(p, addr);
	if (v) {
		if ((write && !(v->prot & PROT_WRITE)) || (exec && !(v->prot & PROT_EXEC)) ||
		    !(v->prot & (PROT_READ | PROT_WRITE | PROT_EXEC)))
			return SEGV_ACCERR;
		uint64_t *pte = mem_pte(p->mem, addr, false);
		if (pte && (*pte & PTE_SW_GUARD))
			return SEGV_MAPERR;
		if (v->uffd && uffd_reason(p, v, pte, write))
			return MM_UFFD;
		if (pte && (*pte & PTE_SW_BUS))
			return MM_SIGBUS;
		if (write && pte && (*pte & (PTE_SW_WP | PTE_P)) == (PTE_SW_WP | PTE_P)) {
			/* write-protected by a context since gone (or the page moved) */
			mem_set_pte(p->mem, addr, present_entry(v, *pte));
			return 0;
		}
		if (pte && (*pte & PTE_P))
			return 0;       /* another thread mapped it meanwhile */
		if (pte && (*pte & PTE_ADDR)) {
			/* a MINOR page not in the page cache, or one of a context gone */
			mem_set_pte(p->mem, addr, present_entry(v, *pte));
			return 0;
		}
		/* Allowed by the VMA: a page not touched before (LAZY_MIN). */
		return fill(p, v, addr) ? SEGV_MAPERR : 0;
	}
	/* Below a stack (the main one, or any MAP_GROWSDOWN mapping): grow it, to at most
	 * RLIMIT_STACK from its top, and clear of the accessible mapping below (Linux's
	 * acct_stack_growth and stack_guard_gap). */
	size_t i = vma_index_after(p, addr);
	if (i == p->ps->nvma || !(p->ps->vmas[i].flags & VMA_GROWSDOWN))
		return SEGV_MAPERR;
	struct vma *s = &p->ps->vmas[i];
	gva_t floor = s->end - MIN(p->ps->rlim_stack, s->end);
	const struct vma *prev = i ? &p->ps->vmas[i - 1] : NULL;
	gva_t below = prev && !(prev->flags & VMA_GROWSDOWN) && prev->prot ? prev->end + STACK_GUARD_GAP :
		      prev ? prev->end : 0;
	if (addr < floor || addr < below)
		return SEGV_MAPERR;
	gva_t new_start = PAGE_ALIGN_DOWN(addr) > STACK_GROW_CHUNK ? PAGE_ALIGN_DOWN(addr) - STACK_GROW_CHUNK : 0;
	new_start = MAX(new_start, MAX(PAGE_ALIGN_UP(floor), below));
	if (populate(p, new_start, s->start, s->prot, true) < 0)
		return SEGV_MAPERR;
	s->start = new_start;
	STAT_INC(p->ps->stats.stack_growths);
	return 0;
}

#define FILES_MAX (1u << 20)

/* The VMA flags that name file (dev, ino), known as 'path' if not met before. */
static unsigned file_named(struct process *ps, dev_t dev, ino_t ino, const char *path)
{
	for (unsigned i = 0; i < ps->nfiles; i++)
		if (ps->files[i].dev == dev && ps->files[i].ino == ino)
			return (i + 1) << VMA_FILE_SHIFT;
	if (ps->nfiles == FILES_MAX)
		return 0;
	ps->files = xrealloc(ps->files, (ps->nfiles + 1) * sizeof(*ps->files));
	ps->files[ps->nfiles++] = (struct mapped_file){ dev, ino, xstrdup(path) };
	return ps->nfiles << VMA_FILE_SHIFT;
}

/* The VMA flags that name the file open on host descriptor 'fd' (0 if it has no name). */
unsigned mm_file_as(struct proc *p, int fd, const char *name)
{
	struct stat st;
	return fstat(fd, &st) < 0 ? 0 : file_named(p->ps, st.st_dev, st.st_ino, name);
}

unsigned mm_file(struct proc *p, int fd)
{
	char path[PATH_MAX];
	return fd_target(fd, path, sizeof(path)) <= 0 ? 0 : mm_file_as(p, fd, path);
}

/*
 * System V shared memory segment 'shmid' (key 'key') attached at [start, start+len),
 * replacing what was there. The host attaches a segment whole, so its pages are one
 * run of guest-physical memory. Named as Linux names it: its inode is the id, on the
 * kernel's internal shm mount (device 0:1 on a usual boot).
 */
int mm_map_shm(struct proc *p, gva_t start, uint64_t len, int prot, int shmid, int shmflg, key_t key)
{
	struct mem *m = p->mem;
	uint64_t pages = len / PAGE_SIZE;
	gpa_t gpa;
	if (m->used_pages + pages + 8 > m->size / PAGE_SIZE)
		return -ENOMEM;
	uint64_t got = mem_alloc(m, pages, &gpa);
	if (got < pages) {
		if (got)
			mem_free(m, gpa, got);
		return -ENOMEM;
	}
	int rc = mem_back_shm(m, gpa, pages, shmid, shmflg);
	if (rc < 0) {
		mem_free(m, gpa, pages);
		return rc;
	}
	char name[32];
	snprintf(name, sizeof(name), "/SYSV%08x (deleted)", (unsigned)key);
	unsigned flags = VMA_SHARED | VMA_SHM | ((shmflg & SHM_RDONLY) ? VMA_NOWRITE : 0) |
			 file_named(p->ps, makedev(0, 1), (ino_t)shmid, name);
	mm_unmap(p, start, len);
	size_t i = vma_index_after(p, start);
	vma_insert(p, i, (struct vma){ start, start + len, prot, flags, 0, 0 });
	uint64_t f = pte_flags(prot) | PTE_A;
	for (uint64_t n = 0; n < pages; n++)
		mem_set_pte(m, start + n * PAGE_SIZE, (gpa + n * PAGE_SIZE) | f);
	return 0;
}

/*
 * shmdt: the first VMA of a segment attached at 'addr' (Linux: one whose page offset
 * is its distance from addr, so what munmap or mprotect left of an attach counts), and
 * those of the same segment that follow it the same way. 0, or -EINVAL if none.
 */
int mm_shm_detach(struct proc *p, gva_t addr)
{
	struct process *ps = p->ps;
	size_t i = vma_index_after(p, addr);
	while (i < ps->nvma && !((ps->vmas[i].flags & VMA_SHM) &&
				 ps->vmas[i].start - addr == ps->vmas[i].pgoff * PAGE_SIZE))
		i++;
	if (i == ps->nvma)
		return -EINVAL;
	unsigned file = ps->vmas[i].flags >> VMA_FILE_SHIFT;
	while (i < ps->nvma && (ps->vmas[i].flags & VMA_SHM) &&
	       ps->vmas[i].flags >> VMA_FILE_SHIFT == file &&
	       ps->vmas[i].start - addr == ps->vmas[i].pgoff * PAGE_SIZE) {
		depopulate(p, ps->vmas[i].start, ps->vmas[i].end);
		vma_remove(p, i);
	}
	return 0;
}

/* Every segment attached goes (a process that ends: kvmse's memory may outlive it). */
void mm_shm_detach_all(struct proc *p)
{
	struct process *ps = p->ps;
	for (size_t i = 0; i < ps->nvma;) {
		if (ps->vmas[i].flags & VMA_SHM) {
			depopulate(p, ps->vmas[i].start, ps->vmas[i].end);
			vma_remove(p, i);
		} else {
			i++;
		}
	}
}

const struct mapped_file *mm_file_of(const struct proc *p, const struct vma *v)
{
	unsigned id = v->flags >> VMA_FILE_SHIFT;
	return id ? &p->ps->files[id - 1] : NULL;
}

static void files_free(struct process *ps)
{
	for (unsigned i = 0; i < ps->nfiles; i++)
		free(ps->files[i].path);
	free(ps->files);
	ps->files = NULL;
	ps->nfiles = 0;
}

/* The memory map's own memory, at the end. */
void mm_free(struct process *ps)
{
	files_free(ps);
	free(ps->vmas);
}

/* Every mapping goes, and the files they named. */
void mm_reset(struct proc *p)
{
	mem_pte_hook hook = p->mem->hook;
	p->mem->hook = NULL;     /* (edits of a tree about to be left) */
	mm_unmap(p, 0, 1ULL << 47);     /* all of user memory */
	p->mem->hook = hook;
	mem_new_root(p->mem);
	files_free(p->ps);
}

void mm_past_eof(struct proc *p, gva_t start, uint64_t len)
{
	depopulate(p, start, start + len);
	for (gva_t va = start; va < start + len; va += PAGE_SIZE)
		*mem_pte(p->mem, va, true) = PTE_SW_BUS;
}

void mm_move(struct proc *p, gva_t old, gva_t new, uint64_t len)
{
	struct vma *v = mm_find(p, old);
	int prot = v->prot;
	unsigned flags = v->flags & ~VMA_GROWSDOWN;
	uint64_t pgoff = v->pgoff + (old - v->start) / PAGE_SIZE;
	mm_unmap(p, new, len);
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		uint64_t *src = mem_pte(p->mem, old + off, false);
		if (!src || !(*src & PTE_ADDR))
			continue;
		uint64_t val = *src;
		mem_set_pte(p->mem, old + off, 0);
		mem_set_pte(p->mem, new + off, val);
	}
	/* The pages have moved: only the VMA remains to drop at the old place. */
	mm_unmap(p, old, len);
	size_t i = vma_index_after(p, new);
	/* (a registration stays behind, as Linux drops it without UFFD_FEATURE_EVENT_REMAP) */
	vma_insert(p, i, (struct vma){ new, new + len, prot, flags, pgoff, 0 });
	vma_merge(p, i);
}

int mm_poke(struct proc *p, gva_t va, const void *src, uint64_t len)
{
	const uint8_t *s = src;
	while (len) {
		uint64_t *pte = mem_pte(p->mem, va, false);
		const struct vma *v = pte && (*pte & PTE_ADDR) ? NULL : mm_find(p, va);
		if (v && !v->uffd && fill(p, v, va) == 0)       /* (a page not touched yet) */
			pte = mem_pte(p->mem, va, false);
		if (!pte || !(*pte & PTE_ADDR))
			return -EFAULT;
		uint64_t off = va & (PAGE_SIZE - 1);
		uint64_t chunk = MIN(PAGE_SIZE - off, len);
		memcpy((uint8_t *)mem_hva(p->mem, *pte & PTE_ADDR) + off, s, chunk);
		va += chunk;
		s += chunk;
		len -= chunk;
	}
	return 0;
}

void mm_zero(struct proc *p, gva_t start, uint64_t len)
{
	const struct vma *v = mm_find(p, start);
	if (v && (v->uffd & UFFDIO_REGISTER_MODE_MISSING)) {
		depopulate(p, start, start + len);      /* missing again, as on Linux */
		return;
	}
	for (gva_t va = start; va < start + len; va += PAGE_SIZE) {
		uint64_t *pte = mem_pte(p->mem, va, false);
		if (pte && (*pte & PTE_ADDR))
			mem_zero(p->mem, *pte & PTE_ADDR, 1);
	}
}

void mm_guard(struct proc *p, gva_t start, gva_t end, bool on)
{
	const struct vma *v = mm_find(p, start);
	for (gva_t va = start; va < end; va += PAGE_SIZE) {
		uint64_t *pte = mem_pte(p->mem, va, on);
		if (!pte || !!(*pte & PTE_SW_GUARD) == on)
			continue;
		uint64_t e = *pte & PTE_ADDR;
		if (on)
			mem_set_pte(p->mem, va, e | PTE_SW_GUARD);
		else
			*pte = e && v->prot != PROT_NONE ? present_entry(v, e) : e;
	}
}
