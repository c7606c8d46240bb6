/* image.c - the program's own image as the ELF loader left it: its first segment holds
 * the file's first bytes (the ELF header), the rest of the page past the end of the bss
 * reads as zeros (Linux's padzero), and the bss itself is zero. */
#define _GNU_SOURCE
#include "common.h"
#include <fcntl.h>
#include <link.h>
#include <unistd.h>

extern char _end[];
static char bss[10000];

static int first_segment(struct dl_phdr_info *info, size_t size, void *start)
{
	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++)
		if (info->dlpi_phdr[i].p_type == PT_LOAD && info->dlpi_phdr[i].p_offset == 0) {
			*(const char **)start = (const char *)(info->dlpi_addr + info->dlpi_phdr[i].p_vaddr);
			return 1;
		}
	return 1;       /* (only the program, the first one listed) */
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *start = NULL;
	dl_iterate_phdr(first_segment, &start);
	char head[64];
	int fd = open(argv[0], O_RDONLY);
	CHECK(fd >= 0 && read(fd, head, sizeof(head)) == (ssize_t)sizeof(head));
	printf("first segment found: %d\n", start != NULL);
	printf("it starts with the file's first 64 bytes: %d\n", start && !memcmp(start, head, sizeof(head)));

	size_t nonzero = 0, tail = 0;
	for (const char *c = _end; (uintptr_t)c & 4095; c++, tail++)
		nonzero += *c != 0;
	printf("bytes after the bss in its last page that are not zero: %zu (of %s)\n", nonzero,
	       tail ? "some" : "none");
	for (size_t i = 0; i < sizeof(bss); i++)
		nonzero += bss[i] != 0;
	printf("bss zero: %d\n", nonzero == 0);
	return 0;
}
