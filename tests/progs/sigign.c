/* Ignored signals: inherited ones stay ignored, one the program ignores, sent from
 * outside (tests/badinput.sh sends SIGTERM), does nothing; blocked, an ignored signal
 * from another process stays pending for sigwaitinfo, unblocked it is lost; a child's
 * SIGCHLD while its default (ignore) is set, as popen callers set it, is lost too, and
 * the handler set back afterwards never sees it. After execve every action has no
 * flags, restorer or mask left, ignored ones as the rest (posix_spawn's child sets each
 * back to SIG_DFL with SA_RESTORER before it execs). */
// run: query
// run: exec-flags
// run: blocked-wait
// run: popen-chld
#include "common.h"
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* SIGUSR2 from a child, which the program ignores. */
static void blocked_wait(void)
{
	sigset_t s, none;
	sigemptyset(&s);
	sigemptyset(&none);
	sigaddset(&s, SIGUSR2);
	signal(SIGUSR2, SIG_IGN);
	for (int round = 0; round < 2; round++) {
		/* round 0: blocked, so it waits; round 1: unblocked, so it is lost */
		sigprocmask(round ? SIG_UNBLOCK : SIG_BLOCK, &s, NULL);
		pid_t c = fork();
		CHECK(c >= 0);
		if (c == 0) {
			kill(getppid(), SIGUSR2);
			_exit(0);
		}
		CHECK(waitpid(c, NULL, 0) == c);
		usleep(20000);
		sigset_t p;
		sigpending(&p);
		printf("round %d: pending %d\n", round, sigismember(&p, SIGUSR2));
		if (!round) {
			siginfo_t si;
			int r = sigwaitinfo(&s, &si);
			printf("sigwaitinfo %d, from the child %d\n", r, si.si_pid == c);
		}
	}
}

static volatile sig_atomic_t chld;
static void on_chld(int sig)
{
	(void)sig;
	chld++;
}

/* What LTP's tst_is_virt does (posix_spawn blocks every signal around the clone). */
static void popen_chld(void)
{
	signal(SIGCHLD, on_chld);
	int three = 0;
	for (int i = 0; i < 60; i++) {
		signal(SIGCHLD, SIG_DFL);
		FILE *f = popen("exit 3", "r");
		CHECK(f);
		three += WEXITSTATUS(pclose(f)) == 3;
		signal(SIGCHLD, on_chld);
	}
	struct timespec t = { 0, 50000000 };
	nanosleep(&t, NULL);
	printf("exited with 3: %d; SIGCHLD handled: %d\n", three, (int)chld);
}

/* The kernel's struct sigaction, which rt_sigaction reads and writes. */
struct ksa {
	unsigned long handler, flags, restorer, mask;
};

static void on_usr1(int sig) { (void)sig; }

/* Actions with flags, a restorer and masks: a handler, SIG_DFL and SIG_IGN; then the
 * program execs itself to see what is left. */
static void exec_flags(const char *self)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART | SA_NODEFER };
	sigaddset(&sa.sa_mask, SIGINT);
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	sa.sa_handler = SIG_DFL;
	CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);
	sa.sa_handler = SIG_IGN;
	CHECK(sigaction(SIGPIPE, &sa, NULL) == 0);
	execl(self, self, "exec-flags-show", (char *)NULL);
	CHECK(0);
}

static void exec_flags_show(void)
{
	const int sigs[] = { SIGUSR1, SIGUSR2, SIGPIPE };
	for (int i = 0; i < 3; i++) {
		struct ksa k;
		CHECK(syscall(SYS_rt_sigaction, sigs[i], NULL, &k, 8) == 0);
		printf("signal %d: %s, flags %#lx, restorer %s, mask %#lx\n", sigs[i],
		       k.handler == (unsigned long)SIG_IGN ? "ignored" : k.handler ? "handled" : "default",
		       k.flags, k.restorer ? "set" : "none", k.mask);
	}
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	if (!strcmp(argv[1], "exec-flags")) {
		exec_flags(argv[0]);
		return 0;
	}
	if (!strcmp(argv[1], "exec-flags-show")) {
		exec_flags_show();
		return 0;
	}
	if (!strcmp(argv[1], "popen-chld")) {
		popen_chld();
		return 0;
	}
	if (!strcmp(argv[1], "blocked-wait")) {
		blocked_wait();
		return 0;
	}
	if (!strcmp(argv[1], "query")) {
		for (int sig = 1; sig < 32; sig++) {
			struct sigaction sa;
			CHECK(sigaction(sig, NULL, &sa) == 0);
			if (sa.sa_handler == SIG_IGN)
				printf("signal %d ignored\n", sig);
		}
		return 0;
	}
	if (!strcmp(argv[1], "ignore-term")) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGTERM, SIG_IGN);
	}
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < 20; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	printf("survived\n");
	return 0;
}
