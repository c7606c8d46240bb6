/* exitless.c - the syscall channel's host side: a server thread per vCPU polls the
 * channel page (layout.h), runs each request through the SE layer and publishes the
 * answer, so a system call costs no VM exit. The entry code (shim.S) is the other side. */
#include "kvm.h"
#include "../layout.h"
#include "../util.h"
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/*
 * How long each side spins. The program spins for an answer about as long as an exit
 * costs on a nested host (25-30 µs), then exits and sleeps: spinning more than a
 * blocking wait costs is never worth it. The server polls for some calls' worth of
 * user code after the last request, then naps until an exit-path call wakes it.
 */
#define GUEST_SPIN_NS   25000
#define SERVER_SPIN_NS  200000

/*
 * When exitless does not pay, the server stands down for a while and every call takes
 * the exit path. A call answered late (the program gave up spinning and exited to wait:
 * it blocked, or the server found no free core) wasted its spin; when that happens to
 * more than one call in LATE_RATIO, the server pauses. The pause doubles from BACKOFF_MIN
 * while that repeats, and comes back to it once late calls are rare again.
 */
#define LATE_RATIO      8
/* SIG_KICK (cpu.h) ends a blocking host call the server makes for the program when a
 * signal must be delivered first (as the kernel would end it). It is sent again every
 * INTERRUPT_NS until the call returns. */
#define INTERRUPT_NS    1000000
#define BACKOFF_MIN_NS  1000000
#define BACKOFF_MAX_NS  100000000

struct kvm_server {
	struct kvm_cpu *k;
	struct cpu_server srv;
	uint8_t map[ENTRY_MAP_BITS / 8];        /* what may be served: kvmse's own copy */
	pthread_t thread;
	_Atomic uint64_t served;                /* sequence number last answered */
	_Atomic uint64_t handed;                /* ... last left to the vCPU thread */
	uint64_t handed_nr, handed_args[6], handed_ip;  /* (as read by the server) */
	_Atomic uint64_t backoff_until;         /* no polling before this (now_ns) */
	uint64_t backoff_ns;                    /* the next pause (the vCPU thread's) */
	_Atomic uint64_t answered;              /* requests run (stats.served at the end) */
	uint64_t answered_at_late;              /* 'answered' at the last late call */
	_Atomic uint32_t wake_word;             /* futex: bumped to wake a napping server */
	atomic_bool sleeping, waiting, stopped, quit;
};

/* The channel is guest memory: plain 64-bit words, ordered with GCC's atomics. */
static uint64_t ch_load(const struct kvm_server *s, unsigned off, int order)
{
	return __atomic_load_n(&s->k->chan[off / 8], order);
}

static void ch_store(const struct kvm_server *s, unsigned off, uint64_t v, int order)
{
	__atomic_store_n(&s->k->chan[off / 8], v, order);
}

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	if (syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EINTR)
		die_errno("futex wait");
}

/* The same, giving up after 'ns' nanoseconds. */
static void futex_wait_for(_Atomic uint32_t *w, uint32_t val, uint64_t ns)
{
	struct timespec t = { .tv_sec = (time_t)(ns / 1000000000), .tv_nsec = (long)(ns % 1000000000) };
	if (syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, &t, NULL, 0) < 0 &&
	    errno != EAGAIN && errno != EINTR && errno != ETIMEDOUT)
		die_errno("futex wait");
}

static void futex_wake(_Atomic uint32_t *w)
{
	if (syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0) < 0)
		die_errno("futex wake");
}

static bool may_serve(const struct kvm_server *s, uint64_t nr)
{
	return nr < ENTRY_MAP_BITS && (s->map[nr / 8] >> (nr % 8) & 1);
}

/* Wake the vCPU thread if it waits for the server ('served' or 'handed' moved). */
static void done(struct kvm_server *s)
{
	/* (a full barrier: the change is visible before 'waiting' is read) */
	atomic_fetch_add(&s->k->done_word, 1);
	if (atomic_load(&s->waiting))
		futex_wake(&s->k->done_word);
}

