/* events.c - descriptors that wait for things (epoll, eventfd, timerfd, inotify) and
 * other small calls: the host's own, on translated arguments (user.c). */
#include "sys.h"
#include "../util.h"
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define FD(i) user_fd(a[i])

long sys_epoll_create1(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_epoll_create1, (int)a[0]); }
long sys_epoll_create(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_epoll_create, (int)a[0]); }
long sys_epoll_ctl(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_epoll_ctl, FD(0), (int)a[1], FD(2), user_in(p, a[3], sizeof(struct epoll_event)));
}
/* epoll_wait's and epoll_pwait's events array: maxevents entries, written by the kernel. */
static void *events(struct proc *p, uint64_t va, uint64_t max)
{
	return user_out(p, va, (int)max > 0 ? (uint64_t)(int)max * sizeof(struct epoll_event) : 0);
}
long sys_epoll_wait(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_epoll_wait, FD(0), events(p, a[1], a[2]), (int)a[2], (int)a[3]);
}
/* epoll_pwait ('two': epoll_pwait2, its timeout a timespec). A signal the wait's mask
 * lets through, pending already, ends a wait that would block with EINTR unless events
 * are ready (the host does not know of it: it only looks). */
static long pwait(struct proc *p, const uint64_t a[6], bool two)
{
	static const struct timespec no_wait;
	struct timespec ts = { 1, 0 };
	long rc = two ? user_timeout_check(p, a[3], &ts) : 0;
	if (rc || (rc = sig_wait_mask(p, a[4], a[5])))
		return rc;
	bool now = sig_deliverable(p) && (two ? ts.tv_sec || ts.tv_nsec : (int)a[3] != 0);
	if (two)
		rc = HOST(SYS_epoll_pwait2, FD(0), events(p, a[1], a[2]), (int)a[2],
			  now ? &no_wait : user_in(p, a[3], sizeof(ts)), NULL, 8);
	else
		rc = HOST(SYS_epoll_wait, FD(0), events(p, a[1], a[2]), (int)a[2], now ? 0 : (int)a[3]);
	return sig_wait_done(p, now && rc == 0 ? -EINTR : rc);
}

long sys_epoll_pwait(struct proc *p, const uint64_t a[6]) { return pwait(p, a, false); }
long sys_epoll_pwait2(struct proc *p, const uint64_t a[6]) { return pwait(p, a, true); }

long sys_eventfd2(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_eventfd2, (unsigned)a[0], (int)a[1]); }
long sys_eventfd(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_eventfd2, (unsigned)a[0], 0); }

long sys_timerfd_create(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_timerfd_create, (int)a[0], (int)a[1]); }
long sys_timerfd_settime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_timerfd_settime, FD(0), (int)a[1], user_in(p, a[2], sizeof(struct itimerspec)),
		    user_out(p, a[3], sizeof(struct itimerspec)));
}
long sys_timerfd_gettime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_timerfd_gettime, FD(0), user_out(p, a[1], sizeof(struct itimerspec)));
}

long sys_inotify_init(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return HOST(SYS_inotify_init); }
long sys_inotify_init1(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_inotify_init1, (int)a[0]); }
long sys_inotify_add_watch(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_inotify_add_watch, FD(0), user_path(p, a[1], 0), (uint32_t)a[2]);
}
long sys_inotify_rm_watch(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_inotify_rm_watch, FD(0), (int)a[1]); }

long sys_memfd_create(struct proc *p, const uint64_t a[6]) { return HOST(SYS_memfd_create, user_path(p, a[0], 0), (unsigned)a[1]); }
long sys_memfd_secret(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(447, (unsigned)a[0]); }

long sys_getcpu(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_getcpu, user_out(p, a[0], sizeof(unsigned)), user_out(p, a[1], sizeof(unsigned)), NULL);
}

long sys_sched_setaffinity(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_setaffinity, sys_pid(p, a[0]), (unsigned)a[1], user_in(p, a[2], (unsigned)a[1]));
}

/* mincore: every page kvmse maps is resident (it maps eagerly); a hole is ENOMEM. */
/* mincore's answer for a run of host memory, into its place in the chunk's vector. */
struct residency {
	gva_t start;
	unsigned char *vec;
};

static int host_mincore(void *a, size_t n, gva_t va, const void *ctx)
{
	const struct residency *r = ctx;
	return mincore(a, n, r->vec + (va - r->start) / PAGE_SIZE);
}

/* A page is resident if the host's page behind it is: a page never touched is not, and a
 * file's is if it is in the page cache, as on Linux. The vector is written a chunk at a
 * time, as Linux does. */
long sys_mincore(struct proc *p, const uint64_t a[6])
{
	if (a[0] & (PAGE_SIZE - 1))
		return -EINVAL;
	uint64_t pages = (a[1] + PAGE_SIZE - 1) / PAGE_SIZE;
	if (a[0] + pages * PAGE_SIZE < a[0] || a[0] + pages * PAGE_SIZE > (1ULL << 47))
		return -ENOMEM;
	if (!mm_covered(p, a[0], a[0] + pages * PAGE_SIZE))
		return -ENOMEM;
	unsigned char vec[4096];
	for (uint64_t done = 0; done < pages;) {
		uint64_t n = MIN(pages - done, sizeof(vec));
		struct residency r = { a[0] + done * PAGE_SIZE, vec };
		memset(vec, 0, n);
		mm_host_call(p, r.start, r.start + n * PAGE_SIZE, host_mincore, &r);
		for (uint64_t i = 0; i < n; i++)
			vec[i] &= 1;
		if (mem_write(p->mem, a[2] + done, vec, n) < 0)
			return -EFAULT;
		done += n;
	}
	return 0;
}

/* fanotify's events carry descriptors the host opens for the reader: the program's. */
long sys_fanotify_init(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_fanotify_init, (unsigned)a[0], (unsigned)a[1]); }
long sys_fanotify_mark(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_fanotify_mark, FD(0), (unsigned)a[1], a[2], FD(3), user_path(p, a[4], 0));
}
