/* signalfd: blocked signals read as records (raise, a child's exit, sigqueue's value, a
 * timer), poll and epoll on it, a new mask, a thread blocked in read, a forked child's
 * signals (its own, not its parent's), the descriptors it opens, bad arguments; splice
 * and tee take no signalfd. */
#include "common.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

static void read_one(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = read(fd, &si, sizeof(si));
	if (n != sizeof(si)) {
		printf("read %zd (%s)\n", n, n < 0 ? strerror(errno) : "short");
		return;
	}
	printf("signal %u code %d", si.ssi_signo, si.ssi_code);
	if (si.ssi_signo == SIGCHLD)
		printf(" status %d from the child %d", si.ssi_status, si.ssi_pid > 0);
	else if (si.ssi_code == SI_QUEUE)
		printf(" value %d from us %d", si.ssi_int, si.ssi_pid == (uint32_t)getpid());
	printf("\n");
}

static void *kill_later(void *arg)
{
	(void)arg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	kill(getpid(), SIGUSR2);
	return NULL;
}

/* How many descriptors the program has open (a signalfd is one). */
static int open_fds(void)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	int n = 0;
	for (rlim_t fd = 0; fd < rl.rlim_cur && fd < 1 << 20; fd++)
		n += fcntl((int)fd, F_GETFD) >= 0;
	return n;
}

/* A child reads its own signals from the signalfd it inherits, and its parent does not
 * see them. A standard signal pending twice is one. */
static void forked(int fd)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		raise(SIGUSR1);
		raise(SIGUSR1);
		read_one(fd);
		read_one(fd);
		raise(SIGUSR1);
		fflush(stdout);
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	printf("parent:\n");
	read_one(fd);
	raise(SIGUSR1);
	read_one(fd);
}

int main(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGALRM);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN + 1);
	CHECK(sigprocmask(SIG_BLOCK, &set, NULL) == 0);
	sigdelset(&set, SIGUSR2);
	sigdelset(&set, SIGRTMIN + 1);
	int before = open_fds();
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	CHECK(fd >= 0);
	printf("descriptors the signalfd opened: %d\n", open_fds() - before);
	int sp[2];
	CHECK(pipe(sp) == 0);
	SHOW(splice(fd, NULL, sp[1], NULL, 16, SPLICE_F_NONBLOCK));
	SHOW(splice(sp[0], NULL, fd, NULL, 16, SPLICE_F_NONBLOCK));
	SHOW(tee(fd, sp[1], 16, SPLICE_F_NONBLOCK));
	close(sp[0]);
	close(sp[1]);
	read_one(fd);
	raise(SIGUSR1);
	sigset_t pend;
	sigpending(&pend);
	printf("SIGUSR1 pending before the read: %d\n", sigismember(&pend, SIGUSR1));
	read_one(fd);
	sigpending(&pend);
	printf("SIGUSR1 pending after the read: %d\n", sigismember(&pend, SIGUSR1));
	forked(fd);

	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	SHOW(poll(&pfd, 1, 5000));
	read_one(fd);
	CHECK(waitpid(pid, NULL, 0) == pid);

	/* a new mask: the value sigqueue sent, which was pending, is there at once */
	sigqueue(getpid(), SIGRTMIN + 1, (union sigval){ .sival_int = 42 });
	sigaddset(&set, SIGRTMIN + 1);
	SHOW(signalfd(fd, &set, 0) == fd);
	read_one(fd);

	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN }, out;
	CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
	struct itimerval it = { .it_value = { 0, 10000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	SHOW(epoll_wait(ep, &out, 1, 5000));
	read_one(fd);

	/* blocking: a read waits for the signal another thread sends */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	int bfd = signalfd(-1, &set, 0);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, kill_later, NULL) == 0);
	read_one(bfd);
	pthread_join(t, NULL);

	SHOW(signalfd(-1, &set, 0x4000));               /* a flag it does not know */
	SHOW(signalfd(-1, (sigset_t *)8, 0));
	SHOW(syscall(SYS_signalfd4, -1, &set, 4, 0));  /* the mask is 8 bytes */
	SHOW(signalfd(0, &set, 0));                     /* not a signalfd */
	SHOW(signalfd(999, &set, 0));
	SHOW(accept(fd, NULL, NULL));                   /* not a socket */
	close(fd);
	close(bfd);
	return 0;
}
