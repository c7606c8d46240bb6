/*
 * seccomp_notify.c - seccomp's user-space notification (SECCOMP_RET_USER_NOTIF): a call
 * a filter sends to a supervisor, which answers it in the program's stead.
 *
 * The listener is one end of a host AF_UNIX SOCK_SEQPACKET pair, the program's; kvmse
 * keeps the other (bound to an abstract name that says what it is), in every process the
 * filter is in. A thread whose call goes to the supervisor sends that end a
 * struct seccomp_notif and, with SCM_RIGHTS, one end of a pair made for this call; it
 * then waits on its own end for the answer. The supervisor's kvmse (any kvmse process the
 * listener reaches, by fork or SCM_RIGHTS) knows the listener by its peer's name. Its
 * ioctls become: RECV, a receive of the next notification, whose pair end it keeps
 * under the notification's id; SEND, the answer written there; ID_VALID, whether the
 * waiting thread still holds its end; ADDFD, a descriptor passed there, which the
 * waiting thread installs and whose number it sends back. Once every copy of the
 * listener is closed, kvmse's end hangs up, and the waiting threads' calls fail (ENOSYS).
 *
 * Not the same: the listener is a socket to fstat and /proc; its poll shows POLLOUT
 * always (Linux: when a notification awaits its answer); RECV honours O_NONBLOCK; a
 * filter's WAIT_KILLABLE_RECV is taken and ignored (any signal ends the wait).
 */
#include "sys.h"
#include "../fd.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS SECCOMP_IOW(4, uint64_t)
#endif
#define ID_VALID_OLD SECCOMP_IOR(2, uint64_t)   /* (Linux 5.0-5.6's number, still taken) */
#define NAME "kvmse-seccomp-listener"

/* What the supervisor's kvmse sends the waiting thread. */
struct reply {
	uint32_t kind;                  /* REPLY_* */
	uint32_t flags;                 /* the answer's or ADDFD's */
	int64_t val;
	int32_t error;
	int32_t newfd;
	uint32_t newfd_flags;
};
enum { REPLY_ANSWER, REPLY_ADDFD };

int seccomp_listener_new(int *kvmse_end)
{
	static _Atomic unsigned made;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int len = snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, NAME "-%d-%u", getpid(),
			   atomic_fetch_add(&made, 1));
	if (bind(sv[1], (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len)) < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	*kvmse_end = sv[1];
	fd_hide(kvmse_end);
	return sv[0];
}

/* Is the program's descriptor fd a listener: its peer has kvmse's name? */
static bool is_listener(int fd)
{
	struct sockaddr_un a;
	socklen_t len = sizeof(a);
	size_t at = offsetof(struct sockaddr_un, sun_path);
	return getpeername(fd, (struct sockaddr *)&a, &len) == 0 && a.sun_family == AF_UNIX &&
	       len > at + sizeof(NAME) && !a.sun_path[0] &&
	       !memcmp(a.sun_path + 1, NAME, sizeof(NAME) - 1);
}

/* (sendmsg with one descriptor, or none) */
static int send_fd(int sock, const void *buf, size_t len, int fd)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c = { 0 };
	struct iovec iov = { (void *)buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		m.msg_control = c.buf;
		m.msg_controllen = sizeof(c.buf);
		c.h.cmsg_level = SOL_SOCKET;
		c.h.cmsg_type = SCM_RIGHTS;
		c.h.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&c.h), &fd, sizeof(int));
	}
	return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

/* (recvmsg of one message and the descriptor it may carry, close-on-exec; -1 if none) */
static ssize_t recv_fd(int sock, void *buf, size_t len, int *fd)
{
	union { struct cmsghdr h; char buf[CMSG_SPACE(sizeof(int))]; } c;
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.buf,
			    .msg_controllen = sizeof(c.buf) };
	ssize_t n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
	*fd = -1;
	struct cmsghdr *h = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (h && h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS &&
	    h->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(fd, CMSG_DATA(h), sizeof(int));
	return n;
}

/* ADDFD in the waiting thread: the descriptor takes the number asked for, or the lowest
 * free one (where it arrived), close-on-exec as asked. Its number, or -errno. */
static int32_t install(int got, const struct reply *r)
{
	bool cloexec = r->newfd_flags & O_CLOEXEC;
	if (!(r->flags & SECCOMP_ADDFD_FLAG_SETFD))
		return fcntl(got, F_SETFD, cloexec ? FD_CLOEXEC : 0) < 0 ? -errno : got;
	fd_evict(r->newfd);
	int32_t n = dup3(got, r->newfd, cloexec ? O_CLOEXEC : 0) < 0 ? -errno : r->newfd;
	close(got);
	return n;
}

