/* sys/mm.c - memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync.
 * kvmse's own, so each follows the order of Linux's checks (mm/mmap.c, mm/mprotect.c,
 * mm/mremap.c, mm/madvise.c, mm/msync.c) by hand; tests/progs/fuzz_mm.c compares. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/mempolicy.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <unistd.h>

#define PROT_SEM 0x8            /* accepted by mprotect, without effect on x86 */
#define PAGE_OFF(x) ((x) & (PAGE_SIZE - 1))
/* PAGE_ALIGN as the kernel computes it: it wraps to 0 for the last page of the space. */
#define KPAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))

long sys_brk(struct proc *p, const uint64_t a[6])
{
	gva_t want = a[0];
	gva_t old_top = PAGE_ALIGN_UP(p->ps->brk_end), new_top = PAGE_ALIGN_UP(want);
	if (want < p->ps->brk_start || want > TASK_SIZE)
		return (long)p->ps->brk_end;
	if (new_top > old_top) {
		if (!mm_range_free(p, old_top, new_top - old_top))
			return (long)p->ps->brk_end;
		if (mm_map(p, old_top, new_top - old_top, PROT_READ | PROT_WRITE, VMA_HEAP) < 0)
			return (long)p->ps->brk_end;
	} else if (new_top < old_top) {
		if (mm_sealed(p, new_top, old_top))
			return (long)p->ps->brk_end;
		mm_unmap(p, new_top, old_top - new_top);
	}
	p->ps->brk_end = want;
	return (long)want;
}

/* Fill a private file mapping from the file, as the page cache would show it. */
static long fill_from_file(struct proc *p, int fd, gva_t start, uint64_t len, off_t off)
{
	uint8_t *buf = xmalloc(1 << 16);
	long rc = 0;
	for (uint64_t done = 0; done < len;) {
		ssize_t n = pread(fd, buf, (size_t)MIN(len - done, 1 << 16), off + (off_t)done);
		if (n < 0) {
			rc = -errno;
			break;
		}
		if (n == 0)
			break;
		mm_poke(p, start + done, buf, (uint64_t)n);
		done += (uint64_t)n;
	}
	free(buf);
	return rc;
}

#define DEV_ZERO makedev(1, 5)

#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
/* What MAP_SHARED_VALIDATE knows besides MAP_SYNC (Linux's LEGACY_MAP_MASK: the
 * historical flags, MAP_ABOVE4G and the huge page size bits among them). */
#define VALIDATED (MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_32BIT | 0x80 | MAP_GROWSDOWN | \
		   MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | \
		   MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB | (0x1f << 26))

/* The checks a file mapping needs (flags, fs and permissions), after the address is
 * chosen, in do_mmap's order; 1 for /dev/zero, which maps anonymous memory. */
static long check_file(int fd, int flags, int prot, uint64_t off)
{
	int type = flags & MAP_TYPE;
	if (type == MAP_SHARED_VALIDATE && (flags & ~(VALIDATED | MAP_SYNC)))
		return -EOPNOTSUPP;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	int fl = fcntl(fd, F_GETFL);
	if ((fl & O_ACCMODE) == O_WRONLY ||
	    (type != MAP_PRIVATE && (prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR))
		return -EACCES;
	/* Whether the file system takes MAP_SYNC (DAX), and what this kernel makes of it
	 * without MAP_SHARED_VALIDATE, is the host's to say: a mapping of one page tells. */
	if (flags & MAP_SYNC) {
		void *m = mmap(NULL, PAGE_SIZE, prot & (PROT_READ | PROT_WRITE | PROT_EXEC),
			       type | MAP_SYNC, fd, (off_t)off);
		if (m == MAP_FAILED)
			return -errno;
		munmap(m, PAGE_SIZE);
	}
	if (S_ISCHR(st.st_mode) && st.st_rdev == DEV_ZERO)
		return 1;
	/* Pipes, sockets, directories, other devices: no mmap of their own. */
	return S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) ? 0 : -ENODEV;
}

/*
 * memfd_secret's memory is out of the host kernel's reach, and so out of KVM's: the
 * guest gets shared anonymous memory in its place, once the host has judged the mapping
 * (its flags, and RLIMIT_MEMLOCK, which secret memory counts against). Two mappings of
 * one such descriptor do not share their pages here. 1 for such a file, 0 for another,
 * or the host's -errno.
 */
static long secret_check(int fd, int flags, int prot, uint64_t len, uint64_t off)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || (unsigned long)sf.f_type != SECRETMEM_MAGIC)
		return 0;
	void *m = mmap(NULL, len, prot, flags & ~(MAP_FIXED | MAP_FIXED_NOREPLACE), fd, (off_t)off);
	if (m == MAP_FAILED)
		return -errno;
	munmap(m, len);
	return 1;
}

