/* path.c - system calls that name files: stat, access, mkdir, unlink, rename, links, modes. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Declare 'buf' holding the path in guest argument 'arg', or return its error. */
#define PATH_ARG(buf, arg)                           \
	char buf[PATH_MAX];                          \
	do {                                         \
		long rc_ = sys_path(p, (arg), buf);  \
		if (rc_ < 0)                         \
			return rc_;                  \
	} while (0)

/* The dirfd of an *at call, checked only where the path is relative (as the kernel does). */
#define DIRFD_ARG(var, arg, path)                                   \
	long var = sys_dirfd(p, (arg));                             \
	if (var == -EBADF && (path)[0] != '/')                      \
		return var;                                         \
	if (var == -EBADF)                                          \
		var = AT_FDCWD

/* Run a host call that fills a struct, then copy it to the guest. */
static long out_struct(struct proc *p, long rc, uint64_t va, const void *s, size_t len)
{
	if (rc < 0)
		return -errno;
	return mem_write(&p->mem, va, s, len) < 0 ? -EFAULT : rc;
}

long sys_newfstatat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	struct stat st;
	if (!path[0] && (a[3] & AT_EMPTY_PATH)) {
		long fd = fd_guest(p, a[0]);
		if (fd < 0)
			return fd;
		return out_struct(p, fstat((int)fd, &st), a[2], &st, sizeof(st));
	}
	DIRFD_ARG(dfd, a[0], path);
	return out_struct(p, fstatat((int)dfd, path, &st, (int)a[3]), a[2], &st, sizeof(st));
}

long sys_stat(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], 0 };
	return sys_newfstatat(p, b);
}

long sys_lstat(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW };
	return sys_newfstatat(p, b);
}

long sys_fstat(struct proc *p, const uint64_t a[6])
{
	long fd = fd_guest(p, a[0]);
	if (fd < 0)
		return fd;
	struct stat st;
	return out_struct(p, fstat((int)fd, &st), a[1], &st, sizeof(st));
}

long sys_statx(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	long dfd = sys_dirfd(p, a[0]);
	if (dfd == -EBADF && path[0] != '/')
		return dfd;
	struct statx stx;
	return out_struct(p, syscall(SYS_statx, (int)(dfd == -EBADF ? AT_FDCWD : dfd), path, (int)a[2],
				     (unsigned)a[3], &stx), a[4], &stx, sizeof(stx));
}

long sys_statfs(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[0]);
	struct statfs sf;
	return out_struct(p, statfs(path, &sf), a[1], &sf, sizeof(sf));
}

long sys_fstatfs(struct proc *p, const uint64_t a[6])
{
	long fd = fd_guest(p, a[0]);
	if (fd < 0)
		return fd;
	struct statfs sf;
	return out_struct(p, fstatfs((int)fd, &sf), a[1], &sf, sizeof(sf));
}

long sys_faccessat2(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	DIRFD_ARG(dfd, a[0], path);
	return sys_ret(syscall(SYS_faccessat2, (int)dfd, path, (int)a[2], (int)a[3]));
}

long sys_faccessat(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { a[0], a[1], a[2], 0 };
	return sys_faccessat2(p, b);
}

long sys_access(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], 0 };
	return sys_faccessat2(p, b);
}

long sys_readlinkat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	DIRFD_ARG(dfd, a[0], path);
	if ((int)a[3] <= 0)
		return -EINVAL;
	char target[PATH_MAX];
	char own[64];
	snprintf(own, sizeof(own), "/proc/%d/exe", (int)getpid());
	long n;
	if (!strcmp(path, "/proc/self/exe") || !strcmp(path, own)) {
		n = (long)strlen(p->exe);
		memcpy(target, p->exe, (size_t)n);
	} else {
		n = readlinkat((int)dfd, path, target, sizeof(target));
		if (n < 0)
			return -errno;
	}
	n = MIN(n, (long)(int)a[3]);
	return mem_write(&p->mem, a[2], target, (uint64_t)n) < 0 ? -EFAULT : n;
}

long sys_readlink(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], a[2] };
	return sys_readlinkat(p, b);
}

long sys_mkdirat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	DIRFD_ARG(dfd, a[0], path);
	return sys_ret(mkdirat((int)dfd, path, (mode_t)a[2]));
}

long sys_mkdir(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1] };
	return sys_mkdirat(p, b);
}

