/* fs.c - file-descriptor I/O: read/write families, open/close, dup, pipes, ioctl, fcntl.
 * Arguments are translated for the host kernel, which checks them in Linux's order. */
#include "sys.h"
#include "../thread.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sched.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <termios.h>
#include <unistd.h>

#define MAX_IOV 1024            /* UIO_MAXIOV */
#define FD(i) user_fd(a[i])
#define HOST(...) sys_ret(syscall(__VA_ARGS__))

/*
 * Host iovecs for one guest buffer, appended at iov[*n]: the guest's memory itself where
 * it is accessible, then, where it stops being so, one segment ending at a faulting page,
 * so the host kernel stops (short count or EFAULT) where Linux would. False after that.
 * 'lasting': the I/O outlives the call (AIO), so that segment is a page that faults,
 * never a bounce buffer, which the call's end frees.
 */
bool sys_add_segments(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc,
		      struct iovec *iov, int *n, int max, bool lasting)
{
	uint64_t covered;
	int k = mem_iov(p->mem, va, len, acc, iov + *n, max - *n, &covered);
	if (k >= 0) {
		*n += k;
		return true;
	}
	if (covered) {
		k = mem_iov(p->mem, va, covered, acc, iov + *n, max - *n, NULL);
		*n += k;
	}
	if (*n < max) {
		iov[*n].iov_base = lasting ? user_buf_poison() : user_buf(p, va + covered, len - covered, acc);
		iov[*n].iov_len = len - covered;
		(*n)++;
	}
	return false;
}

/* How a transfer is positioned: at the file position, at an offset, or as preadv2 says;
 * or a vmsplice, between the buffers and a pipe. */
enum rw_at { RW_POS, RW_OFF, RW_V2, RW_SPLICE };

static long do_rw(int fd, const struct iovec *iov, int n, enum mem_access acc, enum rw_at at,
		  off_t off, int flags)
{
	/* The guest's reads write its memory; its writes read it. */
	if (at == RW_SPLICE)
		return sys_ret(vmsplice(fd, iov, (unsigned long)n, (unsigned)flags));
	if (at == RW_V2)
		return sys_ret(acc == MEM_WRITE ? preadv2(fd, iov, n, off, flags) : pwritev2(fd, iov, n, off, flags));
	if (acc == MEM_WRITE)
		return sys_ret(at == RW_OFF ? preadv(fd, iov, n, off) : readv(fd, iov, n));
	return sys_ret(at == RW_OFF ? pwritev(fd, iov, n, off) : writev(fd, iov, n));
}

/* read, write, pread64, pwrite64. */
static long rw(struct proc *p, const uint64_t a[6], enum mem_access acc, bool positioned)
{
	struct iovec iov[64];
	int n = 0;
	uint64_t len = MIN(a[2], (uint64_t)0x7ffff000);         /* MAX_RW_COUNT */
	bool whole = sys_add_segments(p, a[1], len, acc, iov, &n, (int)ARRAY_SIZE(iov), false);
	if (whole && n > 1)
		return do_rw(FD(0), iov, n, acc, positioned ? RW_OFF : RW_POS, (off_t)a[3], 0);
	/* One buffer: the host's own read/write, which some files treat apart, with the
	 * guest's own count, which the kernel checks (access_ok) before it clamps it. */
	void *buf = whole && n ? iov[0].iov_base : user_buf(p, a[1], len, acc);
	size_t cnt = a[2];
	if (acc == MEM_WRITE)
		return HOST(positioned ? SYS_pread64 : SYS_read, FD(0), buf, cnt, (off_t)a[3]);
	return HOST(positioned ? SYS_pwrite64 : SYS_write, FD(0), buf, cnt, (off_t)a[3]);
}

/* Writing to a pipe nobody reads: EPIPE, and SIGPIPE for the guest (kvmse ignores its own). */
static long epipe(struct proc *p, long rc)
{
	if (rc == -EPIPE)
		sys_self_signal(p, SIGPIPE);
	return rc;
}

