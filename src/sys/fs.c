/* fs.c - file-descriptor I/O: read/write families, open/close, dup, pipes, ioctl, fcntl. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#define MAX_IOV 1024

#define GUEST_FD(var, arg)                    \
	long var = fd_guest(p, (arg));        \
	if (var < 0)                          \
		return var

/* Host iovecs for the guest buffer; a buffer only partly valid (or needing more than
 * 'max' runs) is cut short, as the kernel's copy would stop at the first bad page. */
static long guest_iov(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc,
		      struct iovec *iov, int max)
{
	uint64_t covered;
	int n = mem_iov(&p->mem, va, len, acc, iov, max, &covered);
	if (n >= 0)
		return n;
	if (!covered)
		return -EFAULT;
	return mem_iov(&p->mem, va, covered, acc, iov, max, NULL);
}

/*
 * A read into a buffer kvmse cannot reach: Linux only faults when data is copied, so a
 * read that returns nothing (end of file, empty /dev/null) succeeds. Read into a host
 * buffer and copy; on a fault, put a seekable file's offset back, as the kernel leaves it.
 */
static long read_bounced(struct proc *p, long fd, const uint64_t a[6], bool positioned)
{
	size_t len = (size_t)MIN(a[2], 1u << 16);
	void *buf = xmalloc(len);
	long n = sys_ret(positioned ? pread((int)fd, buf, len, (off_t)a[3]) : read((int)fd, buf, len));
	if (n > 0 && mem_write(&p->mem, a[1], buf, (uint64_t)n) < 0) {
		if (!positioned)
			lseek((int)fd, -n, SEEK_CUR);
		n = -EFAULT;
	}
	free(buf);
	return n;
}

/* read, write, pread64, pwrite64 on one guest buffer. */
static long rw(struct proc *p, const uint64_t a[6], enum mem_access acc, bool positioned)
{
	GUEST_FD(fd, a[0]);
	struct iovec iov[64];
	uint64_t len = MIN(a[2], (uint64_t)SSIZE_MAX);
	if (!len) {
		return positioned ? sys_ret(syscall(acc == MEM_WRITE ? SYS_pread64 : SYS_pwrite64,
						     fd, NULL, 0, a[3]))
				  : sys_ret(syscall(acc == MEM_WRITE ? SYS_read : SYS_write, fd, NULL, 0));
	}
	long n = guest_iov(p, a[1], len, acc, iov, (int)ARRAY_SIZE(iov));
	if (n == -EFAULT && acc == MEM_WRITE)
		return read_bounced(p, fd, a, positioned);
	if (n < 0)
		return n;
	/* A read writes guest memory, a write reads it. */
	if (acc == MEM_WRITE)
		return sys_ret(positioned ? preadv(fd, iov, (int)n, (off_t)a[3]) : readv(fd, iov, (int)n));
	return sys_ret(positioned ? pwritev(fd, iov, (int)n, (off_t)a[3]) : writev(fd, iov, (int)n));
}

long sys_read(struct proc *p, const uint64_t a[6]) { return rw(p, a, MEM_WRITE, false); }
long sys_write(struct proc *p, const uint64_t a[6]) { return rw(p, a, MEM_READ, false); }
long sys_pread64(struct proc *p, const uint64_t a[6]) { return rw(p, a, MEM_WRITE, true); }
long sys_pwrite64(struct proc *p, const uint64_t a[6]) { return rw(p, a, MEM_READ, true); }

