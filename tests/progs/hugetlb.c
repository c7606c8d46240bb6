/* hugetlb memory, anonymous (MAP_HUGETLB) and of a MFD_HUGETLB memfd: the length rounds
 * up to the huge page, which addresses are aligned to; munmap and mprotect may not split
 * one (EINVAL); a shared one is shared with a fork's child; with every huge page taken a
 * mapping is ENOMEM. As root the test sets aside two huge pages for itself (and puts the
 * count back); otherwise every mapping is ENOMEM, natively as under kvmse. */
#include "common.h"
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef MFD_HUGETLB
#define MFD_HUGETLB 4
#endif

#define HUGE (2UL << 20)
#define NR "/proc/sys/vm/nr_hugepages"

static long get_nr(void)
{
	char buf[32] = "";
	int fd = open(NR, O_RDONLY);
	if (fd < 0)
		return -1;
	CHECK(read(fd, buf, sizeof(buf) - 1) >= 0);
	close(fd);
	return atol(buf);
}

static void set_nr(long n)
{
	char buf[32];
	int fd = open(NR, O_WRONLY);
	if (fd < 0)
		return;
	int len = snprintf(buf, sizeof(buf), "%ld\n", n);
	if (write(fd, buf, (size_t)len) < 0)
		perror("nr_hugepages");
	close(fd);
}

/* The name /proc/self/maps gives the mapping at 'p'. */
static void maps_name(const char *what, void *p)
{
	char line[512], want[32];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)p);
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		char *name = line;
		for (int field = 0; field < 5 && name; field++)
			name = strchr(name + 1, ' ');
		printf("%s named:%s", what, name ? name + strspn(name, " ") - 1 : "?\n");
	}
	fclose(f);
}

static const char *outcome(void *p)
{
	return p == MAP_FAILED ? strerror(errno) : "mapped";
}

static void anonymous(void)
{
	char *p = mmap(NULL, 3 * HUGE / 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		       -1, 0);
	printf("anonymous, 3 MiB: %s\n", outcome(p));
	if (p == MAP_FAILED)
		return;
	printf("aligned: %s\n", ((unsigned long)p & (HUGE - 1)) ? "no" : "yes");
	maps_name("anonymous", p);
	p[0] = 1;
	p[2 * HUGE - 1] = 2;        /* the length was rounded up to 4 MiB */
	printf("contents: %d %d %d\n", p[0], p[HUGE], p[2 * HUGE - 1]);
	int fd = syscall(SYS_memfd_create, "more", MFD_HUGETLB);
	CHECK(fd >= 0);
	char *q = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("one more with none left: %s\n", outcome(q));
	close(fd);
	SHOW(munmap(p, 4096));
	SHOW(munmap(p + HUGE, 4096));
	SHOW(mprotect(p, 4096, PROT_READ));
	SHOW(mprotect(p, HUGE, PROT_READ));
	SHOW(munmap(p + HUGE, HUGE));
	SHOW(munmap(p, HUGE));
	SHOW(mmap(p + 4096, HUGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_FIXED, -1, 0) ==
	     MAP_FAILED ? -1 : 0);
}

static void shared_memfd(void)
{
	int fd = syscall(SYS_memfd_create, "shared", MFD_HUGETLB);
	CHECK(fd >= 0);
	char *p = mmap(NULL, HUGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	printf("memfd, shared: %s\n", outcome(p));
	if (p == MAP_FAILED)
		return;
	maps_name("memfd", p);
	SHOW(mmap(NULL, HUGE, PROT_READ, MAP_SHARED, fd, 4096) == MAP_FAILED ? -1 : 0);
	p[100] = 5;
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		p[200] = p[100] + 1;
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	printf("the child's store: %d\n", p[200]);
	struct stat st;
	CHECK(fstat(fd, &st) == 0);
	printf("file size %ld\n", (long)st.st_size);
	SHOW(munmap(p, HUGE));
	close(fd);
}

int main(void)
{
	long nr = get_nr();
	if (nr >= 0)
		set_nr(nr + 2);
	int fd = open("/proc/self/exe", O_RDONLY);
	CHECK(fd >= 0);
	SHOW(mmap(NULL, HUGE, PROT_READ, MAP_PRIVATE | MAP_HUGETLB, fd, 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	anonymous();
	shared_memfd();
	if (nr >= 0)
		set_nr(nr);
	return 0;
}
