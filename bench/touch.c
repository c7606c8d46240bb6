/* touch.c - touch every page of 1 GiB of fresh anonymous memory. */
#include <stdio.h>
#include <sys/mman.h>

int main(void)
{
	size_t len = 1UL << 30;
	volatile char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	return 0;
}
