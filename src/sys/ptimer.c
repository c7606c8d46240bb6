/* ptimer.c - the program's POSIX timers (timer_create and the rest): the host's own.
 *
 * Two things differ from a plain host call. A timer whose signal is 32 or 33 (what the C
 * libraries use for SIGEV_THREAD: glibc and musl wait for it in a helper thread) cannot
 * signal kvmse as itself: those two are the host C library's. It signals SIG_KICK
 * instead, and the kick handler passes the program's signal on (ptimer_proxied). And
 * the kernel deletes a process's timers at execve, which kvmse makes in place: so the
 * ids are kept, for ptimer_exec to delete them, and so that the program reaches no
 * timer of kvmse's. */
#include "sys.h"
#include "../cpu.h"
#include "../util.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

static bool proxy_needed(const struct sigevent *ev)
{
	return (ev->sigev_notify == SIGEV_SIGNAL || ev->sigev_notify == SIGEV_THREAD_ID) &&
	       (ev->sigev_signo == 32 || ev->sigev_signo == 33);
}

/* (ps->lock held) Note timer 'id'; -EAGAIN if a proxy has no room. */
static long add(struct process *ps, int id, const struct sigevent *ev)
{
	if (ev && proxy_needed(ev)) {
		int i = 0;
		while (i < PTIMER_PROXIES && atomic_load(&ps->proxies[i].id1))
			i++;
		if (i == PTIMER_PROXIES)
			return -EAGAIN;
		ps->proxies[i].sig = ev->sigev_signo;
		ps->proxies[i].thread = ev->sigev_notify == SIGEV_THREAD_ID;
		atomic_store(&ps->proxies[i].id1, id + 1);      /* (last: the handler reads it) */
	} else if (ev && ev->sigev_notify == SIGEV_THREAD_ID) {
		int i = 0;
		while (i < PTIMER_THREADED && atomic_load(&ps->threaded[i]))
			i++;
		if (i == PTIMER_THREADED)
			return -EAGAIN;
		atomic_store(&ps->threaded[i], id + 1);
	}
	if (ps->ntimers == ps->captimers) {
		ps->captimers = ps->captimers ? 2 * ps->captimers : 16;
		ps->timers = xrealloc(ps->timers, ps->captimers * sizeof(*ps->timers));
	}
	ps->timers[ps->ntimers++] = (struct ptimer){ id, 0 };
	return 0;
}

/* (ps->lock held) */
static void forget(struct process *ps, int id)
{
	for (int i = 0; i < PTIMER_PROXIES; i++)
		if (atomic_load(&ps->proxies[i].id1) == id + 1)
			atomic_store(&ps->proxies[i].id1, 0);
	for (int i = 0; i < PTIMER_THREADED; i++)
		if (atomic_load(&ps->threaded[i]) == id + 1)
			atomic_store(&ps->threaded[i], 0);
	for (size_t i = 0; i < ps->ntimers; i++) {
		if (ps->timers[i].id == id) {
			ps->timers[i] = ps->timers[--ps->ntimers];
			break;
		}
	}
}

/* (ps->lock held) The host's id for the program's timer 'id': itself if the program
 * made it, else one no timer has, so that the host answers EINVAL in its own order
 * (kvmse's timers, such as the re-kick's, are not the program's to change). */
static int lookup(const struct process *ps, uint64_t id)
{
	for (size_t i = 0; i < ps->ntimers; i++)
		if ((uint32_t)ps->timers[i].id == (uint32_t)id)
			return ps->timers[i].id;
	return -1;
}

static int own_id(struct process *ps, uint64_t id)
{
	pthread_mutex_lock(&ps->lock);
	int host = lookup(ps, id);
	pthread_mutex_unlock(&ps->lock);
	return host;
}

long sys_timer_create(struct proc *p, const uint64_t a[6])
{
	struct sigevent ev, host;
	if (a[1] && mem_read(p->mem, &ev, a[1], sizeof(ev)) < 0)
		return -EFAULT;
	if (a[1]) {
		host = ev;
		if (proxy_needed(&ev))
			host.sigev_signo = SIG_KICK;
	}
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	int id;
	long rc = HOST(SYS_timer_create, sys_clock(p, a[0]), a[1] ? &host : NULL, &id);
	if (rc == 0 && (rc = add(ps, id, a[1] ? &ev : NULL)) < 0) {
		syscall(SYS_timer_delete, id);
	} else if (rc == 0 && mem_write(p->mem, a[2], &id, 4) < 0) {
		forget(ps, id);         /* (Linux releases it too) */
		syscall(SYS_timer_delete, id);
		rc = -EFAULT;
	}
	pthread_mutex_unlock(&ps->lock);
	return rc;
}

long sys_timer_delete(struct proc *p, const uint64_t a[6])
{
	pthread_mutex_lock(&p->ps->lock);
	int id = lookup(p->ps, a[0]);
	long rc = HOST(SYS_timer_delete, id);
	if (rc == 0)
		forget(p->ps, id);
	pthread_mutex_unlock(&p->ps->lock);
	return rc;
}

long sys_timer_settime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_timer_settime, own_id(p->ps, a[0]), (int)a[1],
		    user_in(p, a[2], sizeof(struct itimerspec)), user_out(p, a[3], sizeof(struct itimerspec)));
}

long sys_timer_gettime(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_timer_gettime, own_id(p->ps, a[0]), user_out(p, a[1], sizeof(struct itimerspec)));
}

/* The overrun count of the timer's last signal the program took (timer_taken in
 * signal.c adds up what the host counts); the host judges the id. */
long sys_timer_getoverrun(struct proc *p, const uint64_t a[6])
{
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	int id = lookup(ps, a[0]);
	long rc = HOST(SYS_timer_getoverrun, id);
	for (size_t i = 0; rc >= 0 && i < ps->ntimers; i++)
		if (ps->timers[i].id == id)
			rc = ps->timers[i].overrun;
	pthread_mutex_unlock(&ps->lock);
	return rc;
}

void ptimer_taken(struct process *ps, int id, int overrun)
{
	pthread_mutex_lock(&ps->lock);
	for (size_t i = 0; i < ps->ntimers; i++)
		if (ps->timers[i].id == id)
			ps->timers[i].overrun = overrun;
	pthread_mutex_unlock(&ps->lock);
}

bool ptimer_proxied(struct process *ps, int id, int *sig, bool *thread)
{
	for (int i = 0; i < PTIMER_PROXIES; i++) {
		if (atomic_load(&ps->proxies[i].id1) == id + 1) {
			*sig = ps->proxies[i].sig;
			*thread = ps->proxies[i].thread;
			return true;
		}
	}
	return false;
}

bool ptimer_threaded(struct process *ps, int id)
{
	for (int i = 0; i < PTIMER_THREADED; i++)
		if (atomic_load(&ps->threaded[i]) == id + 1)
			return true;
	return false;
}

void ptimer_exec(struct proc *p)
{
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	while (ps->ntimers) {
		int id = ps->timers[0].id;
		syscall(SYS_timer_delete, id);
		forget(ps, id);
	}
	pthread_mutex_unlock(&ps->lock);
}

void ptimer_free(struct process *ps)
{
	free(ps->timers);
	ps->timers = NULL;
	ps->ntimers = ps->captimers = 0;
}

void ptimer_forked(struct proc *p)
{
	struct process *ps = p->ps;
	for (int i = 0; i < PTIMER_PROXIES; i++)
		atomic_store(&ps->proxies[i].id1, 0);
	for (int i = 0; i < PTIMER_THREADED; i++)
		atomic_store(&ps->threaded[i], 0);
	ps->ntimers = 0;
}