/*
 * hugetlb memory: a hugetlbfs file's (a memfd made with MFD_HUGETLB among them), or
 * anonymous memory with MAP_HUGETLB and its size bits (0: the host's default), for which
 * a memfd of its own is made. Returns VMA_HUGE_2M or VMA_HUGE_1G, 0 (not hugetlb), or
 * -EINVAL (MAP_HUGETLB with another file, a size x86-64 has not).
 */
static long huge_kind(int flags, int fd)
{
	unsigned shift = 0;
	struct statfs sf;
	if (fd >= 0 && fstatfs(fd, &sf) == 0 && (unsigned long)sf.f_type == HUGETLBFS_MAGIC)
		shift = (unsigned)__builtin_ctzl((unsigned long)sf.f_bsize);
	else if (fd >= 0 || !(flags & MAP_HUGETLB))
		return (flags & MAP_HUGETLB) && fd >= 0 ? -EINVAL : 0;
	else
		shift = ((unsigned)flags >> MAP_HUGE_SHIFT) & MAP_HUGE_MASK;
	if (!shift) {
		char buf[4096];
		fd_proc_read("meminfo", buf, sizeof(buf));
		const char *h = strstr(buf, "Hugepagesize:");
		shift = h && atol(h + 13) == 1L << 20 ? 30 : 21;
	}
	return shift == 21 ? (long)VMA_HUGE_2M : shift == 30 ? (long)VMA_HUGE_1G : -EINVAL;
}

#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26       /* (<linux/memfd.h>'s, which clashes with glibc's) */
#endif

