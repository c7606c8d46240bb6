/* clone_flags.c - what clone asks of a new process beyond a fork (its exit signal, its
 * parent, a shared working directory or descriptor table, new namespaces), and unshare
 * and setns.
 * Without the rights, both runs say so alike. */
// run: exit-signal
// run: parent
// run: fs
// run: files
// run: files-exec
// run: files-orphan
// run: uts
// run: pid
// run: time
// run: user
// run: unshare-args
#include "common.h"
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE 2
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x80
#endif
#ifndef __WALL
#define __WALL 0x40000000
#define __WCLONE 0x80000000
#endif

/* A fork with these flags (the child on a copy of this stack). */
static pid_t clone_flags(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags, 0, 0, 0, 0);
}

static volatile sig_atomic_t got;
static void on_signal(int sig) { got = sig; }

static void exit_signal(void)
{
	signal(SIGUSR1, on_signal);
	signal(SIGCHLD, on_signal);
	/* (blocked until sigsuspend: one that came before a pause would be waited for) */
	sigset_t both, old;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &both, &old) == 0);
	pid_t pid = clone_flags(SIGUSR1);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(5);
	int st;
	/* a child that does not end with SIGCHLD is waited for with __WCLONE or __WALL */
	while (!got)
		sigsuspend(&old);
	CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
	printf("parent got %s\n", got == SIGUSR1 ? "SIGUSR1" : "another signal");
	SHOW(waitpid(pid, &st, WNOHANG));
	CHECK(waitpid(pid, &st, __WCLONE) == pid);
	printf("__WCLONE: status %d\n", WEXITSTATUS(st));

	got = 0;
	pid = clone_flags(0);           /* no signal at all */
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(6);
	CHECK(waitpid(pid, &st, __WALL) == pid);
	printf("__WALL: status %d, signal %s\n", WEXITSTATUS(st), got ? "yes" : "none");
}

static void parent(void)
{
	pid_t me = getpid();
	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		/* the grandchild is this process's sibling: the test's child */
		pid_t pid = clone_flags(CLONE_PARENT | SIGCHLD);
		if (pid == 0)
			_exit(getppid() == me ? 7 : 8);
		CHECK(pid > 0 && write(fds[1], &pid, sizeof(pid)) == sizeof(pid));
		/* (the middle process has no child to wait for) */
		printf("middle: wait %s\n", wait(NULL) < 0 && errno == ECHILD ? "ECHILD" : "found one");
		_exit(0);
	}
	pid_t pid;
	int st;
	CHECK(waitpid(mid, &st, 0) == mid);
	CHECK(read(fds[0], &pid, sizeof(pid)) == sizeof(pid));
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("the test waited for its grandchild: status %d (7: its parent was the test)\n",
	       WEXITSTATUS(st));
}

static void fs(void)
{
	CHECK(chdir("/") == 0);
	pid_t pid = clone_flags(CLONE_FS | SIGCHLD);
	CHECK(pid >= 0);
	if (pid == 0) {
		umask(027);
		_exit(chdir("/tmp") == 0 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WEXITSTATUS(st) == 0);
	char cwd[64];
	CHECK(getcwd(cwd, sizeof(cwd)));
	printf("after the child's chdir: %s, umask %03o\n", cwd, umask(0));
}

static void hostname(const char *who)
{
	struct utsname u;
	CHECK(uname(&u) == 0);
	printf("%s: %s\n", who, !strcmp(u.nodename, "kvmse-ns") ? "kvmse-ns" : "the host's");
}

static void uts(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int old = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);
		CHECK(old >= 0);
		if (unshare(CLONE_NEWUTS) < 0) {
			printf("unshare: %s\n", strerror(errno));
			_exit(0);
		}
		SHOW(sethostname("kvmse-ns", 8));
		SHOW(sethostname("x", 65));     /* longer than a name can be */
		SHOW(sethostname(NULL, 8));
		SHOW(setdomainname("kvmse", 5));
		hostname("child, in its namespace");
		SHOW(setns(old, CLONE_NEWUTS));
		hostname("child, back");
		SHOW(setns(old, CLONE_NEWNET)); /* not that kind */
		SHOW(setns(-1, 0));
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	hostname("parent");
}

