/* signal.c - the guest's signal state: dispositions, the mask, the queue; signals from
 * outside (kvmse's host handler); the calls that send signals and wait for them. */
#include "sys.h"
#include "../thread.h"
#include "../util.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

static struct process *host_ps;         /* the guest the host handler queues for */

/* Signals kvmse's own process takes for the guest. Faults have kvmse's handler for good
 * (fault_handler: a crash of kvmse must not pass for the program's); so has SIGPIPE
 * (pipe_handler), and SIGRTMAX, the CPU model's kick (kick_handler); 32 and 33 are the
 * host C library's. */
static bool mirrored(int sig)
{
	return sig != SIGSEGV && sig != SIGBUS && sig != SIGILL && sig != SIGFPE && sig != SIGTRAP &&
	       sig != SIGSYS && sig != SIGPIPE && sig != SIGKILL && sig != SIGSTOP &&
	       (sig < 32 || (sig > 33 && sig < 64));
}

static bool ignored_by(const struct ksigaction *a, int sig)
{
	return a->handler == SIG_IGN_V || (a->handler == SIG_DFL_V && (SIG_DEFAULT_IGNORE & SIGBIT(sig)));
}

/* The queue's lock. Signals are blocked on this thread while it is held, so the host
 * handler never waits for the thread it interrupted. */
static void spin_lock(struct sighand *s)
{
	while (atomic_flag_test_and_set_explicit(&s->lock, memory_order_acquire))
		__builtin_ia32_pause();
}

static void spin_unlock(struct sighand *s)
{
	atomic_flag_clear_explicit(&s->lock, memory_order_release);
}

void sig_lock(struct sighand *s, sigset_t *old)
{
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, old);
	spin_lock(s);
}

