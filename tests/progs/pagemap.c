/* /proc/self/pagemap: one entry per page, present or not, file or shared, a guard
 * region's mark; nothing for an unmapped page. (Only touched pages are asked about:
 * whether an untouched neighbour is in memory depends on huge pages.) */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>

#define PRESENT (1ULL << 63)
#define FILE_OR_SHARED (1ULL << 61)
#define GUARD (1ULL << 58)

static int pm;
static long pg;

static void entry(const char *what, const void *addr)
{
	uint64_t e;
	CHECK(pread(pm, &e, 8, (off_t)((uintptr_t)addr / pg * 8)) == 8);
	printf("%s: present %d, file or shared %d, guard %d, other bits %d\n", what, !!(e & PRESENT),
	       !!(e & FILE_OR_SHARED), !!(e & GUARD), e ? 1 : 0);
}

int main(void)
{
	pg = sysconf(_SC_PAGESIZE);
	char *a = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *s = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = open("file", O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(a != MAP_FAILED && s != MAP_FAILED && fd >= 0 && write(fd, "x", 1) == 1);
	char *f = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(f != MAP_FAILED && munmap(a + 3 * pg, pg) == 0);
	a[0] = s[0] = 1;
	printf("file reads %c\n", f[0]);
	CHECK(madvise(a + 2 * pg, pg, 102 /* MADV_GUARD_INSTALL */) == 0);
	pm = open("/proc/self/pagemap", O_RDONLY);
	CHECK(pm >= 0);
	entry("anonymous, written", a);
	entry("shared, written", s);
	entry("file, read", f);
	entry("guard", a + 2 * pg);
	entry("unmapped", a + 3 * pg);
	entry("stack", &pm);
	return 0;
}
