/* sys/mm.c - memory system calls: brk, mmap, munmap, mprotect, mremap, madvise, msync. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define USER_TOP (1ULL << 47)

static bool user_range(uint64_t start, uint64_t len)
{
	return start < USER_TOP && len <= USER_TOP - start;
}

long sys_brk(struct proc *p, const uint64_t a[6])
{
	gva_t want = a[0];
	gva_t old_top = PAGE_ALIGN_UP(p->brk_end), new_top = PAGE_ALIGN_UP(want);
	if (want < p->brk_start || !user_range(want, 0))
		return (long)p->brk_end;
	if (new_top > old_top) {
		if (!mm_range_free(p, old_top, new_top - old_top))
			return (long)p->brk_end;
		if (mm_map(p, old_top, new_top - old_top, PROT_READ | PROT_WRITE, VMA_HEAP) < 0)
			return (long)p->brk_end;
	} else if (new_top < old_top) {
		mm_unmap(p, new_top, old_top - new_top);
	}
	p->brk_end = want;
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

long sys_mmap(struct proc *p, const uint64_t a[6])
{
	gva_t addr = a[0];
	uint64_t len = a[1];
	int prot = (int)a[2], flags = (int)a[3];
	off_t off = (off_t)a[5];
	int type = flags & MAP_TYPE;
	if (!len || (off & (off_t)(PAGE_SIZE - 1)) ||
	    (type != MAP_PRIVATE && type != MAP_SHARED && type != MAP_SHARED_VALIDATE))
		return -EINVAL;
	if (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
		return -EINVAL;
	if (len > USER_TOP)
		return -ENOMEM;
	len = PAGE_ALIGN_UP(len);
	long fd = -1;
	if (!(flags & MAP_ANONYMOUS)) {
		fd = user_fd(a[4]);
		struct stat st;
		if (fstat((int)fd, &st) < 0)
			return -errno;
		if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
			return S_ISCHR(st.st_mode) ? -ENODEV : -EACCES;
		int fl = fcntl((int)fd, F_GETFL);
		if ((fl & O_ACCMODE) == O_WRONLY ||
		    (type != MAP_PRIVATE && (prot & PROT_WRITE) && (fl & O_ACCMODE) != O_RDWR))
			return -EACCES;
		if (type != MAP_PRIVATE && (prot & PROT_WRITE)) {
			if (!p->opt->quiet)
				pr_warn("writable shared file mappings are not supported yet");
			return -ENODEV;
		}
	}
	gva_t start;
	if (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) {
		if (addr & (PAGE_SIZE - 1))
			return -EINVAL;
		if (!user_range(addr, len))
			return -ENOMEM;
		if ((flags & MAP_FIXED_NOREPLACE) && !(flags & MAP_FIXED) && !mm_range_free(p, addr, len))
			return -EEXIST;
		start = addr;
	} else if (addr && !(addr & (PAGE_SIZE - 1)) && user_range(addr, len) &&
		   mm_range_free(p, addr, len)) {
		start = addr;
	} else {
		start = mm_find_free(p, len);
		if (!start)
			return -ENOMEM;
	}
	long rc = mm_map(p, start, len, prot, 0);
	if (rc < 0)
		return rc;
	if (fd >= 0 && (rc = fill_from_file(p, (int)fd, start, len, off)) < 0) {
		mm_unmap(p, start, len);
		return rc;
	}
	return (long)start;
}

long sys_munmap(struct proc *p, const uint64_t a[6])
{
	if ((a[0] & (PAGE_SIZE - 1)) || !a[1] || !user_range(a[0], a[1]))
		return -EINVAL;
	mm_unmap(p, a[0], PAGE_ALIGN_UP(a[1]));
	return 0;
}

long sys_mprotect(struct proc *p, const uint64_t a[6])
{
	int prot = (int)a[2];
	if ((a[0] & (PAGE_SIZE - 1)) || (prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC |
						   PROT_GROWSDOWN | PROT_GROWSUP)))
		return -EINVAL;
	uint64_t len = PAGE_ALIGN_UP(a[1]);
	if (!user_range(a[0], len))
		return -ENOMEM;
	if (!len)
		return 0;
	return mm_protect(p, a[0], len, prot & (PROT_READ | PROT_WRITE | PROT_EXEC));
}

/* Is [start, start+len) inside one VMA? */
static struct vma *one_vma(struct proc *p, gva_t start, uint64_t len)
{
	struct vma *v = mm_find(p, start);
	return v && start + len <= v->end ? v : NULL;
}

