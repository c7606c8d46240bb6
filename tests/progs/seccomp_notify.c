/* seccomp_notify.c - seccomp's user-space notification: a child's filter sends getppid,
 * getuid, getpgid and dup to a listener, which it passes to its parent over a socket;
 * the parent, its supervisor, answers each with a value, an error, CONTINUE (the call
 * runs), or a descriptor it adds (ADDFD: the call's result, or at a number it names);
 * the errors of the listener's ioctls and of the flags; a call interrupted by a signal
 * with SA_RESTART is sent again with a new id; the listener hangs up once the child is
 * gone; a call whose supervisor closes the listener fails, as do those made after. The child prints what its calls returned, the parent what it saw, in turn. */
#include "common.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* <linux/filter.h>'s and <linux/seccomp.h>'s (musl's headers lack them) */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
struct data { int nr; uint32_t arch; uint64_t ip, args[6]; };
struct notif { uint64_t id; uint32_t pid, flags; struct data data; };
struct resp { uint64_t id; int64_t val; int32_t error; uint32_t flags; };
struct addfd { uint64_t id; uint32_t flags, srcfd, newfd, newfd_flags; };
#define NOTIF_RECV _IOWR('!', 0, struct notif)
#define NOTIF_SEND _IOWR('!', 1, struct resp)
#define NOTIF_ID_VALID _IOW('!', 2, uint64_t)
#define NOTIF_ADDFD _IOW('!', 3, struct addfd)
#define FLAG_TSYNC 1
#define FLAG_NEW_LISTENER 8
#define FLAG_WAIT_KILLABLE_RECV 32
#define RET_USER_NOTIF 0x7fc00000u
#define RET_ALLOW 0x7fff0000u
#define CONTINUE 1
#define ADDFD_SETFD 1
#define ADDFD_SEND 2

static long seccomp(unsigned flags, struct sock_fprog *f)
{
	return syscall(SYS_seccomp, 1 /* SET_MODE_FILTER */, flags, f);
}

