/* poll.c - poll, ppoll, select, pselect6: the guest's descriptor sets, checked and passed on. */
#include "sys.h"
#include "../util.h"
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

/* poll and ppoll share this: 'tmo' is a host timespec or NULL. */
static long do_poll(struct proc *p, uint64_t ufds, uint64_t nfds, struct timespec *tmo)
{
	if (nfds > 1u << 20)
		return -EINVAL;
	struct pollfd *fds = xmalloc(sizeof(*fds) * (size_t)(nfds ? nfds : 1));
	long rc = mem_read(&p->mem, fds, ufds, sizeof(*fds) * nfds);
	int hidden = 0;
	for (uint64_t i = 0; rc == 0 && i < nfds; i++) {
		/* kvmse's own descriptors look closed: POLLNVAL, as for any unopened one. */
		if (fds[i].fd >= 0 && fd_hidden(fds[i].fd)) {
			fds[i].fd = ~fds[i].fd;
			hidden++;
		}
	}
	struct timespec zero = { 0, 0 };
	if (rc == 0)
		rc = sys_ret(syscall(SYS_ppoll, fds, nfds, hidden ? &zero : tmo, NULL, 8));
	for (uint64_t i = 0; rc >= 0 && i < nfds && hidden; i++) {
		if (fds[i].fd < -1) {
			fds[i].fd = ~fds[i].fd;
			fds[i].revents = POLLNVAL;
			rc++;
		}
	}
	if (rc >= 0 && mem_write(&p->mem, ufds, fds, sizeof(*fds) * nfds) < 0)
		rc = -EFAULT;
	free(fds);
	return rc;
}

long sys_poll(struct proc *p, const uint64_t a[6])
{
	int ms = (int)a[2];
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	return do_poll(p, a[0], a[1], ms < 0 ? NULL : &ts);
}

long sys_ppoll(struct proc *p, const uint64_t a[6])
{
	struct timespec ts;
	if (a[2] && mem_read(&p->mem, &ts, a[2], sizeof(ts)) < 0)
		return -EFAULT;
	return do_poll(p, a[0], a[1], a[2] ? &ts : NULL);
}

/* select and pselect6: read the three sets, refuse kvmse's descriptors, write them back. */
static long do_select(struct proc *p, const uint64_t a[6], struct timespec *tmo)
{
	int nfds = (int)a[0];
	if (nfds < 0 || nfds > FD_SETSIZE * 64)
		return -EINVAL;
	size_t bytes = (size_t)((nfds + 63) / 64) * 8;
	uint8_t *sets[3] = { NULL, NULL, NULL };
	long rc = 0;
	for (int s = 0; s < 3 && rc == 0; s++) {
		if (!a[s + 1])
			continue;
		sets[s] = xcalloc(1, bytes ? bytes : 1);
		if (mem_read(&p->mem, sets[s], a[s + 1], bytes) < 0)
			rc = -EFAULT;
		for (int fd = 0; rc == 0 && fd < nfds; fd++)
			if ((sets[s][fd / 8] >> (fd % 8) & 1) && fd_hidden(fd))
				rc = -EBADF;
	}
	if (rc == 0)
		rc = sys_ret(syscall(SYS_pselect6, nfds, sets[0], sets[1], sets[2], tmo, NULL));
	for (int s = 0; s < 3; s++) {
		if (rc >= 0 && sets[s] && mem_write(&p->mem, a[s + 1], sets[s], bytes) < 0)
			rc = -EFAULT;
		free(sets[s]);
	}
	return rc;
}

long sys_select(struct proc *p, const uint64_t a[6])
{
	struct timeval tv;
	struct timespec ts;
	if (a[4]) {
		if (mem_read(&p->mem, &tv, a[4], sizeof(tv)) < 0)
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EINVAL;
		ts.tv_sec = tv.tv_sec;
		ts.tv_nsec = tv.tv_usec * 1000;
	}
	uint64_t t0 = now_ns();
	long rc = do_select(p, a, a[4] ? &ts : NULL);
	if (a[4] && rc >= 0) {
		/* Linux writes back the time left. */
		int64_t left = (int64_t)tv.tv_sec * 1000000000 + tv.tv_usec * 1000 - (int64_t)(now_ns() - t0);
		if (left < 0 || rc == 0)
			left = 0;
		tv.tv_sec = left / 1000000000;
		tv.tv_usec = (left % 1000000000) / 1000;
		if (mem_write(&p->mem, a[4], &tv, sizeof(tv)) < 0)
			return -EFAULT;
	}
	return rc;
}

long sys_pselect6(struct proc *p, const uint64_t a[6])
{
	struct timespec ts;
	if (a[4] && mem_read(&p->mem, &ts, a[4], sizeof(ts)) < 0)
		return -EFAULT;
	long rc = do_select(p, a, a[4] ? &ts : NULL);
	if (a[4] && rc >= 0 && mem_write(&p->mem, a[4], &ts, sizeof(ts)) < 0)
		return -EFAULT;
	return rc;
}
