/* vfork.c - the memory a vfork child shares with its parent.
 *
 * A child made with CLONE_VM|CLONE_VFORK (vfork, posix_spawn) runs on its parent's memory
 * until it execs or exits, and the parent sees what it wrote: glibc's posix_spawn child
 * stores its execve error in the parent's stack. A kvmse child is a host fork with its own
 * copy, so when it leaves, it sends the parent what it has written of the parent's memory,
 * and the parent, asleep until then, copies it in.
 *
 * A parent of one thread is all asleep: the child sends every page it wrote. The host
 * tells which: after the fork, a page is mapped by both processes until one writes it,
 * and then the writer's copy is its own ("exclusively mapped" in /proc/self/pagemap). A
 * page the parent had not touched yet (mm.c fills big mappings as touched) is new in the
 * child: it goes by its address, and the parent fills it in.
 *
 * A parent's other threads go on writing its memory meanwhile, and their stores make the
 * child's copies exclusive too. Then only the calling thread's stack (its VMA) is taken,
 * where glibc's posix_spawn child leaves its error and a vfork child its parent's locals;
 * the child keeps those pages as they were at the fork, and sends only the bytes it
 * changed. (That VMA may hold other mappings, merged with the stack: a thread's stack
 * given by the program, or a mapping made next to it.) */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define PM_PRESENT   (1ULL << 63)
#define PM_EXCLUSIVE (1ULL << 56)
#define BATCH 512

static void set_bit(uint64_t *map, uint64_t n) { map[n / 64] |= 1ULL << (n % 64); }
static bool bit(const uint64_t *map, uint64_t n) { return map[n / 64] >> (n % 64) & 1; }

/* A page of the parent's as it was at the fork. */
struct vfork_page {
	gpa_t gpa;
	uint8_t data[PAGE_SIZE];
};

/* Keep page 'va' (at 'gpa') as it is, unless it cannot be read (a file's page past
 * its end: the child cannot have written it either). */
static void keep_base(struct proc *p, gva_t va, gpa_t gpa, size_t *cap)
{
	struct process *ps = p->ps;
	if (ps->vfork_nbase == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		ps->vfork_base = realloc(ps->vfork_base, *cap * sizeof(*ps->vfork_base));
		if (!ps->vfork_base)
			die("out of memory");
	}
	struct vfork_page *b = &ps->vfork_base[ps->vfork_nbase];
	b->gpa = gpa;
	if (mem_read(p->mem, b->data, va, PAGE_SIZE) == 0)
		ps->vfork_nbase++;
}

/* In the child: which guest-physical pages hold the parent's memory right now, all of
 * it or (other_threads) the VMA around 'sp', kept as they are. */
void vfork_snapshot(struct proc *p, bool other_threads, gva_t sp)
{
	struct process *ps = p->ps;
	if (!other_threads) {
		ps->vfork_pages = calloc((p->mem->size / PAGE_SIZE + 63) / 64, 8);
		if (!ps->vfork_pages)
			die("out of memory");
	}
	size_t cap = 0;
	for (size_t i = 0; i < ps->nvma; i++) {
		const struct vma *v = &ps->vmas[i];
		if (other_threads && (sp < v->start || sp >= v->end))
			continue;
		for (gva_t va = v->start; va < v->end; va += PAGE_SIZE) {
			uint64_t *pte = mem_pte(p->mem, va, false);
			gpa_t gpa = pte ? *pte & PTE_ADDR : 0;
			if (!pte)       /* no page table: on to the next 2 MiB */
				va = (va | ((2ULL << 20) - 1)) + 1 - PAGE_SIZE;
			if (!gpa)
				continue;
			if (other_threads)
				keep_base(p, va, gpa, &cap);
			else
				set_bit(ps->vfork_pages, gpa / PAGE_SIZE);
		}
	}
}

