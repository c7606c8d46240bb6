/* Floating point and glibc's SIMD string functions over sizes and alignments. */
#include "common.h"
#include <math.h>

int main(void)
{
	double x = 0;
	for (int i = 1; i < 100000; i++)
		x += sin(i) * sqrt((double)i) / (1.0 + log((double)i));
	printf("x=%.10f\n", x);
	long double ld = 1;
	for (int i = 1; i < 30; i++)
		ld *= 1.5L;
	printf("ld=%.10Lf\n", ld);
	float f = 1e30f;
	printf("f*f=%f 1/0=%f nan=%f\n", f * f, 1.0 / (x - x), sqrt(-1.0 + (x - x)));
	static char a[8192], b[8192];
	unsigned long h = 0;
	for (int off = 0; off < 64; off++) {
		for (int len = 0; len < 3000; len += 97) {
			memset(a, 'a', sizeof(a));
			a[off + len] = 0;
			h = h * 31 + strlen(a + off);
			memcpy(b + (off ^ 7), a + off, (size_t)len);
			h = h * 31 + (unsigned long)memcmp(b + (off ^ 7), a + off, (size_t)len);
			h = h * 31 + (unsigned long)(memchr(a + off, 0, (size_t)len + 1) != NULL);
			h = h * 31 + (unsigned long)(strchr(a + off, 'b') == NULL);
			a[off + len] = 'a';
		}
	}
	strcpy(a, "the quick brown fox jumps over the lazy dog");
	printf("strstr=%s h=%lx\n", strstr(a, "lazy"), h);
	char out[64];
	snprintf(out, sizeof(out), "%g %e %.3f", 3.14159, 2.5e-10, 1.0 / 3);
	printf("%s\n", out);
	return 0;
}