/* A memfd of hugetlb memory for an anonymous MAP_HUGETLB mapping of 'len' bytes. */
static long huge_memfd(unsigned kind, uint64_t len)
{
	unsigned shift = kind == VMA_HUGE_1G ? 30 : 21;
	int fd = memfd_create("anon_hugepage", MFD_CLOEXEC | MFD_HUGETLB | (shift << MFD_HUGE_SHIFT));
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* A non-fixed address is a hint: page-aligned down, at least mmap_min_addr (64 KiB). */
static gva_t hint(gva_t addr)
{
	return MAX(addr & ~(PAGE_SIZE - 1), 65536);
}

/* mm_host_call's functions; ctx: an int, the flags or advice. (raw calls: a sanitizer's
 * libc wrappers of mlock and munlock do nothing) */
static int host_mlock(void *a, size_t n, gva_t va, const void *flags)
{
	(void)va;
	return (int)syscall(SYS_mlock2, a, n, *(const int *)flags);
}
static int host_madvise(void *a, size_t n, gva_t va, const void *advice)
{
	(void)va;
	return madvise(a, n, *(const int *)advice);
}
static int host_msync(void *a, size_t n, gva_t va, const void *flags)
{
	(void)va;
	return msync(a, n, *(const int *)flags);
}
static const int no_flags;

/* Linux's can_do_mlock: some locked memory allowed, or the right to lock any. */
static bool can_mlock(void)
{
	struct rlimit lim;
	return getrlimit(RLIMIT_MEMLOCK, &lim) < 0 || lim.rlim_cur || sys_has_cap(CAP_IPC_LOCK);
}

long sys_mmap(struct proc *p, const uint64_t a[6])
{
	gva_t addr = a[0];
	uint64_t len = a[1];
	int prot = (int)a[2], flags = (int)a[3], type = flags & MAP_TYPE;
	uint64_t off = a[5];
	if (PAGE_OFF(off))
		return -EINVAL;
	/* The descriptor is looked up before anything else (ksys_mmap_pgoff). */
	if (!(flags & MAP_ANONYMOUS) && fcntl(user_fd(a[4]), F_GETFD) < 0)
		return -EBADF;
	if (!len)
		return -EINVAL;
	len = KPAGE_ALIGN(len);
	if (!len || len > TASK_SIZE)
		return -ENOMEM;
	long huge = huge_kind(flags, (flags & MAP_ANONYMOUS) ? -1 : user_fd(a[4]));
	if (huge < 0)
		return huge;
	/* hugetlb: the length rounds up to the huge page, which the address (if fixed) and
	 * the offset must be aligned to (ksys_mmap_pgoff, hugetlb_get_unmapped_area) */
	uint64_t align = mm_page_size((unsigned)huge);
	len = (len + align - 1) & ~(align - 1);
	if (!len || len > TASK_SIZE)
		return -ENOMEM;
	if (huge && (((flags & MAP_FIXED) && (addr & (align - 1))) || (off & (align - 1))))
		return -EINVAL;
	if ((flags & MAP_LOCKED) && !can_mlock())
		return -EPERM;
	if (flags & MAP_FIXED_NOREPLACE)
		flags |= MAP_FIXED;
	gva_t start;
	if (flags & MAP_FIXED) {
		if (addr > TASK_SIZE - len)
			return -ENOMEM;
		if (PAGE_OFF(addr))
			return -EINVAL;
		if ((flags & MAP_FIXED_NOREPLACE) && !mm_range_free(p, addr, len))
			return -EEXIST;
		start = addr;
	} else if (addr && hint(addr) <= TASK_SIZE - len && !(hint(addr) & (align - 1)) &&
		   mm_range_free(p, hint(addr), len)) {
		start = hint(addr);     /* a free hint is taken */
	} else {
		start = mm_find_free(p, len + align - PAGE_SIZE);
		if (!start)
			return -ENOMEM;
		start = (start + align - 1) & ~(align - 1);
	}
	if (!(flags & MAP_ANONYMOUS) && uring_is(user_fd(a[4])))
		return uring_mmap(p, user_fd(a[4]), start, len, prot, off);
	/* MAP_DROPPABLE: private memory the host may take back under pressure (zeros then),
	 * never locked, grown, of a file, or huge; a fork's child gets it zeroed (the host's
	 * mapping, which the child's VM shares, is wiped on fork). */
	if (type == MAP_DROPPABLE && (!(flags & MAP_ANONYMOUS) ||
				      (flags & (MAP_LOCKED | MAP_GROWSDOWN | MAP_HUGETLB))))
		return -EINVAL;
	if (type != MAP_SHARED && type != MAP_SHARED_VALIDATE && type != MAP_PRIVATE &&
	    type != MAP_DROPPABLE)
		return -EINVAL;
	if (type == MAP_SHARED_VALIDATE && (flags & MAP_ANONYMOUS))
		return -EINVAL;         /* (only a file's mapping is validated) */
	bool shared = type != MAP_PRIVATE && type != MAP_DROPPABLE;
	unsigned vflags = (flags & MAP_GROWSDOWN) ? VMA_GROWSDOWN : 0;
	if (type == MAP_DROPPABLE)
		vflags |= VMA_DROPPABLE;
	int fd = -1, secret = -1;
	if (!(flags & MAP_ANONYMOUS)) {
		fd = user_fd(a[4]);
		long rc = check_file(fd, flags, prot, off);
		if (rc == 0 && (rc = secret_check(fd, flags, prot, len, off)) > 0)
			rc = 2;
		if (rc < 0)
			return rc;
		/* A shared mapping of a file open read-only may never become writable (nor
		 * one of /dev/zero, which is anonymous memory here). */
		if (shared && (fcntl(fd, F_GETFL) & O_ACCMODE) != O_RDWR)
			vflags |= VMA_NOWRITE;
		if (rc == 2)
			secret = fd;
		if (rc)
			fd = -1;
	}
	/* (what a fixed mapping replaces is unmapped first, which mseal forbids) */
	if (mm_sealed(p, start, start + len))
		return -EPERM;
	if (flags & MAP_NORESERVE)
		vflags |= VMA_NORESERVE;
	if ((prot & PROT_WRITE) && !(flags & MAP_NORESERVE) && !huge && (!shared || fd < 0) &&
	    secret < 0 && !mm_may_charge(len))
		return -ENOMEM;
	prot &= PROT_READ | PROT_WRITE | PROT_EXEC;
	if (fd >= 0)
		vflags |= mm_file(p, fd);
	if (secret >= 0)
		vflags |= mm_file_as(p, secret, "/secretmem (deleted)");
	if (shared)
		vflags |= VMA_SHARED;
	long rc;
	if (huge && fd < 0) {           /* anonymous: a hugetlb memfd of its own, named as Linux's */
		long mfd = huge_memfd((unsigned)huge, len);
		if (mfd < 0)
			return mfd;
		vflags |= (unsigned)huge | mm_file_as(p, (int)mfd, "/anon_hugepage (deleted)");
		rc = mm_map_backed(p, start, len, prot, vflags, 0, (int)mfd);
		close((int)mfd);
		return rc < 0 ? rc : (long)start;
	}
	vflags |= (unsigned)huge;
	rc = shared || fd >= 0 ?
	     mm_map_backed(p, start, len, prot, vflags, fd >= 0 || secret >= 0 ? off / PAGE_SIZE :
			   start / PAGE_SIZE, fd) :
	     mm_map(p, start, len, prot, vflags);
	/* A file the host cannot map (no mmap of its own there) is read into a private copy. */
	if (rc == -ENODEV && !shared && fd >= 0) {
		rc = mm_map_at(p, start, len, prot, vflags, off / PAGE_SIZE);
		if (rc == 0 && (rc = fill_from_file(p, fd, start, len, (off_t)off)) < 0)
			mm_unmap(p, start, len);
	}
	if (rc < 0)
		return rc;
	struct stat st;
	int sized = fd >= 0 ? fd : secret;
	if (sized >= 0 && fstat(sized, &st) == 0 && S_ISREG(st.st_mode)) {
		/* Whole pages past the end of the file: SIGBUS when touched, as Linux does. */
		uint64_t in_file = (uint64_t)st.st_size > off ? KPAGE_ALIGN((uint64_t)st.st_size - off) : 0;
		if (in_file < len)
			mm_past_eof(p, start + in_file, len - in_file);
	}
	/* Filled at once (a big one is filled as touched otherwise), and locked as mlock
	 * would; if either fails, the mapping stands all the same (Linux). */
	if (flags & (MAP_POPULATE | MAP_LOCKED))
		(void)mm_populate(p, start, start + len);
	if ((flags & MAP_LOCKED) && mm_host_call(p, start, start + len, host_mlock, &no_flags) == 0)
		mm_set_flag(p, start, start + len, VMA_LOCKED, true);
	return (long)start;
}

/* Linux's do_vmi_munmap, with its checks. */
static long unmap_checked(struct proc *p, gva_t start, uint64_t len)
{
	if (PAGE_OFF(start) || start > TASK_SIZE || len > TASK_SIZE - start)
		return -EINVAL;
	len = KPAGE_ALIGN(len);
	if (!len)
		return -EINVAL;
	if (mm_sealed(p, start, start + len))
		return -EPERM;
	if (mm_cut_refused(p, start, start + len))
		return -ENOMEM;
	if (mm_cut_huge(p, start, start + len))
		return -EINVAL;
	mm_unmap(p, start, len);
	return 0;
}

long sys_munmap(struct proc *p, const uint64_t a[6])
{
	return unmap_checked(p, a[0], a[1]);
}

/* mprotect's checks of its arguments alone, and the end of its range: 1 to go on, or
 * the result. */
static long protect_args(const uint64_t a[6], gva_t *end)
{
	gva_t start = a[0];
	int prot = (int)a[2], grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
	if (PAGE_OFF(start))
		return -EINVAL;
	if (!a[1])
		return 0;
	*end = start + KPAGE_ALIGN(a[1]);
	if (*end <= start)
		return -ENOMEM;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM | PROT_GROWSDOWN | PROT_GROWSUP) ||
	    grows == (PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	return 1;
}

long sys_mprotect(struct proc *p, const uint64_t a[6])
{
	gva_t start = a[0], end;
	long rc = protect_args(a, &end);
	if (rc <= 0)
		return rc;
	int prot = (int)a[2], grows = prot & (PROT_GROWSDOWN | PROT_GROWSUP);
	/* The first VMA that reaches into the range. */
	struct vma *v = mm_next(p, start);
	if (!v || v->start >= end)
		return -ENOMEM;
	if (grows & PROT_GROWSDOWN) {
		if (!(v->flags & VMA_GROWSDOWN))
			return -EINVAL;
		start = v->start;
	} else if (v->start > start) {
		return -ENOMEM;
	} else if (grows & PROT_GROWSUP) {
		return -EINVAL;         /* no VMA grows up on x86-64 */
	}
	if (mm_sealed(p, start, end))
		return -EPERM;
	if (mm_cut_huge(p, start, end))
		return -EINVAL;
	return mm_protect(p, start, end - start, prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
}

/* Protection keys: the program runs without them (the guest's CR4.PKE is clear, so
 * CPUID's OSPKE bit says so), and these answer as Linux does on a CPU without PKU: no
 * key can be allocated (EINVAL, as the kernel's arch_set_user_pkey_access), freed or
 * given to a mapping; key -1 is plain mprotect. */
long sys_pkey_mprotect(struct proc *p, const uint64_t a[6])
{
	if ((int)a[3] == -1)
		return sys_mprotect(p, a);
	gva_t end;
	long rc = protect_args(a, &end);
	return rc <= 0 ? rc : -EINVAL;
}

long sys_pkey_alloc(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return -EINVAL; }
long sys_pkey_free(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return -EINVAL; }

/*
 * Map [at, at+len) like 'v' with its page 'va' at 'at': anonymous memory, or for a
 * shared file mapping the file's pages from there on, found again by the path kvmse
 * recorded.
 */
static long extend(struct proc *p, struct vma v, gva_t va, gva_t at, uint64_t len)
{
	unsigned flags = v.flags & ~VMA_GROWSDOWN;
	const struct mapped_file *f = mm_file_of(p, &v);
	if (!f && (v.flags & VMA_SHARED))
		return mm_map_backed(p, at, len, v.prot, flags, at / PAGE_SIZE, -1);
	if (!f)
		return mm_map(p, at, len, v.prot, flags);
	bool rw = (v.flags & VMA_SHARED) && !(v.flags & VMA_NOWRITE);
	int fd = open(f->path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	long rc = mm_map_backed(p, at, len, v.prot, flags, v.pgoff + (va - v.start) / PAGE_SIZE, fd);
	close(fd);
	return rc;
}

/* Move [old, old+old_len) (inside one VMA) to 'to' as new_len bytes, the rest fresh. */
static long move(struct proc *p, gva_t old, uint64_t old_len, gva_t to, uint64_t new_len, int flags)
{
	const struct vma v = *mm_find(p, old);
	mm_move(p, old, to, old_len);
	if (new_len > old_len) {
		long rc = extend(p, v, old + old_len, to + old_len, new_len - old_len);
		if (rc < 0)
			return rc;
	}
	/* MREMAP_DONTUNMAP leaves the old range mapped, its pages gone, its userfaultfd
	 * registration kept (its pages missing then: the next touch is the context's). */
	if ((flags & MREMAP_DONTUNMAP) && old_len) {
		long rc = extend(p, v, old, old, old_len);
		if (rc == 0 && v.uffd)
			rc = mm_uffd_register(p, old, old + old_len, v.uffd);
		if (rc < 0)
			return rc;
	}
	return (long)to;
}

/* Linux 6.x mremap_to: a move to 'to' (MREMAP_FIXED) or to a free place near it. */
static long remap_to(struct proc *p, gva_t addr, uint64_t old_len, gva_t to, uint64_t new_len, int flags)
{
	if (mm_sealed(p, addr, addr + old_len) || ((flags & MREMAP_FIXED) && mm_sealed(p, to, to + new_len)))
		return -EPERM;
	if (flags & MREMAP_FIXED) {
		mm_unmap(p, to, new_len);
		if (!mm_find(p, addr))
			return -EFAULT;
	}
	if (old_len > new_len) {
		long rc = unmap_checked(p, addr + new_len, old_len - new_len);
		if (rc < 0)
			return rc;
		old_len = new_len;
	}
	if (!(flags & MREMAP_FIXED) && !(to && to <= TASK_SIZE - new_len && mm_range_free(p, to, new_len))) {
		to = mm_find_free(p, new_len);
		if (!to)
			return -ENOMEM;
	}
	return move(p, addr, old_len, to, new_len, flags);
}

/* Linux's check_prep_vma: may the VMA at 'addr' be resized or moved like this? */
static long prep_vma(struct proc *p, gva_t addr, uint64_t old_len, uint64_t new_len, bool will_map_new)
{
	struct vma *v = mm_find(p, addr);
	if (!v)
		return -EFAULT;
	if (v->flags & VMA_SEALED)
		return -EPERM;
	if (!will_map_new)
		return 0;
	/* "Duplicating" a private mapping (old_len 0) is refused. */
	if (!old_len && !(v->flags & VMA_SHARED))
		return -EINVAL;
	/* A shrink may cross VMA boundaries: only what stays must be in this VMA. */
	if (MIN(old_len, new_len) > v->end - addr || (old_len <= new_len && old_len > v->end - addr))
		return -EFAULT;
	/* (before anything moves: the growth as if just past the VMA) */
	if (new_len > old_len && !mm_may_expand(p, v->end, new_len - old_len, v->prot, v->flags))
		return -ENOMEM;
	return 0;
}

/* MREMAP_FIXED without resizing moves every VMA of the range, keeping the gaps. */
static long remap_move(struct proc *p, gva_t start, uint64_t len, gva_t to, int flags)
{
	gva_t end = start + len, target = to, last_end = 0;
	long first = -EFAULT;
	bool seen = false;
	while (true) {
		struct vma *v = mm_next(p, seen ? last_end : start);
		if (!v || v->start >= end)
			return first;
		if (!seen && start < v->start)
			return -EFAULT;
		gva_t from = MAX(v->start, start);
		uint64_t n = MIN(end, v->end) - from;
		uint64_t offset = seen ? v->start - last_end : 0;
		last_end = v->end;
		long rc = remap_to(p, from, n, target + offset, n, flags);
		if (rc < 0)
			return rc;
		if (!seen)
			first = rc;
		seen = true;
		target = (gva_t)rc + n;
	}
}

long sys_mremap(struct proc *p, const uint64_t a[6])
{
	gva_t addr = a[0], to = a[4];
	int flags = (int)a[3];
	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP) || PAGE_OFF(addr))
		return -EINVAL;
	uint64_t old_len = KPAGE_ALIGN(a[1]), new_len = KPAGE_ALIGN(a[2]);
	if (!new_len || new_len > TASK_SIZE || to > TASK_SIZE - new_len)
		return -EINVAL;
	bool implies = flags & (MREMAP_FIXED | MREMAP_DONTUNMAP);
	if (implies) {
		if (PAGE_OFF(to) || !(flags & MREMAP_MAYMOVE) ||
		    ((flags & MREMAP_DONTUNMAP) && old_len != new_len) ||
		    (addr + old_len > to && to + new_len > addr))
			return -EINVAL;
		if ((flags & MREMAP_FIXED) && old_len == new_len)
			return remap_move(p, addr, old_len, to, flags);
	}
	long rc = prep_vma(p, addr, old_len, new_len, implies || new_len > old_len);
	if (rc < 0)
		return rc;
	if (implies)
		return remap_to(p, addr, old_len, to, new_len, flags);
	if (old_len >= new_len) {
		if (old_len > new_len && (rc = unmap_checked(p, addr + new_len, old_len - new_len)) < 0)
			return rc;
		return (long)addr;
	}
	/* Grow in place when the range ends its VMA and what follows is free. */
	struct vma *v = mm_find(p, addr);
	if (old_len == v->end - addr && addr + new_len <= TASK_SIZE &&
	    mm_range_free(p, addr + old_len, new_len - old_len)) {
		rc = extend(p, *v, addr + old_len, addr + old_len, new_len - old_len);
		return rc < 0 ? rc : (long)addr;
	}
	if (!(flags & MREMAP_MAYMOVE))
		return -ENOMEM;
	to = mm_find_free(p, new_len);
	if (!to)
		return -ENOMEM;
	return move(p, addr, old_len, to, new_len, flags);
}

/* Where the next VMA after the hole at 'va' starts, or 'end'. */
static gva_t next_vma(struct proc *p, gva_t va, gva_t end)
{
	struct vma *v = mm_next(p, va);
	return v ? MIN(v->start, end) : end;
}

#define MADV_GUARD_INSTALL_ 102    /* (Linux 6.13, newer than some headers) */
#define MADV_GUARD_REMOVE_ 103

static bool advice_valid(int advice)
{
	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE: case MADV_DONTFORK:
	case MADV_DOFORK: case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE: case MADV_DONTDUMP: case MADV_DODUMP: case MADV_WIPEONFORK:
	case MADV_KEEPONFORK: case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ:
	case MADV_POPULATE_WRITE: case MADV_GUARD_INSTALL_: case MADV_GUARD_REMOVE_:
		return true;
	default:
		return false;
	}
}

