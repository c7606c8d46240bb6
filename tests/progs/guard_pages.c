/* Many separate page-table edits in one system call: a region whose pages alternate with
 * guard pages, changed and then unmapped whole (more edits than kvmse queues at once). */
// run: mprotect
// run: munmap
#include "common.h"
#include <sys/mman.h>
#include <unistd.h>

#define PAGES (48 * 1024)

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	long pg = sysconf(_SC_PAGESIZE);
	char *r = mmap(NULL, PAGES * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(r != MAP_FAILED);
	for (long i = 0; i < PAGES; i++)
		r[i * pg] = (char)i;
	for (long i = 1; i < PAGES; i += 2)
		CHECK(mprotect(r + i * pg, pg, PROT_NONE) == 0);
	CHECK(mprotect(r, PAGES * pg, PROT_READ) == 0);
	unsigned long sum = 0;
	for (long i = 0; i < PAGES; i++)
		sum += (unsigned char)r[i * pg];
	printf("sum %lu\n", sum);
	fflush(stdout);
	if (!strcmp(argv[1], "mprotect")) {
		r[0] = 1;       /* read-only now, everywhere: SIGSEGV */
	} else {
		CHECK(munmap(r, PAGES * pg) == 0);
		printf("%d\n", r[(PAGES - 2) * pg]);       /* gone: SIGSEGV */
	}
	puts("not reached");
	return 0;
}