/* readv, writev, preadv, pwritev: the guest's iovec array, each buffer translated. */
static long rwv(struct proc *p, const uint64_t a[6], enum mem_access acc, bool positioned)
{
	GUEST_FD(fd, a[0]);
	if ((int)a[2] < 0 || a[2] > MAX_IOV)
		return -EINVAL;
	int cnt = (int)a[2];
	struct iovec *giov = xmalloc(sizeof(*giov) * (size_t)(cnt ? cnt : 1));
	struct iovec *hiov = xmalloc(sizeof(*hiov) * MAX_IOV);
	long rc = mem_read(&p->mem, giov, a[1], sizeof(*giov) * (uint64_t)cnt);
	int n = 0;
	for (int i = 0; rc == 0 && i < cnt && n < MAX_IOV; i++) {
		long k = guest_iov(p, (uint64_t)giov[i].iov_base, giov[i].iov_len, acc, hiov + n,
				   MAX_IOV - n);
		if (k < 0)
			rc = n ? 0 : k;
		if (k < 0)
			break;
		n += (int)k;
	}
	if (rc == 0) {
		off_t off = (off_t)a[3];
		if (acc == MEM_WRITE)
			rc = sys_ret(positioned ? preadv(fd, hiov, n, off) : readv(fd, hiov, n));
		else
			rc = sys_ret(positioned ? pwritev(fd, hiov, n, off) : writev(fd, hiov, n));
	}
	free(giov);
	free(hiov);
	return rc;
}

long sys_readv(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_WRITE, false); }
long sys_writev(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_READ, false); }
long sys_preadv(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_WRITE, true); }
long sys_pwritev(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_READ, true); }

/* "/proc/self/exe" and "/proc/<our pid>/exe" name the guest program, not kvmse. */
static bool is_self_exe(const char *path)
{
	char own[64];
	snprintf(own, sizeof(own), "/proc/%d/exe", (int)getpid());
	return !strcmp(path, "/proc/self/exe") || !strcmp(path, own) ||
	       !strcmp(path, "/proc/thread-self/exe");
}

long sys_openat(struct proc *p, const uint64_t a[6])
{
	char path[PATH_MAX];
	long dfd = sys_dirfd(p, a[0]);
	long rc = sys_path(p, a[1], path);
	if (rc < 0)
		return rc;
	if (dfd == -EBADF && path[0] != '/')
		return dfd;
	if (dfd == -EBADF)
		dfd = AT_FDCWD;
	const char *real = is_self_exe(path) ? p->exe : path;
	return sys_ret(openat((int)dfd, real, (int)a[2], (mode_t)a[3]));
}

long sys_open(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], a[2] };
	return sys_openat(p, b);
}

long sys_close(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(close((int)fd));
}

long sys_close_range(struct proc *p, const uint64_t a[6])
{
	(void)p;
	unsigned first = (unsigned)a[0], last = (unsigned)a[1];
	if (first > last || a[2] & ~(uint64_t)(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE))
		return -EINVAL;
	/* Close around kvmse's own descriptors. */
	unsigned from = first;
	for (unsigned fd = first; fd <= last && fd < 1u << 20; fd++) {
		if (!fd_hidden((int)fd))
			continue;
		if (fd > from && syscall(SYS_close_range, from, fd - 1, a[2]) < 0)
			return -errno;
		from = fd + 1;
	}
	if (from <= last && syscall(SYS_close_range, from, last, a[2]) < 0)
		return -errno;
	return 0;
}

long sys_lseek(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(lseek((int)fd, (off_t)a[1], (int)a[2]));
}

long sys_dup(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(dup((int)fd));
}

long sys_dup3(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	if ((int)a[1] < 0)
		return -EBADF;
	if (a[2] & ~(uint64_t)O_CLOEXEC)
		return -EINVAL;
	if (fd == (long)(int)a[1])
		return -EINVAL;
	fd_evict((int)a[1]);
	return sys_ret(dup3((int)fd, (int)a[1], (int)a[2]));
}

long sys_dup2(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	if (fd == (long)(int)a[1])
		return fcntl((int)fd, F_GETFD) < 0 ? -EBADF : fd;
	const uint64_t b[6] = { a[0], a[1], 0 };
	return sys_dup3(p, b);
}

long sys_pipe2(struct proc *p, const uint64_t a[6])
{
	int fds[2];
	if (pipe2(fds, (int)a[1]) < 0)
		return -errno;
	if (mem_write(&p->mem, a[0], fds, sizeof(fds)) < 0) {
		close(fds[0]);
		close(fds[1]);
		return -EFAULT;
	}
	return 0;
}

long sys_pipe(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { a[0], 0 };
	return sys_pipe2(p, b);
}

