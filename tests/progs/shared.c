/* shared.c - MAP_SHARED memory: anonymous memory a fork shares, process-shared futexes
 * (semaphores, mutexes) in it, and file mappings coherent with read/write and with other
 * processes; what stays private (MAP_PRIVATE after fork, remaps of a freed page). */
// run: anon
// run: sem
// run: file
// run: rights
// run: advice
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void wait_child(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child: %s %d\n", WIFEXITED(st) ? "exited" : "killed",
	       WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
}

static void *map(size_t len, int flags)
{
	void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, flags | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	return m;
}

/* A child's writes to shared memory reach the parent, to private memory not. */
static void anon(void)
{
	size_t len = 64 << 10;
	char *shared = map(len, MAP_SHARED), *priv = map(4096, MAP_PRIVATE);
	strcpy(shared + 40000, "before");
	strcpy(priv, "private");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		printf("child sees: %s\n", shared + 40000);
		strcpy(shared, "written by the child");
		strcpy(shared + 40000, "after");
		strcpy(priv, "changed");
		munmap(shared, len);    /* the parent's stays */
		_exit(0);
	}
	wait_child(pid);
	printf("parent sees: %s / %s / %s\n", shared, shared + 40000, priv);
	/* freed shared pages are private zeros when mapped again */
	CHECK(munmap(shared, len) == 0);
	char *again = mmap(shared, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(again == shared);
	unsigned long nonzero = 0;
	for (size_t i = 0; i < len; i++)
		nonzero += again[i] != 0;
	printf("remapped: %lu nonzero bytes\n", nonzero);
	/* a grandchild too */
	int *counter = map(4096, MAP_SHARED);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		__atomic_add_fetch(counter, 1, __ATOMIC_SEQ_CST);
		pid_t g = fork();
		if (g == 0) {
			__atomic_add_fetch(counter, 10, __ATOMIC_SEQ_CST);
			_exit(0);
		}
		waitpid(g, NULL, 0);
		_exit(0);
	}
	wait_child(pid);
	printf("counter: %d\n", *counter);
}

/* Semaphores and a robust-less process-shared mutex between two processes. */
struct pingpong {
	sem_t ping, pong;
	pthread_mutex_t lock;
	long total;
};

static void sem(void)
{
	struct pingpong *pp = map(sizeof(*pp), MAP_SHARED);
	CHECK(sem_init(&pp->ping, 1, 0) == 0 && sem_init(&pp->pong, 1, 0) == 0);
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	CHECK(pthread_mutex_init(&pp->lock, &a) == 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 200; i++) {
			sem_wait(&pp->ping);
			pthread_mutex_lock(&pp->lock);
			pp->total += i;
			pthread_mutex_unlock(&pp->lock);
			sem_post(&pp->pong);
		}
		_exit(0);
	}
	for (int i = 0; i < 200; i++) {
		sem_post(&pp->ping);
		sem_wait(&pp->pong);
		pthread_mutex_lock(&pp->lock);
		pp->total += 1000;
		pthread_mutex_unlock(&pp->lock);
	}
	wait_child(pid);
	printf("200 round trips, total %ld\n", pp->total);
}

/* A shared file mapping is the file: read() and write() see it, so does another process. */
static void file(void)
{
	int fd = open("shared.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "hello, file", 11) == 11);
	CHECK(ftruncate(fd, 8192) == 0);
	char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	printf("mapped: %s\n", m);
	memcpy(m, "HELLO", 5);
	char buf[16] = { 0 };
	CHECK(pread(fd, buf, 11, 0) == 11);
	printf("read() after a store: %s\n", buf);
	CHECK(pwrite(fd, "written", 7, 4096) == 7);
	printf("mapping after write(): %s\n", m + 4096);
	SHOW(msync(m, 8192, MS_SYNC));
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		/* its own mapping of the same file, made after the fork */
		int fd2 = open("shared.tmp", O_RDWR);
		char *m2 = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 4096);
		CHECK(m2 != MAP_FAILED);
		printf("child's mapping: %s\n", m2);
		memcpy(m2, "CHILD", 5);
		memcpy(m + 6, "inherited", 9);
		_exit(0);
	}
	wait_child(pid);
	printf("parent sees: %s / %.11s\n", m + 4096, m);
	/* a private mapping of the file is a copy: its stores stay in it */
	char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(c != MAP_FAILED);
	c[0] = 'p';
	printf("private copy: %.5s, shared: %.5s\n", c, m);
	/* grown by mremap, it maps the file's next page */
	char *g = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(g != MAP_FAILED);
	g = mremap(g, 4096, 8192, MREMAP_MAYMOVE);
	CHECK(g != MAP_FAILED);
	printf("grown: %.5s\n", g + 4096);
	CHECK(munmap(m, 8192) == 0 && munmap(c, 4096) == 0 && munmap(g, 8192) == 0);
	CHECK(pread(fd, buf, 15, 0) == 15);
	printf("file at the end: %.15s\n", buf);
	close(fd);
	unlink("shared.tmp");
}

