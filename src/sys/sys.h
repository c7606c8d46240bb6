/* sys.h - the system-call layer: one handler per call, sys_<name>(proc, args). */
#ifndef KVMSE_SYS_H
#define KVMSE_SYS_H
#include "../fd.h"
#include "../proc.h"
#include <errno.h>
#include <limits.h>

typedef long (*sys_handler)(struct proc *p, const uint64_t a[6]);

#define SC(nr, name, fmt) long sys_##name(struct proc *p, const uint64_t a[6]);
#include "syscalls.def"
#undef SC

/* Run the system call in 'r' (number in rax) and put its result in rax. */
void sys_dispatch(struct proc *p, struct cpu_regs *r);
const char *sys_name(unsigned nr);

/* Host syscall result -> -errno convention. */
static inline long sys_ret(long rc)
{
	return rc < 0 ? -errno : rc;
}

/* 'fd' as the guest may use it, or -EBADF for kvmse's own. */
static inline long fd_guest(struct proc *p, uint64_t fd)
{
	(void)p;
	return (int)fd < 0 || fd_hidden((int)fd) ? -EBADF : (long)(int)fd;
}
/* Copy a path argument: 0, -EFAULT or -ENAMETOOLONG. */
long sys_path(struct proc *p, uint64_t va, char buf[PATH_MAX]);
/* The dirfd argument of an *at call: AT_FDCWD (negative), a guest fd, or -EBADF. */
long sys_dirfd(struct proc *p, uint64_t fd);

/* strace.c: one strace line for call 'nr' with strace format 'fmt' (see syscalls.def). */
void strace_print(struct proc *p, const char *name, unsigned nr, const char *fmt, const uint64_t a[6],
		  long ret, bool returned);

/* The guest terminates now: signal 0 means exit with 'status'. */
void sys_terminate(struct proc *p, int status, int sig);

#endif
