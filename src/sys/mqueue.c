/* mqueue.c - POSIX message queues: the host's (their names, limits and descriptors),
 * on translated buffers. */
#include "sys.h"
#include <mqueue.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define COOKIE_LEN 32           /* NOTIFY_COOKIE_LEN: what SIGEV_THREAD's pointer names */

long sys_mq_open(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_mq_open, user_path(p, a[0], 0), (int)a[1], (mode_t)a[2],
		    user_in(p, a[3], sizeof(struct mq_attr)));
}

long sys_mq_unlink(struct proc *p, const uint64_t a[6]) { return HOST(SYS_mq_unlink, user_path(p, a[0], 0)); }

long sys_mq_timedsend(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_mq_timedsend, user_fd(a[0]), user_in(p, a[1], a[2]), a[2], (unsigned)a[3],
		    user_in(p, a[4], sizeof(struct timespec)));
}

long sys_mq_timedreceive(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_mq_timedreceive, user_fd(a[0]), user_out(p, a[1], a[2]), a[2],
		    user_out(p, a[3], sizeof(unsigned)), user_in(p, a[4], sizeof(struct timespec)));
}

/* SIGEV_THREAD (the C library's, over netlink) has a socket where the signal would be,
 * and a pointer to the cookie the kernel copies at once. */
long sys_mq_notify(struct proc *p, const uint64_t a[6])
{
	struct sigevent ev;
	if (!a[1])
		return HOST(SYS_mq_notify, user_fd(a[0]), NULL);
	if (mem_read(p->mem, &ev, a[1], sizeof(ev)) < 0)
		return -EFAULT;
	if (ev.sigev_notify == SIGEV_THREAD) {
		ev.sigev_signo = user_fd((uint64_t)ev.sigev_signo);
		ev.sigev_value.sival_ptr = user_in(p, (uint64_t)(uintptr_t)ev.sigev_value.sival_ptr,
						   COOKIE_LEN);
	}
	return HOST(SYS_mq_notify, user_fd(a[0]), &ev);
}

long sys_mq_getsetattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_mq_getsetattr, user_fd(a[0]), user_in(p, a[1], sizeof(struct mq_attr)),
		    user_out(p, a[2], sizeof(struct mq_attr)));
}