static bool discards(int advice)
{
	return advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE ||
	       advice == MADV_DONTFORK || advice == MADV_WIPEONFORK || advice == MADV_GUARD_INSTALL_;
}

long sys_madvise(struct proc *p, const uint64_t a[6])
{
	gva_t start = a[0];
	int advice = (int)a[2];
	if (!advice_valid(advice) || PAGE_OFF(start))
		return -EINVAL;
	uint64_t len = KPAGE_ALIGN(a[1]);
	if (a[1] && !len)
		return -EINVAL;
	gva_t end = start + len;
	if (end < start)
		return -EINVAL;
	/* Each mapped part gets the advice; a hole makes the result ENOMEM. */
	long rc = 0;
	for (gva_t va = start; va < end;) {
		struct vma *v = mm_find(p, va);
		if (!v) {
			rc = -ENOMEM;
			va = next_vma(p, va, end);
			continue;
		}
		gva_t stop = MIN(v->end, end);
		bool shared = v->flags & VMA_SHARED;
		/* (locked pages are not dropped: Linux's can_madv_lru_vma) */
		if ((v->flags & VMA_LOCKED) && (advice == MADV_DONTNEED || advice == MADV_FREE ||
						advice == MADV_REMOVE || advice == MADV_GUARD_INSTALL_))
			return -EINVAL;
		bool file = mm_file_of(p, v) != NULL;
		/* A sealed VMA's contents may not be thrown away where the program could not
		 * write them (private anonymous memory, read-only): Linux's can_madvise_modify. */
		if ((v->flags & VMA_SEALED) && discards(advice) && !shared && !file && !(v->prot & PROT_WRITE))
			return -EPERM;
		/* Private anonymous memory only (KEEPONFORK takes any); the host's fork wipes
		 * its pages. */
		if (advice == MADV_WIPEONFORK && (shared || file))
			return -EINVAL;
		if (advice == MADV_WIPEONFORK || advice == MADV_KEEPONFORK)
			mm_host_call(p, va, stop, host_madvise, &advice);
		if ((advice == MADV_POPULATE_READ || advice == MADV_POPULATE_WRITE) &&
		    mm_populate(p, va, stop) < 0)
			return -ENOMEM;
		if (advice == MADV_REMOVE && !shared)
			return -EINVAL;         /* anonymous memory has no file to punch */
		if (advice == MADV_REMOVE && (v->flags & VMA_NOWRITE))
			return -EACCES;
		if (advice == MADV_REMOVE)
			mm_host_call(p, va, stop, host_madvise, &advice);
		/* Dropped pages of shared memory come back with what others see: no change;
		 * those of a private file mapping with the file's contents; others zeroed. */
		bool drop = advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_GUARD_INSTALL_;
		if (drop && !shared && (file || (v->flags & VMA_DROPPABLE)))
			mm_host_call(p, va, stop, host_madvise, &(const int){ MADV_DONTNEED });
		else if (drop && !shared)
			mm_zero(p, va, stop - va);
		/* Guard pages: an access is SIGSEGV, a system call's EFAULT; mprotect, fork
		 * and mremap keep them, munmap ends them. */
		if (advice == MADV_GUARD_INSTALL_ || advice == MADV_GUARD_REMOVE_)
			mm_guard(p, va, stop, advice == MADV_GUARD_INSTALL_);
		va = stop;
	}
	return rc;
}