/* What a file opened read-only allows. */
static void rights(void)
{
	int fd = open("rights.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "read only", 9) == 9);
	close(fd);
	fd = open("rights.tmp", O_RDONLY);
	SHOW(mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0);
	char *m = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
	CHECK(m != MAP_FAILED);
	printf("mapped: %.9s\n", m);
	SHOW(mprotect(m, 4096, PROT_READ | PROT_WRITE));
	SHOW(mprotect(m, 4096, PROT_NONE));
	SHOW(mprotect(m, 4096, PROT_READ));
	printf("again: %.9s\n", m);
	/* a write()-side call into it is EFAULT, not a crash */
	int p[2];
	CHECK(pipe(p) == 0 && write(p[1], "x", 1) == 1);
	SHOW(read(p[0], m, 1));
	/* private: writable, a copy */
	char *c = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(c != MAP_FAILED);
	c[0] = 'R';
	printf("private: %.9s, shared: %.9s\n", c, m);
	SHOW(mmap(NULL, 4096, PROT_READ, MAP_SHARED, p[0], 0) == MAP_FAILED ? -1 : 0);
	close(fd);
	unlink("rights.tmp");
	/* /dev/zero maps anonymous memory */
	int z = open("/dev/zero", O_RDWR);
	char *zm = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, z, 0);
	CHECK(zm != MAP_FAILED);
	zm[100] = 7;
	fflush(stdout);
	if (fork() == 0) {
		zm[200] = zm[100] + 1;
		_exit(0);
	}
	wait(NULL);
	printf("/dev/zero shared: %d %d\n", zm[100], zm[200]);
	close(z);
	z = open("/dev/zero", O_RDONLY);        /* read-only: never writable */
	zm = mmap(NULL, 4096, PROT_READ, MAP_SHARED, z, 0);
	CHECK(zm != MAP_FAILED);
	SHOW(mprotect(zm, 4096, PROT_READ | PROT_WRITE));
	close(z);
}

/* madvise on shared memory: DONTNEED keeps what others see, REMOVE punches it out. */
static void advice(void)
{
	char *m = map(3 * 4096, MAP_SHARED);
	memset(m, 'a', 3 * 4096);
	SHOW(madvise(m, 4096, MADV_DONTNEED));
	printf("after DONTNEED: %c\n", m[0]);
	SHOW(madvise(m + 4096, 4096, MADV_REMOVE));
	printf("after REMOVE: %d %c\n", m[4096], m[8192]);
	char *p = map(4096, MAP_PRIVATE);
	p[0] = 'b';
	SHOW(madvise(p, 4096, MADV_DONTNEED));
	printf("private after DONTNEED: %d\n", p[0]);
	SHOW(madvise(p, 4096, MADV_REMOVE));
	/* PROT_NONE shared memory made accessible later is still shared */
	char *n = mmap(NULL, 4096, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(n != MAP_FAILED);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK(mprotect(n, 4096, PROT_READ | PROT_WRITE) == 0);
		strcpy(n, "late");
		_exit(0);
	}
	wait_child(pid);
	CHECK(mprotect(n, 4096, PROT_READ) == 0);
	printf("PROT_NONE at first: %s\n", n);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *m = argc > 1 ? argv[1] : "anon";
	if (!strcmp(m, "anon"))
		anon();
	else if (!strcmp(m, "sem"))
		sem();
	else if (!strcmp(m, "file"))
		file();
	else if (!strcmp(m, "rights"))
		rights();
	else if (!strcmp(m, "advice"))
		advice();
	return 0;
}
