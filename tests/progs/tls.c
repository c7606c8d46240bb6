/* __thread variables, initialized and zeroed, in the main thread. */
#include "common.h"

static __thread int counter = 41;
static __thread char buffer[4096];
static __thread long zero;

int main(void)
{
	counter++;
	buffer[4095] = 'z';
	printf("counter=%d buffer=%c zero=%ld\n", counter, buffer[4095], zero);
	CHECK(((unsigned long)&counter & 3) == 0);
	return 0;
}