/* The waiting thread: answers and ADDFDs until the answer, on its end 'wait', or until
 * every copy of the listener is closed (kvmse's end hangs up). Both numbers are read
 * where they are kept, at each turn: a dup2 of the program's may move either. */
static bool await(struct proc *p, const int *listener, int *wait, long *ret)
{
	for (;;) {
		struct pollfd pf[2] = { { *wait, POLLIN, 0 }, { *listener, 0, 0 } };
		int ready = poll(pf, 2, -1);
		if (ready < 0 && errno == EINTR && !sig_wakes(p))
			continue;
		if (ready < 0 && errno == EINTR) {
			*ret = -EINTR;          /* (dropped: restarted as Linux's ERESTARTSYS) */
			p->seccomp_restart = true;
			return true;
		}
		struct reply r;
		int got = -1;
		ssize_t n = ready > 0 && pf[0].revents ? recv_fd(*wait, &r, sizeof(r), &got) : -1;
		if (n != (ssize_t)sizeof(r)) {
			if (got >= 0)
				close(got);
			*ret = -ENOSYS;         /* (the supervisor is gone: Linux's answer) */
			return true;
		}
		if (r.kind == REPLY_ANSWER) {
			*ret = r.error ? r.error : r.val;
			return !(r.flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		}
		int32_t fd = got < 0 ? -EBADF : install(got, &r);
		if ((r.flags & SECCOMP_ADDFD_FLAG_SEND) && fd >= 0) {
			*ret = fd;
			(void)send_fd(*wait, &fd, sizeof(fd), -1);
			return true;
		}
		(void)send_fd(*wait, &fd, sizeof(fd), -1);
	}
}

bool seccomp_notify(struct proc *p, const int *listener, const struct seccomp_data *d, long *ret)
{
	static _Atomic uint32_t seq;
	struct seccomp_notif n = { .id = (uint64_t)(uint32_t)p->tid << 32 | atomic_fetch_add(&seq, 1),
				   .pid = (uint32_t)p->tid, .data = *d };
	int sv[2];
	if (*listener < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		*ret = -ENOSYS;
		return true;
	}
	int wait = sv[0];
	fd_hide(&wait);
	bool sent = send_fd(*listener, &n, sizeof(n), sv[1]) == 0;
	close(sv[1]);
	bool blocks = true;
	if (sent)
		blocks = await(p, listener, &wait, ret);
	else
		*ret = -ENOSYS;         /* (no listener any more) */
	fd_close(&wait);
	return blocks;
}

/*
 * The supervisor's side: the notifications it has received and not answered, each with
 * the end of its waiting thread's pair (hidden: its registration holds where it is kept,
 * so each entry stays where it was made).
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct taken { uint64_t id; int fd; struct taken *next; } *taken;

/* (lock held) Notification 'id''s link, where *link is NULL if there is none. */
static struct taken **find(uint64_t id)
{
	struct taken **l = &taken;
	while (*l && (*l)->id != id)
		l = &(*l)->next;
	return l;
}

/* (lock held) */
static void drop(struct taken **l)
{
	struct taken *t = *l;
	*l = t->next;
	fd_close(&t->fd);
	free(t);
}

/* (lock held) Entries whose thread waits no more go (a supervisor that took them may
 * have closed its listener since). */
static void prune(void)
{
	for (struct taken **l = &taken; *l;) {
		struct pollfd pf = { (*l)->fd, POLLIN, 0 };
		if (poll(&pf, 1, 0) > 0 && (pf.revents & POLLHUP))
			drop(l);
		else
			l = &(*l)->next;
	}
}

static long recv_notif(struct proc *p, int fd, uint64_t va)
{
	struct seccomp_notif n;
	if (mem_read(p->mem, &n, va, sizeof(n)) < 0)
		return -EFAULT;
	static const struct seccomp_notif zero;
	if (memcmp(&n, &zero, sizeof(n)))
		return -EINVAL;
	int wait;
	ssize_t got = recv_fd(fd, &n, sizeof(n), &wait);
	if (got < 0)
		return -errno;
	if (got != (ssize_t)sizeof(n) || wait < 0) {
		if (wait >= 0)
			close(wait);
		return -ENOENT;
	}
	if (mem_write(p->mem, va, &n, sizeof(n)) < 0) {
		close(wait);            /* (the thread's call ends with ENOSYS) */
		return -EFAULT;
	}
	struct taken *t = xmalloc(sizeof(*t));
	t->id = n.id;
	t->fd = wait;
	fd_hide(&t->fd);
	pthread_mutex_lock(&lock);
	prune();
	t->next = taken;
	taken = t;
	pthread_mutex_unlock(&lock);
	return 0;
}

/* Send r to notification 'id''s thread; for ADDFD (with descriptor 'fd'), its answer.
 * The entry goes once the call is answered. */
static long to_waiter(uint64_t id, const struct reply *r, int fd)
{
	pthread_mutex_lock(&lock);
	struct taken **l = find(id);
	long rc = -ENOENT;
	if (*l) {
		int32_t n = 0;
		bool ok = send_fd((*l)->fd, r, sizeof(*r), fd) == 0 && (r->kind == REPLY_ANSWER ||
			  recv((*l)->fd, &n, sizeof(n), 0) == sizeof(n));
		rc = !ok ? -ENOENT : n;  /* (an answer's n stays 0) */
		/* (gone once answered, or once its thread no longer waits) */
		if (!ok || r->kind == REPLY_ANSWER || (r->flags & SECCOMP_ADDFD_FLAG_SEND))
			drop(l);
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

static long send_answer(struct proc *p, uint64_t va)
{
	struct seccomp_notif_resp a;
	if (mem_read(p->mem, &a, va, sizeof(a)) < 0)
		return -EFAULT;
	if ((a.flags & ~SECCOMP_USER_NOTIF_FLAG_CONTINUE) ||
	    ((a.flags & SECCOMP_USER_NOTIF_FLAG_CONTINUE) && (a.error || a.val)))
		return -EINVAL;
	struct reply r = { .kind = REPLY_ANSWER, .flags = a.flags, .val = a.val, .error = a.error };
	return to_waiter(a.id, &r, -1);
}

static long add_fd(struct proc *p, uint64_t va)
{
	struct seccomp_notif_addfd a;
	if (mem_read(p->mem, &a, va, sizeof(a)) < 0)
		return -EFAULT;
	if ((a.newfd_flags & ~(uint32_t)O_CLOEXEC) ||
	    (a.flags & ~(SECCOMP_ADDFD_FLAG_SETFD | SECCOMP_ADDFD_FLAG_SEND)) ||
	    (a.newfd && !(a.flags & SECCOMP_ADDFD_FLAG_SETFD)))
		return -EINVAL;
	int src = user_fd(a.srcfd);
	if (fcntl(src, F_GETFD) < 0)
		return -EBADF;
	struct reply r = { .kind = REPLY_ADDFD, .flags = a.flags, .newfd = (int32_t)a.newfd,
			   .newfd_flags = a.newfd_flags };
	return to_waiter(a.id, &r, src);
}

/* Does notification 'id''s thread still wait (its end of the pair is open)? */
static long id_valid(struct proc *p, uint64_t va)
{
	uint64_t id;
	if (mem_read(p->mem, &id, va, sizeof(id)) < 0)
		return -EFAULT;
	pthread_mutex_lock(&lock);
	struct taken *t = *find(id);
	struct pollfd pf = { .fd = t ? t->fd : -1, .events = POLLIN };
	bool alive = t && poll(&pf, 1, 0) >= 0 && !(pf.revents & POLLHUP);
	pthread_mutex_unlock(&lock);
	return alive ? 0 : -ENOENT;
}

long seccomp_listener_ioctl(struct proc *p, const uint64_t a[6], bool *handled)
{
	int fd = user_fd(a[0]);
	unsigned long req = (unsigned)a[1];
	*handled = is_listener(fd);
	if (!*handled)
		return 0;
	switch (req) {
	case SECCOMP_IOCTL_NOTIF_RECV: return recv_notif(p, fd, a[2]);
	case SECCOMP_IOCTL_NOTIF_SEND: return send_answer(p, a[2]);
	case SECCOMP_IOCTL_NOTIF_ID_VALID: case ID_VALID_OLD: return id_valid(p, a[2]);
	case SECCOMP_IOCTL_NOTIF_ADDFD: return add_fd(p, a[2]);
	case SECCOMP_IOCTL_NOTIF_SET_FLAGS:
		return a[2] & ~1ULL ? -EINVAL : 0;      /* (SYNC_WAKE_UP: a hint) */
	default:
		return -EINVAL;
	}
}
