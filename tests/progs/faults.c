/* Each hardware exception ends the program with the signal Linux sends for it. */
// run: ud2
// run: int3
// run: div0
// run: div-overflow
// run: align-check
// run: sse-divzero
// run: x87-divzero
// run: general-protection
// run: stack-overflow
// run: bound-into
#include "common.h"
#include <stdint.h>
#include <xmmintrin.h>

static int recurse(int n)
{
	volatile char pad[4096];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *m = argv[1];
	printf("fault %s\n", m);
	fflush(stdout);
	volatile int zero = 0;
	if (!strcmp(m, "ud2")) {
		__asm__ volatile("ud2");
	} else if (!strcmp(m, "int3")) {
		__asm__ volatile("int3");
	} else if (!strcmp(m, "div0")) {
		printf("%d\n", 7 / zero);
	} else if (!strcmp(m, "div-overflow")) {
		volatile long long big = INT64_MIN, m1 = -1;
		printf("%lld\n", big / m1);
	} else if (!strcmp(m, "align-check")) {
		static char buf[16];
		volatile uint32_t *p = (uint32_t *)(buf + 1);
		__asm__ volatile("pushf; orl $0x40000, (%rsp); popf");
		*p = 1;
	} else if (!strcmp(m, "sse-divzero")) {
		_mm_setcsr(_mm_getcsr() & ~_MM_MASK_DIV_ZERO);
		volatile float a = 1.0f, b = 0.0f;
		printf("%f\n", a / b);
	} else if (!strcmp(m, "x87-divzero")) {
		uint16_t cw;
		__asm__ volatile("fnstcw %0" : "=m"(cw));
		cw &= (uint16_t)~0x4;
		__asm__ volatile("fldcw %0" ::"m"(cw));
		volatile long double a = 1.0L, b = 0.0L;
		printf("%Lf\n", a / b);
	} else if (!strcmp(m, "general-protection")) {
		__asm__ volatile("movq $0x8000000000000000, %%rax; movq (%%rax), %%rax" ::: "rax");
	} else if (!strcmp(m, "stack-overflow")) {
		printf("%d\n", recurse(0));
	} else if (!strcmp(m, "bound-into")) {
		__asm__ volatile("int $4");
	}
	printf("survived %s\n", m);
	return 0;
}
