/* time.c - clocks and sleeps: the host's own calls on translated arguments. */
#include "sys.h"
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define TS(i) user_buf(p, a[i], sizeof(struct timespec), MEM_WRITE)

clockid_t sys_clock(const struct proc *p, uint64_t id)
{
	if ((clockid_t)id == CLOCK_PROCESS_CPUTIME_ID || (clockid_t)id == CLOCK_THREAD_CPUTIME_ID)
		return p->cpu_clock;
	return (clockid_t)id;
}

long sys_clock_gettime(struct proc *p, const uint64_t a[6]) { return HOST(SYS_clock_gettime, sys_clock(p, a[0]), TS(1)); }
long sys_clock_getres(struct proc *p, const uint64_t a[6]) { return HOST(SYS_clock_getres, sys_clock(p, a[0]), TS(1)); }
/* Setting the host's clocks is the host's business (root may, others get EPERM); CPU-time
 * clocks cannot be set, whoever's they are. */
long sys_clock_settime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_clock_settime, (clockid_t)a[0], user_in(p, a[1], sizeof(struct timespec)));
}
long sys_settimeofday(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_settimeofday, user_in(p, a[0], sizeof(struct timeval)),
		    user_in(p, a[1], sizeof(struct timezone)));
}
long sys_adjtimex(struct proc *p, const uint64_t a[6]) { return HOST(SYS_adjtimex, user_out(p, a[0], sizeof(struct timex))); }
long sys_clock_adjtime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_clock_adjtime, sys_clock(p, a[0]), user_out(p, a[1], sizeof(struct timex)));
}
long sys_gettimeofday(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_gettimeofday, user_out(p, a[0], sizeof(struct timeval)),
		    user_out(p, a[1], sizeof(struct timezone)));
}
long sys_time(struct proc *p, const uint64_t a[6]) { return HOST(SYS_time, user_out(p, a[0], sizeof(time_t))); }
/*
 * A relative sleep (the host's). A host signal the program does not see (one it blocks,
 * a kick of kvmse's) ends the host's sleep: it goes on with what is left, which the host
 * tells, instead of starting again. When the program's signal ends it, the rest goes to
 * 'rem' (if given), and a restart with no handler run (sigframe.c) sleeps that rest, as
 * Linux's restart block does.
 */
static long sleep_rel(struct proc *p, clockid_t clock, uint64_t req, uint64_t rem)
{
	struct timespec left;
	const struct timespec *ts = p->sig.sleep_resume ? &p->sig.sleep_left : user_in(p, req, sizeof(left));
	p->sig.sleep_resume = false;
	long rc;
	while ((rc = HOST(SYS_clock_nanosleep, clock, 0, ts, &left)) == -EINTR && !sig_wakes(p) && !p->exited)
		ts = &left;
	if (rc != -EINTR)
		return rc;
	p->sig.sleep_left = left;
	return rem && mem_write(p->mem, rem, &left, sizeof(left)) < 0 ? -EFAULT : rc;
}

/* (nanosleep's clock is CLOCK_MONOTONIC) */
long sys_nanosleep(struct proc *p, const uint64_t a[6]) { return sleep_rel(p, CLOCK_MONOTONIC, a[0], a[1]); }
long sys_clock_nanosleep(struct proc *p, const uint64_t a[6])
{
	if (!((int)a[1] & TIMER_ABSTIME))
		return sleep_rel(p, (clockid_t)a[0], a[2], a[3]);
	p->sig.sleep_resume = false;
	return HOST(SYS_clock_nanosleep, (clockid_t)a[0], (int)a[1], user_in(p, a[2], sizeof(struct timespec)), TS(3));
}
