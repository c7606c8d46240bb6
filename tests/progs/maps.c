/* /proc/self/maps shows the program's own memory: its stack, heap and code. Opened
 * read-only, it takes no write and no splice (EBADF); it has no page cache (cachestat). */
#include "common.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void)
{
	int local = 0;
	char *m = malloc(10);
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f);
	char line[512];
	int stack = 0, heap = 0, code = 0, n = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		n++;
		if (sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		unsigned long sp = (unsigned long)&local, hp = (unsigned long)m, pc = (unsigned long)main;
		stack |= strstr(line, "[stack]") && sp >= a && sp < b;
		heap |= strstr(line, "[heap]") && hp >= a && hp < b;
		code |= strstr(line, "r-xp") && strstr(line, "/maps") && pc >= a && pc < b;
	}
	fclose(f);
	printf("stack %d heap %d code %d several lines %d\n", stack, heap, code, n > 3);
	free(m);
	int fd = open("/proc/self/maps", O_RDONLY);
	CHECK(fd >= 0);
	SHOW(fcntl(fd, F_GETFL) & O_ACCMODE);
	SHOW(write(fd, "x", 1));
	int pfd[2];
	CHECK(pipe(pfd) == 0 && write(pfd[1], "abc", 3) == 3);
	SHOW(splice(pfd[0], NULL, fd, NULL, 3, 0));
	uint64_t range[2] = { 0, 0 }, cs[5] = { 1, 1, 1, 1, 1 };
	long rc = syscall(451 /* cachestat */, fd, range, cs, 0);
	if (rc == 0 || errno != ENOSYS)
		printf("cachestat: %ld, %llu cached\n", rc, (unsigned long long)cs[0]);
	close(fd);
	return local;
}