static void write_all(int fd, struct iovec *iov, int n)
{
	while (n) {
		ssize_t w = writev(fd, iov, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die_errno("vfork: cannot send memory to the parent");
		while (n && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/* A process whose credentials changed is not dumpable, and its /proc/self/pagemap then
 * belongs to root: a guest that made itself nobody and then vforked would be refused. The
 * child is about to exec or exit, so it may be dumpable for the moment of the open. */
static int open_pagemap(void)
{
	int pm = fd_proc_open("self/pagemap", O_RDONLY);
	if (pm >= 0 || errno != EACCES)
		return pm;
	int dumpable = prctl(PR_GET_DUMPABLE);
	if (dumpable < 0 || dumpable == 1) {
		errno = EACCES;
		return -1;
	}
	if (prctl(PR_SET_DUMPABLE, 1) < 0)
		return -1;
	pm = fd_proc_open("self/pagemap", O_RDONLY);
	int err = errno;
	if (prctl(PR_SET_DUMPABLE, dumpable) < 0)
		die_errno("vfork: PR_SET_DUMPABLE");
	errno = err;
	return pm;
}

/* What the child sends: 'len' bytes for 'addr', a guest-physical address, or with
 * VFORK_NEW a virtual one, of a whole page new to the parent. */
#define VFORK_NEW 1u
struct vfork_rec {
	uint64_t addr;
	uint32_t len, flags;
};

static void send(int fd, uint64_t addr, const void *data, uint32_t len, uint32_t flags)
{
	struct vfork_rec h = { addr, len, flags };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, len } };
	write_all(fd, iov, 2);
}

/* Each page the child has that its parent had not (in a mapping the parent has, then). */
static void send_new(struct proc *p, int fd)
{
	struct process *ps = p->ps;
	for (size_t i = 0; i < ps->nvma; i++) {
		const struct vma *v = &ps->vmas[i];
		if ((v->flags & VMA_SHARED) || mm_file_of(p, v))
			continue;       /* (filled when mapped) */
		for (gva_t va = v->start; va < v->end; va += PAGE_SIZE) {
			uint64_t *pte = mem_pte(p->mem, va, false);
			if (!pte) {
				va = (va | ((2ULL << 20) - 1)) + 1 - PAGE_SIZE;
				continue;
			}
			gpa_t gpa = *pte & PTE_ADDR;
			if (gpa && !bit(ps->vfork_pages, gpa / PAGE_SIZE))
				send(fd, va, mem_hva(p->mem, gpa), PAGE_SIZE, VFORK_NEW);
		}
	}
}

/* Each of the parent's pages the child has written, whole. */
static void send_written(struct proc *p, int fd)
{
	int pm = open_pagemap();
	if (pm < 0)
		die_errno("vfork: /proc/self/pagemap");
	uint64_t pages = p->mem->size / PAGE_SIZE, e[BATCH];
	for (uint64_t n = 0; n < pages; n += BATCH) {
		uint64_t k = MIN(BATCH, pages - n);
		bool any = false;
		for (uint64_t w = n / 64; w < (n + k + 63) / 64 && !any; w++)
			any = p->ps->vfork_pages[w];
		if (!any)
			continue;
		off_t at = (off_t)((uintptr_t)mem_hva(p->mem, n * PAGE_SIZE) / PAGE_SIZE * 8);
		if (pread(pm, e, k * 8, at) != (ssize_t)(k * 8))
			die_errno("vfork: /proc/self/pagemap");
		for (uint64_t i = 0; i < k; i++) {
			if (!bit(p->ps->vfork_pages, n + i) || (e[i] & (PM_PRESENT | PM_EXCLUSIVE)) !=
			    (PM_PRESENT | PM_EXCLUSIVE))
				continue;
			uint64_t gpa = (n + i) * PAGE_SIZE;
			send(fd, gpa, mem_hva(p->mem, gpa), PAGE_SIZE, 0);
		}
	}
	close(pm);
}

/* The bytes the child changed in the pages kept at the fork, run by run: exactly those,
 * so a store another thread made beside them stays. */
static void send_changed(struct proc *p, int fd)
{
	struct process *ps = p->ps;
	for (size_t i = 0; i < ps->vfork_nbase; i++) {
		const struct vfork_page *b = &ps->vfork_base[i];
		const uint8_t *now = mem_hva(p->mem, b->gpa);
		if (!memcmp(now, b->data, PAGE_SIZE))
			continue;
		for (size_t at = 0, end; at < PAGE_SIZE; at = end + 1) {
			for (end = at; end < PAGE_SIZE && now[end] != b->data[end]; end++)
				;
			if (end > at)
				send(fd, b->gpa + at, now + at, (uint32_t)(end - at), 0);
		}
	}
}

/* The vfork child leaves its parent's memory (execve or exit): the parent wakes. */
void vfork_release(struct proc *p)
{
	struct process *ps = p->ps;
	if (ps->vfork_done < 0)
		return;
	fd_unhide(&ps->vfork_done);
	if (ps->vfork_pages) {
		send_written(p, ps->vfork_done);
		send_new(p, ps->vfork_done);
	} else {
		send_changed(p, ps->vfork_done);
	}
	free(ps->vfork_pages);
	ps->vfork_pages = NULL;
	free(ps->vfork_base);
	ps->vfork_base = NULL;
	ps->vfork_nbase = 0;
	close(ps->vfork_done);
	ps->vfork_done = -1;
}

static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t got = 0; got < len;) {
		ssize_t r = read(fd, (char *)buf + got, len - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		got += (size_t)r;
	}
	return true;
}

/* In the parent: sleep until the child has left, taking in what it wrote. */
void vfork_wait(struct proc *p, int done[2])
{
	fd_unhide(&done[1]);
	close(done[1]);
	static _Thread_local uint8_t page[PAGE_SIZE];
	struct vfork_rec h;
	while (read_all(done[0], &h, sizeof(h)) && h.len <= PAGE_SIZE && read_all(done[0], page, h.len)) {
		if (h.flags == VFORK_NEW && h.len == PAGE_SIZE && !(h.addr % PAGE_SIZE)) {
			mem_lock(p->mem);
			mm_poke(p, h.addr, page, PAGE_SIZE);
			mem_unlock(p->mem);
		} else if (!h.flags && h.addr < p->mem->size &&
			   h.addr % PAGE_SIZE + h.len <= PAGE_SIZE) {
			memcpy(mem_hva(p->mem, h.addr), page, h.len);
		}
	}
	fd_unhide(&done[0]);
	close(done[0]);
}
