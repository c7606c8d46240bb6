/* compute.c - a compute-bound loop of about 1-2 s natively, no system calls inside. */
#include <stdint.h>
#include <stdio.h>

int main(void)
{
	uint64_t x = 88172645463325252ULL, acc = 0;
	double f = 0;
	for (long i = 0; i < 1000L * 1000 * 1000; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		acc += x % 1000003;
		f += (double)(x & 1023) * 1e-3;
	}
	printf("%llu %.3f\n", (unsigned long long)acc, f);
	return 0;
}
