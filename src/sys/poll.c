/* poll.c - poll, ppoll, select, pselect6: the guest's descriptor sets go to the host's
 * calls, with kvmse's own descriptors looking closed. */
#include "sys.h"
#include "../util.h"
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

/* poll and ppoll; 'tmo' is the host's timeout argument (a timespec, NULL or a bad one). */
static long do_poll(struct proc *p, uint64_t ufds, uint64_t nfds, void *tmo)
{
	uint64_t len = nfds * sizeof(struct pollfd);
	struct pollfd *fds = nfds <= (1u << 20) ? malloc(len ? len : 1) : NULL;
	if (!fds || mem_read(p->mem, fds, ufds, len) < 0 || !mem_ptr(p->mem, ufds, len, MEM_WRITE)) {
		/* A bad array or count: the host kernel answers, in its order. */
		free(fds);
		return HOST(SYS_ppoll, user_buf(p, ufds, MIN(len, 1u << 24), MEM_WRITE), nfds, tmo, NULL, 8);
	}
	int *saved = xmalloc(sizeof(int) * (nfds ? nfds : 1));
	for (uint64_t i = 0; i < nfds; i++) {
		saved[i] = fds[i].fd;
		fds[i].fd = fds[i].fd >= 0 ? user_fd((uint64_t)fds[i].fd) : fds[i].fd;
	}
	long rc = HOST(SYS_ppoll, fds, nfds, tmo, NULL, 8);
	for (uint64_t i = 0; i < nfds; i++)
		fds[i].fd = saved[i];
	mem_write(p->mem, ufds, fds, len);
	free(saved);
	free(fds);
	return rc;
}

long sys_poll(struct proc *p, const uint64_t a[6])
{
	int ms = (int)a[2];
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	return do_poll(p, a[0], a[1], ms < 0 ? NULL : &ts);
}

/*
 * A signal the wait's mask lets through, pending already, ends it at once with EINTR
 * unless something is ready (the host does not know of it: it is kvmse's). So the host
 * only looks (a zero timeout) and the call is interrupted if it found nothing.
 */
static const struct timespec no_wait;

long sys_ppoll(struct proc *p, const uint64_t a[6])
{
	long rc = user_timeout_check(p, a[2], NULL);
	if (rc || (rc = sig_wait_mask(p, a[3], a[4])))
		return rc;
	bool now = sig_deliverable(p);
	rc = do_poll(p, a[0], a[1], now ? (void *)&no_wait : user_out(p, a[2], sizeof(struct timespec)));
	return sig_wait_done(p, now && rc == 0 ? -EINTR : rc);
}

/* Does any of the guest's three sets name one of kvmse's descriptors? */
static bool names_hidden(struct proc *p, const uint64_t a[6])
{
	int nfds = (int)a[0];
	for (int fd = 0; fd < nfds && fd < (1 << 20); fd++) {
		if (!fd_hidden(fd))
			continue;
		for (int s = 1; s <= 3; s++) {
			uint8_t byte;
			if (a[s] && mem_read(p->mem, &byte, a[s] + (uint64_t)fd / 8, 1) == 0 && (byte >> (fd % 8) & 1))
				return true;
		}
	}
	return false;
}

static uint64_t set_bytes(uint64_t nfds)
{
	return (int)nfds > 0 ? ((uint64_t)(int)nfds + 63) / 64 * 8 : 0;
}

long sys_select(struct proc *p, const uint64_t a[6])
{
	if (names_hidden(p, a))
		return -EBADF;
	uint64_t n = set_bytes(a[0]);
	return HOST(SYS_select, (int)a[0], user_out(p, a[1], n), user_out(p, a[2], n), user_out(p, a[3], n),
		    user_out(p, a[4], sizeof(struct timeval)));
}

/* The sixth argument: { const sigset_t *mask; size_t size; }, or NULL. */
long sys_pselect6(struct proc *p, const uint64_t a[6])
{
	if (names_hidden(p, a))
		return -EBADF;
	uint64_t pack[2] = { 0, 0 };
	long rc = user_timeout_check(p, a[4], NULL);
	if (!rc && a[5] && mem_read(p->mem, pack, a[5], sizeof(pack)) < 0)
		rc = -EFAULT;
	if (rc || (rc = sig_wait_mask(p, pack[0], pack[1])))
		return rc;
	bool now = sig_deliverable(p);
	uint64_t n = set_bytes(a[0]);
	rc = HOST(SYS_pselect6, (int)a[0], user_out(p, a[1], n), user_out(p, a[2], n), user_out(p, a[3], n),
		  now ? (void *)&no_wait : user_out(p, a[4], sizeof(struct timespec)), NULL);
	return sig_wait_done(p, now && rc == 0 ? -EINTR : rc);
}
