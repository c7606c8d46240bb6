/* ioctl PROCMAP_QUERY on /proc/self/maps (Linux 6.11): the VMA at an address or the next
 * one, filtered by rights and kind; its name and the build ID of its file; the errors. */
#include "common.h"
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct query {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define QUERY _IOWR('f', 17, struct query)
#define COVERING_OR_NEXT 0x10
#define FILE_BACKED 0x20

static int maps;
static char name[4096];
static unsigned char id[64];

/* Ask about 'addr'; print the outcome relative to [lo, hi) (the mapping expected). */
static void ask(const char *what, const void *addr, uint64_t flags, const void *lo, const void *hi)
{
	struct query q = { .size = sizeof(q), .query_flags = flags, .query_addr = (uintptr_t)addr,
			   .vma_name_addr = (uintptr_t)name, .vma_name_size = sizeof(name),
			   .build_id_addr = (uintptr_t)id, .build_id_size = sizeof(id) };
	memset(name, 0, sizeof(name));
	if (ioctl(maps, QUERY, &q) < 0) {
		printf("%s: %s\n", what, strerror(errno));
		return;
	}
	printf("%s: start %s, end %s, flags %#lx, page %lu, offset %#lx, name [%s] (%u), build ID %u bytes\n",
	       what, q.vma_start == (uintptr_t)lo ? "as mapped" : q.vma_start <= (uintptr_t)addr ? "below" : "above",
	       q.vma_end == (uintptr_t)hi ? "as mapped" : q.vma_end > (uintptr_t)addr ? "above" : "below",
	       (unsigned long)q.vma_flags, (unsigned long)q.vma_page_size, (unsigned long)q.vma_offset,
	       q.vma_name_size ? name : "", q.vma_name_size, q.build_id_size);
}

static void error(const char *what, struct query q)
{
	q.size = q.size ? q.size : sizeof(q);
	printf("%s: %s\n", what, ioctl(maps, QUERY, &q) < 0 ? strerror(errno) : "ok");
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	maps = open("/proc/self/maps", O_RDONLY);
	CHECK(maps >= 0);
	/* Read-write, read-only, a hole, read-write, a hole. */
	char *m = mmap(NULL, 7 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED && munmap(m + 3 * pg, pg) == 0 && munmap(m + 6 * pg, pg) == 0 &&
	      mprotect(m + 2 * pg, pg, PROT_READ) == 0);
	ask("anonymous", m, 0, m, m + 2 * pg);
	ask("its read-only end", m + 2 * pg, 0, m + 2 * pg, m + 3 * pg);
	ask("writable there", m + 2 * pg, 2, NULL, NULL);
	ask("writable, or next", m + 2 * pg, 2 | COVERING_OR_NEXT, m + 4 * pg, m + 6 * pg);
	ask("the hole after", m + 3 * pg, 0, NULL, NULL);

	int fd = open("file", O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 4 * pg) == 0);
	char *f = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, pg);
	CHECK(f != MAP_FAILED);
	ask("file", f + 1, FILE_BACKED, f, f + 2 * pg);
	struct query q = { .size = sizeof(q), .query_addr = (uintptr_t)f };
	struct stat st;
	CHECK(ioctl(maps, QUERY, &q) == 0 && fstat(fd, &st) == 0);
	printf("file: inode %d, device %d\n", q.inode == st.st_ino,
	       q.dev_major == major(st.st_dev) && q.dev_minor == minor(st.st_dev));

	/* The program's own code: its name is /proc/self/exe's, its build ID the linker's. */
	char exe[4096] = { 0 };
	CHECK(readlink("/proc/self/exe", exe, sizeof(exe) - 1) > 0);
	q = (struct query){ .size = sizeof(q), .query_addr = (uintptr_t)main, .vma_name_addr = (uintptr_t)name,
			    .vma_name_size = sizeof(name), .build_id_addr = (uintptr_t)id, .build_id_size = sizeof(id) };
	CHECK(ioctl(maps, QUERY, &q) == 0);
	printf("code: named as the program %d, executable %d, build ID:", !strcmp(name, exe),
	       (int)(q.vma_flags & 4) / 4);
	for (unsigned i = 0; i < q.build_id_size; i++)
		printf("%02x", id[i]);
	printf("\n");
	q.build_id_size = 4;
	printf("build ID buffer of 4: %s\n", ioctl(maps, QUERY, &q) < 0 ? strerror(errno) : "ok");
	q = (struct query){ .size = sizeof(q), .query_addr = (uintptr_t)main,
			    .vma_name_addr = (uintptr_t)name, .vma_name_size = 3 };
	printf("name buffer of 3: %s\n", ioctl(maps, QUERY, &q) < 0 ? strerror(errno) : "ok");

	error("size 16", (struct query){ .size = 16, .query_addr = (uintptr_t)m });
	error("size 24", (struct query){ .size = 24, .query_addr = (uintptr_t)m });
	error("size 8192", (struct query){ .size = 8192, .query_addr = (uintptr_t)m });
	error("unknown flag", (struct query){ .query_flags = 0x40, .query_addr = (uintptr_t)m });
	error("name size, no address", (struct query){ .query_addr = (uintptr_t)m, .vma_name_size = 8 });
	error("build ID address, no size", (struct query){ .query_addr = (uintptr_t)m, .build_id_addr = 1 });
	error("bad name address", (struct query){ .query_addr = (uintptr_t)main, .vma_name_size = 64,
						  .vma_name_addr = 8 });
	struct { struct query q; uint64_t more; } big = { { .size = sizeof(big), .query_addr = (uintptr_t)m }, 1 };
	printf("larger, non-zero tail: %s\n", ioctl(maps, QUERY, &big) < 0 ? strerror(errno) : "ok");
	big.more = 0;
	printf("larger, zero tail: %s\n", ioctl(maps, QUERY, &big) < 0 ? strerror(errno) : "ok");
	printf("bad struct: %s\n", ioctl(maps, QUERY, (void *)8) < 0 ? strerror(errno) : "ok");
	q = (struct query){ .size = sizeof(q), .query_addr = (uintptr_t)m };
	printf("a plain file: %s\n", ioctl(fd, QUERY, &q) < 0 ? strerror(errno) : "ok");
	return 0;
}