void sig_unlock(struct sighand *s, const sigset_t *old)
{
	spin_unlock(s);
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

/*
 * A queue has room for RLIMIT_SIGPENDING's hard limit (as the guest could raise its own
 * limit to it) and the few signals Linux queues past it (over_sigpending), at most
 * SIGQ_MAX. The room is reserved, not committed: the host fills what is used.
 */
#define SIGQ_MAX (1 << 18)
static int sigq_cap;

static void sig_queue_size(void)
{
	struct rlimit lim;
	rlim_t n = getrlimit(RLIMIT_SIGPENDING, &lim) < 0 ? 0 : lim.rlim_max;
	sigq_cap = (int)MIN(n, (rlim_t)SIGQ_MAX - 64) + 64;
}

/* The queue is a ring: its entry i (0 the oldest) of nq is 'head' entries on. */
static struct sigq_entry *entry(struct sigqueue *s, int i)
{
	return &s->q[(s->head + i) % sigq_cap];
}

/* (lock held) Remove entry i, moving the entries on its shorter side over it: taking the
 * oldest, the usual case, moves none (a queue may hold a quarter million). */
static void unqueue(struct sigqueue *s, int i)
{
	s->count[entry(s, i)->sig - 1]--;
	if (i < s->nq / 2) {
		for (; i > 0; i--)
			*entry(s, i) = *entry(s, i - 1);
		s->head = (s->head + 1) % sigq_cap;
	} else {
		for (; i + 1 < s->nq; i++)
			*entry(s, i) = *entry(s, i + 1);
	}
	s->nq--;
}

static void queue_clear(struct sigqueue *s)
{
	s->nq = s->head = 0;
	memset(s->count, 0, sizeof(s->count));
	atomic_store(&s->pending, 0);
}

/* A timer's overrun count grows by 'n' expiries at most up to DELAYTIMER_MAX (INT_MAX). */
static void overrun_add(siginfo_t *si, int64_t n)
{
	si->si_overrun = (int)MIN((int64_t)si->si_overrun + n, (int64_t)INT_MAX);
}

/* (lock held) A signal below 32 is queued once; real-time ones each time. A timer's is
 * queued once too, as Linux's preallocated one: another expiry while it is queued (and
 * the expiries that one stands for) add to its overrun count. */
static bool enqueue(struct sigqueue *s, const struct ksiginfo *info)
{
	int sig = info->signo;
	const siginfo_t *si = (const siginfo_t *)info;
	for (int i = 0; si->si_code == SI_TIMER && s->count[sig - 1] && i < s->nq; i++) {
		siginfo_t *was = (siginfo_t *)&entry(s, i)->info;
		if (entry(s, i)->sig == sig && was->si_code == SI_TIMER && was->si_timerid == si->si_timerid) {
			overrun_add(was, 1 + (int64_t)si->si_overrun);
			return true;
		}
	}
	if (sig < 32 && (atomic_load(&s->pending) & SIGBIT(sig)))
		return true;
	if (s->nq == sigq_cap)
		return false;
	entry(s, s->nq)->sig = sig;
	entry(s, s->nq)->info = *info;
	s->nq++;
	s->count[sig - 1]++;
	atomic_fetch_or(&s->pending, SIGBIT(sig));
	return true;
}

/* (lock held) Remove the first queued 'sig' (every one, with 'all') into *info. */
static void dequeue(struct sigqueue *s, int sig, struct ksiginfo *info, bool all)
{
	for (int i = 0; s->count[sig - 1] && i < s->nq;) {
		if (entry(s, i)->sig != sig) {
			i++;
			continue;
		}
		if (info)
			*info = entry(s, i)->info;
		info = NULL;
		unqueue(s, i);
		if (!all)
			break;
	}
	if (!s->count[sig - 1])
		atomic_fetch_and(&s->pending, ~SIGBIT(sig));
}

/* What no thread takes: blocked by each, and waited for by none. */
static uint64_t blocked_by_all(struct process *ps)
{
	uint64_t b = ~0ULL;
	int n = ps->nthreads;
	for (int i = 0; i < n && i < THREADS_MAX; i++)
		if (ps->threads[i])
			b &= atomic_load(&ps->threads[i]->sig.mask) & ~atomic_load(&ps->threads[i]->sig.waitset);
	return b;
}

/* (lock held) The signals of queue 's' in 'want' go to a signalfd that takes them. */
static uint64_t take(struct sighand *sh, struct sigqueue *s, uint64_t want)
{
	uint64_t went = 0;
	for (int i = 0; i < s->nq;) {
		int sig = entry(s, i)->sig;
		if (!(want & SIGBIT(sig)) || !sigfd_post(sh, &entry(s, i)->info)) {
			i++;
			continue;
		}
		unqueue(s, i);
		went |= SIGBIT(sig);
	}
	for (int sig = 1; sig <= 64; sig++)
		if (s->count[sig - 1])
			went &= ~SIGBIT(sig);   /* (still pending: one more is queued) */
	atomic_fetch_and(&s->pending, ~went);
	return went;
}

/* (lock held) The signals that only a signalfd takes go to it (sigfd.c), where the
 * program reads them: the process's, and thread t's own if t is given. Which went.
 * Async-signal-safe. */
static uint64_t to_signalfds(struct process *ps, struct proc *t)
{
	uint64_t sfd = atomic_load(&ps->sh.sfd_mask), went = 0;
	if (!sfd)
		return 0;
	if (sfd & atomic_load(&ps->sh.shared.pending))
		went = take(&ps->sh, &ps->sh.shared, sfd & blocked_by_all(ps));
	if (t && (sfd & atomic_load(&t->sig.own.pending)))
		went |= take(&ps->sh, &t->sig.own, sfd & atomic_load(&t->sig.mask) &
			     ~atomic_load(&t->sig.waitset));
	return went;
}

/* A thread's signals: its own, then the process's. */
static uint64_t pending(const struct proc *p)
{
	return atomic_load(&p->sig.own.pending) | atomic_load(&p->ps->sh.shared.pending);
}

/* What the host may let in again: the guest took it, and may take the next. */
static uint64_t releasable(struct proc *p)
{
	uint64_t open = ~atomic_load(&p->sig.mask) | atomic_load(&p->sig.waitset) |
			atomic_load(&p->ps->sh.sfd_mask);
	return atomic_load(&p->sig.host_held) & ~pending(p) & open;
}

/* Only p's vCPU thread can unblock what it holds: on another (the syscall server), stop
 * the CPU, and sig_deliver does it (or, while that thread waits for the server's
 * answer, the kick's cpu_server.kicked). */
static void release_soon(struct proc *p)
{
	if (!releasable(p))
		return;
	if (p->tid == (pid_t)syscall(SYS_gettid))
		sig_release(p);
	else
		p->cpu->ops->kick(p->cpu);
}

void sig_to_signalfds(struct proc *p)
{
	sigset_t old;
	sig_lock(&p->ps->sh, &old);
	to_signalfds(p->ps, p);
	sig_unlock(&p->ps->sh, &old);
	release_soon(p);
}

static void queue_outside(int sig, const siginfo_t *si, void *uc, struct proc *to);

/*
 * The guest takes a timer's signal. While it was queued, kvmse held that signal blocked on
 * the host (queue_outside), so the timer's next expiry is pending there, and the host
 * counts the later ones as its overruns. Linux counts them all as this one's: take that
 * one now (another source's goes to the guest's queue) and add it up. What the program's
 * timer_getoverrun says is then this count (ptimer_taken). A timer that signals kvmse with
 * another signal (ptimer.c's proxies) has nothing pending under this one.
 */
static void timer_taken(struct proc *p, int sig, struct ksiginfo *info)
{
	siginfo_t *si = (siginfo_t *)info;
	int psig;
	bool thread;
	if (!ptimer_proxied(p->ps, si->si_timerid, &psig, &thread) && sig != SIG_KICK) {
		sigset_t set, all, old;
		sigemptyset(&set);
		sigaddset(&set, sig);
		siginfo_t more;
		const struct timespec now = { 0, 0 };
		/* (the timer's one only: once taken, the host re-arms it, and a short period
		 * could expire again at once) */
		for (int n = 0; n < sigq_cap && sigtimedwait(&set, &more, &now) == sig; n++) {
			if (more.si_code == SI_TIMER && more.si_timerid == si->si_timerid) {
				overrun_add(si, 1 + (int64_t)more.si_overrun);
				break;
			}
			sigfillset(&all);
			pthread_sigmask(SIG_BLOCK, &all, &old);         /* (as in a handler) */
			queue_outside(sig, &more, NULL, NULL);
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		}
	}
	ptimer_taken(p->ps, si->si_timerid, si->si_overrun);
}

int sig_dequeue(struct proc *p, uint64_t allowed, struct ksiginfo *info)
{
	struct sighand *sh = &p->ps->sh;
	sigset_t old;
	sig_lock(sh, &old);
	uint64_t cand = pending(p) & allowed;
	uint64_t sync = cand & SIG_SYNCHRONOUS;
	int sig = cand ? __builtin_ctzll(sync ? sync : cand) + 1 : 0;
	if (sig)
		dequeue((atomic_load(&p->sig.own.pending) & SIGBIT(sig)) ? &p->sig.own : &sh->shared,
			sig, info, false);
	sig_unlock(sh, &old);
	if (sig && info && info->code == SI_TIMER)
		timer_taken(p, sig, info);
	/* (sig_deliver lets the next one in once the handler's mask is set) */
	if (sig && atomic_load(&p->sig.host_held) && p->tid != (pid_t)syscall(SYS_gettid))
		release_soon(p);
	return sig;
}

void sig_host_bits(sigset_t *set, uint64_t bits, bool add)
{
	for (int sig = 1; bits; sig++, bits >>= 1)
		if (bits & 1)
			add ? sigaddset(set, sig) : sigdelset(set, sig);
}

void sig_release(struct proc *p)
{
	uint64_t gone = releasable(p);
	if (!gone)
		return;
	atomic_fetch_and(&p->sig.host_held, ~gone);
	sigset_t set;
	sigemptyset(&set);
	sig_host_bits(&set, gone, true);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);       /* (a handler may add to the mask) */
}

bool sig_deliverable(struct proc *p)
{
	return pending(p) & ~atomic_load(&p->sig.mask) & ~atomic_load(&p->ps->sh.ignored);
}

bool sig_wakes(struct proc *p)
{
	return p->exited || sig_deliverable(p) || (pending(p) & atomic_load(&p->sig.waitset)) ||
	       atomic_load(&p->ps->pt_interrupt);
}

/*
 * A kick meant to end a host call can land just before the call starts, which then
 * sleeps with the signal queued until something else ends it (a SIGCHLD lost to a
 * program that waits for it in epoll_wait). So while thread t's vCPU thread makes a host
 * call for it (the exit path: the syscall server's calls are kicked again by
 * wait_answered), a one-shot timer sends that thread SIG_KICK again each millisecond
 * until the call returns (kick_handler re-arms it). The timer is made at first need, so
 * the program's own timer ids are Linux's until then. Async-signal-safe.
 */
static void rekick(struct proc *t)
{
	if (!atomic_load(&t->sig.in_call))
		return;
	int none = 0;
	if (atomic_compare_exchange_strong(&t->sig.rekick_made, &none, 1)) {
		struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIG_KICK };
		ev._sigev_un._tid = t->tid;
		int id = -1;
		bool made = syscall(SYS_timer_create, CLOCK_MONOTONIC, &ev, &id) == 0;
		t->sig.rekick_timer = id;
		atomic_store(&t->sig.rekick_made, made ? 2 : 0);
	}
	if (atomic_load(&t->sig.rekick_made) != 2)
		return;
	struct itimerspec in_1ms = { .it_value = { .tv_nsec = 1000000 } };
	atomic_store(&t->sig.rekick_armed, true);
	syscall(SYS_timer_settime, t->sig.rekick_timer, 0, &in_1ms, NULL);
}

