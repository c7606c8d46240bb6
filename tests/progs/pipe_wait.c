/* Read standard input to its end and tell what came. tests/exitless.sh feeds it a pipe
 * that stays empty for a while (the read blocks in the host) or sends it a signal then. */
#include "common.h"
#include <unistd.h>

int main(void)
{
	char buf[256];
	size_t total = 0;
	ssize_t n;
	printf("ready\n");
	fflush(stdout);
	while ((n = read(0, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		total += (size_t)n;
	}
	CHECK(n == 0);
	printf("%zu bytes\n", total);
	return 0;
}
