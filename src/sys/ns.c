/* ns.c - namespaces and what else a thread can stop sharing: unshare and setns.
 *
 * Both are the host's, made by the guest thread's own host thread (they always stop the
 * CPU: syscall.c), as each changes the calling thread only. Its syscall server, another
 * host thread, still shares the old ones: it is replaced by one started afresh, which
 * shares the new. */
#include "sys.h"
#include "../thread.h"
#include "../util.h"
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif

#define UNSHARE_FLAGS (CLONE_THREAD | CLONE_FS | CLONE_NEWNS | CLONE_SIGHAND | CLONE_VM | \
		       CLONE_FILES | CLONE_SYSVSEM | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | \
		       CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWCGROUP | CLONE_NEWTIME)
/* What only a process of one thread may unshare, and then it is already its own. */
#define ONE_THREAD (CLONE_THREAD | CLONE_SIGHAND | CLONE_VM)

struct host_call {
	long nr;
	uint64_t a0, a1;
};

static long host_call(void *arg)
{
	const struct host_call *c = arg;
	return syscall(c->nr, c->a0, c->a1) < 0 ? -errno : 0;
}

/*
 * Run the host call 'nr' on this thread, with a new server for the new state. In a new
 * user namespace the thread has new capabilities, which the server takes too. The host
 * changes the user namespace of a process of one thread only (EINVAL), and joins it to
 * a time namespace likewise (EUSERS): kvmse's process has more (the CPU model's), so a
 * program of one thread gets the call made again with none of them (cpu_ops.alone).
 */
static long renew(struct proc *p, long nr, uint64_t a0, uint64_t a1, bool user)
{
	struct host_call c = { nr, a0, a1 };
	long ret = host_call(&c);
	if ((ret == -EINVAL || ret == -EUSERS) && p->ps->nthreads == 1 && !p->ps->ending &&
	    p->cpu->ops->alone)
		ret = p->cpu->ops->alone(p->cpu, host_call, &c);
	if (ret == -EINVAL && user && p->ps->nthreads == 1 && !p->opt->quiet)
		pr_warn("%s: the host refuses a new user namespace to kvmse's process, which has "
			"threads it could not end: EINVAL", nr == SYS_unshare ? "unshare" : "setns");
	if (ret == 0 && user)
		sys_caps_note(p);
	thread_renew_server(p);
	return ret;
}

long sys_unshare(struct proc *p, const uint64_t a[6])
{
	uint64_t f = a[0];
	if (f & ~(uint64_t)UNSHARE_FLAGS)
		return -EINVAL;
	/* (Linux's ksys_unshare: what each flag implies) */
	if (f & CLONE_NEWUSER)
		f |= CLONE_THREAD | CLONE_FS;
	if (f & CLONE_VM)
		f |= CLONE_SIGHAND;
	if (f & CLONE_SIGHAND)
		f |= CLONE_THREAD;
	if (f & CLONE_NEWNS)
		f |= CLONE_FS;
	int threads = p->ps->nthreads;
	if ((f & ONE_THREAD) && threads > 1)
		return -EINVAL;
	/* kvmse's own descriptors are kept per process, not per descriptor table. */
	if ((f & CLONE_FILES) && threads > 1) {
		if (!p->opt->quiet)
			pr_warn("unshare of CLONE_FILES by one of several threads is not supported: ENOSYS");
		return -ENOSYS;
	}
	long rc = renew(p, SYS_unshare, f & ~(uint64_t)ONE_THREAD, 0, f & CLONE_NEWUSER);
	if (rc == 0 && (f & CLONE_FILES))
		fd_share_end();
	return rc;
}

long sys_setns(struct proc *p, const uint64_t a[6])
{
	int type = (int)a[1];
	/* (type 0 names any namespace; a pidfd, any set of them) */
	bool user = type == 0 || (type & CLONE_NEWUSER);
	return renew(p, SYS_setns, (uint64_t)user_fd(a[0]), (uint64_t)type, user);
}
