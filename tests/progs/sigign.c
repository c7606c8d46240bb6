/* Ignored signals: inherited ones stay ignored, one the program ignores, sent from
 * outside (tests/badinput.sh sends SIGTERM), does nothing; blocked, an ignored signal
 * from another process stays pending for sigwaitinfo, unblocked it is lost; a child's
 * SIGCHLD while its default (ignore) is set, as popen callers set it, is lost too, and
 * the handler set back afterwards never sees it. */
// run: query
// run: blocked-wait
// run: popen-chld
#include "common.h"
#include <signal.h>
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

int main(int argc, char **argv)
{
	CHECK(argc == 2);
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
