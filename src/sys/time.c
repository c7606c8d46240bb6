/* time.c - clocks and sleeps. */
#include "sys.h"
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

long sys_clock_gettime(struct proc *p, const uint64_t a[6])
{
	struct timespec ts;
	if (syscall(SYS_clock_gettime, (clockid_t)a[0], &ts) < 0)
		return -errno;
	return mem_write(&p->mem, a[1], &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_clock_getres(struct proc *p, const uint64_t a[6])
{
	struct timespec ts;
	if (syscall(SYS_clock_getres, (clockid_t)a[0], &ts) < 0)
		return -errno;
	return a[1] && mem_write(&p->mem, a[1], &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_gettimeofday(struct proc *p, const uint64_t a[6])
{
	struct timeval tv;
	struct timezone tz;
	if (syscall(SYS_gettimeofday, &tv, &tz) < 0)
		return -errno;
	if (a[0] && mem_write(&p->mem, a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	if (a[1] && mem_write(&p->mem, a[1], &tz, sizeof(tz)) < 0)
		return -EFAULT;
	return 0;
}

long sys_time(struct proc *p, const uint64_t a[6])
{
	time_t t = time(NULL);
	if (a[0] && mem_write(&p->mem, a[0], &t, sizeof(t)) < 0)
		return -EFAULT;
	return (long)t;
}

long sys_clock_nanosleep(struct proc *p, const uint64_t a[6])
{
	struct timespec req, rem;
	if (mem_read(&p->mem, &req, a[2], sizeof(req)) < 0)
		return -EFAULT;
	long rc = sys_ret(syscall(SYS_clock_nanosleep, (clockid_t)a[0], (int)a[1], &req, &rem));
	if (rc == -EINTR && a[3] && mem_write(&p->mem, a[3], &rem, sizeof(rem)) < 0)
		return -EFAULT;
	return rc;
}

long sys_nanosleep(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { CLOCK_MONOTONIC, 0, a[0], a[1] };
	return sys_clock_nanosleep(p, b);
}
