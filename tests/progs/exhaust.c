/* Map until the kernel says ENOMEM, then keep going: run natively this stops at the
 * address-space or memory limit; under kvmse --memory it must stop the same way,
 * with the program alive (tests/badinput.sh runs it with a small cap). */
#include "common.h"
#include <sys/mman.h>

int main(int argc, char **argv)
{
	long limit = argc > 1 ? atol(argv[1]) : 64;     /* MiB to try natively */
	long n = 0;
	for (; n < limit; n++) {
		void *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			break;
		memset(p, 1, 1 << 20);
	}
	printf("mapped %s\n", n == limit ? "all" : "until ENOMEM");
	for (int i = 0; i < 10000; i++)
		mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *q = malloc(100);
	printf("still alive: %d\n", q != NULL);
	return 0;
}
