/* RLIMIT_AS and RLIMIT_DATA set by the program (as `ulimit -v` and `ulimit -d` do): mmap,
 * brk, malloc, mremap and mprotect stop at them with ENOMEM, what they do not count still works, and so do
 * threads, fork and execve under them; a hard limit goes up only with CAP_SYS_RESOURCE. */
// run: as
// run: data
#include "common.h"
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define MB (1ul << 20)

static void show_map(const char *what, size_t len, int prot, int flags)
{
	void *m = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
	printf("%s: %s\n", what, m == MAP_FAILED ? strerror(errno) : "mapped");
	if (m != MAP_FAILED)
		CHECK(munmap(m, len) == 0);
}

static void *thread(void *arg)
{
	return arg;
}

/* Threads, fork and execve of a program still run under the limit. */
static void still_runs(char *self)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, thread, NULL) == 0 && pthread_join(t, NULL) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *args[] = { self, "child", NULL };
		execv(self, args);
		_exit(127);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("thread, fork and execve: exit %d\n", WEXITSTATUS(st));
}

static void limit(int res, rlim_t soft)
{
	struct rlimit rl;
	CHECK(getrlimit(res, &rl) == 0);
	rl.rlim_cur = soft;
	CHECK(setrlimit(res, &rl) == 0);
	CHECK(getrlimit(res, &rl) == 0);
	printf("soft limit %lu MiB\n", (unsigned long)(rl.rlim_cur / MB));
	/* lower the hard limit, then try to raise it again */
	rl.rlim_max = soft;
	CHECK(setrlimit(res, &rl) == 0);
	rl.rlim_max = soft + MB;
	int r = setrlimit(res, &rl);
	printf("hard limit raised: %s\n", r ? strerror(errno) : "yes");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "child")) {
		struct rlimit rl;
		CHECK(getrlimit(RLIMIT_AS, &rl) == 0);
		printf("exec'd, AS soft limit %lu MiB\n", rl.rlim_cur == RLIM_INFINITY ? 0 : (unsigned long)(rl.rlim_cur / MB));
		return 3;
	}
	CHECK(argc == 2);
	if (!strcmp(argv[1], "as")) {
		limit(RLIMIT_AS, 512 * MB);
		show_map("1 GiB, not even readable", 1024 * MB, PROT_NONE, MAP_PRIVATE);
		show_map("64 MiB", 64 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		show_map("64 MiB shared", 64 * MB, PROT_READ | PROT_WRITE, MAP_SHARED);
		size_t n = 0;
		while (n < 4096 && malloc(MB))
			n++;
		printf("malloc of 1 MiB: stopped %d, after at least 300: %d\n", n < 4096, n >= 300);
		still_runs(argv[0]);
	} else {
		limit(RLIMIT_DATA, 64 * MB);
		show_map("128 MiB private writable", 128 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		show_map("128 MiB private read-only", 128 * MB, PROT_READ, MAP_PRIVATE);
		show_map("128 MiB shared writable", 128 * MB, PROT_READ | PROT_WRITE, MAP_SHARED);
		char *ro = mmap(NULL, 128 * MB, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(ro != MAP_FAILED);
		printf("made writable: %s\n", mprotect(ro, 128 * MB, PROT_READ | PROT_WRITE) ? strerror(errno) : "yes");
		printf("1 MiB of it made writable: %s\n", mprotect(ro, MB, PROT_READ | PROT_WRITE) ? strerror(errno) : "yes");
		CHECK(munmap(ro, 128 * MB) == 0);
		char *small = mmap(NULL, 16 * MB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(small != MAP_FAILED);
		printf("grown by mremap: %s\n", mremap(small, 16 * MB, 128 * MB, MREMAP_MAYMOVE) == MAP_FAILED ? strerror(errno) : "yes");
		CHECK(munmap(small, 16 * MB) == 0);
		void *top = sbrk(0);
		printf("sbrk 128 MiB: %s\n", sbrk(128 * MB) == (void *)-1 ? strerror(errno) : "grew");
		printf("break unchanged: %d\n", sbrk(0) == top);
		printf("sbrk 1 MiB: %s\n", sbrk(MB) == (void *)-1 ? strerror(errno) : "grew");
		still_runs(argv[0]);
	}
	return 0;
}