void sig_call_begin(struct proc *p)
{
	atomic_store(&p->sig.in_call, true);
	/* (one queued since the CPU stopped found in_call still false) */
	if (sig_wakes(p))
		rekick(p);
}

void sig_call_end(struct proc *p)
{
	atomic_store(&p->sig.in_call, false);
	if (atomic_exchange(&p->sig.rekick_armed, false) && atomic_load(&p->sig.rekick_made) == 2)
		syscall(SYS_timer_settime, p->sig.rekick_timer, 0, &(struct itimerspec){ 0 }, NULL);
}

/*
 * A terminal decides by the calling host thread what a process outside its foreground
 * group gets when it reads, writes or sets it (the kernel's tty_check_change): SIGTTIN or
 * SIGTTOU to the group and the call made again after it, or, the signal being blocked or
 * ignored by the caller, EIO for a read and the call made for the rest. Dispositions
 * follow the guest's (host_follow), masks do not: so the host threads leave the two
 * unblocked (the syscall server unblocks them at its first such call), and a call that
 * may reach a terminal blocks the ones the guest thread blocks while it runs. Returns
 * what to unblock after it (sig_tty_end).
 */
#define SIG_TTY (SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))

uint64_t sig_tty_begin(struct proc *p)
{
	static __thread bool opened;
	sigset_t set, old;
	if (!opened) {
		opened = true;
		sigemptyset(&set);
		sig_host_bits(&set, SIG_TTY, true);
		if (p->tid != (pid_t)syscall(SYS_gettid))       /* (the vCPU thread's are open) */
			pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	}
	uint64_t want = atomic_load(&p->sig.mask) & SIG_TTY, added = 0;
	if (!want)
		return 0;
	sigemptyset(&set);
	sig_host_bits(&set, want, true);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	for (int sig = 1; sig < 64; sig++)
		if ((want & SIGBIT(sig)) && !sigismember(&old, sig))
			added |= SIGBIT(sig);
	return added;
}

void sig_tty_end(uint64_t added)
{
	if (!added)
		return;
	sigset_t set;
	sigemptyset(&set);
	sig_host_bits(&set, added, true);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

void sig_thread_gone(struct proc *p, bool forked)
{
	if (atomic_load(&p->sig.rekick_made) == 2 && !forked)
		syscall(SYS_timer_delete, p->sig.rekick_timer);
	atomic_store(&p->sig.rekick_made, 0);
	atomic_store(&p->sig.rekick_armed, false);
}

/* Make thread t see a signal now if it must: stop its CPU, and end the host call it
 * sleeps in. 'async': this thread was interrupted for it (the host handler), so its own
 * host call may be about to start, not ended. Async-signal-safe. */
static void wake(struct proc *t, bool async)
{
	if (!sig_wakes(t))
		return;
	t->cpu->ops->kick(t->cpu);
	bool self = t->tid == (pid_t)syscall(SYS_gettid);
	if (!self)
		syscall(SYS_tgkill, getpid(), t->tid, SIG_KICK);
	if (!self || async)
		rekick(t);
}

/* A signal for the process that its leader does not take: the first thread that does
 * not block it takes it, as Linux's complete_signal picks one (here the current thread
 * first). Async-signal-safe: the
 * list is read without its lock (thread structs are reused, never freed, while kvmse runs). */
static void wake_one(struct process *ps, struct proc *self, int sig)
{
	uint64_t b = SIGBIT(sig);
	if (self && !(atomic_load(&self->sig.mask) & b)) {
		wake(self, false);
		return;
	}
	int n = ps->nthreads;
	for (int i = 0; i < n && i < THREADS_MAX; i++) {
		struct proc *t = ps->threads[i];
		if (t && (!(atomic_load(&t->sig.mask) & b) || (atomic_load(&t->sig.waitset) & b))) {
			wake(t, !self);
			return;
		}
	}
}

/* The thread that Linux's complete_signal offers a signal for the process first: the
 * leader (the thread the pid names), if it takes it (does not block it, or waits for
 * it). Whichever thread sent it, the leader then gets it, which the sender, returning
 * from its call first, must not take: so it goes to the leader's own queue. NULL: to
 * the process's. Async-signal-safe. */
static bool takes(const struct proc *t, int sig)
{
	uint64_t b = SIGBIT(sig);
	return !(atomic_load(&t->sig.mask) & b) || (atomic_load(&t->sig.waitset) & b);
}

static struct proc *leader_taking(struct process *ps, int sig)
{
	pid_t pid = getpid();
	int n = ps->nthreads;
	for (int i = 0; i < n && i < THREADS_MAX; i++) {
		struct proc *t = ps->threads[i];
		if (t && t->tid == pid)
			return takes(t, sig) ? t : NULL;
	}
	return NULL;
}

/* The guest thread whose vCPU runs on this host thread, if any. Async-signal-safe. */
static struct proc *host_self(struct process *ps)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);
	int n = ps->nthreads;
	for (int i = 0; i < n && i < THREADS_MAX; i++)
		if (ps->threads[i] && ps->threads[i]->tid == tid)
			return ps->threads[i];
	return NULL;
}

/*
 * A signal sent to kvmse's process from outside: queue it for the guest (thread 'to''s
 * own, or the process's if NULL), and stop a thread that must see it now. Runs on
 * whichever thread the kernel picked.
 *
 * With 'uc' (a host handler's context), a standard signal, or a timer's, then stays
 * blocked on this host thread until the guest has taken it (sig_release). The host keeps
 * the next one pending meanwhile, as Linux keeps a signal that is pending once: a
 * periodic timer re-arms only when its signal is taken. Taken at once, a timer of 1 ns
 * would end every KVM_RUN before the program ran an instruction.
 */
static void queue_outside(int sig, const siginfo_t *si, void *uc, struct proc *to)
{
	struct process *ps = host_ps;
	int saved = errno;
	struct ksiginfo info;
	memcpy(&info, si, sizeof(info));        /* the kernel's layout, 128 bytes */
	info.signo = sig;
	spin_lock(&ps->sh);
	enqueue(to ? &to->sig.own : &ps->sh.shared, &info);
	bool taken = to_signalfds(ps, to) & SIGBIT(sig);
	spin_unlock(&ps->sh);
	struct proc *self = host_self(ps);
	if (uc && self && !taken && (sig < 32 || si->si_code == SI_TIMER) && sig != SIG_KICK) {
		sigaddset(&((ucontext_t *)uc)->uc_sigmask, sig);
		atomic_fetch_or(&self->sig.host_held, SIGBIT(sig));
	}
	if (to)
		wake(to, to == self);
	else
		wake_one(ps, NULL, sig);
	errno = saved;
}

