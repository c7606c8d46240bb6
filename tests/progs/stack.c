/* A recursion that grows the stack by about 4 MiB, within the default 8 MiB limit. */
#include "common.h"

static unsigned long deep(int n)
{
	volatile char frame[1024];
	frame[0] = (char)n;
	frame[1023] = (char)(n >> 8);
	if (n == 0)
		return frame[0];
	return deep(n - 1) + frame[0] + frame[1023];
}

int main(void)
{
	printf("sum %lu\n", deep(4000));
	char big[200000];
	memset(big, 3, sizeof(big));
	printf("big %lu\n", checksum(big, sizeof(big)));
	return 0;
}
