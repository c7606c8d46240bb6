/* hello.c - the bundled example for `make run`: a few system calls and some compute. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	unsigned long h = 5381;
	for (long i = 0; i < 50 * 1000 * 1000; i++)
		h = h * 33 + (unsigned long)i;
	char *buf = malloc(1 << 20);
	memset(buf, 'k', 1 << 20);
	printf("hello %s (pid %d, checksum %lx, %c)\n", argc > 1 ? argv[1] : "world", (int)getpid(), h,
	       buf[12345]);
	free(buf);
	return 0;
}