/* Who takes a signal from the host. One sent to this host thread alone (tgkill, tkill,
 * a timer made for it) is for the guest thread whose vCPU it runs. One for the process
 * goes to that thread too if it takes it, as Linux gives it to the thread it picked
 * first (the host picked the thread that was running for a CPU-time timer's, or
 * ITIMER_PROF's, so that a profiler samples it), else to the leader if it takes it. */
static struct proc *taking(int sig, const siginfo_t *si)
{
	struct proc *self = host_self(host_ps);
	if (self && (si->si_code == SI_TKILL || takes(self, sig) ||
		     (si->si_code == SI_TIMER && ptimer_threaded(host_ps, si->si_timerid))))
		return self;
	return leader_taking(host_ps, sig);
}

static void host_handler(int sig, siginfo_t *si, void *uc)
{
	struct proc *to = taking(sig, si);
	/* Linux drops a signal the program ignores as it is sent, unless the thread it
	 * goes to blocks it (kvmse's handler stays installed for an ignored one after it
	 * was blocked: a handler set later must not get it). */
	if (to && (atomic_load(&host_ps->sh.ignored) & SIGBIT(sig)) && !(atomic_load(&to->sig.mask) & SIGBIT(sig)) &&
	    !atomic_load(&host_ps->ptraced))
		return;
	queue_outside(sig, si, uc, to);
}

/* A timer's signal that the kick carried (ptimer.c): the program's, to the thread the
 * host sent it to if the timer names one. Not held back on the host (nothing there to
 * hold): one that is still queued counts an overrun (enqueue). */
static void queue_proxied(int sig, bool thread, siginfo_t *si)
{
	struct proc *self = host_self(host_ps);
	queue_outside(sig, si, NULL, thread ? self : NULL);
}

/*
 * The host's disposition of 'sig' follows the guest's: ignored stays ignored, so it
 * interrupts nothing; the default stays the host kernel's, which ends or stops kvmse at
 * once as it would the program; anything else (a handler, or a signal the guest holds
 * blocked, which Linux keeps pending even if ignored: sigwaitinfo may take it) is
 * kvmse's handler, which queues it. 'mask_only': the mask changed, not the action; then
 * the handler is only ever installed for a default action (blocking and unblocking often
 * must not cost a sigaction each time), and taken back for an ignored signal (arriving
 * unblocked, it must be lost).
 */
static int host_follow(struct proc *p, int sig, bool mask_only)
{
	struct sighand *sh = &p->ps->sh;
	uint64_t h = sh->act[sig].handler, b = SIGBIT(sig);
	if (!mirrored(sig))
		return 0;
	/* The host reaps or reports children as the program's SIGCHLD action says. */
	int chld = sig == SIGCHLD ? (int)(sh->act[sig].flags & (SA_NOCLDSTOP | SA_NOCLDWAIT)) : 0;
	struct sigaction sa = { .sa_handler = SIG_DFL, .sa_flags = chld };
	bool ours = (atomic_load(&p->sig.mask) & b) || (h != SIG_IGN_V && h != SIG_DFL_V) ||
		    atomic_load(&p->ps->ptraced);
	bool same = sig != SIGCHLD || chld == sh->host_chld;
	if (ours && (sh->host_handled & b) && same)
		return 0;
	if (!ours && mask_only && (h != SIG_IGN_V || !(sh->host_handled & b)) && same)
		return 0;
	if (h == SIG_IGN_V && !ours) {
		sa.sa_handler = SIG_IGN;
	} else if (ours) {
		/* No SA_RESTART: a host call of the program's returns EINTR, and the SE layer
		 * decides as the kernel would (sig_deliver). */
		sa.sa_sigaction = host_handler;
		sa.sa_flags |= SA_SIGINFO;
		sigfillset(&sa.sa_mask);
	}
	if (sigaction(sig, &sa, NULL) < 0)
		return -errno;
	sh->host_handled = ours ? sh->host_handled | b : sh->host_handled & ~b;
	if (sig == SIGCHLD)
		sh->host_chld = chld;
	return 0;
}

void sig_follow_all(struct proc *p)
{
	for (int sig = 1; sig <= 64; sig++)
		if (host_follow(p, sig, false) < 0)
			pr_warn("cannot set the host's action for signal %d", sig);
}

void sig_set_mask(struct proc *p, uint64_t mask)
{
	struct sigstate *s = &p->sig;
	struct sighand *sh = &p->ps->sh;
	mask &= ~SIG_UNBLOCKABLE;
	uint64_t old = atomic_load(&s->mask), added = mask & ~old, removed = old & ~mask;
	/* kvmse's handler first, so a signal now blocked never meets the host's default
	 * (nor is lost to its SIG_IGN) */
	for (int sig = 1; added; sig++, added >>= 1) {
		uint64_t h = sh->act[sig].handler;
		if ((added & 1) && (h == SIG_DFL_V || h == SIG_IGN_V) && !(sh->host_handled & SIGBIT(sig))) {
			atomic_fetch_or(&s->mask, SIGBIT(sig));
			host_follow(p, sig, true);
		}
	}
	atomic_store(&s->mask, mask);
	/* An ignored signal pending while blocked is taken, and dropped, once unblocked, as
	 * Linux's get_signal does (a timer's then counts its overruns: timer_taken); traced,
	 * it is sig_deliver's: the tracer sees it first. */
	struct ksiginfo info;
	while (!atomic_load(&p->ps->ptraced) &&
	       sig_dequeue(p, removed & pending(p) & atomic_load(&sh->ignored), &info))
		;
	if (removed & atomic_load(&s->host_held))
		release_soon(p);
	for (int sig = 1; removed; sig++, removed >>= 1)
		if ((removed & 1) && sh->act[sig].handler == SIG_IGN_V && (sh->host_handled & SIGBIT(sig)))
			host_follow(p, sig, true);
}

void sig_set_action(struct proc *p, int sig, const struct ksigaction *act)
{
	struct process *ps = p->ps;
	struct sighand *sh = &ps->sh;
	sh->act[sig] = *act;
	if (ignored_by(act, sig)) {
		atomic_fetch_or(&sh->ignored, SIGBIT(sig));
		/* pending ones are dropped, as Linux does */
		sigset_t old;
		pthread_mutex_lock(&ps->lock);
		sig_lock(sh, &old);
		dequeue(&sh->shared, sig, NULL, true);
		for (int i = 0; i < ps->nthreads; i++)
			dequeue(&ps->threads[i]->sig.own, sig, NULL, true);
		sig_unlock(sh, &old);
		pthread_mutex_unlock(&ps->lock);
	} else {
		atomic_fetch_and(&sh->ignored, ~SIGBIT(sig));
	}
	host_follow(p, sig, false);
}

