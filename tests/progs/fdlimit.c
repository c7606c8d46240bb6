/* fdlimit.c - a program can open as many descriptors as RLIMIT_NOFILE says, less those
 * it has open, whatever kvmse keeps open for itself; after threads and vforks too. Its
 * hard limit rises only as the host's would (CAP_SYS_RESOURCE). */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int open_now(void)
{
	DIR *d = opendir("/proc/self/fd");
	CHECK(d);
	int n = -1;                     /* (the directory's own) */
	while (readdir(d))
		n++;
	closedir(d);
	return n - 2;                   /* . and .. */
}

/* Open /dev/null until EMFILE; all of them go again. */
static void fill(const char *when)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	int before = open_now(), n = 0, fd, highest = -1;
	int *fds = malloc(sizeof(int) * rl.rlim_cur);
	CHECK(fds);
	while ((fd = open("/dev/null", O_RDONLY)) >= 0) {
		fds[n++] = fd;
		highest = fd > highest ? fd : highest;
	}
	printf("%s: EMFILE %d, opened the limit less those open: %d, all below it: %d, "
	       "getdtablesize is the limit: %d\n", when, errno == EMFILE,
	       (rlim_t)(before + n) == rl.rlim_cur, (rlim_t)highest < rl.rlim_cur,
	       (rlim_t)getdtablesize() == rl.rlim_cur);
	while (n)
		close(fds[--n]);
	free(fds);
}

static void *idle(void *arg)
{
	return arg;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	printf("soft at most hard: %d\n", rl.rlim_cur <= rl.rlim_max);
	rl.rlim_cur = rl.rlim_cur > 4096 ? 4096 : rl.rlim_cur;
	CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
	fill("at start");
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, idle, NULL) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	fill("after 4 threads");
	for (int i = 0; i < 20; i++) {
		pid_t pid = vfork();
		if (pid == 0)
			_exit(0);
		CHECK(pid > 0 && waitpid(pid, NULL, 0) == pid);
	}
	fill("after 20 vforks");
	struct rlimit low = { 64, rl.rlim_max };
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	CHECK(getrlimit(RLIMIT_NOFILE, &low) == 0);
	printf("lowered to %lu\n", (unsigned long)low.rlim_cur);
	fill("lowered");
	low.rlim_cur = 1024;
	CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0);
	fill("raised again");
	struct rlimit up = low;
	up.rlim_max++;
	int r = setrlimit(RLIMIT_NOFILE, &up);
	printf("hard limit + 1: %s", r ? strerror(errno) : "done");
	CHECK(getrlimit(RLIMIT_NOFILE, &up) == 0);
	printf(", now %+ld\n", (long)(up.rlim_max - low.rlim_max));
	return 0;
}