long sys_read(struct proc *p, const uint64_t a[6]) { return rw(p, a, MEM_WRITE, false); }
long sys_write(struct proc *p, const uint64_t a[6]) { return epipe(p, rw(p, a, MEM_READ, false)); }
long sys_pread64(struct proc *p, const uint64_t a[6]) { return rw(p, a, MEM_WRITE, true); }
long sys_pwrite64(struct proc *p, const uint64_t a[6]) { return epipe(p, rw(p, a, MEM_READ, true)); }

/* readv, writev, preadv, pwritev, preadv2, pwritev2: the guest's iovec array, each
 * buffer translated. (On x86-64 the offset is a[3] whole; a[4] would be its high half.) */
static long rwv(struct proc *p, const uint64_t a[6], enum mem_access acc, enum rw_at at)
{
	int cnt = (int)a[2], flags = at == RW_V2 || at == RW_SPLICE ? (int)a[5] : 0;
	if (cnt < 0 || cnt > MAX_IOV)
		return do_rw(FD(0), NULL, cnt, acc, at, (off_t)a[3], flags);
	struct iovec *giov = xmalloc(sizeof(*giov) * (size_t)(cnt ? cnt : 1));
	struct iovec *hiov = xmalloc(sizeof(*hiov) * MAX_IOV);
	int n = 0;
	long rc;
	if (mem_read(p->mem, giov, a[1], sizeof(*giov) * (uint64_t)cnt) < 0) {
		/* The array itself is bad: the host kernel faults on it, in its own order. */
		rc = do_rw(FD(0), user_in(p, a[1], sizeof(*giov) * (uint64_t)cnt), cnt, acc, at,
			   (off_t)a[3], flags);
	} else {
		for (int i = 0; i < cnt && n < MAX_IOV; i++)
			if (!sys_add_segments(p, (uint64_t)giov[i].iov_base, giov[i].iov_len, acc, hiov, &n, MAX_IOV, false))
				break;
		rc = do_rw(FD(0), hiov, n, acc, at, (off_t)a[3], flags);
	}
	free(giov);
	free(hiov);
	return rc;
}

long sys_readv(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_WRITE, RW_POS); }
long sys_writev(struct proc *p, const uint64_t a[6]) { return epipe(p, rwv(p, a, MEM_READ, RW_POS)); }
long sys_preadv(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_WRITE, RW_OFF); }
long sys_pwritev(struct proc *p, const uint64_t a[6]) { return epipe(p, rwv(p, a, MEM_READ, RW_OFF)); }
long sys_preadv2(struct proc *p, const uint64_t a[6]) { return rwv(p, a, MEM_WRITE, RW_V2); }
long sys_pwritev2(struct proc *p, const uint64_t a[6]) { return epipe(p, rwv(p, a, MEM_READ, RW_V2)); }

/* vmsplice: a pipe's write end takes the guest's pages themselves (host iovecs that are
 * guest memory), its read end fills them. */
long sys_vmsplice(struct proc *p, const uint64_t a[6])
{
	int fl = fcntl(user_fd(a[0]), F_GETFL);
	if (fl < 0)
		return -EBADF;
	enum mem_access acc = (fl & O_ACCMODE) == O_RDONLY ? MEM_WRITE : MEM_READ;
	const uint64_t b[6] = { a[0], a[1], a[2], 0, 0, a[3] };
	return epipe(p, rwv(p, b, acc, RW_SPLICE));
}

/* creat is open with O_CREAT|O_WRONLY|O_TRUNC. */
long sys_creat(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC, a[1] };
	return sys_openat(p, b);
}

/* splice or tee with a signalfd or a userfaultfd, pipes here: Linux's have no splice
 * (EINVAL), once both descriptors are open with the access the call needs (EBADF; a
 * signalfd is open for reading and writing, a userfaultfd for reading, as the pipe's
 * read end that stands for it). 0 if neither is one. */
