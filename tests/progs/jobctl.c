/* Job control on a pseudo-terminal: what a process outside the terminal's foreground
 * group gets when it reads, writes or sets the terminal, by what it blocks, ignores or
 * handles (SIGTTIN, SIGTTOU: the kernel looks at the calling thread's mask). */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t caught;
static void on_sig(int sig) { caught = sig; }

static void set_action(int sig, void (*handler)(int))
{
	struct sigaction sa = { .sa_handler = handler };        /* no SA_RESTART */
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

static void set_blocked(int sig, bool block)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	CHECK(sigprocmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL) == 0);
}

static int is_pending(int sig)
{
	sigset_t set;
	CHECK(sigpending(&set) == 0);
	return sigismember(&set, sig);
}

/* One call of the background process, and what came of it. */
static void report(const char *what, long rc, int sig)
{
	printf("%-34s %ld %s caught %d pending %d\n", what, rc, rc < 0 ? strerror(errno) : "",
	       caught == sig, is_pending(sig));
	caught = 0;
}

static void background(int tty)
{
	struct termios t;
	CHECK(tcgetattr(tty, &t) == 0);
	char c;

	set_blocked(SIGTTOU, true);
	report("tcsetattr, TTOU blocked", tcsetattr(tty, TCSANOW, &t), SIGTTOU);
	report("write (TOSTOP), TTOU blocked", write(tty, "b", 1), SIGTTOU);
	set_blocked(SIGTTOU, false);
	set_action(SIGTTOU, SIG_IGN);
	report("tcsetattr, TTOU ignored", tcsetattr(tty, TCSANOW, &t), SIGTTOU);
	set_action(SIGTTOU, on_sig);
	report("tcsetattr, TTOU handled", tcsetattr(tty, TCSANOW, &t), SIGTTOU);
	report("write (TOSTOP), TTOU handled", write(tty, "h", 1), SIGTTOU);

	set_blocked(SIGTTIN, true);
	report("read, TTIN blocked", read(tty, &c, 1), SIGTTIN);
	set_blocked(SIGTTIN, false);
	set_action(SIGTTIN, SIG_IGN);
	report("read, TTIN ignored", read(tty, &c, 1), SIGTTIN);
	set_action(SIGTTIN, on_sig);
	report("read, TTIN handled", read(tty, &c, 1), SIGTTIN);

	/* As a shell's child takes the terminal: with SIGTTOU blocked, and nothing left
	 * pending to stop it later. */
	set_blocked(SIGTTOU, true);
	report("tcsetpgrp, TTOU blocked", tcsetpgrp(tty, getpgrp()), SIGTTOU);
	printf("in the foreground now: %d\n", tcgetpgrp(tty) == getpgrp());
}

/* A background process that reads with SIGTTIN at its default: stopped by it. */
static void stopped_reader(int tty, pid_t group)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(setpgid(0, group) == 0);
		char c;
		ssize_t n = read(tty, &c, 1);
		printf("read returned %zd (%s)\n", n, strerror(errno));
		_exit(1);
	}
	int st;
	CHECK(waitpid(pid, &st, WUNTRACED) == pid);
	printf("reader stopped %d, by SIGTTIN %d\n", WIFSTOPPED(st), WIFSTOPPED(st) && WSTOPSIG(st) == SIGTTIN);
	CHECK(kill(pid, SIGKILL) == 0 && waitpid(pid, &st, 0) == pid);
}

/* The terminal's session leader: it stays in the foreground, its child does not. */
static void leader(const char *name)
{
	CHECK(setsid() > 0);
	int tty = open(name, O_RDWR);
	CHECK(tty >= 0 && ioctl(tty, TIOCSCTTY, 0) == 0);
	struct termios t;
	CHECK(tcgetattr(tty, &t) == 0);
	t.c_lflag |= TOSTOP;
	CHECK(tcsetattr(tty, TCSANOW, &t) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(setpgid(0, 0) == 0);
		background(tty);
		exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	printf("leader in the foreground: %d\n", tcgetpgrp(tty) == getpgrp());
	pid_t group = fork();   /* a group of its own, left in the background */
	CHECK(group >= 0);
	if (group == 0) {
		setpgid(0, 0);
		pause();
		_exit(0);
	}
	CHECK(setpgid(group, group) == 0);
	stopped_reader(tty, group);
	CHECK(kill(group, SIGKILL) == 0 && waitpid(group, &st, 0) == group);
}

int main(void)
{
	int master = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
	char name[64];
	CHECK(ptsname_r(master, name, sizeof(name)) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(master);
		leader(name);
		exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("leader exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	return 0;
}
