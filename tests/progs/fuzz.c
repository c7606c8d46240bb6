/* Random arguments, from a fixed seed, to the system calls a program may make without
 * harming itself; prints each call's outcome (ok or the errno), which must match. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SCRATCH ((char *)0x200000000UL)
#define SCRATCH_LEN (16 * 4096UL)

static uint64_t seed = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void) { return xorshift(&seed); }

/* An argument: small numbers, flags-like values, and pointers of every kind. */
static uint64_t arg(void)
{
	switch (rnd() % 12) {
	case 0: return 0;
	case 1: return rnd() % 8;
	case 2: return (uint64_t)-(int64_t)(rnd() % 4) - 1;
	case 3: return rnd();
	case 4: return 0xffffffff80000000ULL + (rnd() % 0x10000);       /* kvmse's shim */
	case 5: return 0x8000000000000000ULL;                             /* non-canonical */
	case 6: return 0x100000000ULL;                                    /* unmapped */
	case 7: case 8: return (uint64_t)SCRATCH + rnd() % SCRATCH_LEN;   /* valid memory */
	case 9: return (uint64_t)SCRATCH + SCRATCH_LEN - rnd() % 64;      /* straddles the end */
	case 10: return rnd() % 4096;
	default: return 1ULL << (rnd() % 64);
	}
}

/* Calls that cannot block, end the process, or change its own memory and registers. */
static const int calls[] = {
	SYS_read, SYS_write, SYS_open, SYS_close, SYS_stat, SYS_fstat, SYS_lstat, SYS_lseek,
	SYS_pread64, SYS_pwrite64, SYS_readv, SYS_writev, SYS_access, SYS_pipe, SYS_dup,
	SYS_dup2, SYS_getpid, SYS_uname, SYS_fcntl, SYS_fsync, SYS_fdatasync, SYS_ftruncate,
	SYS_getcwd, SYS_rename, SYS_mkdir, SYS_rmdir, SYS_link, SYS_unlink, SYS_symlink,
	SYS_readlink, SYS_chmod, SYS_fchmod, SYS_umask, SYS_gettimeofday, SYS_getrusage,
	SYS_sysinfo, SYS_times, SYS_getuid, SYS_getgroups, SYS_rt_sigprocmask, SYS_statfs,
	SYS_fstatfs, SYS_getdents64, SYS_clock_gettime, SYS_clock_getres, SYS_openat,
	SYS_mkdirat, SYS_newfstatat, SYS_unlinkat, SYS_renameat, SYS_linkat, SYS_symlinkat,
	SYS_readlinkat, SYS_fchmodat, SYS_faccessat, SYS_dup3, SYS_pipe2, SYS_preadv,
	SYS_pwritev, SYS_getrandom, SYS_statx, SYS_faccessat2, SYS_ioctl, SYS_sched_getaffinity,
	SYS_msync, SYS_time, SYS_utimensat, SYS_truncate,
};

static bool fd_call(int nr)
{
	static const int fd_calls[] = {
		SYS_read, SYS_write, SYS_close, SYS_fstat, SYS_lseek, SYS_pread64, SYS_pwrite64,
		SYS_readv, SYS_writev, SYS_dup, SYS_dup2, SYS_fcntl, SYS_fsync, SYS_fdatasync,
		SYS_ftruncate, SYS_fchmod, SYS_fstatfs, SYS_getdents64, SYS_ioctl, SYS_dup3,
		SYS_preadv, SYS_pwritev,
	};
	for (size_t i = 0; i < sizeof(fd_calls) / sizeof(fd_calls[0]); i++)
		if (fd_calls[i] == nr)
			return true;
	return false;
}

int main(void)
{
	char *s = mmap(SCRATCH, SCRATCH_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(s == SCRATCH);
	for (unsigned long i = 0; i < SCRATCH_LEN; i++)
		s[i] = (char)(rnd() % 3 ? 'a' + rnd() % 26 : rnd() % 3 ? 0 : '/');
	/* Outputs of earlier calls (times, random bytes) must not feed later ones: each call
	 * starts from the same scratch contents. */
	static char pristine[SCRATCH_LEN];
	memcpy(pristine, s, SCRATCH_LEN);
	CHECK(mprotect(SCRATCH + SCRATCH_LEN / 2, 4096, PROT_READ) == 0);
	int out = dup(1);
	signal(SIGPIPE, SIG_IGN);       /* a write to a closed pipe is EPIPE, not death */
	for (int i = 0; i < 20000; i++) {
		int nr = calls[rnd() % (sizeof(calls) / sizeof(calls[0]))];
		uint64_t a[6];
		for (int k = 0; k < 6; k++)
			a[k] = arg();
		/* Leave the standard descriptors and the output alone (the kernel takes the
		 * low 32 bits of a descriptor), avoid huge files. */
		if (fd_call(nr) && ((unsigned)a[0] < 3 || (int)a[0] == out))
			continue;
		if ((nr == SYS_dup2 || nr == SYS_dup3) && ((unsigned)a[1] < 3 || (int)a[1] == out))
			continue;
		if (nr == SYS_ftruncate && a[1] > (1 << 20))
			continue;
		if (nr == SYS_truncate && a[1] > (1 << 20))
			continue;
		if (nr == SYS_rt_sigprocmask)
			a[1] = 0;       /* do not block signals for real */
		/* A pid: ours, or one no process has (another process may have a small one
		 * in one run and not the other, since pids wrap). */
		if (nr == SYS_sched_getaffinity)
			a[0] = a[0] % 2 ? 0 : 0x7fffffff;
		/* Nothing may block: pipes are non-blocking and stay so. */
		if (nr == SYS_pipe) {
			nr = SYS_pipe2;
			a[1] = 0;
		}
		if (nr == SYS_pipe2)
			a[1] |= O_NONBLOCK;
		if ((nr == SYS_fcntl && (a[1] == F_SETFL || a[1] == F_SETLKW || a[1] == F_OFD_SETLKW)) ||
		    (nr == SYS_ioctl && a[1] == 0x5421 /* FIONBIO */))
			continue;
		/* No path may start with '/': paths stay below the current directory (as
		 * root, a chmod of "/" or a mkdir there would outlive the test). */
		for (int k = 0; k < 6; k++)
			while (a[k] >= (uint64_t)SCRATCH && a[k] < (uint64_t)SCRATCH + SCRATCH_LEN &&
			       pristine[a[k] - (uint64_t)SCRATCH] == '/')
				a[k]++;
		memcpy(s, pristine, SCRATCH_LEN / 2);
		memcpy(s + SCRATCH_LEN / 2 + 4096, pristine + SCRATCH_LEN / 2 + 4096, SCRATCH_LEN / 2 - 4096);
		long rc = syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
		char line[128];
		int n = snprintf(line, sizeof(line), "%d %d %s\n", i, nr, rc < 0 ? strerror(errno) : "ok");
		write(out, line, (size_t)n);
	}
	return 0;
}