static long no_splice(struct proc *p, int in, int out)
{
	bool sout = sigfd_is(p, out);
	if (!sout && !sigfd_is(p, in) && !uffd_is(in) && !uffd_is(out))
		return 0;
	int fi = fcntl(in, F_GETFL), fo = fcntl(out, F_GETFL);
	if (fi < 0 || fo < 0 || (fi & O_PATH) || (fo & O_PATH))
		return -EBADF;
	bool readable = (fi & O_ACCMODE) != O_WRONLY, writable = sout || (fo & O_ACCMODE) != O_RDONLY;
	return readable && writable ? -EINVAL : -EBADF;
}

/* splice and tee move data between descriptors in the host kernel; only the offsets
 * (loff_t in and out, or NULL) are guest memory. */
long sys_splice(struct proc *p, const uint64_t a[6])
{
	long rc = no_splice(p, FD(0), FD(2));
	if (rc)
		return rc;
	return epipe(p, HOST(SYS_splice, FD(0), user_out(p, a[1], sizeof(loff_t)), FD(2),
			     user_out(p, a[3], sizeof(loff_t)), (size_t)a[4], (unsigned)a[5]));
}
long sys_tee(struct proc *p, const uint64_t a[6])
{
	long rc = no_splice(p, FD(0), FD(1));
	return rc ? rc : epipe(p, HOST(SYS_tee, FD(0), FD(1), (size_t)a[2], (unsigned)a[3]));
}
long sys_sync_file_range(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return HOST(SYS_sync_file_range, FD(0), (off_t)a[1], (off_t)a[2], (unsigned)a[3]);
}
long sys_sync(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; sync(); return 0; }
long sys_syncfs(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_syncfs, FD(0)); }

/* The files a path must open as the guest's, not kvmse's: procfs's (the descriptor is
 * returned) and /proc/self/exe, followed unless 'follow' is false (*path becomes the
 * program's). -ENOENT for any other path. */
static long own_file(struct proc *p, const char **path, int flags, bool follow)
{
	long fd = procfs_open(p, *path, flags);
	if (fd == -ENOENT && follow && sys_is_self_exe(*path))
		*path = p->ps->exe;
	return fd;
}

/* Does /proc/locks list a loader's lock (a read lock of LOADER_BUSY_BYTE alone) on the
 * file (dev, ino)? */
static bool loader_lock_listed(dev_t dev, ino_t ino)
{
	int locks = fd_proc_open("locks", O_RDONLY);
	FILE *f = locks < 0 ? NULL : fdopen(locks, "r");
	if (!f) {
		if (locks >= 0)
			close(locks);
		return false;
	}
	char line[256], type[16], first[32], last[32], want[32];
	unsigned maj, min;
	unsigned long i;
	bool found = false;
	snprintf(want, sizeof(want), "%lld", (long long)LOADER_BUSY_BYTE);
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "%*s %*s %*s %15s %*d %x:%x:%lu %31s %31s", type, &maj, &min, &i,
			       first, last) == 6 && !strcmp(type, "READ") && i == ino &&
			makedev(maj, min) == dev && !strcmp(first, want) && !strcmp(last, want);
	fclose(f);
	return found;
}

/* Linux opens no running program for writing, nor truncates one (ETXTBSY): a kvmse
 * process that runs one holds a read lock on its LOADER_BUSY_BYTE (loader.c). fd is the
 * regular file in question, open. The lock a test finds is that one, or the program's
 * own (a whole-file lock covers the byte too): then the list of locks tells. */
static bool running_program(int fd)
{
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = LOADER_BUSY_BYTE,
			    .l_len = 1 };
	if (fcntl(fd, F_OFD_GETLK, &lk) < 0 || lk.l_type == F_UNLCK)
		return false;
	struct stat st;
	if (lk.l_type == F_RDLCK && lk.l_start == LOADER_BUSY_BYTE && lk.l_len == 1)
		return true;
	return fstat(fd, &st) == 0 && loader_lock_listed(st.st_dev, st.st_ino);
}

