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
/* The same for a CPU model's syscall server (struct cpu_server): the calls it may run,
 * and one call with no registers at hand ('ctx' is the proc). */
bool sys_may_serve(unsigned nr);
long sys_serve(void *ctx, uint64_t nr, const uint64_t a[6], bool *stop);

/* Host syscall result -> -errno convention. */
static inline long sys_ret(long rc)
{
	return rc < 0 ? -errno : rc;
}

/* user.c: arguments for a host system call that checks them itself, in Linux's order. */
#define USER_PATH_SLOTS 2
void user_init(void);
/* The guest's path at 'va' as the host kernel should see it (NULL stays NULL). */
const char *user_path(struct proc *p, uint64_t va, int slot);
/* Is 'host', from user_path(..., slot), a whole NUL-terminated string kvmse may read? */
bool user_path_whole(const char *host, int slot);
/* A host pointer for guest buffer [va, va+len) with access 'acc' for the host kernel
 * (MEM_WRITE: it writes there; copied back by user_finish). NULL stays NULL. */
void *user_buf(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc);
#define user_in(p, va, len) user_buf(p, va, len, MEM_READ)
#define user_out(p, va, len) user_buf(p, va, len, MEM_WRITE)
/* An address that faults in the host kernel (a PROT_NONE page of kvmse's). */
void *user_buf_poison(void);
/* After the host call: copy bounce buffers back, free them. */
void user_finish(struct proc *p);
/* A descriptor for the host: kvmse's own become one that is never open. */
static inline int user_fd(uint64_t fd)
{
	return fd_hidden((int)fd) ? INT_MAX : (int)fd;
}

/* strace.c: one strace line for call 'nr' with strace format 'fmt' (see syscalls.def). */
void strace_print(struct proc *p, const char *name, unsigned nr, const char *fmt, const uint64_t a[6],
		  long ret, bool returned);

/* fs.c: host iovecs for guest buffer [va, va+len) appended at iov[*n], ending where the
 * guest's memory ends with a segment that faults; false if it does end early. */
bool sys_add_segments(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc,
		      struct iovec *iov, int *n, int max);

/* path.c: does 'path' name the running program (/proc/self/exe and the like)? */
bool sys_is_self_exe(const char *path);

/* procfs.c: open one of the /proc files that must show the guest (its maps); -ENOENT if
 * 'path' is none of them. */
long procfs_open(struct proc *p, const char *path, int flags);

/* task.c: the guest's signal dispositions start as kvmse's own (ignored ones stay so). */
void sys_signals_init(struct proc *p);

/* A thread id argument: 0, the calling thread, is the guest's (not a server thread). */
static inline pid_t sys_pid(const struct proc *p, uint64_t pid)
{
	return (pid_t)pid == 0 ? p->tid : (pid_t)pid;
}

/* A signal the guest gets from itself or from its own system call (SIGPIPE). */
long sys_self_signal(struct proc *p, int sig);

/* The guest terminates now: signal 0 means exit with 'status'. */
void sys_terminate(struct proc *p, int status, int sig);

#endif
