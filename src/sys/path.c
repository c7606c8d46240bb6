/* path.c - system calls that name files: stat, access, mkdir, unlink, rename, links, modes.
 * Each is the host's own call on translated arguments (user.c), so the host kernel checks
 * them in Linux's order. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define PATH(i, slot) user_path(p, a[i], slot)
#define FD(i) user_fd(a[i])
#define OUT(i, type) user_out(p, a[i], sizeof(type))
#define IN(i, type) user_in(p, a[i], sizeof(type))
#define HOST(...) sys_ret(syscall(__VA_ARGS__))

long sys_stat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_stat, PATH(0, 0), OUT(1, struct stat)); }
long sys_lstat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_lstat, PATH(0, 0), OUT(1, struct stat)); }
long sys_fstat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_fstat, FD(0), OUT(1, struct stat)); }
long sys_newfstatat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_newfstatat, FD(0), PATH(1, 0), OUT(2, struct stat), (int)a[3]);
}
long sys_statx(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_statx, FD(0), PATH(1, 0), (int)a[2], (unsigned)a[3], OUT(4, struct statx));
}
long sys_statfs(struct proc *p, const uint64_t a[6]) { return HOST(SYS_statfs, PATH(0, 0), OUT(1, struct statfs)); }
long sys_fstatfs(struct proc *p, const uint64_t a[6]) { return HOST(SYS_fstatfs, FD(0), OUT(1, struct statfs)); }

/* struct ustat (no longer in the C library's headers): an int, an ino_t, two char[6]. */
#define USTAT_SIZE 32
long sys_ustat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_ustat, (unsigned)a[0], user_out(p, a[1], USTAT_SIZE)); }
/* sysfs(2): option 1 names a file system type (a path-like string); option 2 writes the
 * name of type a[1] to a buffer the call gives no size for, so it is the host's answer
 * copied after it (the kernel also checks the index before it writes). */
long sys_sysfs(struct proc *p, const uint64_t a[6])
{
	if (a[0] == 1)
		return HOST(SYS_sysfs, 1, PATH(1, 0));
	if (a[0] != 2)
		return HOST(SYS_sysfs, (int)a[0], user_opaque(a[1]), user_opaque(a[2]));
	char name[256];
	long rc = HOST(SYS_sysfs, 2, (unsigned)a[1], name);
	if (rc < 0)
		return rc;
	return mem_write(p->mem, a[2], name, strnlen(name, sizeof(name) - 1) + 1) < 0 ? -EFAULT : rc;
}

long sys_access(struct proc *p, const uint64_t a[6]) { return HOST(SYS_access, PATH(0, 0), (int)a[1]); }
long sys_faccessat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_faccessat, FD(0), PATH(1, 0), (int)a[2]); }
long sys_faccessat2(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_faccessat2, FD(0), PATH(1, 0), (int)a[2], (int)a[3]);
}

/* "/proc/self/exe" and "/proc/<our pid>/exe" name the guest program, not kvmse. */
bool sys_is_self_exe(const char *path)
{
	char own[64];
	snprintf(own, sizeof(own), "/proc/%d/exe", (int)getpid());
	return !strcmp(path, "/proc/self/exe") || !strcmp(path, own) ||
	       !strcmp(path, "/proc/thread-self/exe");
}

long sys_readlinkat(struct proc *p, const uint64_t a[6])
{
	const char *path = PATH(1, 0);
	/* Only a path kvmse could read whole can be /proc/self/exe. */
	if (user_path_whole(path, 0) && sys_is_self_exe(path)) {
		if ((int)a[3] <= 0)
			return -EINVAL;
		size_t n = MIN(strlen(p->ps->exe), (size_t)(int)a[3]);
		return mem_write(p->mem, a[2], p->ps->exe, n) < 0 ? -EFAULT : (long)n;
	}
	return HOST(SYS_readlinkat, FD(0), path, user_out(p, a[2], (uint64_t)(int)a[3]), (int)a[3]);
}

long sys_readlink(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], a[2] };
	return sys_readlinkat(p, b);
}