/* Queue for thread t ('own') or its whole process; false if the queue is full. */
static bool queue(struct proc *t, const struct ksiginfo *info, bool own)
{
	struct sighand *sh = &t->ps->sh;
	uint64_t b = SIGBIT(info->signo);
	/* An ignored signal is dropped when sent, unless blocked (it may be waited for) or
	 * traced (the tracer sees it). */
	if ((atomic_load(&sh->ignored) & b) && !(atomic_load(&t->sig.mask) & b) &&
	    !atomic_load(&t->ps->ptraced))
		return true;
	sigset_t old;
	sig_lock(sh, &old);
	bool ok = enqueue(own ? &t->sig.own : &sh->shared, info);
	to_signalfds(t->ps, own ? t : NULL);
	sig_unlock(sh, &old);
	if (own)
		wake(t, false);
	else
		wake_one(t->ps, t, info->signo);
	return ok;
}

void sig_requeue(struct proc *p, const struct ksiginfo *info)
{
	sigset_t old;
	sig_lock(&p->ps->sh, &old);
	enqueue(&p->sig.own, info);
	sig_unlock(&p->ps->sh, &old);
}

void sig_force(struct proc *p, const struct ksiginfo *info)
{
	struct sighand *sh = &p->ps->sh;
	int sig = info->signo;
	uint64_t b = SIGBIT(sig);
	/* Blocked or ignored, a fault's signal takes its default action (kills). */
	if (sh->act[sig].handler == SIG_IGN_V || (atomic_load(&p->sig.mask) & b)) {
		struct ksigaction dfl = { .handler = SIG_DFL_V };
		sig_set_action(p, sig, &dfl);
		atomic_fetch_and(&p->sig.mask, ~b);
	}
	sigset_t old;
	sig_lock(sh, &old);
	enqueue(&p->sig.own, info);
	sig_unlock(sh, &old);
}

void sig_exec(struct proc *p)
{
	struct sigstate *s = &p->sig;
	/* (Linux's flush_signal_handlers: flags, restorer and mask go, of ignored ones too) */
	for (int sig = 1; sig <= 64; sig++) {
		const struct ksigaction *a = &p->ps->sh.act[sig];
		struct ksigaction dfl = { .handler = a->handler == SIG_IGN_V ? SIG_IGN_V : SIG_DFL_V };
		if (memcmp(a, &dfl, sizeof(dfl)))
			sig_set_action(p, sig, &dfl);
	}
	s->ss_sp = s->ss_size = 0;
	s->ss_flags = 0;
	s->restore_mask = false;
	s->trapno = s->err = s->cr2 = 0;
}

void sig_forget_pending(struct proc *p)
{
	struct sighand *sh = &p->ps->sh;
	sigset_t old;
	sig_lock(sh, &old);
	queue_clear(&p->sig.own);
	queue_clear(&sh->shared);
	sig_unlock(sh, &old);
}

/*
 * SIGPIPE: the kernel sends kvmse one for each write to a pipe nobody reads, as if from
 * itself (SI_USER, kvmse's pid). Those are dropped: a guest's write gets its SIGPIPE
 * from fs.c with EPIPE, and kvmse's own must not kill it. One from another process
 * (kill) is the guest's, unless it ignores SIGPIPE.
 */
static void pipe_handler(int sig, siginfo_t *si, void *uc)
{
	if ((si->si_code == SI_USER && si->si_pid == getpid()) ||
	    (atomic_load(&host_ps->sh.ignored) & SIGBIT(SIGPIPE)))
		return;
	host_handler(sig, si, uc);
}

/*
 * The fault signals are kvmse's own when the CPU raised them (si_code > 0: kvmse
 * crashed) and the guest's when a process sent one (kill, tgkill, sigqueue: LTP's kill12
 * sends SIGSEGV to a child that ignores it). A crash puts back kvmse's own handling
 * (util.c's report, or AddressSanitizer's) and returns: the instruction faults again.
 */
static const int fault_sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGSYS };
static struct sigaction fault_prev[32];

static void fault_handler(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code > 0 && (sig == SIGBUS || sig == SIGSEGV))
		mem_fault_recover(si->si_addr);
	if (si->si_code > 0) {
		sigaction(sig, &fault_prev[sig], NULL);
		return;
	}
	if (!(atomic_load(&host_ps->sh.ignored) & SIGBIT(sig)))
		host_handler(sig, si, uc);
}

/* SIGRTMAX is the CPU model's kick, a tgkill within kvmse: it has ended KVM_RUN or a host
 * call, nothing more. One that another process sent is the guest's. */