static void pidns(void)
{
	fflush(stdout);
	pid_t pid = clone_flags(CLONE_NEWPID | SIGCHLD);
	if (pid < 0) {
		printf("clone: %s\n", strerror(errno));
		return;
	}
	if (pid == 0) {
		printf("child: pid %d, parent %d\n", getpid(), getppid());
		fflush(stdout);
		_exit(3);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("parent: pid > 1: %d, status %d\n", pid > 1, WEXITSTATUS(st));
}

static void *idle(void *arg);

static double mono(void)
{
	struct timespec t;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &t) == 0);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* A new time namespace, ten days on, for the children; one of them goes back to the
 * first (setns: Linux lets only a process of one thread join a time namespace). */
static void timens(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int first = open("/proc/self/ns/time", O_RDONLY | O_CLOEXEC);
		CHECK(first >= 0);
		if (unshare(CLONE_NEWTIME) < 0) {
			printf("unshare: %s\n", strerror(errno));
			_exit(0);
		}
		double t0 = mono();
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		CHECK(fd >= 0);
		const char *off = "monotonic 864000 0";
		SHOW(write(fd, off, strlen(off)));
		printf("this process, not moved: %d\n", mono() - t0 < 1000);
		fflush(stdout);
		pid_t c = fork();
		if (c == 0) {
			printf("its child, ten days on: %d\n", mono() - t0 >= 864000);
			SHOW(setns(first, CLONE_NEWTIME));
			printf("back in the first: %d\n", mono() - t0 < 1000);
			_exit(0);
		}
		CHECK(c > 0 && waitpid(c, NULL, 0) == c);
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
}

/* A user namespace, in a process of one thread (of two, EINVAL): root in it. */
static void userns(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		uid_t uid = getuid();
		gid_t gid = getgid();
		if (unshare(CLONE_NEWUSER) < 0) {
			printf("unshare: %s\n", strerror(errno));
			_exit(0);
		}
		char map[64];
		int fd = open("/proc/self/setgroups", O_WRONLY);
		CHECK(fd >= 0 && write(fd, "deny", 4) == 4 && close(fd) == 0);
		snprintf(map, sizeof(map), "0 %d 1", (int)uid);
		fd = open("/proc/self/uid_map", O_WRONLY);
		CHECK(fd >= 0 && write(fd, map, strlen(map)) == (ssize_t)strlen(map) && close(fd) == 0);
		snprintf(map, sizeof(map), "0 %d 1", (int)gid);
		fd = open("/proc/self/gid_map", O_WRONLY);
		CHECK(fd >= 0 && write(fd, map, strlen(map)) == (ssize_t)strlen(map) && close(fd) == 0);
		printf("uid %d gid %d in it, clock runs %d\n", (int)getuid(), (int)getgid(), mono() > 0);
		pthread_t t;
		CHECK(pthread_create(&t, NULL, idle, NULL) == 0);
		SHOW(unshare(CLONE_NEWUSER));
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
}

static void *idle(void *arg)
{
	pause();
	return arg;
}

static void unshare_args(void)
{
	SHOW(unshare(0x1));             /* not a flag unshare knows */
	SHOW(unshare(CLONE_VM | CLONE_SIGHAND | CLONE_THREAD));
	SHOW(unshare(CLONE_FILES | CLONE_FS | CLONE_SYSVSEM));
	pthread_t t;
	CHECK(pthread_create(&t, NULL, idle, NULL) == 0);
	SHOW(unshare(CLONE_VM));
	SHOW(unshare(CLONE_SIGHAND));
	SHOW(unshare(CLONE_FS));
	SHOW(chdir("/tmp"));
	char cwd[64];
	CHECK(getcwd(cwd, sizeof(cwd)));
	printf("cwd: %s\n", cwd);
}

static bool is_open(int fd) { return fcntl(fd, F_GETFD) >= 0; }

/* Descriptors in /proc/self/fd (the directory's own not counted). */
static int open_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1;
}