/* A struct file_handle as the kernel reads it: its header, then handle_bytes more if
 * those are few enough (otherwise EINVAL before the rest is read). */
static uint64_t handle_len(struct proc *p, uint64_t va)
{
	uint32_t bytes;
	if (mem_read(p->mem, &bytes, va, sizeof(bytes)) < 0 || bytes > MAX_HANDLE_SZ)
		return sizeof(struct file_handle);
	return sizeof(struct file_handle) + bytes;
}
long sys_name_to_handle_at(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_name_to_handle_at, FD(0), PATH(1, 0), user_out(p, a[2], handle_len(p, a[2])),
		    OUT(3, int), (int)a[4]);
}
long sys_open_by_handle_at(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_open_by_handle_at, FD(0), user_in(p, a[1], handle_len(p, a[1])), (int)a[2]);
}

long sys_mkdir(struct proc *p, const uint64_t a[6]) { return HOST(SYS_mkdir, PATH(0, 0), (mode_t)a[1]); }
long sys_mkdirat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_mkdirat, FD(0), PATH(1, 0), (mode_t)a[2]); }
long sys_rmdir(struct proc *p, const uint64_t a[6]) { return HOST(SYS_rmdir, PATH(0, 0)); }
long sys_unlink(struct proc *p, const uint64_t a[6]) { return HOST(SYS_unlink, PATH(0, 0)); }
long sys_unlinkat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_unlinkat, FD(0), PATH(1, 0), (int)a[2]); }
long sys_rename(struct proc *p, const uint64_t a[6]) { return HOST(SYS_rename, PATH(0, 0), PATH(1, 1)); }
long sys_renameat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_renameat, FD(0), PATH(1, 0), FD(2), PATH(3, 1));
}
long sys_renameat2(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_renameat2, FD(0), PATH(1, 0), FD(2), PATH(3, 1), (unsigned)a[4]);
}
long sys_link(struct proc *p, const uint64_t a[6]) { return HOST(SYS_link, PATH(0, 0), PATH(1, 1)); }
long sys_linkat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_linkat, FD(0), PATH(1, 0), FD(2), PATH(3, 1), (int)a[4]);
}
long sys_symlink(struct proc *p, const uint64_t a[6]) { return HOST(SYS_symlink, PATH(0, 0), PATH(1, 1)); }
long sys_symlinkat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_symlinkat, PATH(0, 0), FD(1), PATH(2, 1)); }
long sys_chmod(struct proc *p, const uint64_t a[6]) { return HOST(SYS_chmod, PATH(0, 0), (mode_t)a[1]); }
long sys_fchmod(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fchmod, FD(0), (mode_t)a[1]); }
long sys_fchmodat(struct proc *p, const uint64_t a[6]) { return HOST(SYS_fchmodat, FD(0), PATH(1, 0), (mode_t)a[2]); }
#ifndef SYS_fchmodat2            /* (C library headers older than Linux 6.6) */
#define SYS_fchmodat2 452
#endif
long sys_fchmodat2(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_fchmodat2, FD(0), PATH(1, 0), (mode_t)a[2], (unsigned)a[3]);
}
long sys_chown(struct proc *p, const uint64_t a[6]) { return HOST(SYS_chown, PATH(0, 0), (uid_t)a[1], (gid_t)a[2]); }
long sys_lchown(struct proc *p, const uint64_t a[6]) { return HOST(SYS_lchown, PATH(0, 0), (uid_t)a[1], (gid_t)a[2]); }
long sys_fchown(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fchown, FD(0), (uid_t)a[1], (gid_t)a[2]); }
long sys_fchownat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_fchownat, FD(0), PATH(1, 0), (uid_t)a[2], (gid_t)a[3], (int)a[4]);
}
long sys_mknod(struct proc *p, const uint64_t a[6]) { return HOST(SYS_mknod, PATH(0, 0), (mode_t)a[1], (dev_t)a[2]); }
long sys_mknodat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_mknodat, FD(0), PATH(1, 0), (mode_t)a[2], (dev_t)a[3]);
}
long sys_chroot(struct proc *p, const uint64_t a[6])
{
	sys_keep_unwinder();
	return HOST(SYS_chroot, PATH(0, 0));
}

