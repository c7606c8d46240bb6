/* Small and huge allocations: malloc, calloc, realloc, free, with contents checked. */
#include "common.h"
#include <stdint.h>

int main(void)
{
	enum { N = 4000 };
	static char *blocks[N];
	static size_t sizes[N];
	unsigned long seed = 12345, sum = 0;
	for (int round = 0; round < 4; round++) {
		for (int i = 0; i < N; i++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t sz = (seed >> 33) % (i % 100 == 0 ? (4u << 20) : 512);
			if (blocks[i] && (seed & 1)) {
				blocks[i] = realloc(blocks[i], sz + 1);
				CHECK(blocks[i]);
				sizes[i] = sz + 1;
			} else {
				free(blocks[i]);
				blocks[i] = (seed & 2) ? calloc(1, sz + 1) : malloc(sz + 1);
				CHECK(blocks[i]);
				if (seed & 2)
					for (size_t k = 0; k < sz + 1; k++)
						CHECK(blocks[i][k] == 0);
				sizes[i] = sz + 1;
			}
			memset(blocks[i], (int)(i & 0xff), sizes[i]);
		}
		for (int i = 0; i < N; i++)
			sum += checksum(blocks[i], sizes[i]) ^ sizes[i];
	}
	for (int i = 0; i < N; i++)
		free(blocks[i]);
	char *huge = malloc(256u << 20);
	CHECK(huge);
	for (size_t i = 0; i < (256u << 20); i += 4096)
		huge[i] = (char)i;
	free(huge);
	printf("checksum %lx\n", sum);
	return 0;
}