static void kick_handler(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code == SI_TKILL && si->si_pid == getpid())
		return;
	struct proc *self = host_self(host_ps);
	if (self && si->si_code == SI_TIMER && atomic_load(&self->sig.rekick_made) == 2 &&
	    si->si_timerid == self->sig.rekick_timer) {
		int saved = errno;
		if (sig_wakes(self))
			rekick(self);
		errno = saved;
		return;
	}
	int psig;
	bool thread;
	bool traced = ptrace_message(host_ps, self, si, &psig);
	bool proxied = !traced && si->si_code == SI_TIMER && ptimer_proxied(host_ps, si->si_timerid, &psig, &thread);
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);       /* as host_handler's other callers */
	if (traced && psig) {           /* a tracer's signal (PTRACE_ATTACH's SIGSTOP) */
		siginfo_t from = { .si_signo = psig, .si_code = SI_USER };
		from.si_pid = si->si_pid;
		from.si_uid = si->si_uid;
		queue_outside(psig, &from, NULL, self);
	} else if (traced && self) {
		self->cpu->ops->kick(self->cpu);        /* (to follow the tracer at once) */
	} else if (proxied) {
		queue_proxied(psig, thread, si);
	} else if (!traced) {
		host_handler(sig, si, uc);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

struct sigq_entry *sig_queue_alloc(void)
{
	void *q = mmap(NULL, (size_t)sigq_cap * sizeof(struct sigq_entry), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (q == MAP_FAILED)
		die_errno("mmap of a signal queue");
	return q;
}

void sig_queue_free(struct sigq_entry *q)
{
	munmap(q, (size_t)sigq_cap * sizeof(struct sigq_entry));
}

void sig_init(struct proc *p)
{
	struct sighand *sh = &p->ps->sh;
	host_ps = p->ps;
	sig_queue_size();
	sh->shared.q = sig_queue_alloc();
	p->sig.own.q = sig_queue_alloc();
	atomic_flag_clear(&sh->lock);
	/* Ignored signals stay ignored across exec: the guest starts with kvmse's. */
	for (int sig = 1; sig <= 64; sig++) {
		struct sigaction sa;
		if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sh->act[sig].handler = SIG_IGN_V;
		if (ignored_by(&sh->act[sig], sig))
			atomic_fetch_or(&sh->ignored, SIGBIT(sig));
	}
	struct sigaction pipe = { .sa_sigaction = pipe_handler, .sa_flags = SA_SIGINFO };
	sigfillset(&pipe.sa_mask);
	if (sigaction(SIGPIPE, &pipe, NULL) < 0)
		die_errno("sigaction");
	struct sigaction kick = { .sa_sigaction = kick_handler, .sa_flags = SA_SIGINFO };
	if (sigaction(SIG_KICK, &kick, NULL) < 0)
		die_errno("sigaction");
	struct sigaction fault = { .sa_sigaction = fault_handler, .sa_flags = SA_SIGINFO };
	sigfillset(&fault.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(fault_sigs); i++)
		if (sigaction(fault_sigs[i], &fault, &fault_prev[fault_sigs[i]]) < 0)
			die_errno("sigaction");
}

long sys_rt_sigaction(struct proc *p, const uint64_t a[6])
{
	int sig = (int)a[0];
	struct ksigaction act;
	/* Linux's order: the set size, the new action's copy, then the signal number. */
	if (a[3] != 8)
		return -EINVAL;
	if (a[1] && mem_read(p->mem, &act, a[1], sizeof(act)) < 0)
		return -EFAULT;
	if (sig < 1 || sig > 64 || (a[1] && (sig == SIGKILL || sig == SIGSTOP)))
		return -EINVAL;
	struct ksigaction old = p->ps->sh.act[sig];
	if (a[1]) {
		/* Unknown flags are dropped, so a program can tell what is supported. */
		act.flags &= SA_NOCLDSTOP | SA_NOCLDWAIT | SA_SIGINFO | SA_ONSTACK | SA_RESTART |
			     SA_NODEFER | SA_RESETHAND | SA_RESTORER | SA_EXPOSE_TAGBITS;
		act.mask &= ~SIG_UNBLOCKABLE;
		sig_set_action(p, sig, &act);
	}
	if (a[2] && mem_write(p->mem, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_rt_sigprocmask(struct proc *p, const uint64_t a[6])
{
	uint64_t set = 0, old = atomic_load(&p->sig.mask);
	if (a[3] != 8)
		return -EINVAL;
	if (a[1] && mem_read(p->mem, &set, a[1], 8) < 0)
		return -EFAULT;
	if (a[1]) {
		switch ((int)a[0]) {
		case SIG_BLOCK: sig_set_mask(p, old | set); break;
		case SIG_UNBLOCK: sig_set_mask(p, old & ~set); break;
		case SIG_SETMASK: sig_set_mask(p, set); break;
		default: return -EINVAL;
		}
	}
	if (a[2] && mem_write(p->mem, a[2], &old, 8) < 0)
		return -EFAULT;
	return 0;
}

long sys_rt_sigpending(struct proc *p, const uint64_t a[6])
{
	if (a[1] > 8)
		return -EINVAL;
	/* (what a signalfd holds unread is pending too) */
	sigset_t old;
	sig_lock(&p->ps->sh, &old);
	uint64_t set = (pending(p) | sigfd_unread(&p->ps->sh)) & atomic_load(&p->sig.mask);
	sig_unlock(&p->ps->sh, &old);
	return mem_write(p->mem, a[0], &set, a[1]) < 0 ? -EFAULT : 0;
}

/* sigaltstack: the stack pointer decides whether the program is on the alternate stack
 * (so this call needs the CPU's state). */
bool sig_on_altstack(const struct sigstate *s, uint64_t sp)
{
	if (s->ss_flags & SS_AUTODISARM)
		return false;
	return sp > s->ss_sp && sp - s->ss_sp <= s->ss_size;
}

long sig_set_altstack(struct sigstate *s, uint64_t sp, uint64_t ss_sp, int flags, uint64_t size)
{
	int mode = flags & ~(int)SS_AUTODISARM;
	if (sig_on_altstack(s, sp))
		return -EPERM;
	if (mode != SS_DISABLE && mode != SS_ONSTACK && mode != 0)
		return -EINVAL;
	if (mode == SS_DISABLE)
		ss_sp = size = 0;
	else if (size < LINUX_MINSIGSTKSZ)
		return -ENOMEM;
	s->ss_sp = ss_sp;
	s->ss_size = size;
	s->ss_flags = flags;
	return 0;
}

long sys_sigaltstack(struct proc *p, const uint64_t a[6])
{
	struct sigstate *s = &p->sig;
	uint64_t sp = p->regs->rsp;
	stack_t ss, old = { .ss_sp = (void *)(uintptr_t)s->ss_sp, .ss_size = s->ss_size };
	old.ss_flags = (!s->ss_size ? SS_DISABLE : sig_on_altstack(s, sp) ? SS_ONSTACK : 0) |
		       (s->ss_flags & SS_AUTODISARM);
	if (a[0] && mem_read(p->mem, &ss, a[0], sizeof(ss)) < 0)
		return -EFAULT;
	if (a[0]) {
		long rc = sig_set_altstack(s, sp, (uint64_t)(uintptr_t)ss.ss_sp, ss.ss_flags, ss.ss_size);
		if (rc < 0)
			return rc;
	}
	if (a[1] && mem_write(p->mem, a[1], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

/*
 * Past RLIMIT_SIGPENDING signals queued for the user, Linux still queues a signal below
 * 32 sent by a user with kill (si_code >= 0), refuses (EAGAIN) a real-time one sent by
 * other means (tkill, sigqueue), and sends the rest without their siginfo. The count
 * here is this process's (the host counts the others'). True if the send is refused;
 * *info loses its details if they are.
 */
static bool over_sigpending(struct proc *p, struct ksiginfo *info)
{
	struct rlimit lim;
	if ((info->signo < 32 && info->code >= 0) || getrlimit(RLIMIT_SIGPENDING, &lim) < 0 ||
	    lim.rlim_cur == RLIM_INFINITY)
		return false;
	struct process *ps = p->ps;
	sigset_t old;
	pthread_mutex_lock(&ps->lock);
	sig_lock(&ps->sh, &old);
	uint64_t n = (uint64_t)ps->sh.shared.nq;
	for (int i = 0; i < ps->nthreads; i++)
		n += (uint64_t)ps->threads[i]->sig.own.nq;
	sig_unlock(&ps->sh, &old);
	pthread_mutex_unlock(&ps->lock);
	if (n < lim.rlim_cur)
		return false;
	if (info->signo >= 32 && info->code != SI_USER)
		return true;
	*info = (struct ksiginfo){ .signo = info->signo, .code = SI_USER };
	return false;
}

/* A signal the guest sends itself: to thread t alone ('own': tkill, tgkill) or to its
 * process (kill; SIGPIPE from a write). */
static long send_self(struct proc *t, int sig, int code, bool own)
{
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0)
		return 0;
	struct ksiginfo info = { .signo = sig, .code = code };
	info.kill.pid = getpid();
	info.kill.uid = getuid();
	if (over_sigpending(t, &info))
		return -EAGAIN;
	return queue(t, &info, own) ? 0 : -EAGAIN;
}

static long self_signal(struct proc *p, int sig, int code)
{
	struct proc *leader = sig > 0 && sig <= 64 ? leader_taking(p->ps, sig) : NULL;
	return send_self(leader ? leader : p, sig, code, leader != NULL);
}

long sys_self_signal(struct proc *p, int sig)
{
	return send_self(p, sig, SI_USER, true);
}

/*
 * SIGSTOP to a tracee of this process goes to its first thread, the traced one: the
 * effect is the same (the whole process stops), and so is what the tracer is told
 * (ptrace.c's pass_on makes it SI_USER). A kvmse process has a thread of KVM's (the NX
 * huge page recovery worker, Linux 6.13 on), which blocks every signal but the two
 * unblockable ones; a SIGSTOP sent to the process while its first thread was in a
 * ptrace stop went to that worker, which stopped alone, and the tracer never heard of
 * it. (Not to others: a process whose first thread has ended would lose it.)
 */
long sys_kill(struct proc *p, const uint64_t a[6])
{
	pid_t pid = (pid_t)a[0];
	int sig = (int)a[1];
	if (pid == getpid())
		return self_signal(p, sig, SI_USER);
	if (sig == SIGSTOP && pid > 0 && ptrace_traces(pid) && syscall(SYS_tgkill, pid, pid, SIGSTOP) == 0)
		return 0;
	return sys_ret(kill(pid, sig));
}

/* tkill and tgkill: to a thread of the guest's, or of another process. */
static long thread_signal(struct proc *p, pid_t tgid, pid_t tid, int sig, long host_nr)
{
	if (tid <= 0 || (host_nr == SYS_tgkill && tgid <= 0))
		return -EINVAL;
	struct proc *t = tgid == getpid() || host_nr == SYS_tkill ? thread_find(p->ps, tid) : NULL;
	if (!t && tgid == getpid())
		return -ESRCH;          /* (kvmse's own threads are not the guest's) */
	if (!t)
		return host_nr == SYS_tkill ? HOST(SYS_tkill, tid, sig) : HOST(SYS_tgkill, tgid, tid, sig);
	return send_self(t, sig, SI_TKILL, true);
}

long sys_tgkill(struct proc *p, const uint64_t a[6])
{
	return thread_signal(p, (pid_t)a[0], (pid_t)a[1], (int)a[2], SYS_tgkill);
}

long sys_tkill(struct proc *p, const uint64_t a[6])
{
	return thread_signal(p, -1, (pid_t)a[0], (int)a[1], SYS_tkill);
}

/* rt_sigqueueinfo and rt_tgsigqueueinfo: the sender's siginfo, to the guest or a host process. */
static long queueinfo(struct proc *p, bool self, long host_nr, const uint64_t *a, int n)
{
	struct ksiginfo info;
	int sig = (int)a[n];
	if (mem_read(p->mem, &info, a[n + 1], sizeof(info)) < 0)
		return -EFAULT;
	if (!self)
		return n == 1 ? HOST(host_nr, (pid_t)a[0], sig, &info) : HOST(host_nr, (pid_t)a[0], (pid_t)a[1], sig, &info);
	if (sig < 0 || sig > 64)
		return -EINVAL;
	if (sig == 0)
		return 0;
	info.signo = sig;
	if (over_sigpending(p, &info))
		return -EAGAIN;
	/* (to this thread, or to the process: its leader first) */
	struct proc *to = n == 2 ? p : leader_taking(p->ps, sig);
	return queue(to ? to : p, &info, to != NULL) ? 0 : -EAGAIN;
}

long sys_rt_sigqueueinfo(struct proc *p, const uint64_t a[6])
{
	return queueinfo(p, (pid_t)a[0] == getpid(), SYS_rt_sigqueueinfo, a, 1);
}

long sys_rt_tgsigqueueinfo(struct proc *p, const uint64_t a[6])
{
	bool self = (pid_t)a[0] == getpid() && thread_find(p->ps, (pid_t)a[1]) == p;
	return queueinfo(p, self, SYS_rt_tgsigqueueinfo, a, 2);
}

/* The process a pidfd stands for (its "Pid:" line in fdinfo), or -1. */
static pid_t pidfd_pid(int fd)
{
	char name[32], info[512];
	snprintf(name, sizeof(name), "self/fdinfo/%d", fd);
	fd_proc_read(name, info, sizeof(info));
	const char *line = strstr(info, "\nPid:");
	pid_t pid = -1;
	if (line)
		sscanf(line, "\nPid: %d", &pid);
	return pid;
}

long sys_pidfd_open(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return HOST(SYS_pidfd_open, (pid_t)a[0], (unsigned)a[1]);
}

#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

/* Is host descriptor 'fd' a KVM one (the VM, a vCPU, /dev/kvm)? */
static bool kvm_file(int fd)
{
	char target[64];
	if (fd_target(fd, target, sizeof(target)) < 0)
		return false;
	return !strncmp(target, "anon_inode:kvm-", 15) || !strcmp(target, "/dev/kvm");
}

/*
 * A copy of a descriptor of another process, or of this one. kvmse's own are not the
 * program's: here they are never open (user_fd); in another kvmse their numbers are
 * unknown, so a KVM descriptor taken from there is given back, as if not open.
 */
long sys_pidfd_getfd(struct proc *p, const uint64_t a[6])
{
	(void)p;
	int pidfd = user_fd(a[0]), target = (int)a[1];
	if (pidfd_pid(pidfd) == getpid())
		target = user_fd(a[1]);
	long fd = syscall(SYS_pidfd_getfd, pidfd, target, (unsigned)a[2]);
	if (fd < 0)
		return -errno;
	if (kvm_file((int)fd)) {
		close((int)fd);
		return -EBADF;
	}
	return fd;
}

/* kcmp: descriptors are compared by number, so this process's own hidden ones count as
 * never open (KCMP_FILE, KCMP_EPOLL_TFD's epoll descriptor). */
long sys_kcmp(struct proc *p, const uint64_t a[6])
{
	pid_t self = getpid();
	int type = (int)a[2];
	uint64_t i1 = a[3], i2 = a[4];
	if ((type == 0 || type == 7) && (pid_t)a[0] == self)     /* KCMP_FILE, KCMP_EPOLL_TFD */
		i1 = (uint64_t)(unsigned)user_fd(i1);
	if (type == 0 && (pid_t)a[1] == self)
		i2 = (uint64_t)(unsigned)user_fd(i2);
	if (type == 7)                  /* a struct kcmp_epoll_slot (fd, target fd, offset) */
		i2 = (uint64_t)(uintptr_t)user_in(p, i2, 12);
	return HOST(SYS_kcmp, (pid_t)a[0], (pid_t)a[1], type, i1, i2);
}

/* To the guest itself through its own signal state, as kill; else the host's call. */
long sys_pidfd_send_signal(struct proc *p, const uint64_t a[6])
{
	int fd = user_fd(a[0]);
	if (pidfd_pid(fd) != getpid() || a[3])
		return HOST(SYS_pidfd_send_signal, fd, (int)a[1], user_in(p, a[2], sizeof(struct ksiginfo)),
			    (unsigned)a[3]);
	if (!a[2])
		return self_signal(p, (int)a[1], SI_USER);
	const uint64_t b[6] = { (uint64_t)getpid(), a[1], a[2] };
	return queueinfo(p, true, SYS_rt_sigqueueinfo, b, 1);
}

/*
 * Sleep until a signal may end the wait (sig_wakes) or 'deadline' (CLOCK_MONOTONIC, NULL:
 * none) passes; false then. Signals are blocked while it looks, and ppoll unblocks them
 * as it sleeps, so none slips in between. On the vCPU thread a host signal ends the sleep;
 * on the server's, the vCPU thread's SIGRTMAX (exitless.c).
 */
static bool sleep_for_signal(struct proc *p, const struct timespec *deadline)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	/* On the syscall server, the next of what the vCPU thread holds may come here. */
	sigset_t wait = old;
	if (p->tid != (pid_t)syscall(SYS_gettid))
		sig_host_bits(&wait, releasable(p), false);
	bool in_time = true;
	if (!sig_wakes(p)) {
		struct timespec rel, *timeout = NULL;
		if (deadline) {
			uint64_t now = now_ns(), end = (uint64_t)deadline->tv_sec * 1000000000 + (uint64_t)deadline->tv_nsec;
			rel.tv_sec = (time_t)((end > now ? end - now : 0) / 1000000000);
			rel.tv_nsec = (long)((end > now ? end - now : 0) % 1000000000);
			timeout = &rel;
			in_time = end > now;
		}
		if (in_time && ppoll(NULL, 0, timeout, &wait) == 0)
			in_time = false;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return in_time;
}

void sig_wait_for(struct proc *p, uint64_t set, atomic_bool *flag)
{
	uint64_t old = atomic_exchange(&p->sig.waitset, set);
	while (!p->exited && !(pending(p) & set) && !atomic_load(flag)) {
		if (sig_deliverable(p))
			usleep(1000);   /* (another signal stays queued: it wakes every sleep) */
		else
			sleep_for_signal(p, NULL);
	}
	atomic_store(&p->sig.waitset, old);
}

long sys_pause(struct proc *p, const uint64_t a[6])
{
	(void)a;
	while (!sig_wakes(p))
		sleep_for_signal(p, NULL);
	return -EINTR;
}

long sys_rt_sigsuspend(struct proc *p, const uint64_t a[6])
{
	/* (a mask it must have: NULL is a bad address here) */
	if (!a[0])
		return a[1] != 8 ? -EINVAL : -EFAULT;
	/* The caller's mask comes back once a handler is set up (sig_deliver). */
	long rc = sig_wait_mask(p, a[0], a[1]);
	return rc ? rc : sys_pause(p, a);
}

long sig_wait_mask(struct proc *p, uint64_t va, uint64_t size)
{
	uint64_t mask;
	if (!va)
		return 0;
	if (size != 8)
		return -EINVAL;
	if (mem_read(p->mem, &mask, va, 8) < 0)
		return -EFAULT;
	/* (a call made again after a host signal ended it has the wait's mask on already) */
	if (!p->sig.restore_mask)
		p->sig.saved_mask = atomic_load(&p->sig.mask);
	p->sig.restore_mask = true;
	sig_set_mask(p, mask);
	return 0;
}

long sig_wait_done(struct proc *p, long rc)
{
	if (rc != -EINTR && p->sig.restore_mask) {
		p->sig.restore_mask = false;
		sig_set_mask(p, p->sig.saved_mask);
	}
	return rc;
}

long sys_rt_sigtimedwait(struct proc *p, const uint64_t a[6])
{
	uint64_t set;
	struct timespec ts, deadline;
	if (a[3] != 8)
		return -EINVAL;
	if (mem_read(p->mem, &set, a[0], 8) < 0)
		return -EFAULT;
	if (a[2]) {
		if (mem_read(p->mem, &ts, a[2], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		uint64_t end = now_ns() + (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
		deadline.tv_sec = (time_t)(end / 1000000000);
		deadline.tv_nsec = (long)(end % 1000000000);
	}
	set &= ~SIG_UNBLOCKABLE;
	struct ksiginfo info;
	int sig;
	long ret = 0;
	atomic_store(&p->sig.waitset, set);
	release_soon(p);
	while (!(sig = sig_dequeue(p, set, &info))) {
		if (sig_deliverable(p)) {
			ret = -EINTR;           /* a handler runs first */
			break;
		}
		if (!sleep_for_signal(p, a[2] ? &deadline : NULL)) {
			ret = -EAGAIN;
			break;
		}
	}
	atomic_store(&p->sig.waitset, 0);
	if (!sig)
		return ret;
	if (a[1] && mem_write(p->mem, a[1], &info, sizeof(info)) < 0)
		return -EFAULT;
	return sig;
}

/* Timers signal kvmse's process, whose handler passes the signal on: the host's own. */
long sys_alarm(struct proc *p, const uint64_t a[6]) { (void)p; return alarm((unsigned)a[0]); }
long sys_setitimer(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_setitimer, (int)a[0], user_in(p, a[1], sizeof(struct itimerval)),
		    user_out(p, a[2], sizeof(struct itimerval)));
}
long sys_getitimer(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_getitimer, (int)a[0], user_out(p, a[1], sizeof(struct itimerval)));
}