/* The file at 'path', if it is a regular one. (No open of it to ask: a read open would
 * break a lease on it, as truncate would not: LTP fcntl33.) */
bool sys_running_program(const char *path)
{
	struct stat st;
	return path && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	       loader_lock_listed(st.st_dev, st.st_ino);
}

/* The program's own open, made without O_TRUNC: a regular file is tested, then cut. */
static long open_write(int dirfd, const char *path, int flags, mode_t mode)
{
	/* A file this open creates is no program and has nothing to cut; and a truncation
	 * of it would be one Linux does not make (an unprivileged one clears the
	 * set-group-ID bit the mode gives: LTP creat08). */
	if ((flags & (O_CREAT | O_TRUNC)) == (O_CREAT | O_TRUNC)) {
		long fd = HOST(SYS_openat, dirfd, path, (flags & ~O_TRUNC) | O_EXCL, mode);
		if (fd != -EEXIST)
			return fd;
	}
	long fd = HOST(SYS_openat, dirfd, path, flags & ~O_TRUNC, mode);
	struct stat st;
	if (fd < 0 || fstat((int)fd, &st) < 0 || !S_ISREG(st.st_mode))
		return fd;
	long rc = running_program((int)fd) ? -ETXTBSY : 0;
	if (!rc && (flags & O_TRUNC) && ftruncate((int)fd, 0) < 0)
		rc = -errno;
	if (!rc)
		return fd;
	close((int)fd);
	if (rc == -ETXTBSY)
		loader_hold();
	return rc;
}

long sys_openat(struct proc *p, const uint64_t a[6])
{
	const char *path = user_path(p, a[1], 0);
	long fd;
	int flags = (int)a[2];
	if (user_path_whole(path, 0) && (fd = own_file(p, &path, flags, true)) != -ENOENT)
		return fd;
	if ((flags & O_ACCMODE) != O_RDONLY && !(flags & (O_PATH | O_EXCL)))
		return procfs_opened(open_write(FD(0), path, flags, (mode_t)a[3]), path);
	return procfs_opened(HOST(SYS_openat, FD(0), path, flags, (mode_t)a[3]), path);
}

/* openat's, with the flags in a struct the host reads (its size checked there). A
 * program that refuses symbolic links gets the host's /proc/self/exe: ELOOP too. */
long sys_openat2(struct proc *p, const uint64_t a[6])
{
	const char *path = user_path(p, a[1], 0);
	uint64_t how[3];                /* struct open_how: flags, mode, resolve */
	if (user_path_whole(path, 0) && a[3] >= sizeof(how) &&
	    mem_read(p->mem, how, a[2], sizeof(how)) == 0) {
		bool follow = !(how[2] & (RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS));
		long fd = own_file(p, &path, (int)how[0], follow);
		if (fd != -ENOENT)
			return fd;
	}
	return procfs_opened(HOST(SYS_openat2, FD(0), path, user_in(p, a[2], a[3]), a[3]), path);
}

long sys_open(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { (uint64_t)AT_FDCWD, a[0], a[1], a[2] };
	return sys_openat(p, b);
}

long sys_readahead(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_readahead, FD(0), (off_t)a[1], (size_t)a[2]); }
/* A close of any descriptor of the running program's file lets go of this process's
 * POSIX locks on it, the loader's among them: they are taken again after each. */
static long relock(long rc)
{
	loader_hold();
	return rc;
}

long sys_close(struct proc *p, const uint64_t a[6]) { (void)p; return relock(HOST(SYS_close, FD(0))); }

