/* calls.c WHAT N - N system calls of one kind; prints the cost of one in ns.
 * WHAT: getppid, write (1 byte to /dev/null), read (4 KiB from a file, at offset 0),
 * clock (clock_gettime, as a program makes it: through the vDSO where there is one),
 * signal (raise(SIGUSR1) with a handler: the signal's delivery and rt_sigreturn). */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static double ns_since(const struct timespec *a)
{
	struct timespec b;
	clock_gettime(CLOCK_MONOTONIC, &b);
	return (b.tv_sec - a->tv_sec) * 1e9 + (b.tv_nsec - a->tv_nsec);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: calls getppid|write|read|clock|signal N\n");
		return 2;
	}
	const char *what = argv[1];
	long n = atol(argv[2]);
	static char buf[4096];
	int fd = -1;
	if (!strcmp(what, "write"))
		fd = open("/dev/null", O_WRONLY);
	else if (!strcmp(what, "read"))
		fd = open("/proc/self/exe", O_RDONLY);
	else if (!strcmp(what, "signal"))
		signal(SIGUSR1, on_usr1);
	struct timespec t0, ts;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		if (!strcmp(what, "getppid"))
			syscall(SYS_getppid);
		else if (!strcmp(what, "write"))
			write(fd, buf, 1);
		else if (!strcmp(what, "read"))
			pread(fd, buf, sizeof(buf), 0);
		else if (!strcmp(what, "signal"))
			raise(SIGUSR1);
		else
			clock_gettime(CLOCK_REALTIME, &ts);
	}
	if (!strcmp(what, "signal") && handled != n) {
		fprintf(stderr, "calls: %d of %ld signals handled\n", (int)handled, n);
		return 1;
	}
	printf("%.1f\n", ns_since(&t0) / n);
	return 0;
}
