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
long sys_nanosleep(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_nanosleep, user_in(p, a[0], sizeof(struct timespec)), TS(1));
}
long sys_clock_nanosleep(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_clock_nanosleep, (clockid_t)a[0], (int)a[1], user_in(p, a[2], sizeof(struct timespec)), TS(3));
}