long sys_close_range(struct proc *p, const uint64_t a[6])
{
	unsigned first = (unsigned)a[0], last = (unsigned)a[1], flags = (unsigned)a[2];
	if (first > last || a[2] & ~(uint64_t)(CLOSE_RANGE_CLOEXEC | CLOSE_RANGE_UNSHARE))
		return -EINVAL;
	/* (on the vCPU thread, whose new table the next server shares) */
	if (flags & CLOSE_RANGE_UNSHARE) {
		if (unshare(CLONE_FILES) < 0)
			return -errno;
		fd_share_end();
		thread_renew_server(p);
		flags &= ~CLOSE_RANGE_UNSHARE;
	}
	/* Close around kvmse's own descriptors. */
	unsigned from = first;
	for (unsigned fd = first; fd <= last && fd < 1u << 20; fd++) {
		if (!fd_hidden((int)fd))
			continue;
		if (fd > from && syscall(SYS_close_range, from, fd - 1, flags) < 0)
			return relock(-errno);
		from = fd + 1;
	}
	if (from <= last && syscall(SYS_close_range, from, last, flags) < 0)
		return relock(-errno);
	return relock(0);
}

long sys_lseek(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_lseek, FD(0), (off_t)a[1], (int)a[2]); }
long sys_dup(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_dup, FD(0)); }

/* dup2/dup3 onto one of kvmse's descriptors: it moves out of the way first. */
long sys_dup3(struct proc *p, const uint64_t a[6])
{
	(void)p;
	if (!fd_hidden((int)a[0]) && (int)a[0] != (int)a[1])
		fd_evict((int)a[1]);
	return relock(HOST(SYS_dup3, FD(0), (int)a[1], (int)a[2]));
}

long sys_dup2(struct proc *p, const uint64_t a[6])
{
	(void)p;
	if (!fd_hidden((int)a[0]) && (int)a[0] != (int)a[1])
		fd_evict((int)a[1]);
	return relock(HOST(SYS_dup2, FD(0), FD(1)));
}

long sys_pipe2(struct proc *p, const uint64_t a[6]) { return HOST(SYS_pipe2, user_out(p, a[0], 2 * sizeof(int)), (int)a[1]); }
long sys_pipe(struct proc *p, const uint64_t a[6]) { return HOST(SYS_pipe2, user_out(p, a[0], 2 * sizeof(int)), 0); }

long sys_fcntl(struct proc *p, const uint64_t a[6])
{
	int cmd = (int)a[1];
	switch (cmd) {
	case F_GETLK: case F_OFD_GETLK: {
		/* The descriptor, then the struct read, checked and written: one in read-only
		 * memory fails late. */
		struct flock fl;
		if (fcntl(FD(0), F_GETFD) < 0)
			return -errno;
		if (mem_read(p->mem, &fl, a[2], sizeof(fl)) < 0)
			return -EFAULT;
		long rc = HOST(SYS_fcntl, FD(0), cmd, &fl);
		if (rc == 0 && mem_write(p->mem, a[2], &fl, sizeof(fl)) < 0)
			return -EFAULT;
		return rc;
	}
	case F_SETLK: case F_SETLKW: case F_OFD_SETLK: case F_OFD_SETLKW:     /* (only read) */
		return HOST(SYS_fcntl, FD(0), cmd, user_in(p, a[2], sizeof(struct flock)));
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_GETFD: case F_SETFD: case F_GETFL:
	case F_SETFL: case F_GETPIPE_SZ: case F_SETPIPE_SZ: case F_ADD_SEALS: case F_GET_SEALS:
	case F_GETOWN: case F_SETOWN: case F_GETSIG: case F_SETSIG: case F_NOTIFY:
	case F_GETLEASE: case F_SETLEASE:
		return HOST(SYS_fcntl, FD(0), cmd, a[2]);
	case F_GETOWN_EX:
	case F_SETOWN_EX:
		return HOST(SYS_fcntl, FD(0), cmd, user_out(p, a[2], sizeof(struct f_owner_ex)));
	case F_GET_RW_HINT: case F_SET_RW_HINT: case F_GET_FILE_RW_HINT: case F_SET_FILE_RW_HINT:
		return HOST(SYS_fcntl, FD(0), cmd, user_out(p, a[2], sizeof(uint64_t)));
	default:
		return HOST(SYS_fcntl, FD(0), cmd, user_opaque(a[2]));
	}
}

