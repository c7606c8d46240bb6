/* pwait.c - the waits that take a signal mask for their duration (epoll_pwait,
 * epoll_pwait2, ppoll, pselect6): a pending signal the mask lets through ends the wait
 * with EINTR and its handler runs; one the mask blocks stays pending; the caller's mask
 * is back afterwards either way; a bad mask or mask size is refused. Signals from
 * another process during a wait whose mask blocks them run their handler after it. */
#include "common.h"
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NR_epoll_pwait2 441

static volatile int handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static int epfd;

/* One wait of kind 'how' with mask 'm' (sigset size 'size'), for 'ms' at most. */
static long wait_for(int how, void *m, size_t size, int ms)
{
	struct epoll_event ev;
	struct timespec zero = { ms / 1000, ms % 1000 * 1000000L };
	struct pollfd pfd = { .fd = epfd, .events = POLLIN };
	struct { void *set; size_t size; } psel = { m, size };
	switch (how) {
	case 0: return syscall(SYS_epoll_pwait, epfd, &ev, 1, ms, m, size);
	case 1: return syscall(NR_epoll_pwait2, epfd, &ev, 1, &zero, m, size);
	case 2: return syscall(SYS_ppoll, &pfd, 1, &zero, m, size);
	default: return syscall(SYS_pselect6, 0, NULL, NULL, NULL, &zero, &psel);
	}
}

static long wait_with(int how, void *m, size_t size)
{
	return wait_for(how, m, size, 0);
}

static int blocked(int sig)
{
	sigset_t cur;
	sigprocmask(SIG_BLOCK, NULL, &cur);
	return sigismember(&cur, sig);
}

/* A child sends SIGUSR1 every 10 ms during a wait of 300 ms whose mask blocks it (each
 * ends the host's call, which goes on): after it, the handler runs. */
static void from_outside(int how, sigset_t *usr1)
{
	sigset_t none;
	sigemptyset(&none);
	CHECK(sigprocmask(SIG_SETMASK, &none, NULL) == 0);
	pid_t parent = getpid(), pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		for (;;) {
			usleep(10000);
			kill(parent, SIGUSR1);
		}
	}
	handled = 0;
	long rc = wait_for(how, usr1, 8, 300);
	int after = handled > 0;
	CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, NULL, 0) == pid);
	printf("  signals from outside, blocked by the mask: %ld, handled after %d, blocked %d\n",
	       rc, after, blocked(SIGUSR1));
	CHECK(sigprocmask(SIG_SETMASK, usr1, NULL) == 0);
}

int main(void)
{
	static const char *const name[] = { "epoll_pwait", "epoll_pwait2", "ppoll", "pselect6" };
	struct sigaction sa = { .sa_handler = on_usr1 };
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	epfd = epoll_create1(0);
	CHECK(epfd >= 0);
	sigset_t usr1, none;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigemptyset(&none);
	CHECK(sigprocmask(SIG_BLOCK, &usr1, NULL) == 0);
	for (int how = 0; how < 4; how++) {
		printf("%s:\n", name[how]);
		raise(SIGUSR1);
		handled = 0;
		long rc = wait_with(how, &usr1, 8);
		printf("  mask blocks the pending signal: %ld, handled %d, blocked after %d\n", rc,
		       handled, blocked(SIGUSR1));
		rc = wait_with(how, &none, 8);
		printf("  mask lets it through: %ld (%s), handled %d, blocked after %d\n", rc,
		       rc < 0 ? strerror(errno) : "-", handled, blocked(SIGUSR1));
		raise(SIGUSR1);
		rc = wait_for(how, &none, 8, 30000);
		printf("  ... in a wait that would block 30 s: %ld (%s), handled %d\n", rc,
		       rc < 0 ? strerror(errno) : "-", handled);
		rc = wait_with(how, &none, 4);
		printf("  mask size 4: %ld (%s)\n", rc, rc < 0 ? strerror(errno) : "-");
		rc = wait_with(how, (void *)8, 8);
		printf("  bad mask: %ld (%s)\n", rc, rc < 0 ? strerror(errno) : "-");
		rc = wait_with(how, NULL, 4);
		printf("  no mask, size 4: %ld (%s)\n", rc, rc < 0 ? strerror(errno) : "-");
		from_outside(how, &usr1);
	}
	return 0;
}
