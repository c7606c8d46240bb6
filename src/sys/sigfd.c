/* sigfd.c - signalfd: the program reads a pipe, where kvmse writes each signal a signalfd
 * takes as a struct signalfd_siginfo (signal.c: to_signalfds). A signal goes there when
 * it is queued, blocked by every thread, so poll and epoll see it as Linux shows a pending
 * one. A pipe, not a socket: socket calls on it fail as on a signalfd (ENOTSOCK). A write
 * to a pipe nobody reads is kvmse's own SIGPIPE, which pipe_handler drops. (A forked
 * child shares its parent's signalfds here.) */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

/* The record, field by field as Linux's signalfd_copyinfo fills it for the kind of
 * siginfo (siginfo_layout). */
static void record(const struct ksiginfo *k, struct signalfd_siginfo *r)
{
	siginfo_t si;
	memcpy(&si, k, sizeof(si));
	memset(r, 0, sizeof(*r));
	r->ssi_signo = (uint32_t)k->signo;
	r->ssi_errno = k->errno_;
	r->ssi_code = k->code;
	int sig = k->signo, code = k->code;
	bool kernel = code > SI_USER && code < SI_KERNEL;
	if (code == SI_TIMER) {
		r->ssi_tid = (uint32_t)si.si_timerid;
		r->ssi_overrun = (uint32_t)si.si_overrun;
		r->ssi_int = si.si_int;
		r->ssi_ptr = (uint64_t)(uintptr_t)si.si_ptr;
	} else if (code == SI_SIGIO || (kernel && sig == SIGIO)) {
		r->ssi_band = (uint32_t)si.si_band;
		r->ssi_fd = si.si_fd;
	} else if (kernel && sig == SIGCHLD) {
		r->ssi_pid = (uint32_t)si.si_pid;
		r->ssi_uid = si.si_uid;
		r->ssi_status = si.si_status;
		r->ssi_utime = (uint64_t)si.si_utime;
		r->ssi_stime = (uint64_t)si.si_stime;
	} else if (kernel && (SIG_SYNCHRONOUS & SIGBIT(sig))) {
		r->ssi_addr = (uint64_t)(uintptr_t)si.si_addr;
	} else {
		r->ssi_pid = (uint32_t)si.si_pid;
		r->ssi_uid = si.si_uid;
		if (code < 0) {         /* sigqueue and the like carry a value */
			r->ssi_int = si.si_int;
			r->ssi_ptr = (uint64_t)(uintptr_t)si.si_ptr;
		}
	}
}

/* (lock held) The signals written to slot f that the program has not read yet: the
 * last of those written, as many as the pipe holds. */
static uint64_t unread(const struct sigfd *f)
{
	int bytes;
	if (f->wr <= 0 || ioctl(f->wr, FIONREAD, &bytes) < 0)
		return 0;
	uint32_t n = ((uint32_t)bytes + sizeof(struct signalfd_siginfo) - 1) /
		     sizeof(struct signalfd_siginfo);
	n = MIN(n, MIN(f->written, SIGFD_LOG));
	uint64_t set = 0;
	for (uint32_t i = 1; i <= n; i++)
		set |= SIGBIT(f->log[(f->written - i) % SIGFD_LOG]);
	return set;
}

uint64_t sigfd_unread(struct sighand *sh)
{
	if (!atomic_load(&sh->sfd_mask))
		return 0;
	uint64_t set = 0;
	for (int i = 0; i < SIGFD_MAX; i++)
		set |= unread(&sh->sfd[i]);
	return set;
}

/* A signal below 32 that a signalfd holds unread is still pending, as Linux sees it: a
 * second one is not queued. */
bool sigfd_post(struct sighand *sh, const struct ksiginfo *info)
{
	int sig = info->signo;
	if (sig < 32 && (sigfd_unread(sh) & SIGBIT(sig)))
		return true;
	struct signalfd_siginfo r;
	record(info, &r);
	for (int i = 0; i < SIGFD_MAX; i++) {
		struct sigfd *f = &sh->sfd[i];
		if (f->wr > 0 && (atomic_load(&f->mask) & SIGBIT(sig)) &&
		    write(f->wr, &r, sizeof(r)) == sizeof(r)) {
			f->log[f->written++ % SIGFD_LOG] = (uint8_t)sig;
			return true;
		}
	}
	return false;
}

/* (lock held) The union of the masks again. */
static void remask(struct sighand *sh)
{
	uint64_t m = 0;
	for (int i = 0; i < SIGFD_MAX; i++)
		if (sh->sfd[i].wr > 0)
			m |= atomic_load(&sh->sfd[i].mask);
	atomic_store(&sh->sfd_mask, m);
}

/* Slot i out of use, its pipe's end closed: -1 is neither free nor written to. */
static void take_out(struct sighand *sh, int i)
{
	sigset_t old;
	sig_lock(sh, &old);
	int fd = sh->sfd[i].wr;
	sh->sfd[i].wr = -1;
	atomic_store(&sh->sfd[i].mask, 0);
	remask(sh);
	sig_unlock(sh, &old);
	fd_unhide(&sh->sfd[i].wr);
	close(fd);
}

/* Slot i in use again with kvmse's end 'wr' of the pipe whose other end is 'rd'. The
 * registry of hidden descriptors keeps where the slot's is (a dup2 may move it). */
static void put_in(struct sighand *sh, int i, int wr, int rd, uint64_t mask)
{
	struct stat st;
	if (fstat(rd, &st) < 0)
		die_errno("signalfd: fstat");
	sh->sfd[i].wr = wr;
	fd_hide(&sh->sfd[i].wr);
	sigset_t old;
	sig_lock(sh, &old);
	sh->sfd[i].dev = st.st_dev;
	sh->sfd[i].ino = st.st_ino;
	sh->sfd[i].written = 0;
	atomic_store(&sh->sfd[i].mask, mask);
	remask(sh);
	sig_unlock(sh, &old);
}