/* Is 'fd' open on kvmse's own /proc/<pid>/fd (or a task's) directory? */
static bool is_own_fd_dir(int fd)
{
	char dir[PATH_MAX];
	if (fd_target(fd, dir, sizeof(dir)) <= 0)
		return false;
	int pid = (int)getpid(), a, b, len = 0;
	if (sscanf(dir, "/proc/%d/fd%n", &a, &len) == 1 && !dir[len])
		return a == pid;
	len = 0;
	return sscanf(dir, "/proc/%d/task/%d/fd%n", &a, &b, &len) == 2 && !dir[len] && a == pid;
}

/* Drop kvmse's own descriptors from a listing of /proc/self/fd. */
static long hide_own_fds(uint8_t *buf, long len, size_t name_off)
{
	long out = 0;
	for (long off = 0; off < len;) {
		/* Both formats: inode, offset, then the record's length (16); the name at
		 * name_off (getdents64 has the type before it, getdents after). */
		uint16_t reclen;
		memcpy(&reclen, buf + off + 16, sizeof(reclen));
		const char *name = (const char *)buf + off + name_off;
		char *end;
		long fd = strtol(name, &end, 10);
		if (!(*end == 0 && end != name && fd_hidden((int)fd))) {
			memmove(buf + out, buf + off, reclen);
			out += reclen;
		}
		off += reclen;
	}
	return out;
}

static long dents(struct proc *p, const uint64_t a[6], long nr, size_t name_off)
{
	void *buf = user_out(p, a[1], (unsigned)a[2]);
	long rc = HOST(nr, FD(0), buf, (unsigned)a[2]);
	if (rc > 0 && is_own_fd_dir(FD(0)))
		rc = hide_own_fds(buf, rc, name_off);
	return rc;
}

long sys_getdents64(struct proc *p, const uint64_t a[6]) { return dents(p, a, SYS_getdents64, 19); }
long sys_getdents(struct proc *p, const uint64_t a[6]) { return dents(p, a, SYS_getdents, 18); }

long sys_sendfile(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sendfile, FD(0), FD(1), user_out(p, a[2], sizeof(off_t)), a[3]);
}

long sys_copy_file_range(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_copy_file_range, FD(0), user_out(p, a[1], sizeof(off_t)), FD(2),
		    user_out(p, a[3], sizeof(off_t)), a[4], (unsigned)a[5]);
}

#ifndef SYS_cachestat            /* (C library headers older than Linux 6.5) */
#define SYS_cachestat 451
#endif
/* cachestat: a range of two 64-bit values in, five 64-bit counts out. */
long sys_cachestat(struct proc *p, const uint64_t a[6])
{
	uint64_t *out = user_out(p, a[2], 5 * sizeof(uint64_t));
	long rc = HOST(SYS_cachestat, FD(0), user_in(p, a[1], 2 * sizeof(uint64_t)), out, (unsigned)a[3]);
	if (rc == 0 && procfs_is(FD(0)))        /* (the memfd's pages are not /proc's) */
		memset(out, 0, 5 * sizeof(uint64_t));
	return rc;
}
long sys_fadvise64(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fadvise64, FD(0), (off_t)a[1], (off_t)a[2], (int)a[3]); }
long sys_fallocate(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fallocate, FD(0), (int)a[1], (off_t)a[2], (off_t)a[3]); }
long sys_flock(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_flock, FD(0), (int)a[1]); }

long sys_fsync(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fsync, FD(0)); }
long sys_fdatasync(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fdatasync, FD(0)); }
long sys_ftruncate(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_ftruncate, FD(0), (off_t)a[1]); }