long sys_unlinkat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	DIRFD_ARG(dfd, a[0], path);
	return sys_ret(unlinkat((int)dfd, path, (int)a[2]));
}

long sys_unlink(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], 0 };
	return sys_unlinkat(p, b);
}

long sys_rmdir(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], AT_REMOVEDIR };
	return sys_unlinkat(p, b);
}

long sys_renameat2(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(from, a[1]);
	PATH_ARG(to, a[3]);
	DIRFD_ARG(ofd, a[0], from);
	DIRFD_ARG(nfd, a[2], to);
	return sys_ret(syscall(SYS_renameat2, (int)ofd, from, (int)nfd, to, (unsigned)a[4]));
}

long sys_renameat(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { a[0], a[1], a[2], a[3], 0 };
	return sys_renameat2(p, b);
}

long sys_rename(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], (uint64_t)AT_FDCWD, a[1], 0 };
	return sys_renameat2(p, b);
}

long sys_linkat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(from, a[1]);
	PATH_ARG(to, a[3]);
	DIRFD_ARG(ofd, a[0], from);
	DIRFD_ARG(nfd, a[2], to);
	return sys_ret(linkat((int)ofd, from, (int)nfd, to, (int)a[4]));
}

long sys_link(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], (uint64_t)AT_FDCWD, a[1], 0 };
	return sys_linkat(p, b);
}

long sys_symlinkat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(target, a[0]);
	PATH_ARG(path, a[2]);
	DIRFD_ARG(dfd, a[1], path);
	return sys_ret(symlinkat(target, (int)dfd, path));
}

long sys_symlink(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { a[0], (uint64_t)AT_FDCWD, a[1] };
	return sys_symlinkat(p, b);
}

long sys_fchmodat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	DIRFD_ARG(dfd, a[0], path);
	return sys_ret(syscall(SYS_fchmodat, (int)dfd, path, (mode_t)a[2]));
}

long sys_chmod(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1] };
	return sys_fchmodat(p, b);
}

long sys_fchownat(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[1]);
	if (!path[0] && (a[4] & AT_EMPTY_PATH)) {
		long fd = fd_guest(p, a[0]);
		if (fd < 0)
			return fd;
		return sys_ret(fchown((int)fd, (uid_t)a[2], (gid_t)a[3]));
	}
	DIRFD_ARG(dfd, a[0], path);
	return sys_ret(fchownat((int)dfd, path, (uid_t)a[2], (gid_t)a[3], (int)a[4]));
}

long sys_chown(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], a[2], 0 };
	return sys_fchownat(p, b);
}

long sys_lchown(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW };
	return sys_fchownat(p, b);
}

long sys_truncate(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[0]);
	return sys_ret(truncate(path, (off_t)a[1]));
}

long sys_chdir(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[0]);
	return sys_ret(chdir(path));
}

long sys_getcwd(struct proc *p, const uint64_t a[6])
{
	char buf[PATH_MAX];
	long n = sys_ret(syscall(SYS_getcwd, buf, MIN(a[1], sizeof(buf))));
	if (n < 0)
		return n;
	return mem_write(&p->mem, a[0], buf, (uint64_t)n) < 0 ? -EFAULT : n;
}

long sys_umask(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return umask((mode_t)(a[0] & 0777));
}

long sys_utimensat(struct proc *p, const uint64_t a[6])
{
	struct timespec ts[2], *tsp = NULL;
	if (a[2]) {
		if (mem_read(&p->mem, ts, a[2], sizeof(ts)) < 0)
			return -EFAULT;
		tsp = ts;
	}
	/* A NULL path means the dirfd itself (futimens). */
	if (!a[1]) {
		long fd = fd_guest(p, a[0]);
		if (fd < 0)
			return fd;
		return sys_ret(syscall(SYS_utimensat, (int)fd, NULL, tsp, (int)a[3]));
	}
	PATH_ARG(path, a[1]);
	DIRFD_ARG(dfd, a[0], path);
	return sys_ret(syscall(SYS_utimensat, (int)dfd, path, tsp, (int)a[3]));
}

long sys_utimes(struct proc *p, const uint64_t a[6])
{
	PATH_ARG(path, a[0]);
	struct timeval tv[2], *tvp = NULL;
	if (a[1]) {
		if (mem_read(&p->mem, tv, a[1], sizeof(tv)) < 0)
			return -EFAULT;
		tvp = tv;
	}
	return sys_ret(syscall(SYS_utimes, path, tvp));
}
