/* Signal state across handlers: masks, SA_NODEFER, SA_RESETHAND, sigtimedwait, sigqueue,
 * sigpending, SIGPIPE, and raise() of every signal a program may catch. */
// run: masks
// run: nodefer
// run: resethand
// run: timedwait
// run: queue
// run: queue-many
// run: queue-limit
// run: raise-all
// run: sigpipe
// run: sigpipe-default
// run: actions
#include "common.h"
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int order[16], norder;
static volatile sig_atomic_t depth, maxdepth, count[65];

static void note(int sig)
{
	if (norder < 16)
		order[norder++] = sig;
}

static void on_usr1(int sig)
{
	note(sig);
	raise(SIGUSR2);         /* blocked by sa_mask: runs when this returns */
	note(-sig);
}

static void on_usr2(int sig) { note(sig); }

static volatile sig_atomic_t calls;

static void on_nested(int sig)
{
	calls++;
	if (++depth > maxdepth)
		maxdepth = depth;
	if (depth < 4 && calls < 4)
		raise(sig);     /* at once with SA_NODEFER; else once this handler returns */
	depth--;
}

static void on_count(int sig) { count[sig]++; }

/* Rounds of 150 queued signals of two kinds, interleaved, each kind taken in the order
 * sent: the lower first (every other entry, from the middle of the queue). signals.sh
 * runs it with a hard RLIMIT_SIGPENDING of 200: the rounds go many times round the room
 * kvmse keeps for that limit. */
static void queue_rounds(sigset_t *set)
{
	int a = SIGRTMIN + 1, b = SIGRTMIN + 3, ok = 1, round = 0;
	sigaddset(set, a);
	sigaddset(set, b);
	sigprocmask(SIG_BLOCK, set, NULL);
	siginfo_t si;
	struct timespec zero = { 0, 0 };
	for (; round < 12; round++) {
		for (int i = 0; i < 150; i++)
			ok &= sigqueue(getpid(), i % 2 ? a : b, (union sigval){ .sival_int = i }) == 0;
		for (int want = 1; want < 150; want += 2)
			ok &= sigtimedwait(set, &si, &zero) == a && si.si_value.sival_int == want;
		for (int want = 0; want < 150; want += 2)
			ok &= sigtimedwait(set, &si, &zero) == b && si.si_value.sival_int == want;
		ok &= sigtimedwait(set, &si, &zero) < 0 && errno == EAGAIN;
	}
	printf("%d rounds of 150 signals, each kind taken in order: %d\n", round, ok);
}

static void on_info(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	printf("signal %d code %d value %d from self %d\n", sig, si->si_code, si->si_value.sival_int,
	       si->si_pid == getpid());
}

