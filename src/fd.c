/* fd.c - kvmse's own descriptors (/dev/kvm, VM, vCPUs, pipes) stay out of the guest's reach. */
#include "fd.h"
#include "util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

/* Where each hidden descriptor is kept (a vCPU each, and a few more). Changed under
 * 'lock'; read by every thread's descriptor calls without it. */
#define HIDDEN_MAX 1100
static int *_Atomic hidden[HIDDEN_MAX];
static bool grew[HIDDEN_MAX];           /* hiding it raised the soft limit by one */
static _Atomic int nused;               /* entries [0, nused) may be set */
static _Atomic int lowest = 1 << 30;    /* no hidden descriptor is below this */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/*
 * A descriptor table shared with other processes of kvmse's (clone's CLONE_FILES) holds
 * their hidden descriptors too, which this registry does not know: a map they all share
 * has a bit for each descriptor any of them hides. What was hidden when the sharing
 * began is 'kept', in the parent and in the child: the child's and the parent's alike
 * (the /proc directory, the parent's VM), so neither closes it (fd_close leaves it where
 * it is, hidden), and it goes with the table.
 */
#define SHARED_FDS 100000               /* move_high keeps hidden ones under this */
static _Atomic uint64_t *shared;        /* NULL: the table is this process's alone */
static bool kept[HIDDEN_MAX];
static int kept_fd[HIDDEN_MAX];         /* where a kept one is, once its owner let it go */

/*
 * New home for a hidden descriptor: the highest free number below the soft limit, so
 * the guest's own (the lowest free ones) meet them last. A guest that lowered its limit
 * (RLIMIT_NOFILE is the host's) must not stop kvmse: then the soft limit is raised for
 * the move (within the hard one) and set back.
 */
static int move_high(int fd)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("getrlimit");
	rlim_t top = rl.rlim_cur == RLIM_INFINITY ? SHARED_FDS : MIN(rl.rlim_cur, SHARED_FDS);
	if (top < 1024)
		top = MIN(1024, rl.rlim_max);
	struct rlimit raised = { top, rl.rlim_max };
	bool raise = top > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &raised) == 0;
	/* Only upwards: with every number above it taken (a program that opened all it may,
	 * then forked: the child's new VM gets the old one's number), it stays. */
	int n = fd;
	for (int to = (int)top - 1; to > fd && n == fd; to--) {
		if (fcntl(to, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (dup3(fd, to, O_CLOEXEC) < 0)
			die_errno("cannot move kvmse's descriptor %d out of the guest's range", fd);
		n = to;
	}
	if (raise && setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die_errno("setrlimit");
	if (n == fd)
		return fd;
	if (close(fd) < 0)
		die_errno("close");
	if (n < atomic_load(&lowest))
		atomic_store(&lowest, n);
	return n;
}

static void mark(int fd, bool on)
{
	if (!shared || fd < 0 || fd >= SHARED_FDS)
		return;
	uint64_t bit = 1ULL << (fd % 64);
	if (on)
		atomic_fetch_or(&shared[fd / 64], bit);
	else
		atomic_fetch_and(&shared[fd / 64], ~bit);
}

/* A forked child has only the forking thread: the lock is free, whoever held it. */
static void forked(void)
{
	pthread_mutex_init(&lock, NULL);
}

static void register_forked(void)
{
	if (pthread_atfork(NULL, NULL, forked))
		die("pthread_atfork failed");
}

/*
 * The program sees RLIMIT_NOFILE less the hidden descriptors under it (fd_limit_guest),
 * which is what it can open. So that this stays what it set, each hidden descriptor
 * raises the soft limit by one where the hard one allows (and move_high puts it under
 * that limit), and gives that back when it goes.
 */
static bool grow_soft_limit(int by)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    (by > 0 && (rl.rlim_cur < 1024 || rl.rlim_cur >= MIN(rl.rlim_max, 100000))) ||
	    (by < 0 && !rl.rlim_cur))
		return false;
	rl.rlim_cur += (rlim_t)by;
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
}

void fd_hide(int *fdp)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_forked);
	pthread_mutex_lock(&lock);
	for (int i = 0; i < HIDDEN_MAX; i++) {
		if (!atomic_load(&hidden[i])) {
			grew[i] = grow_soft_limit(1);
			*fdp = move_high(*fdp);
			kept[i] = false;
			mark(*fdp, true);
			atomic_store(&hidden[i], fdp);
			if (i >= atomic_load(&nused))
				atomic_store(&nused, i + 1);
			pthread_mutex_unlock(&lock);
			return;
		}
	}
	die("too many hidden descriptors");
}

void fd_unhide(int *fdp)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < atomic_load(&nused); i++) {
		if (atomic_load(&hidden[i]) == fdp) {
			if (!kept[i])
				mark(*fdp, false);
			atomic_store(&hidden[i], NULL);
			if (grew[i])
				grow_soft_limit(-1);
		}
	}
	pthread_mutex_unlock(&lock);
}

/* Hidden descriptors below 'limit'. */
static uint64_t hidden_below(uint64_t limit)
{
	uint64_t n = 0;
	for (int i = 0; i < atomic_load(&nused); i++) {
		int *h = atomic_load(&hidden[i]);
		if (h && (uint64_t)*h < limit)
			n++;
	}
	return n;
}

uint64_t fd_limit_guest(uint64_t host)
{
	return host == RLIM_INFINITY ? host : host - hidden_below(host);
}

