/* mount.c - mounts, the old interface and the new one (fsopen, fsconfig, fsmount, fspick,
 * open_tree, move_mount, mount_setattr). All are the host's: the program's mounts are in
 * kvmse's namespace, as a native run's would be, and the descriptors of the new interface
 * are host descriptors like any other of the program's. */
#include "sys.h"
#include "../util.h"
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PATH(i, slot) user_path(p, a[i], slot)
#define FD(i) user_fd(a[i])
#define HOST(...) sys_ret(syscall(__VA_ARGS__))

/* The file system type is a third string; the data is read as the kernel copies it: a
 * page, or up to where the memory ends. */
long sys_mount(struct proc *p, const uint64_t a[6])
{
	char type[PATH_MAX];
	bool nul = true;
	if (a[2])
		mem_read_prefix(p->mem, type, a[2], sizeof(type), &nul);
	if (!nul)
		return -EFAULT;
	return HOST(SYS_mount, PATH(0, 0), PATH(1, 1), a[2] ? type : NULL, (unsigned long)a[3],
		    user_in(p, a[4], PAGE_SIZE));
}
long sys_umount2(struct proc *p, const uint64_t a[6]) { return HOST(SYS_umount2, PATH(0, 0), (int)a[1]); }
/* (kvmse's root moves with the program's: it reads its own files through descriptors
 * taken at start) */
long sys_pivot_root(struct proc *p, const uint64_t a[6]) { return HOST(SYS_pivot_root, PATH(0, 0), PATH(1, 1)); }

long sys_fsopen(struct proc *p, const uint64_t a[6]) { return HOST(SYS_fsopen, PATH(0, 0), (unsigned)a[1]); }
long sys_fsmount(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return HOST(SYS_fsmount, FD(0), (unsigned)a[1], (unsigned)a[2]);
}
long sys_fspick(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_fspick, FD(0), PATH(1, 0), (unsigned)a[2]);
}
long sys_open_tree(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_open_tree, FD(0), PATH(1, 0), (unsigned)a[2]);
}
long sys_move_mount(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_move_mount, FD(0), PATH(1, 0), FD(2), PATH(3, 1),
		    (unsigned)a[4]);
}

/* The attributes are read as the kernel reads a versioned struct: up to a page (a larger
 * size is E2BIG before any read). */
long sys_mount_setattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_mount_setattr, FD(0), PATH(1, 0), (unsigned)a[2],
		    user_in(p, a[3], MIN(a[4], PAGE_SIZE)), (size_t)a[4]);
}

/* What the value and aux arguments of fsconfig are depends on the command; the kernel
 * checks the combination before it reads anything, so the host call checks it too. */
long sys_fsconfig(struct proc *p, const uint64_t a[6])
{
	const char *key = PATH(2, 0);
	const void *value;
	int aux = (int)a[4];
	switch ((unsigned)a[1]) {
	case FSCONFIG_SET_STRING:
		value = PATH(3, 1);
		break;
	case FSCONFIG_SET_BINARY:
		value = aux > 0 && aux <= (1 << 20) ? user_in(p, a[3], (uint64_t)aux)
						     : (const void *)(uintptr_t)user_opaque(a[3]);
		break;
	case FSCONFIG_SET_PATH:
	case FSCONFIG_SET_PATH_EMPTY:
		value = PATH(3, 1);
		aux = FD(4);
		break;
	case FSCONFIG_SET_FD:
		value = (const void *)(uintptr_t)user_opaque(a[3]);
		aux = FD(4);
		break;
	default:
		value = (const void *)(uintptr_t)user_opaque(a[3]);
		break;
	}
	return HOST(SYS_fsconfig, FD(0), (unsigned)a[1], key, value, aux);
}

/* A versioned struct whose first field is its size (struct mnt_id_req): read as far as
 * the kernel would, its size if that is acceptable, else only the size field (the kernel
 * stops there with EINVAL or E2BIG). */
static void *sized_in(struct proc *p, uint64_t va, uint32_t min)
{
	uint32_t size;
	if (mem_read(p->mem, &size, va, sizeof(size)) < 0 || size < min || size > PAGE_SIZE)
		size = sizeof(size);
	return user_in(p, va, size);
}

#define MNT_ID_REQ_SIZE_VER0 24
#ifndef SYS_statmount           /* (C library headers older than Linux 6.8) */
#define SYS_statmount 457
#define SYS_listmount 458
#endif
#ifndef SYS_open_tree_attr      /* (Linux 6.15) */
#define SYS_open_tree_attr 467
#endif
#define LISTMOUNT_MAX (1 << 24)  /* more ids than that are more than the kernel takes */

long sys_statmount(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_statmount, sized_in(p, a[0], MNT_ID_REQ_SIZE_VER0), user_out(p, a[1], a[2]),
		    (size_t)a[2], (unsigned)a[3]);
}
long sys_listmount(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_listmount, sized_in(p, a[0], MNT_ID_REQ_SIZE_VER0),
		    user_out(p, a[1], MIN(a[2], LISTMOUNT_MAX) * sizeof(uint64_t)), (size_t)a[2],
		    (unsigned)a[3]);
}
long sys_open_tree_attr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_open_tree_attr, FD(0), PATH(1, 0), (unsigned)a[2],
		    user_in(p, a[3], MIN(a[4], PAGE_SIZE)), (size_t)a[4]);
}