static void handle(int sig, void (*fn)(int), int flags, int masked)
{
	struct sigaction sa = { .sa_handler = fn, .sa_flags = flags };
	sigemptyset(&sa.sa_mask);
	if (masked)
		sigaddset(&sa.sa_mask, masked);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *m = argv[1];
	sigset_t set, pend;
	sigemptyset(&set);
	if (!strcmp(m, "masks")) {
		handle(SIGUSR1, on_usr1, 0, SIGUSR2);
		handle(SIGUSR2, on_usr2, 0, 0);
		raise(SIGUSR1);
		for (int i = 0; i < norder; i++)
			printf("%d ", order[i]);
		printf("\n");
		/* blocked, then pending, then delivered when unblocked */
		sigaddset(&set, SIGUSR2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		norder = 0;
		kill(getpid(), SIGUSR2);
		sigpending(&pend);
		printf("pending %d, ran %d\n", sigismember(&pend, SIGUSR2), norder);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		printf("ran %d\n", norder);
	} else if (!strcmp(m, "nodefer")) {
		handle(SIGUSR1, on_nested, SA_NODEFER, 0);
		raise(SIGUSR1);
		printf("nested depth %d, calls %d\n", maxdepth, calls);
		maxdepth = calls = 0;
		handle(SIGUSR1, on_nested, 0, 0);
		raise(SIGUSR1);
		printf("deferred depth %d, calls %d\n", maxdepth, calls);
	} else if (!strcmp(m, "resethand")) {
		handle(SIGUSR1, on_count, SA_RESETHAND, 0);
		raise(SIGUSR1);
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		printf("count %d, default again %d\n", count[SIGUSR1], sa.sa_handler == SIG_DFL);
		fflush(stdout);
		raise(SIGUSR1);         /* kills */
		printf("not reached\n");
	} else if (!strcmp(m, "timedwait")) {
		sigaddset(&set, SIGUSR1);
		sigaddset(&set, SIGRTMIN + 1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		union sigval v = { .sival_int = 5 };
		sigqueue(getpid(), SIGRTMIN + 1, v);
		sigqueue(getpid(), SIGRTMIN + 1, v);
		raise(SIGUSR1);
		siginfo_t si;
		struct timespec ts = { 0, 20 * 1000 * 1000 };
		for (int i = 0; i < 4; i++) {
			int sig = sigtimedwait(&set, &si, &ts);
			if (sig < 0)
				printf("sigtimedwait: %s\n", strerror(errno));
			else
				printf("got %s code %d\n", sig == SIGUSR1 ? "USR1" : "RTMIN+1", si.si_code);
		}
	} else if (!strcmp(m, "queue")) {
		struct sigaction sa = { .sa_sigaction = on_info, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGRTMIN + 2, &sa, NULL);
		sigaddset(&set, SIGRTMIN + 2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		for (int i = 1; i <= 3; i++) {
			union sigval v = { .sival_int = i };
			SHOW(sigqueue(getpid(), SIGRTMIN + 2, v));
		}
		sigprocmask(SIG_UNBLOCK, &set, NULL);     /* three, in order */
		SHOW(kill(getpid(), 0));
		SHOW(kill(getpid(), 99));
	} else if (!strcmp(m, "queue-many")) {
		/* Queued up to RLIMIT_SIGPENDING, 2000 here (more than kvmse once held; the
		 * user's other pending signals count too, natively), then EAGAIN; all are taken,
		 * in the order sent, by sigtimedwait but the last 100, which handlers take. */
		struct rlimit lim;
		CHECK(getrlimit(RLIMIT_SIGPENDING, &lim) == 0 && lim.rlim_max >= 2000);
		lim.rlim_cur = 2000;
		CHECK(setrlimit(RLIMIT_SIGPENDING, &lim) == 0);
		sigaddset(&set, SIGRTMIN + 2);
		sigprocmask(SIG_BLOCK, &set, NULL);
		int sent = 0, taken = 0, in_order = 1, err = 0;
		for (; sent < 3000; sent++)
			if (sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = sent }) < 0) {
				err = errno;
				break;
			}
		printf("queued up to the limit %d, then %s\n", sent > 1900 && sent <= 2000,
		       strerror(err));
		siginfo_t si;
		struct timespec zero = { 0, 0 };
		for (; taken < sent - 100 && sigtimedwait(&set, &si, &zero) == SIGRTMIN + 2; taken++)
			in_order &= si.si_value.sival_int == taken;
		handle(SIGRTMIN + 2, on_count, 0, 0);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		printf("all but 100 taken in order %d, the rest handled %d\n", in_order && taken == sent - 100,
		       count[SIGRTMIN + 2] == sent - taken);
	} else if (!strcmp(m, "queue-rounds")) {
		queue_rounds(&set);
	} else if (!strcmp(m, "queue-limit")) {
		/* With RLIMIT_SIGPENDING 0, a real-time signal is queued only if sent by kill. */
		struct rlimit none = { 0, 0 };
		CHECK(setrlimit(RLIMIT_SIGPENDING, &none) == 0);
		sigaddset(&set, SIGRTMIN + 2);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		union sigval v = { .sival_int = 5 };
		SHOW(sigqueue(getpid(), SIGRTMIN + 2, v));
		SHOW(syscall(SYS_tgkill, getpid(), gettid(), SIGRTMIN + 2));
		SHOW(syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1));
		SHOW(kill(getpid(), SIGRTMIN + 2));
		siginfo_t si;
		struct timespec zero = { 0, 0 };
		int sig;
		while ((sig = sigtimedwait(&set, &si, &zero)) > 0)
			printf("got %s code %d\n", sig == SIGUSR1 ? "USR1" : "RTMIN+2", si.si_code);
	} else if (!strcmp(m, "raise-all")) {
		int n = 0;
		for (int sig = 1; sig < NSIG; sig++) {
			if (sig == SIGKILL || sig == SIGSTOP || (sig >= 32 && sig < SIGRTMIN))
				continue;
			handle(sig, on_count, 0, 0);
			raise(sig);
			n += count[sig] == 1;
		}
		printf("caught %d of %d\n", n, 64 - 2 - (SIGRTMIN - 32));
	} else if (!strcmp(m, "actions")) {
		/* what rt_sigaction keeps and refuses */
		struct sigaction sa = { .sa_handler = on_count, .sa_flags = SA_RESTART | 0x100 | 0x200000 }, old;
		sigfillset(&sa.sa_mask);
		SHOW(sigaction(SIGUSR1, &sa, NULL));
		SHOW(sigaction(SIGUSR1, NULL, &old));
		printf("flags %#x, KILL in mask %d, USR2 in mask %d\n", old.sa_flags & ~0x04000000,
		       sigismember(&old.sa_mask, SIGKILL), sigismember(&old.sa_mask, SIGUSR2));
		SHOW(sigaction(SIGKILL, &sa, NULL));
		SHOW(sigaction(SIGSTOP, NULL, &old));
		SHOW(sigaction(0, NULL, &old));
		SHOW(syscall(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 4));
		SHOW(syscall(SYS_rt_sigaction, 65, NULL, NULL, 8));
		SHOW(syscall(SYS_rt_sigaction, SIGUSR1, 8, NULL, 8));
		SHOW(syscall(SYS_rt_sigprocmask, 7, &set, NULL, 8));
		SHOW(syscall(SYS_rt_sigprocmask, 7, NULL, NULL, 8));
		SHOW(syscall(SYS_rt_sigpending, &pend, 16));
		SHOW(syscall(SYS_rt_sigsuspend, 8, 8));
		SHOW(syscall(SYS_rt_sigtimedwait, &set, NULL, 8, 8));
		SHOW(syscall(SYS_kill, getpid(), 65));
		SHOW(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), -1));
	} else if (!strcmp(m, "sigpipe")) {
		int fds[2];
		CHECK(pipe(fds) == 0);
		close(fds[0]);
		handle(SIGPIPE, on_count, 0, 0);
		SHOW(write(fds[1], "x", 1));
		printf("SIGPIPE caught %d\n", count[SIGPIPE]);
	} else if (!strcmp(m, "sigpipe-default")) {
		int fds[2];
		CHECK(pipe(fds) == 0);
		close(fds[0]);
		printf("writing\n");
		fflush(stdout);
		write(fds[1], "x", 1);
		printf("not reached\n");
	}
	return 0;
}
