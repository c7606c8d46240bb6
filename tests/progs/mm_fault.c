/* Touching memory that is gone or protected ends the program with SIGSEGV. */
// run: munmap
// run: mprotect
// run: null
// run: exec
// run: stack-guard
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
	} else if (!strcmp(argv[1], "stack-guard")) {
		volatile char *sp = (char *)&argc;
		sp[-(64L << 20)] = 1;   /* far below the stack, beyond RLIMIT_STACK */
	}
	printf("not reached\n");
	return 0;
}