static void wait_status(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child: %s %d\n", WIFEXITED(st) ? "exit" : "signal",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

/* CLONE_FILES: one table, whoever opens, closes or dup2s; neither sees the other's
 * emulator's descriptors; close_range of all of them by one leaves the other running;
 * CLOSE_RANGE_UNSHARE gives the caller a copy. */
static void files(void)
{
	int go[2], done[2];
	CHECK(pipe(go) == 0 && pipe(done) == 0);
	int mine = open("/dev/null", O_RDONLY);
	int before = open_count();
	pid_t pid = clone_flags(CLONE_FILES | SIGCHLD);
	CHECK(pid >= 0);
	if (pid == 0) {
		int fd = open("/dev/zero", O_RDONLY);
		CHECK(dup2(fd, 40) == 40 && close(mine) == 0);
		char c = (char)fd;
		CHECK(write(go[1], &c, 1) == 1);
		CHECK(read(done[0], &c, 1) == 1);
		_exit(3);
	}
	char c;
	CHECK(read(go[0], &c, 1) == 1);
	printf("child opened %d; dup2'd 40: %d; closed mine: %d\n", c, is_open(40), !is_open(mine));
	printf("descriptors: %d more\n", open_count() - before);
	c = 0;
	CHECK(write(done[1], &c, 1) == 1);
	wait_status(pid);

	/* close_range of everything, child alive: it goes on, on its own descriptors (it
	 * was running before: descriptors kvmse makes are low for a moment, until moved) */
	int sv[2];
	CHECK(pipe(sv) == 0);
	pid = clone_flags(CLONE_FILES | SIGCHLD);
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(write(go[1], "r", 1) == 1);
		while (is_open(sv[1]))
			usleep(10000);
		int p2[2];
		CHECK(pipe(p2) == 0);
		CHECK(write(p2[1], "x", 1) == 1 && read(p2[0], &c, 1) == 1);
		_exit(c == 'x' ? 4 : 1);
	}
	CHECK(read(go[0], &c, 1) == 1);
	SHOW(syscall(SYS_close_range, 3, ~0U, 0));
	wait_status(pid);
	SHOW(open_count());

	/* CLOSE_RANGE_UNSHARE in the child: the parent keeps its own */
	int a = open("/dev/null", O_RDONLY);
	pid = clone_flags(CLONE_FILES | SIGCHLD);
	CHECK(pid >= 0);
	if (pid == 0)
		_exit(syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_UNSHARE) == 0 && !is_open(a) ? 5 : 1);
	wait_status(pid);
	printf("parent's still open: %d\n", is_open(a));
}

/* A child sharing the table outlives its parent: it opens, forks and waits as before
 * (what the parent's kvmse held when it forked stays open for it), and says so down a
 * pipe its grandparent reads to the end. */
static void files_orphan(void)
{
	int out[2];
	CHECK(pipe(out) == 0);
	pid_t mid = fork();
	CHECK(mid >= 0);
	if (mid == 0) {
		close(out[0]);
		pid_t pid = clone_flags(CLONE_FILES | SIGCHLD);
		CHECK(pid >= 0);
		if (pid == 0) {
			while (getppid() == mid)
				usleep(1000);
			int fd = open("/dev/null", O_RDONLY);
			pid_t g = fork();
			if (g == 0)
				_exit(4);
			int st;
			char msg[64];
			int n = snprintf(msg, sizeof(msg), "orphan: open %d, its child %d\n", fd >= 0,
					 waitpid(g, &st, 0) == g && WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			CHECK(write(out[1], msg, (size_t)n) == n);
			_exit(0);
		}
		_exit(0);
	}
	close(out[1]);
	wait_status(mid);
	char buf[128];
	ssize_t n, all = 0;
	while ((n = read(out[0], buf + all, sizeof(buf) - 1 - (size_t)all)) > 0)
		all += n;
	buf[all] = 0;
	printf("%s", buf);
}

/* execve in a child sharing the table copies it first: its close-on-exec descriptors
 * close in the child, not in the parent. */
static void files_exec(const char *self)
{
	int keep = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int go[2];
	CHECK(pipe(go) == 0);
	pid_t pid = clone_flags(CLONE_FILES | SIGCHLD);
	CHECK(pid >= 0);
	if (pid == 0) {
		char fd[16];
		snprintf(fd, sizeof(fd), "%d", keep);
		execl(self, self, "files-exec-child", fd, NULL);
		_exit(127);
	}
	wait_status(pid);
	printf("parent's close-on-exec one still open: %d\n", is_open(keep));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "files-exec-child")) {
		printf("in the exec'd child, close-on-exec one open: %d\n", is_open(atoi(argv[2])));
		return 6;
	}
	CHECK(argc == 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "exit-signal"))
		exit_signal();
	else if (!strcmp(argv[1], "parent"))
		parent();
	else if (!strcmp(argv[1], "fs"))
		fs();
	else if (!strcmp(argv[1], "files"))
		files();
	else if (!strcmp(argv[1], "files-exec"))
		files_exec(argv[0]);
	else if (!strcmp(argv[1], "files-orphan"))
		files_orphan();
	else if (!strcmp(argv[1], "uts"))
		uts();
	else if (!strcmp(argv[1], "pid"))
		pidns();
	else if (!strcmp(argv[1], "time"))
		timens();
	else if (!strcmp(argv[1], "user"))
		userns();
	else if (!strcmp(argv[1], "unshare-args"))
		unshare_args();
	else
		CHECK(0);
	return 0;
}
