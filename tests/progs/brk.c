/* The program break: grow, write, shrink, grow again (contents must survive). */
#include "common.h"
#include <stdint.h>
#include <unistd.h>

int main(void)
{
	char *base = sbrk(0);
	CHECK(base != (void *)-1);
	CHECK(sbrk(1 << 20) == base);
	for (int i = 0; i < (1 << 20); i++)
		base[i] = (char)(i * 7);
	CHECK(sbrk(-(1 << 19)) != (void *)-1);
	CHECK((char *)sbrk(0) == base + (1 << 19));
	CHECK(sbrk(3 << 20) != (void *)-1);
	unsigned long sum = checksum(base, 1 << 19);
	for (int i = 1 << 19; i < (1 << 20); i++)
		CHECK(base[i] == 0);
	CHECK(brk(base + (8 << 20)) == 0);
	base[(8 << 20) - 1] = 1;
	printf("brk ok %lx\n", sum);
	return 0;
}
