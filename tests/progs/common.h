/* common.h - helpers for the test programs: print a checked value, fail loudly. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Print a call's outcome: its value, or -1 and the errno name, as strace would. */
#define SHOW(expr) show(#expr, (long)(expr))
static inline void show(const char *what, long rc)
{
	if (rc < 0)
		printf("%s = -1 (%s)\n", what, strerror(errno));
	else
		printf("%s = %ld\n", what, rc);
	errno = 0;
}

#define CHECK(cond)                                                         \
	do {                                                                \
		if (!(cond)) {                                              \
			printf("CHECK failed: %s (line %d)\n", #cond, __LINE__); \
			exit(99);                                           \
		}                                                           \
	} while (0)

static inline unsigned long checksum(const void *p, size_t n)
{
	const unsigned char *b = p;
	unsigned long h = 5381;
	for (size_t i = 0; i < n; i++)
		h = h * 33 + b[i];
	return h;
}

/* xorshift64: the fuzzers' random numbers, the same natively and under kvmse. */
static inline uint64_t xorshift(uint64_t *state)
{
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

/* Copy the running program's file to descriptor 'out' (a program to run elsewhere). */
static inline void copy_self(int out)
{
	FILE *in = fopen("/proc/self/exe", "r");
	CHECK(in && out >= 0);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		CHECK(write(out, buf, n) == (ssize_t)n);
	fclose(in);
}
