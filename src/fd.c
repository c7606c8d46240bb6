/* fd.c - kvmse's own descriptors (/dev/kvm, VM, vCPU) stay out of the guest's reach. */
#include "fd.h"
#include "util.h"
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

static int *hidden[8];

/* New home for a hidden descriptor: as high as the soft limit allows. */
static int move_high(int fd)
{
	struct rlimit rl;
	int base = 1000;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 32)
		base = (int)MIN(rl.rlim_cur - ARRAY_SIZE(hidden) - 8, 100000);
	int nfd = fcntl(fd, F_DUPFD_CLOEXEC, base);
	if (nfd < 0)
		die_errno("cannot move kvmse's descriptor %d out of the guest's range", fd);
	if (close(fd) < 0)
		die_errno("close");
	return nfd;
}

void fd_hide(int *fdp)
{
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++) {
		if (!hidden[i]) {
			*fdp = move_high(*fdp);
			hidden[i] = fdp;
			return;
		}
	}
	die("too many hidden descriptors");
}

void fd_unhide(int *fdp)
{
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
		if (hidden[i] == fdp)
			hidden[i] = NULL;
}

bool fd_hidden(int fd)
{
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
		if (hidden[i] && *hidden[i] == fd)
			return true;
	return false;
}

void fd_evict(int fd)
{
	for (size_t i = 0; i < ARRAY_SIZE(hidden); i++)
		if (hidden[i] && *hidden[i] == fd)
			*hidden[i] = move_high(fd);
}
