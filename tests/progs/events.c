/* epoll, eventfd, timerfd, inotify, memfd, getcpu, mincore, sched_setaffinity. */
#include "common.h"
#include <sys/syscall.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <fcntl.h>
#include <unistd.h>

int main(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	int ep = epoll_create1(EPOLL_CLOEXEC);
	SHOW(ep >= 0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 0x1122334455667788ULL };
	SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	struct epoll_event out[4];
	SHOW(epoll_wait(ep, out, 4, 0));
	SHOW(write(p[1], "x", 1));
	SHOW(epoll_wait(ep, out, 4, 1000));
	printf("data %llx events %x\n", (unsigned long long)out[0].data.u64, out[0].events);
	SHOW(epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev));
	SHOW(epoll_wait(ep, (struct epoll_event *)0x10, 4, 0));

	int efd = eventfd(3, 0);
	uint64_t v = 0;
	SHOW(read(efd, &v, 8));
	printf("eventfd %llu\n", (unsigned long long)v);

	int tfd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec its = { .it_value = { 0, 20 * 1000 * 1000 } }, cur;
	SHOW(timerfd_settime(tfd, 0, &its, NULL));
	SHOW(timerfd_gettime(tfd, &cur));
	SHOW(read(tfd, &v, 8));
	printf("expirations %llu\n", (unsigned long long)v);

	int in = inotify_init1(IN_NONBLOCK);
	SHOW(in >= 0);
	int wd = inotify_add_watch(in, ".", IN_CREATE);
	SHOW(wd >= 0);
	close(open("created", O_CREAT | O_WRONLY, 0600));
	char buf[4096];
	long n = read(in, buf, sizeof(buf));
	struct inotify_event *ie = (struct inotify_event *)buf;
	printf("inotify %d [%s]\n", n > 0, n > 0 ? ie->name : "");
	SHOW(inotify_rm_watch(in, wd));

	int mfd = memfd_create("kvmse-test", 0);
	SHOW(write(mfd, "memfd", 5));
	SHOW(lseek(mfd, 0, SEEK_END));

	unsigned cpu = 99, node = 99;
	SHOW(syscall(SYS_getcpu, &cpu, &node, NULL));
	printf("cpu valid %d\n", cpu < 4096);

	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[0] = 1;
	unsigned char vec[4];
	SHOW(mincore(m, 4 * pg, vec));
	printf("first page resident %d\n", vec[0] & 1);
	munmap(m + pg, pg);
	SHOW(mincore(m, 4 * pg, vec));
	/* A file's pages are resident while in the page cache (written just now); locked
	 * pages are. */
	int fd = open("cached", O_CREAT | O_RDWR | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, 2 * pg) == 0 && pwrite(fd, "x", 1, pg) == 1);
	char *f = mmap(NULL, 2 * pg, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(f != MAP_FAILED);
	SHOW(mincore(f, 2 * pg, vec));
	printf("file's second page resident %d\n", vec[1] & 1);
	CHECK(munmap(f, 2 * pg) == 0 && close(fd) == 0);
	char *l = mmap(NULL, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	CHECK(l != MAP_FAILED);
	SHOW(mincore(l, 3 * pg, vec));
	printf("locked: %d %d %d\n", vec[0] & 1, vec[1] & 1, vec[2] & 1);
	SHOW(mincore(l, 3 * pg, (void *)1));

	cpu_set_t set;
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	SHOW(sched_setaffinity(0, sizeof(set), &set));
	return 0;
}