/* Publish the result of request 'seq' (or, if the call ended the program, only that). */
static void answer(struct kvm_server *s, uint64_t seq, long ret, bool stop)
{
	/* 'served' before the answer: once the program sees the answer and stops, the vCPU
	 * thread finds the request done (and the result in place) without waiting. */
	if (stop) {
		atomic_store(&s->stopped, true);
		atomic_store_explicit(&s->served, seq, memory_order_release);
	} else {
		ch_store(s, CH_RET, (uint64_t)ret, __ATOMIC_RELAXED);
		atomic_store_explicit(&s->served, seq, memory_order_release);
		ch_store(s, CH_RESP, seq, __ATOMIC_RELEASE);
	}
	atomic_store_explicit(&s->answered, atomic_load_explicit(&s->answered, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	done(s);
}

/* A request is there for the server: neither answered nor handed to the vCPU thread. */
static bool pending(const struct kvm_server *s, uint64_t seq)
{
	return seq != atomic_load(&s->served) && seq != atomic_load(&s->handed);
}

/*
 * Run request 'seq'. Its fields are read once: the guest may change them meanwhile. A
 * call the program's own thread must make is left unanswered, for the vCPU thread: the
 * program gives up spinning and exits to wait, and wait_answered runs it.
 */
static void serve(struct kvm_server *s, uint64_t seq)
{
	uint64_t nr = ch_load(s, CH_NR, __ATOMIC_RELAXED), a[6], ip = ch_load(s, CH_RIP, __ATOMIC_RELAXED);
	for (int i = 0; i < 6; i++)
		a[i] = ch_load(s, CH_ARGS + 8 * i, __ATOMIC_RELAXED);
	/* The entry code sends only what the map allows; anything else was forged. */
	if (!may_serve(s, nr)) {
		answer(s, seq, -ENOSYS, false);
		return;
	}
	if (s->srv.caller_only && s->srv.caller_only(nr, a)) {
		s->handed_nr = nr;
		s->handed_ip = ip;
		memcpy(s->handed_args, a, sizeof(a));
		atomic_store_explicit(&s->handed, seq, memory_order_release);
		done(s);
		return;
	}
	bool stop = false;
	long ret = s->srv.call(s->srv.ctx, nr, a, ip, &stop);
	answer(s, seq, ret, stop);
}

/* Stop polling until kicked. The entry code sees CH_AWAKE clear and exits instead; a
 * request posted just before that is caught by the second look (or by its PORT_WAIT). */
static void nap(struct kvm_server *s)
{
	uint32_t w = atomic_load(&s->wake_word);
	ch_store(s, CH_AWAKE, 0, __ATOMIC_SEQ_CST);
	atomic_store(&s->sleeping, true);
	if (!atomic_load(&s->quit) && (atomic_load(&s->stopped) ||
	    !pending(s, ch_load(s, CH_REQ, __ATOMIC_SEQ_CST)))) {
		s->k->cpu.stats.server_sleeps++;
		futex_wait(&s->wake_word, w);
	}
	atomic_store(&s->sleeping, false);
	if (!atomic_load(&s->stopped))
		ch_store(s, CH_AWAKE, 1, __ATOMIC_SEQ_CST);
}

static void *server_main(void *arg)
{
	struct kvm_server *s = arg;
	struct cpu_stats *st = &s->k->cpu.stats;
	uint64_t idle_since = now_ns();
	for (unsigned n = 1; !atomic_load(&s->quit); n++) {
		uint64_t seq = ch_load(s, CH_REQ, __ATOMIC_ACQUIRE);
		if (pending(s, seq) && !atomic_load(&s->stopped)) {
			st->server_spin_ns += now_ns() - idle_since;
			serve(s, seq);
			idle_since = now_ns();
			continue;
		}
		if (n % 64 == 0 || atomic_load(&s->stopped)) {
			uint64_t t = now_ns();
			if (t - idle_since > SERVER_SPIN_NS || t < atomic_load(&s->backoff_until) ||
			    atomic_load(&s->stopped)) {
				st->server_spin_ns += t - idle_since;
				nap(s);
				idle_since = now_ns();
			}
		}
		__builtin_ia32_pause();
	}
	return NULL;
}

/* Wake the server if it naps. */
static void wake(struct kvm_server *s)
{
	atomic_fetch_add(&s->wake_word, 1);
	if (atomic_load(&s->sleeping)) {
		futex_wake(&s->wake_word);
		s->k->cpu.stats.server_wakeups++;
	}
}

/* Sleep until every request posted so far is answered (or the program has ended). Once
 * the vCPU is kicked, a call that blocks is interrupted. */
static void wait_answered(struct kvm_server *s)
{
	atomic_store(&s->waiting, true);
	wake(s);
	for (;;) {
		uint32_t d = atomic_load(&s->k->done_word);
		uint64_t seq = ch_load(s, CH_REQ, __ATOMIC_ACQUIRE);
		if (atomic_load(&s->stopped) || seq == atomic_load(&s->served))
			break;
		if (seq == atomic_load_explicit(&s->handed, memory_order_acquire)) {
			bool stop = false;
			long ret = s->srv.call(s->srv.ctx, s->handed_nr, s->handed_args, s->handed_ip, &stop);
			answer(s, seq, ret, stop);
			continue;
		}
		if (atomic_load(&s->k->kicked)) {
			if (s->srv.kicked)
				s->srv.kicked(s->srv.ctx);
			int rc = pthread_kill(s->thread, SIG_KICK);
			if (rc)
				die("cannot interrupt the syscall server: %s", strerror(rc));
			futex_wait_for(&s->k->done_word, d, INTERRUPT_NS);
		} else {
			futex_wait(&s->k->done_word, d);
		}
	}
	atomic_store(&s->waiting, false);
}

void kvm_server_kick(struct kvm_server *s)
{
	if (atomic_load(&s->sleeping) && now_ns() >= atomic_load(&s->backoff_until))
		wake(s);
}

bool kvm_server_wait(struct kvm_server *s)
{
	uint64_t answered = atomic_load_explicit(&s->answered, memory_order_relaxed);
	if (answered - s->answered_at_late < LATE_RATIO) {
		atomic_store(&s->backoff_until, now_ns() + s->backoff_ns);
		s->backoff_ns = MIN(s->backoff_ns * 2, BACKOFF_MAX_NS);
		s->k->cpu.stats.server_backoffs++;
	} else {
		s->backoff_ns = BACKOFF_MIN_NS;
	}
	s->answered_at_late = answered;
	wait_answered(s);
	s->k->cpu.stats.served_waited++;
	return !atomic_load(&s->stopped);
}

bool kvm_server_finish(struct kvm_server *s)
{
	wait_answered(s);
	return !atomic_load(&s->stopped);
}

void kvm_server_drain(struct kvm_server *s)
{
	if (ch_load(s, CH_REQ, __ATOMIC_ACQUIRE) != atomic_load(&s->served))
		wait_answered(s);
}

/* TSC ticks the program spins for an answer (the guest's TSC rate, 3 GHz if unknown). */
static uint64_t spin_ticks(struct kvm_cpu *k)
{
	int khz = ioctl(k->vcpu_fd, KVM_GET_TSC_KHZ, 0);
	return (uint64_t)(khz > 0 ? khz : 3000000) * GUEST_SPIN_NS / 1000000;
}

struct kvm_server *kvm_server_start(struct kvm_cpu *k, const struct cpu_server *srv)
{
	struct kvm_server *s = xcalloc(1, sizeof(*s));
	s->k = k;
	s->srv = *srv;
	s->backoff_ns = BACKOFF_MIN_NS;
	for (unsigned nr = 0; nr < ENTRY_MAP_BITS; nr++)
		if (srv->may_serve(nr))
			s->map[nr / 8] |= (uint8_t)(1u << (nr % 8));
	/* The entry code's copy: in the entry page, which the program may read, not write. */
	memcpy(k->vm->shim + ENTRY_MAP_OFF, s->map, sizeof(s->map));
	uint64_t ticks = spin_ticks(k);
	memcpy(k->vm->shim + ENTRY_SPIN_OFF, &ticks, 8);
	atomic_store(&s->served, ch_load(s, CH_REQ, __ATOMIC_ACQUIRE));
	ch_store(s, CH_AWAKE, 1, __ATOMIC_SEQ_CST);
	/* Signals are the vCPU thread's to take, never the server's, but for SIG_KICK and
	 * its own faults: blocked, one would kill kvmse at once, and a copy from guest memory
	 * whose host page fails must end with EFAULT instead (mem_fault_recover). (The SE
	 * layer lets in the terminal's two for the calls it makes here: sig_tty_begin.) */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, SIG_KICK);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGSEGV);
	int rc = pthread_sigmask(SIG_SETMASK, &all, &old);
	if (!rc)
		rc = pthread_create(&s->thread, NULL, server_main, s);
	if (rc || (rc = pthread_sigmask(SIG_SETMASK, &old, NULL)))
		die("cannot start the syscall server: %s", strerror(rc));
	return s;
}

bool kvm_server_reanswer(struct kvm_server *s, uint64_t seq)
{
	if (atomic_load(&s->served) != seq)
		return false;
	/* (serve() stores the answer just after 'served': the same value) */
	ch_store(s, CH_RESP, seq, __ATOMIC_RELEASE);
	return true;
}

uint64_t kvm_server_answered(struct kvm_server *s)
{
	return atomic_load(&s->answered);
}

void kvm_server_stop(struct kvm_server *s)
{
	atomic_store(&s->quit, true);
	atomic_fetch_add(&s->wake_word, 1);
	futex_wake(&s->wake_word);
	int rc = pthread_join(s->thread, NULL);
	if (rc)
		die("cannot stop the syscall server: %s", strerror(rc));
	ch_store(s, CH_AWAKE, 0, __ATOMIC_SEQ_CST);
	s->k->cpu.stats.served += atomic_load(&s->answered);
	free(s);
}
