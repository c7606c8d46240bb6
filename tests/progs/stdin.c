/* Reading standard input to the end, in lines and bytes. */
// stdin: lines.txt
#include "common.h"

int main(void)
{
	char line[256];
	long lines = 0, bytes = 0;
	unsigned long h = 0;
	while (fgets(line, sizeof(line), stdin)) {
		lines++;
		bytes += (long)strlen(line);
		h = h * 31 + checksum(line, strlen(line));
	}
	printf("lines=%ld bytes=%ld h=%lx eof=%d\n", lines, bytes, h, feof(stdin));
	return 0;
}
