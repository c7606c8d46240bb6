/* Touching memory that is gone or protected ends the program with SIGSEGV; a
 * MAP_GROWSDOWN mapping grows on a touch below it, but not to within stack_guard_gap of
 * the mapping below. */
// run: munmap
// run: mprotect
// run: null
// run: exec
// run: stack-guard
// run: growsdown
#include "common.h"
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	long pg = sysconf(_SC_PAGESIZE);
	volatile char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = p[pg] = 1;
	printf("before\n");
	fflush(stdout);
	if (!strcmp(argv[1], "munmap")) {
		CHECK(munmap((void *)p, 4 * pg) == 0);
		p[pg] = 2;
	} else if (!strcmp(argv[1], "mprotect")) {
		CHECK(mprotect((void *)p, 4 * pg, PROT_READ) == 0);
		printf("read %d\n", p[0]);
		fflush(stdout);
		p[0] = 2;
	} else if (!strcmp(argv[1], "null")) {
		printf("%d\n", *(volatile int *)0);
	} else if (!strcmp(argv[1], "exec")) {
		((void (*)(void))p)();
	} else if (!strcmp(argv[1], "growsdown")) {
		/* 4 MiB of free space, a 4-page MAP_GROWSDOWN mapping at its top */
		char *r = mmap(NULL, 4 << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(r != MAP_FAILED && munmap(r, 4 << 20) == 0);
		char *g = mmap(r + (4 << 20) - 4 * pg, 4 * pg, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_GROWSDOWN, -1, 0);
		CHECK(g != MAP_FAILED);
		g[-1] = 5;                              /* grows by a page or so */
		g[-(1 << 20)] = 6;                      /* by a MiB */
		printf("grown: %d %d\n", g[-1], g[-(1 << 20)]);
		fflush(stdout);
		/* a mapping 2 MiB below: the gap (256 pages) stops growth 1 MiB above it */
		CHECK(mmap(r, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == r);
		g[-(3 << 20) - (1 << 19)] = 7;          /* 0.5 MiB above it: SIGSEGV */
	} else if (!strcmp(argv[1], "stack-guard")) {
		volatile char *sp = (char *)&argc;
		sp[-(64L << 20)] = 1;   /* far below the stack, beyond RLIMIT_STACK */
	}
	printf("not reached\n");
	return 0;
}