/* The terminal and file ioctls kvmse knows, with the size of what they read and write. */
static const struct { unsigned long req; unsigned in, out; } ioctls[] = {
	{ TCGETS, 0, sizeof(struct termios) },
	{ TCSETS, sizeof(struct termios), 0 },
	{ TCSETSW, sizeof(struct termios), 0 },
	{ TCSETSF, sizeof(struct termios), 0 },
	{ TIOCGWINSZ, 0, sizeof(struct winsize) },
	{ TIOCSWINSZ, sizeof(struct winsize), 0 },
	{ FIONREAD, 0, sizeof(int) },
	{ TIOCGPGRP, 0, sizeof(pid_t) },
	{ TIOCSPGRP, sizeof(pid_t), 0 },
	{ TIOCGSID, 0, sizeof(pid_t) },
	{ FIONBIO, sizeof(int), 0 },
	{ FIOASYNC, sizeof(int), 0 },
	{ TIOCOUTQ, 0, sizeof(int) },
};

long sys_ioctl(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	unsigned long req = (unsigned)a[1];
	/* Requests whose argument is a plain integer. */
	if (req == FIOCLEX || req == FIONCLEX || req == TCFLSH || req == TCXONC || req == TCSBRK ||
	    req == TIOCSCTTY || req == TIOCNOTTY)
		return sys_ret(ioctl((int)fd, req, a[2]));
	for (size_t i = 0; i < ARRAY_SIZE(ioctls); i++) {
		if (ioctls[i].req != req)
			continue;
		uint8_t buf[64];
		if (ioctls[i].in && mem_read(&p->mem, buf, a[2], ioctls[i].in) < 0)
			return -EFAULT;
		long rc = sys_ret(ioctl((int)fd, req, buf));
		if (rc >= 0 && ioctls[i].out && mem_write(&p->mem, a[2], buf, ioctls[i].out) < 0)
			return -EFAULT;
		return rc;
	}
	/* Unknown to kvmse: ENOTTY unless the descriptor is bad, as for an unsupported request. */
	return fcntl((int)fd, F_GETFD) < 0 ? -EBADF : -ENOTTY;
}

long sys_fcntl(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	int cmd = (int)a[1];
	switch (cmd) {
	case F_GETLK: case F_SETLK: case F_SETLKW:
	case F_OFD_GETLK: case F_OFD_SETLK: case F_OFD_SETLKW: {
		struct flock fl;
		if (mem_read(&p->mem, &fl, a[2], sizeof(fl)) < 0)
			return -EFAULT;
		long rc = sys_ret(fcntl((int)fd, cmd, &fl));
		if (rc >= 0 && (cmd == F_GETLK || cmd == F_OFD_GETLK) &&
		    mem_write(&p->mem, a[2], &fl, sizeof(fl)) < 0)
			return -EFAULT;
		return rc;
	}
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD: case F_GETFL:
	case F_SETFL: case F_GETPIPE_SZ: case F_SETPIPE_SZ: case F_ADD_SEALS: case F_GET_SEALS:
	case F_GETOWN: case F_SETOWN: case F_GETSIG: case F_SETSIG: case F_NOTIFY:
	case F_GETLEASE: case F_SETLEASE:
		return sys_ret(fcntl((int)fd, cmd, (long)a[2]));
	default:
		return -EINVAL;
	}
}

long sys_getdents64(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	size_t len = (size_t)MIN(a[2], 1u << 20);
	void *buf = xmalloc(len);
	long rc = sys_ret(syscall(SYS_getdents64, (int)fd, buf, len));
	if (rc > 0 && mem_write(&p->mem, a[1], buf, (uint64_t)rc) < 0)
		rc = -EFAULT;
	free(buf);
	return rc;
}

long sys_fsync(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(fsync((int)fd));
}

long sys_fdatasync(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(fdatasync((int)fd));
}

long sys_ftruncate(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(ftruncate((int)fd, (off_t)a[1]));
}

long sys_fchmod(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(fchmod((int)fd, (mode_t)a[1]));
}

long sys_fchown(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(fchown((int)fd, (uid_t)a[1], (gid_t)a[2]));
}

long sys_fchdir(struct proc *p, const uint64_t a[6])
{
	GUEST_FD(fd, a[0]);
	return sys_ret(fchdir((int)fd));
}