long sys_mremap(struct proc *p, const uint64_t a[6])
{
	gva_t old = a[0];
	uint64_t old_len = PAGE_ALIGN_UP(a[1]), new_len = PAGE_ALIGN_UP(a[2]);
	int flags = (int)a[3];
	gva_t want = a[4];
	if ((old & (PAGE_SIZE - 1)) || (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) ||
	    ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE)) || !new_len ||
	    (flags & MREMAP_DONTUNMAP))
		return -EINVAL;
	if (!user_range(old, old_len) || !user_range(old, new_len))
		return -EFAULT;
	struct vma *v = one_vma(p, old, old_len ? old_len : PAGE_SIZE);
	if (!v)
		return -EFAULT;
	if (flags & MREMAP_FIXED) {
		if ((want & (PAGE_SIZE - 1)) || !user_range(want, new_len) ||
		    (want < old + old_len && old < want + new_len))
			return -EINVAL;
	} else if (new_len <= old_len) {
		mm_unmap(p, old + new_len, old_len - new_len);
		return (long)old;
	} else if (mm_range_free(p, old + old_len, new_len - old_len)) {
		long rc = mm_map(p, old + old_len, new_len - old_len, v->prot, v->flags & ~VMA_GROWSDOWN);
		return rc < 0 ? rc : (long)old;
	} else if (!(flags & MREMAP_MAYMOVE)) {
		return -ENOMEM;
	} else {
		want = mm_find_free(p, new_len);
		if (!want)
			return -ENOMEM;
	}
	int prot = v->prot;
	uint64_t keep = MIN(old_len, new_len);
	mm_move(p, old, want, keep);
	if (old_len > keep)
		mm_unmap(p, old + keep, old_len - keep);
	if (new_len > keep) {
		long rc = mm_map(p, want + keep, new_len - keep, prot, 0);
		if (rc < 0)
			return rc;
	}
	return (long)want;
}

/* Linux fails with ENOMEM when part of the range is not mapped. */
static bool all_mapped(struct proc *p, gva_t start, uint64_t len)
{
	for (gva_t va = start; va < start + len;) {
		struct vma *v = mm_find(p, va);
		if (!v)
			return false;
		va = v->end;
	}
	return true;
}

long sys_madvise(struct proc *p, const uint64_t a[6])
{
	uint64_t len = PAGE_ALIGN_UP(a[1]);
	int advice = (int)a[2];
	if ((a[0] & (PAGE_SIZE - 1)) || !user_range(a[0], len))
		return -EINVAL;
	switch (advice) {
	case MADV_NORMAL: case MADV_RANDOM: case MADV_SEQUENTIAL: case MADV_WILLNEED:
	case MADV_DONTNEED: case MADV_FREE: case MADV_DONTFORK: case MADV_DOFORK:
	case MADV_MERGEABLE: case MADV_UNMERGEABLE: case MADV_HUGEPAGE: case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP: case MADV_DODUMP: case MADV_COLD: case MADV_PAGEOUT:
		break;
	default:
		return -EINVAL;
	}
	if (!all_mapped(p, a[0], len))
		return -ENOMEM;
	if (advice == MADV_DONTNEED)
		mm_zero(p, a[0], len);
	return 0;
}

long sys_msync(struct proc *p, const uint64_t a[6])
{
	int flags = (int)a[2];
	if ((a[0] & (PAGE_SIZE - 1)) || (flags & ~(MS_ASYNC | MS_SYNC | MS_INVALIDATE)) ||
	    ((flags & MS_ASYNC) && (flags & MS_SYNC)))
		return -EINVAL;
	/* Linux's arithmetic: the length rounds up (and may wrap), a wrapped end is ENOMEM. */
	uint64_t len = (a[1] + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (a[0] + len < a[0])
		return -ENOMEM;
	return all_mapped(p, a[0], len) ? 0 : -ENOMEM;
}
