/* time.c - clocks and sleeps: the host's own calls on translated arguments. */
#include "sys.h"
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/timex.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define TS(i) user_buf(p, a[i], sizeof(struct timespec), MEM_WRITE)

/* Linux's CPU-time clock ids (MAKE_PROCESS_CPUCLOCK, MAKE_THREAD_CPUCLOCK) of a pid:
 * 0 is the caller's. glibc's timer_create passes those for the caller. */
#define CPUCLOCK(pid, thread) ((clockid_t)(~(uint32_t)(pid) << 3 | ((thread) ? 6 : 2)))

/* The caller's CPU-time clock is that of the host thread that runs its vCPU, named by
 * its tid: the call may run on the syscall server's thread, whose own clock counts only
 * the calls it serves. The process's clock is the sum of its threads' (process_cpu),
 * for which the host has no clock: a timer on it, or its resolution, is the caller's
 * thread's here (the servers' polling is no time of the program's). */
clockid_t sys_clock(const struct proc *p, uint64_t id)
{
	clockid_t c = (clockid_t)id;
	if (c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID || c == CPUCLOCK(0, true) ||
	    c == CPUCLOCK(0, false))
		return CPUCLOCK(p->tid, true);
	return c;
}

/* The process's CPU time: that of its threads (the host threads that run their vCPUs),
 * living or ended, without the syscall servers' polling. */
static long process_cpu(struct proc *p, uint64_t out)
{
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	uint64_t ns = ps->cpu_gone_ns;
	for (int i = 0; i < ps->nthreads; i++) {
		struct timespec t;
		if (clock_gettime(CPUCLOCK(ps->threads[i]->tid, true), &t) == 0)
			ns += (uint64_t)t.tv_sec * 1000000000 + (uint64_t)t.tv_nsec;
	}
	pthread_mutex_unlock(&ps->lock);
	struct timespec ts = { (time_t)(ns / 1000000000), (long)(ns % 1000000000) };
	return mem_write(p->mem, out, &ts, sizeof(ts)) < 0 ? -EFAULT : 0;
}

long sys_clock_gettime(struct proc *p, const uint64_t a[6])
{
	clockid_t c = (clockid_t)a[0];
	if (c == CLOCK_PROCESS_CPUTIME_ID || c == CPUCLOCK(0, false) || c == CPUCLOCK(getpid(), false))
		return process_cpu(p, a[1]);
	return HOST(SYS_clock_gettime, sys_clock(p, a[0]), TS(1));
}
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
/* a - b, or 0 if b is later */
static struct timespec ts_left(struct timespec a, struct timespec b)
{
	int64_t ns = (a.tv_sec - b.tv_sec) * 1000000000LL + (a.tv_nsec - b.tv_nsec);
	if (ns < 0)
		ns = 0;
	return (struct timespec){ ns / 1000000000LL, ns % 1000000000LL };
}

/*
 * A relative sleep (the host's). A host signal the program does not see (one it blocks,
 * a kick of kvmse's) ends the host's sleep: it goes on to the deadline the first call
 * had, instead of starting again (a storm of kicks, each restarting it with the rest,
 * made a sleep 50% longer). Linux measures a relative CLOCK_REALTIME sleep on
 * CLOCK_MONOTONIC, and so does the deadline. When the program's signal ends it, the
 * rest goes to 'rem' (if given), and a restart with no handler run (sigframe.c) sleeps
 * that rest, as Linux's restart block does.
 */
static long sleep_rel(struct proc *p, clockid_t clock, uint64_t req, uint64_t rem)
{
	struct timespec left, want, start, now;
	clockid_t abs = clock == CLOCK_REALTIME ? CLOCK_MONOTONIC : clock;
	bool resume = p->sig.sleep_resume;
	p->sig.sleep_resume = false;
	clock_gettime(abs, &start);
	/* (the host judges the clock and the time first) */
	long rc = HOST(SYS_clock_nanosleep, clock, 0, resume ? &p->sig.sleep_left : user_in(p, req, sizeof(left)),
		       &left);
	if (rc != -EINTR)
		return rc;
	if (resume)
		want = p->sig.sleep_left;
	else if (mem_read(p->mem, &want, req, sizeof(want)) < 0)
		return -EFAULT;
	struct timespec end = { start.tv_sec + want.tv_sec, start.tv_nsec + want.tv_nsec };
	if (end.tv_nsec >= 1000000000) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000;
	}
	while (rc == -EINTR && !sig_wakes(p) && !p->exited)
		rc = HOST(SYS_clock_nanosleep, abs, TIMER_ABSTIME, &end, NULL);
	if (rc != -EINTR)
		return rc;
	clock_gettime(abs, &now);
	p->sig.sleep_left = ts_left(end, now);
	return rem && mem_write(p->mem, rem, &p->sig.sleep_left, sizeof(left)) < 0 ? -EFAULT : rc;
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