/* The host's: its barriers reach every thread of kvmse, the vCPUs' among them (an
 * interrupt makes a VM exit, which orders memory as the barrier must). */
long sys_membarrier(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return sys_ret(syscall(SYS_membarrier, (int)a[0], (unsigned)a[1], (int)a[2]));
}

long sys_msync(struct proc *p, const uint64_t a[6])
{
	int flags = (int)a[2];
	if (PAGE_OFF(a[0]) || (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return -EINVAL;
	uint64_t len = KPAGE_ALIGN(a[1]);
	gva_t end = a[0] + len;
	if (end < a[0])
		return -ENOMEM;
	long rc = 0;
	for (gva_t va = a[0]; va < end;) {
		struct vma *v = mm_find(p, va);
		if (!v) {
			rc = -ENOMEM;
			va = next_vma(p, va, end);
			continue;
		}
		if ((flags & MS_INVALIDATE) && (v->flags & VMA_LOCKED))
			return -EBUSY;
		/* A shared file mapping is the host's page cache: the host writes it back. */
		if (v->flags & VMA_SHARED && mm_host_call(p, va, MIN(v->end, end), host_msync,
							  &(const int){ flags & ~MS_INVALIDATE }) < 0)
			return -EIO;
		va = v->end;
	}
	return rc;
}

/* mlock and its kin lock the host memory behind guest pages: the host's RLIMIT_MEMLOCK
 * and CAP_IPC_LOCK apply, and /proc/self/status counts them. mlockall must not lock
 * kvmse's whole reservation of guest memory, so it goes VMA by VMA; MCL_FUTURE is not
 * kept (later mappings are not locked). */

static long lock_range(struct proc *p, gva_t start, uint64_t len, mm_host_fn *fn, int flags)
{
	uint64_t end = KPAGE_ALIGN(start + len);
	start &= ~(PAGE_SIZE - 1);
	if (end < start || (len && end == start))
		return -ENOMEM;
	/* Every page of the range must be mapped (Linux: ENOMEM before it locks any). */
	if (!mm_covered(p, start, end))
		return -ENOMEM;
	if (fn == host_mlock && !(flags & MLOCK_ONFAULT) && mm_populate(p, start, end) < 0)
		return -ENOMEM;
	long rc = mm_host_call(p, start, end, fn, &flags);
	if (rc == 0)
		mm_set_flag(p, start, end, VMA_LOCKED, fn == host_mlock);
	return rc;
}

long sys_mlock(struct proc *p, const uint64_t a[6]) { return lock_range(p, a[0], a[1], host_mlock, 0); }
long sys_munlock(struct proc *p, const uint64_t a[6]) { return lock_range(p, a[0], a[1], mm_host_munlock, 0); }

long sys_mlock2(struct proc *p, const uint64_t a[6])
{
	if (a[2] & ~(uint64_t)MLOCK_ONFAULT)
		return -EINVAL;
	return lock_range(p, a[0], a[1], host_mlock, (int)a[2]);
}

long sys_mlockall(struct proc *p, const uint64_t a[6])
{
	int flags = (int)a[0];
	if (!flags || (flags & ~(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) || flags == MCL_ONFAULT)
		return -EINVAL;
	if (!can_mlock())
		return -EPERM;
	if (!(flags & MCL_CURRENT))
		return 0;
	for (size_t i = 0; i < p->ps->nvma; i++) {
		const struct vma *v = &p->ps->vmas[i];
		if (!(flags & MCL_ONFAULT) && mm_populate(p, v->start, v->end) < 0)
			return -ENOMEM;
		long rc = mm_host_call(p, v->start, v->end, host_mlock,
				       &(const int){ (flags & MCL_ONFAULT) ? MLOCK_ONFAULT : 0 });
		if (rc < 0)
			return rc;
	}
	mm_set_flag(p, 0, ~0ULL, VMA_LOCKED, true);
	return 0;
}

long sys_munlockall(struct proc *p, const uint64_t a[6])
{
	(void)a;
	if (syscall(SYS_munlockall) < 0)
		return -errno;
	mm_set_flag(p, 0, ~0ULL, VMA_LOCKED, false);
	return 0;
}

/* The bytes of a node mask of 'maxnode' bits that Linux reads or writes (it refuses one
 * above a page before touching it). */
static uint64_t nodemask_bytes(uint64_t maxnode)
{
	return maxnode ? MIN((maxnode - 1 + 63) / 64 * 8, PAGE_SIZE + 8) : 0;
}

/* NUMA policies are the vCPU thread's (sys_caller_only), whose faults bring guest
 * memory in, and of kvmse's pages behind guest memory: the program's pages are those. */
long sys_set_mempolicy(struct proc *p, const uint64_t a[6])
{
	return sys_ret(syscall(SYS_set_mempolicy, (int)a[0], user_in(p, a[1], nodemask_bytes(a[2])), a[2]));
}

/* mbind's arguments but the range */
struct bind {
	unsigned long mode, maxnode;
	unsigned flags;
	const void *nodemask;
};

static int host_mbind(void *a, size_t n, gva_t va, const void *ctx)
{
	const struct bind *b = ctx;
	(void)va;
	return (int)syscall(SYS_mbind, a, n, b->mode, b->nodemask, b->maxnode, b->flags);
}

/* A range's policy is that of kvmse's pages behind it, which the host faults in for the
 * program (the VMA flags MPOL_MF_* move them). A hole is EFAULT; the host checks the
 * rest, on the first run. */
long sys_mbind(struct proc *p, const uint64_t a[6])
{
	gva_t start = a[0];
	const struct bind bind = { a[2], a[4], (unsigned)a[5], user_in(p, a[3], nodemask_bytes(a[4])) };
	/* (the host's verdict on the mode, mask and flags: on an empty range, first) */
	long rc = sys_ret(syscall(SYS_mbind, mem_hva(p->mem, 0), 0, bind.mode, bind.nodemask,
				  bind.maxnode, bind.flags));
	uint64_t len = KPAGE_ALIGN(a[1]);
	if (rc == 0 && (PAGE_OFF(start) || start + len < start))
		rc = -EINVAL;
	if (rc < 0 || !len)
		return rc;
	if (!mm_covered(p, start, start + len))
		return -EFAULT;
	return mm_host_call(p, start, start + len, host_mbind, &bind);
}

long sys_get_mempolicy(struct proc *p, const uint64_t a[6])
{
	void *addr = NULL;
	if ((a[4] & MPOL_F_ADDR) && !(addr = mem_ptr(p->mem, a[3], 1, MEM_READ)))
		return -EFAULT;
	return sys_ret(syscall(SYS_get_mempolicy, user_out(p, a[0], 4),
			       user_out(p, a[1], nodemask_bytes(a[2])), a[2], addr, a[4]));
}

/* mseal: the VMAs of the range can no longer be unmapped, moved, resized, remapped over or
 * mprotected (EPERM); a fork keeps the seal, an execve ends it with the old image. */
long sys_mseal(struct proc *p, const uint64_t a[6])
{
	gva_t start = a[0];
	if (a[2] || PAGE_OFF(start))
		return -EINVAL;
	uint64_t len = KPAGE_ALIGN(a[1]);
	if ((a[1] && !len) || start + len < start)
		return -EINVAL;
	if (!mm_covered(p, start, start + len))
		return -ENOMEM;
	mm_set_flag(p, start, start + len, VMA_SEALED, true);
	return 0;
}

/* remap_file_pages: the host's own, on its mapping behind each run of the range (of one
 * shared VMA; the file's page offsets are the host mapping's too), as Linux does it now:
 * a new mapping of the same file at 'pgoff' (a[3]). */
struct remap {
	gva_t start;
	uint64_t pgoff;
	int flags;
};

static int host_remap(void *a, size_t n, gva_t va, const void *ctx)
{
	const struct remap *r = ctx;
	return (int)syscall(SYS_remap_file_pages, a, n, 0, r->pgoff + (va - r->start) / PAGE_SIZE, r->flags);
}

long sys_remap_file_pages(struct proc *p, const uint64_t a[6])
{
	struct remap r = { a[0] & ~(PAGE_SIZE - 1), a[3], (int)a[4] & MAP_NONBLOCK };
	uint64_t size = a[1] & ~(PAGE_SIZE - 1);
	if (a[2] || r.start + size <= r.start || r.pgoff + size / PAGE_SIZE < r.pgoff)
		return -EINVAL;         /* prot must be 0 */
	const struct vma *v = mm_find(p, r.start);
	if (!v || !(v->flags & VMA_SHARED) || r.start + size > v->end)
		return -EINVAL;
	long rc = mm_host_call(p, r.start, r.start + size, host_remap, &r);
	if (rc == 0)
		mm_set_pgoff(p, r.start, r.start + size, r.pgoff);
	return rc;
}