/* file_getattr and file_setattr (Linux 6.17): a versioned struct file_attr of a[3] bytes,
 * read or written up to a page (larger is E2BIG before any copy). */
#ifndef SYS_file_getattr
#define SYS_file_getattr 468
#define SYS_file_setattr 469
#endif
long sys_file_getattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_file_getattr, FD(0), PATH(1, 0), user_out(p, a[2], MIN(a[3], PAGE_SIZE)), (size_t)a[3],
		    (unsigned)a[4]);
}
long sys_file_setattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_file_setattr, FD(0), PATH(1, 0), user_in(p, a[2], MIN(a[3], PAGE_SIZE)), (size_t)a[3],
		    (unsigned)a[4]);
}

/* Extended attributes: the name is a second string (slot 1); values are buffers. */
#define OUTN(i, n) user_out(p, a[i], a[n])
#define INN(i, n) user_in(p, a[i], a[n])
long sys_setxattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_setxattr, PATH(0, 0), PATH(1, 1), INN(2, 3), a[3], (int)a[4]);
}
long sys_lsetxattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_lsetxattr, PATH(0, 0), PATH(1, 1), INN(2, 3), a[3], (int)a[4]);
}
long sys_fsetxattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_fsetxattr, FD(0), PATH(1, 1), INN(2, 3), a[3], (int)a[4]);
}
long sys_getxattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_getxattr, PATH(0, 0), PATH(1, 1), OUTN(2, 3), a[3]); }
long sys_lgetxattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_lgetxattr, PATH(0, 0), PATH(1, 1), OUTN(2, 3), a[3]); }
long sys_fgetxattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_fgetxattr, FD(0), PATH(1, 1), OUTN(2, 3), a[3]); }
long sys_listxattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_listxattr, PATH(0, 0), OUTN(1, 2), a[2]); }
long sys_llistxattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_llistxattr, PATH(0, 0), OUTN(1, 2), a[2]); }
long sys_flistxattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_flistxattr, FD(0), OUTN(1, 2), a[2]); }
long sys_removexattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_removexattr, PATH(0, 0), PATH(1, 1)); }
long sys_lremovexattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_lremovexattr, PATH(0, 0), PATH(1, 1)); }
long sys_fremovexattr(struct proc *p, const uint64_t a[6]) { return HOST(SYS_fremovexattr, FD(0), PATH(1, 1)); }

long sys_truncate(struct proc *p, const uint64_t a[6])
{
	const char *path = PATH(0, 0);
	return sys_running_program(path) ? -ETXTBSY : HOST(SYS_truncate, path, (off_t)a[1]);
}
long sys_chdir(struct proc *p, const uint64_t a[6]) { return HOST(SYS_chdir, PATH(0, 0)); }
long sys_fchdir(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fchdir, FD(0)); }
long sys_getcwd(struct proc *p, const uint64_t a[6]) { return HOST(SYS_getcwd, user_out(p, a[0], a[1]), a[1]); }
long sys_umask(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_umask, (mode_t)a[0]); }
long sys_utimensat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_utimensat, FD(0), PATH(1, 0), user_in(p, a[2], 2 * sizeof(struct timespec)), (int)a[3]);
}
long sys_utime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_utime, PATH(0, 0), user_in(p, a[1], 2 * sizeof(long)));
}
long sys_utimes(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_utimes, PATH(0, 0), user_in(p, a[1], 2 * sizeof(struct timeval)));
}
long sys_futimesat(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_futimesat, FD(0), PATH(1, 0), user_in(p, a[2], 2 * sizeof(struct timeval)));
}
/* (NULL turns accounting off) */
long sys_acct(struct proc *p, const uint64_t a[6]) { return HOST(SYS_acct, PATH(0, 0)); }
