/* Guard regions (madvise MADV_GUARD_INSTALL and MADV_GUARD_REMOVE, Linux 6.13): a guard
 * page's access is SIGSEGV (SEGV_MAPERR) and a system call's EFAULT; mprotect, fork,
 * mremap and MADV_DONTNEED keep guards, removal gives zero pages (anonymous memory) or
 * the file's (a private file mapping); the errors. */
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>

#define GUARD_INSTALL 102
#define GUARD_REMOVE 103

static long pg;
static sigjmp_buf back;
static volatile int code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	code = si->si_code;
	siglongjmp(back, 1);
}

/* Read the byte at 'a': its value, or -1 and the si_code of the SIGSEGV. */
static int peek(const char *a)
{
	code = 0;
	if (sigsetjmp(back, 1))
		return -1;
	return *(volatile const char *)a;
}

static void show_pages(const char *what, const char *m, int n)
{
	printf("%s:", what);
	for (int i = 0; i < n; i++) {
		int v = peek(m + i * pg);
		if (v < 0)
			printf(" SEGV(%s)", code == SEGV_MAPERR ? "maperr" : code == SEGV_ACCERR ? "accerr" : "?");
		else
			printf(" %d", v);
	}
	printf("\n");
}

static void fill(char *m, int n)
{
	for (int i = 0; i < n; i++)
		m[i * pg] = (char)(i + 1);
}

static void anonymous(void)
{
	char *m = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	fill(m, 8);
	SHOW(madvise(m + 2 * pg, 2 * pg, GUARD_INSTALL));
	show_pages("installed", m, 8);
	int fds[2];
	CHECK(pipe(fds) == 0);
	SHOW(write(fds[1], m + 2 * pg, 1));            /* EFAULT */
	SHOW(write(fds[1], m + pg, 1));
	SHOW(read(fds[0], m + 3 * pg, 1));             /* EFAULT */
	SHOW(madvise(m, 8 * pg, MADV_DONTNEED));        /* zeroes, guards stay */
	show_pages("dontneed", m, 8);
	fill(m, 2);
	SHOW(mprotect(m, 8 * pg, PROT_READ));
	SHOW(mprotect(m, 8 * pg, PROT_READ | PROT_WRITE));
	show_pages("mprotect", m, 8);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		show_pages("child", m, 8);
		fflush(stdout);
		signal(SIGSEGV, SIG_DFL);
		m[2 * pg] = 1;                          /* dies */
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child: signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	char *to = mmap(NULL, 8 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(to != MAP_FAILED);
	m = mremap(m, 8 * pg, 8 * pg, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	CHECK(m == to);
	show_pages("moved", m, 8);
	SHOW(madvise(m + 3 * pg, pg, GUARD_REMOVE));
	show_pages("one removed", m, 8);
	SHOW(madvise(m, 8 * pg, GUARD_REMOVE));
	m[2 * pg] = 9;
	show_pages("all removed", m, 8);
	SHOW(madvise(m, 2 * pg, GUARD_INSTALL));
	SHOW(munmap(m, 8 * pg));
	char *again = mmap(m, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == m);
	show_pages("mapped again", m, 8);
	CHECK(munmap(m, 8 * pg) == 0);
	m = mmap(NULL, 10 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED && munmap(m + 8 * pg, 2 * pg) == 0);      /* (a hole after it) */
	SHOW(madvise(m + 6 * pg, 4 * pg, GUARD_INSTALL));      /* past the end: ENOMEM */
	show_pages("over the end", m, 8);
	SHOW(mlock(m, pg));
	SHOW(madvise(m, pg, GUARD_INSTALL));            /* locked: EINVAL */
	SHOW(madvise(m, pg, GUARD_REMOVE));
	SHOW(madvise(m + 1, pg, GUARD_INSTALL));        /* unaligned: EINVAL */
	CHECK(munmap(m, 8 * pg) == 0);
}

static void files(void)
{
	int fd = open("file", O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0);
	for (int i = 0; i < 4; i++) {
		char c = (char)(10 + i);
		CHECK(pwrite(fd, &c, 1, i * pg) == 1);
	}
	CHECK(ftruncate(fd, 4 * pg) == 0);
	char *priv = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *shared = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(priv != MAP_FAILED && shared != MAP_FAILED);
	priv[pg] = 50;                                  /* a private copy, dropped by the guard */
	shared[2 * pg] = 60;
	SHOW(madvise(priv + pg, 2 * pg, GUARD_INSTALL));
	SHOW(madvise(shared + 2 * pg, pg, GUARD_INSTALL));
	show_pages("private", priv, 4);
	show_pages("shared", shared, 4);
	SHOW(madvise(priv, 4 * pg, GUARD_REMOVE));
	SHOW(madvise(shared, 4 * pg, GUARD_REMOVE));
	show_pages("private removed", priv, 4);
	show_pages("shared removed", shared, 4);
	CHECK(munmap(priv, 4 * pg) == 0 && munmap(shared, 4 * pg) == 0 && close(fd) == 0);
}

int main(void)
{
	pg = sysconf(_SC_PAGESIZE);
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	anonymous();
	files();
	return 0;
}