/* Signalfds the program has closed (no reader: POLLERR) are let go. */
static void collect(struct sighand *sh)
{
	for (int i = 0; i < SIGFD_MAX; i++) {
		struct pollfd pfd = { .fd = sh->sfd[i].wr, .events = POLLOUT };
		if (pfd.fd <= 0 || poll(&pfd, 1, 0) != 1 || !(pfd.revents & (POLLHUP | POLLERR)))
			continue;
		take_out(sh, i);
		sh->sfd[i].wr = 0;
	}
}

/* A new signalfd: the program's end, or -errno. */
static long create(struct proc *p, uint64_t mask, int flags)
{
	struct sighand *sh = &p->ps->sh;
	collect(sh);
	int sv[2];
	if (pipe2(sv, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	if ((!(flags & SFD_NONBLOCK) && fcntl(sv[0], F_SETFL, 0) < 0) ||
	    (!(flags & SFD_CLOEXEC) && fcntl(sv[0], F_SETFD, 0) < 0)) {
		long e = -errno;
		close(sv[0]);
		close(sv[1]);
		return e;
	}
	sigset_t old;
	sig_lock(sh, &old);
	int i = 0;
	while (i < SIGFD_MAX && sh->sfd[i].wr)
		i++;
	if (i < SIGFD_MAX)
		sh->sfd[i].wr = -1;
	sig_unlock(sh, &old);
	if (i == SIGFD_MAX) {
		close(sv[1]);
		close(sv[0]);
		return -ENOMEM;
	}
	put_in(sh, i, sv[1], sv[0], mask);
	return sv[0];
}

bool sigfd_is(struct proc *p, int fd)
{
	struct sighand *sh = &p->ps->sh;
	bool any = false;       /* (none made: no fstat, on splice's path) */
	for (int i = 0; i < SIGFD_MAX && !any; i++)
		any = __atomic_load_n(&sh->sfd[i].wr, __ATOMIC_RELAXED) != 0;
	struct stat st;
	if (!any || fstat(fd, &st) < 0 || !S_ISFIFO(st.st_mode))
		return false;
	sigset_t old;
	sig_lock(sh, &old);
	bool is = false;
	for (int i = 0; i < SIGFD_MAX && !is; i++)
		is = sh->sfd[i].wr > 0 && sh->sfd[i].dev == st.st_dev && sh->sfd[i].ino == st.st_ino;
	sig_unlock(sh, &old);
	return is;
}

/* A new mask for the signalfd 'fd' of the program's. */
static long update(struct proc *p, int fd, uint64_t mask)
{
	struct sighand *sh = &p->ps->sh;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	sigset_t old;
	sig_lock(sh, &old);
	int i = 0;
	while (i < SIGFD_MAX && !(sh->sfd[i].wr > 0 && sh->sfd[i].dev == st.st_dev &&
				  sh->sfd[i].ino == st.st_ino))
		i++;
	if (i < SIGFD_MAX) {
		atomic_store(&sh->sfd[i].mask, mask);
		remask(sh);
	}
	sig_unlock(sh, &old);
	return i < SIGFD_MAX ? fd : -EINVAL;    /* (not a signalfd) */
}

struct swap {
	dev_t dev;
	ino_t ino;
	int with;
};

/* Descriptor fd, if it reads the pipe s->dev/s->ino, reads s->with instead. */
static void swap_one(int fd, void *arg)
{
	const struct swap *s = arg;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_dev != s->dev || st.st_ino != s->ino)
		return;
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	if (fl < 0 || fdfl < 0 || dup3(s->with, fd, (fdfl & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0 ||
	    fcntl(fd, F_SETFL, fl) < 0)
		die_errno("signalfd: a forked child's descriptor %d", fd);
}

/*
 * In a forked child: its signalfds become its own. Linux's signalfd reads the signals of
 * whoever reads it, but here the pipe is the parent's, so the child's signals would go
 * where the parent reads. Each gets a new pipe, put in place of each of the program's
 * descriptors that reads the old one (with its flags); the old pipe's records are the
 * parent's pending signals, which a child does not inherit.
 */
void sigfd_fork(struct proc *p)
{
	struct sighand *sh = &p->ps->sh;
	for (int i = 0; i < SIGFD_MAX; i++) {
		if (sh->sfd[i].wr <= 0)
			continue;
		int sv[2];
		if (pipe2(sv, O_CLOEXEC | O_NONBLOCK) < 0)
			die_errno("signalfd: a forked child's pipe");
		uint64_t mask = atomic_load(&sh->sfd[i].mask);
		struct swap s = { .dev = sh->sfd[i].dev, .ino = sh->sfd[i].ino, .with = sv[0] };
		take_out(sh, i);
		fd_each_guest(swap_one, &s);
		put_in(sh, i, sv[1], sv[0], mask);
		close(sv[0]);
	}
}

long sys_signalfd4(struct proc *p, const uint64_t a[6])
{
	int fd = (int)a[0], flags = (int)a[3];
	uint64_t mask;
	if (a[2] != 8 || (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK)))
		return -EINVAL;
	if (mem_read(p->mem, &mask, a[1], 8) < 0)
		return -EFAULT;
	mask &= ~SIG_UNBLOCKABLE;
	long rc = fd == -1 ? create(p, mask, flags) : update(p, user_fd(a[0]), mask);
	if (rc >= 0)
		sig_to_signalfds(p);
	return rc;
}

long sys_signalfd(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { a[0], a[1], a[2], 0 };
	return sys_signalfd4(p, b);
}