/* getppid, getuid, getpgid, dup and gettid go to the listener; the rest run. */
static long install(unsigned flags)
{
	struct sock_filter f[] = {
		{ 0x20, 0, 0, offsetof(struct data, nr) },              /* A = nr */
		{ 0x15, 5, 0, SYS_getppid },                            /* JEQ */
		{ 0x15, 4, 0, SYS_getuid },
		{ 0x15, 3, 0, SYS_getpgid },
		{ 0x15, 2, 0, SYS_dup },
		{ 0x15, 1, 0, SYS_gettid },
		{ 0x06, 0, 0, RET_ALLOW },
		{ 0x06, 0, 0, RET_USER_NOTIF },
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	return seccomp(flags, &prog);
}

static void send_fd(int sock, int fd)
{
	char c[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { "L", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof(c) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	CHECK(sendmsg(sock, &m, 0) == 1);
}

static int recv_fd(int sock)
{
	char c[CMSG_SPACE(sizeof(int))], b;
	struct iovec iov = { &b, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c, .msg_controllen = sizeof(c) };
	CHECK(recvmsg(sock, &m, 0) == 1);
	int fd;
	memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(int));
	return fd;
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { (void)sig; handled++; }

/* A call's result, or -1 and its errno's name, into the line about it. */
static const char *res(long rc)
{
	static char b[4][64];
	static int i;
	i = (i + 1) % 4;
	if (rc < 0)
		snprintf(b[i], sizeof(b[i]), "-1 (%s)", strerror(errno));
	else
		snprintf(b[i], sizeof(b[i]), "%ld", rc);
	return b[i];
}

/* The filtered child: its calls, then what they gave. */
static void child(int sock, int wr)
{
	CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
	printf("WAIT_KILLABLE_RECV without a listener: %s\n", res(install(FLAG_WAIT_KILLABLE_RECV)));
	printf("TSYNC with a listener: %s\n", res(install(FLAG_NEW_LISTENER | FLAG_TSYNC)));
	int l = (int)install(FLAG_NEW_LISTENER);
	CHECK(l >= 0);
	printf("listener close-on-exec %d\n", fcntl(l, F_GETFD) == FD_CLOEXEC);
	printf("a second listener: %s\n", res(install(FLAG_NEW_LISTENER)));
	send_fd(sock, l);
	close(l);
	printf("getppid: %s\n", res(syscall(SYS_getppid)));
	printf("getuid: %s\n", res(syscall(SYS_getuid)));
	long pg = syscall(SYS_getpgid, 0);
	printf("getpgid runs: %d\n", pg == syscall(SYS_getpgrp));
	int fd = (int)syscall(SYS_dup, 12345);
	printf("dup gave the added descriptor: %d\n", fd >= 0 && write(fd, "via ADDFD\n", 10) == 10);
	printf("gettid: %s\n", res(syscall(SYS_gettid)));
	printf("descriptor 50 added, close-on-exec %d\n", fcntl(50, F_GETFD));
	CHECK(write(50, "at 50\n", 6) == 6);
	close(50);
	close(fd);
	close(wr);
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	sigaction(SIGUSR1, &sa, NULL);
	printf("getppid after a signal: %s\n", res(syscall(SYS_getppid)));
	printf("handler ran %d\n", (int)handled);
	fflush(stdout);
	_exit(0);
}

static struct notif recv_one(int l, int nr)
{
	struct notif n;
	memset(&n, 0, sizeof(n));
	CHECK(ioctl(l, NOTIF_RECV, &n) == 0);
	CHECK(n.data.nr == nr);
	return n;
}

static void answer(int l, uint64_t id, int64_t val, int32_t error, uint32_t flags)
{
	struct resp r = { id, val, error, flags };
	CHECK(ioctl(l, NOTIF_SEND, &r) == 0);
}

/* The supervisor: each of the child's calls in turn, what it saw printed after. */
static void supervise(pid_t pid, int l, int rd, int wr)
{
	char out[1024];
	size_t len = 0;
#define SAY(...) (len += (size_t)snprintf(out + len, sizeof(out) - len, __VA_ARGS__))
	struct notif n = recv_one(l, SYS_getppid);
	SAY("notification from the child %d, arch %#x\n", n.pid == (uint32_t)pid, n.data.arch);
	uint64_t first = n.id;
	SAY("ID_VALID while it waits: %s\n", res(ioctl(l, NOTIF_ID_VALID, &n.id)));
	answer(l, n.id, 4242, 0, 0);
	SAY("ID_VALID once answered: %s\n", res(ioctl(l, NOTIF_ID_VALID, &first)));
	struct resp bad = { first, 1, 0, CONTINUE };
	SAY("CONTINUE with a value: %s\n", res(ioctl(l, NOTIF_SEND, &bad)));
	struct notif junk = { .id = 1 };
	SAY("RECV into a struct not zeroed: %s\n", res(ioctl(l, NOTIF_RECV, &junk)));
	n = recv_one(l, SYS_getuid);
	bad.flags = 0;          /* (once its thread has made its next call: gone) */
	SAY("an answer to an answered id: %s\n", res(ioctl(l, NOTIF_SEND, &bad)));
	answer(l, n.id, 0, -EPERM, 0);
	n = recv_one(l, SYS_getpgid);
	answer(l, n.id, 0, 0, CONTINUE);
	n = recv_one(l, SYS_dup);
	SAY("dup's argument %llu\n", (unsigned long long)n.data.args[0]);
	struct addfd a = { n.id, ADDFD_SEND, (uint32_t)wr, 0, 0 };
	SAY("ADDFD with SEND: %d\n", ioctl(l, NOTIF_ADDFD, &a) >= 0);
	n = recv_one(l, SYS_gettid);
	a = (struct addfd){ n.id, ADDFD_SETFD, (uint32_t)wr, 50, O_CLOEXEC };
	SAY("ADDFD at 50: %s\n", res(ioctl(l, NOTIF_ADDFD, &a)));
	a.flags = 0;
	SAY("ADDFD of a number without SETFD: %s\n", res(ioctl(l, NOTIF_ADDFD, &a)));
	a = (struct addfd){ n.id, 0, 999, 0, 0 };
	SAY("ADDFD of a descriptor not open: %s\n", res(ioctl(l, NOTIF_ADDFD, &a)));
	answer(l, n.id, 0, -ENOTSUP, 0);
	close(wr);
	char buf[64];
	ssize_t got = 0, r;
	while ((r = read(rd, buf + got, sizeof(buf) - 1 - (size_t)got)) > 0)
		got += r;
	buf[got] = 0;
	SAY("the child wrote: %s", buf);
	n = recv_one(l, SYS_getppid);
	kill(pid, SIGUSR1);
	struct notif again = recv_one(l, SYS_getppid);
	SAY("sent again after the signal, with a new id %d\n", again.id != n.id);
	SAY("the old one valid: %s\n", res(ioctl(l, NOTIF_ID_VALID, &n.id)));
	answer(l, again.id, 77, 0, 0);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	struct pollfd pf = { l, POLLIN, 0 };
	SAY("child exited %d; then the listener hangs up %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1,
	    poll(&pf, 1, 5000) == 1 && (pf.revents & POLLHUP));
	fflush(stdout);
	fputs(out, stdout);
}

/* A second child's call, taken by its supervisor, which then closes the listener. */
static void closed_listener(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0);
		int l = (int)install(FLAG_NEW_LISTENER);
		CHECK(l >= 0);
		send_fd(sv[1], l);
		close(l);
		printf("getppid, its listener closed: %s\n", res(syscall(SYS_getppid)));
		printf("getuid, with no listener: %s\n", res(syscall(SYS_getuid)));
		fflush(stdout);
		_exit(0);
	}
	int l = recv_fd(sv[0]);
	recv_one(l, SYS_getppid);
	close(l);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	close(sv[0]);
	close(sv[1]);
}

int main(void)
{
	int sv[2], pipefd[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
	CHECK(pipe(pipefd) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		close(pipefd[0]);
		child(sv[1], pipefd[1]);
	}
	int l = recv_fd(sv[0]);
	supervise(pid, l, pipefd[0], pipefd[1]);
	fflush(stdout);
	closed_listener();
	return 0;
}