/* The highest host limit the guest's stands for (hidden descriptors just under it do not
 * count), but not past the hard limit 'max' unless the guest asks for more than that:
 * a hard limit read before kvmse hid more descriptors must still be one to keep. */
uint64_t fd_limit_host(uint64_t guest, uint64_t max)
{
	if (guest == RLIM_INFINITY)
		return guest;
	uint64_t h = guest;
	while (h - hidden_below(h) < guest)
		h++;
	while (h < INT_MAX && fd_hidden((int)h))
		h++;
	return guest <= max ? MIN(h, max) : h;
}

int fd_close(int *fdp)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < atomic_load(&nused); i++) {
		if (atomic_load(&hidden[i]) == fdp && kept[i]) {
			kept_fd[i] = *fdp;
			atomic_store(&hidden[i], &kept_fd[i]);
			*fdp = -1;
			pthread_mutex_unlock(&lock);
			return 0;
		}
	}
	pthread_mutex_unlock(&lock);
	int fd = *fdp;
	fd_unhide(fdp);
	*fdp = -1;
	return close(fd);
}

bool fd_share_begin(void)
{
	void *m = shared ? (void *)shared :
		  mmap(NULL, SHARED_FDS / 8, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return false;
	/* (at each such fork: what was made since the last one is the new child's too) */
	pthread_mutex_lock(&lock);
	shared = m;
	for (int i = 0; i < atomic_load(&nused); i++) {
		int *h = atomic_load(&hidden[i]);
		if (h)
			mark(*h, true);
		kept[i] = h != NULL;
	}
	pthread_mutex_unlock(&lock);
	return true;
}

/* The table is this process's own now (a copy): what was kept is its own to close, and
 * the copies of what another let go of here are closed at once. */
void fd_share_end(void)
{
	if (!shared)
		return;
	if (munmap((void *)shared, SHARED_FDS / 8) < 0)
		die_errno("munmap");
	shared = NULL;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < atomic_load(&nused); i++) {
		kept[i] = false;
		if (atomic_load(&hidden[i]) != &kept_fd[i])
			continue;
		close(kept_fd[i]);
		atomic_store(&hidden[i], NULL);
		if (grew[i])
			grow_soft_limit(-1);
	}
	pthread_mutex_unlock(&lock);
}

bool fd_unshare(void)
{
	if (!shared)
		return false;
	if (unshare(CLONE_FILES) < 0)
		die_errno("unshare of the descriptor table");
	fd_share_end();
	return true;
}

void fd_forked(bool files)
{
	if (!files)
		fd_share_end();
}

void fd_close_own(void)
{
	if (!shared)
		return;
	pthread_mutex_lock(&lock);
	for (int i = 0; i < atomic_load(&nused); i++) {
		int *h = atomic_load(&hidden[i]);
		if (h && !kept[i]) {
			mark(*h, false);
			close(*h);
		}
	}
	pthread_mutex_unlock(&lock);
}

bool fd_hidden(int fd)
{
	if (shared && fd >= 0 && fd < SHARED_FDS && (atomic_load(&shared[fd / 64]) >> (fd % 64) & 1))
		return true;
	if (fd < atomic_load(&lowest))
		return false;
	int n = atomic_load(&nused);
	for (int i = 0; i < n; i++) {
		int *h = atomic_load(&hidden[i]);
		if (h && *h == fd)
			return true;
	}
	return false;
}

void fd_evict(int fd)
{
	pthread_mutex_lock(&lock);
	for (int i = 0; i < atomic_load(&nused); i++) {
		int *h = atomic_load(&hidden[i]);
		if (h && *h == fd) {
			*h = move_high(fd);
			mark(fd, false);
			mark(*h, true);
		}
	}
	pthread_mutex_unlock(&lock);
}

static int proc_dir = -1;

void fd_proc_init(void)
{
	proc_dir = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (proc_dir < 0)
		die_errno("/proc");
	fd_hide(&proc_dir);
}

int fd_proc_open(const char *name, int flags)
{
	return openat(proc_dir, name, flags | O_CLOEXEC);
}

ssize_t fd_proc_readlink(const char *name, char *buf, size_t size)
{
	return readlinkat(proc_dir, name, buf, size);
}

ssize_t fd_target(int fd, char *buf, size_t size)
{
	char link[32];
	snprintf(link, sizeof(link), "self/fd/%d", fd);
	ssize_t n = fd_proc_readlink(link, buf, size - 1);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

void fd_proc_read(const char *name, char *buf, size_t size)
{
	int fd = fd_proc_open(name, O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);
	buf[n < 0 ? 0 : n] = 0;
	if (fd >= 0)
		close(fd);
}

/* Without /proc/self/fd (a Landlock domain that does not allow reading it), each number
 * below the limit is tried. */
static void each_number(void (*fn)(int fd, void *arg), void *arg)
{
	struct rlimit r;
	int top = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < INT_MAX ? (int)r.rlim_cur : 1 << 20;
	for (int fd = 0; fd < top; fd++)
		if (!fd_hidden(fd) && fcntl(fd, F_GETFD) >= 0)
			fn(fd, arg);
}

void fd_each_guest(void (*fn)(int fd, void *arg), void *arg)
{
	int dir = fd_proc_open("self/fd", O_RDONLY | O_DIRECTORY);
	DIR *d = dir < 0 ? NULL : fdopendir(dir);
	if (!d) {
		if (dir >= 0)
			close(dir);
		each_number(fn, arg);
		return;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd != dirfd(d) && !fd_hidden(fd))
			fn(fd, arg);
	}
	closedir(d);
}
