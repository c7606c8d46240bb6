/* mlock.c - mlock, munlock, mlock2, mlockall, munlockall: what they lock shows as VmLck
 * in /proc/self/status; a hole is ENOMEM, bad flags EINVAL. */
#include "common.h"
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long vmlck(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	long pg = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 16 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(a != MAP_FAILED);
	printf("VmLck at start: %ld kB\n", vmlck());
	SHOW(mlock(a + 10, 3 * pg));            /* 4 pages: the range is page-aligned outwards */
	printf("VmLck: %ld kB, contents kept: %d\n", vmlck(), a[10] == 0);
	SHOW(munlock(a, 16 * pg));
	printf("VmLck: %ld kB\n", vmlck());
	SHOW(syscall(SYS_mlock2, a, 2 * pg, 1 /* MLOCK_ONFAULT */));
	printf("VmLck: %ld kB\n", vmlck());
	SHOW(syscall(SYS_mlock2, a, pg, 2));
	SHOW(munlock(a, 2 * pg));
	CHECK(munmap(a + 8 * pg, pg) == 0);
	SHOW(mlock(a, 16 * pg));                /* ENOMEM: a hole */
	SHOW(munlock(a, 16 * pg));
	SHOW(mlock(a, 0));
	SHOW(mlockall(0));
	SHOW(mlockall(MCL_ONFAULT));
	SHOW(mlockall(MCL_FUTURE | 0x100));
	SHOW(mlockall(MCL_CURRENT));
	printf("some locked: %d\n", vmlck() > 0);
	SHOW(munlockall());
	printf("VmLck after munlockall: %ld kB\n", vmlck());
	return 0;
}
