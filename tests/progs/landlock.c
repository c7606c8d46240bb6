/* landlock.c - Landlock: the ABI version; the errors of its three calls; a domain that
 * lets the program write in one directory only and execute only from /usr and one
 * subdirectory: writes elsewhere are refused, for a forked child and a thread started
 * after too, but not for a thread that was running before; execve of a program it may
 * read but not execute is refused (as is execveat's AT_EXECVE_CHECK), one it may
 * execute runs. */
// run:
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* <linux/landlock.h>'s (musl's headers lack it) */
#define VERSION 1
#define EXECUTE (1u << 0)
#define WRITE_FILE (1u << 1)
#define READ_FILE (1u << 2)
#define READ_DIR (1u << 3)
#define REMOVE_FILE (1u << 5)
#define MAKE_REG (1u << 8)
#define PATH_BENEATH 1
#define EXECVE_CHECK 0x10000
#define NR_CREATE 444                   /* (musl's headers may lack them) */
#define NR_ADD 445
#define NR_RESTRICT 446
struct beneath {
	uint64_t access;
	int32_t fd;
} __attribute__((packed));

static long create(const void *attr, size_t size, unsigned flags)
{
	return syscall(NR_CREATE, attr, size, flags);
}
static long add(int rs, unsigned type, const void *attr)
{
	return syscall(NR_ADD, rs, type, attr, 0);
}

static void allow(int rs, const char *path, uint64_t access)
{
	struct beneath b = { access, open(path, O_PATH | O_CLOEXEC) };
	CHECK(b.fd >= 0 && add(rs, PATH_BENEATH, &b) == 0);
	close(b.fd);
}

static char dir[64], outside[80];

/* Write to the file outside the allowed directory: 0 or the errno. */
static int write_outside(void)
{
	int fd = open(outside, O_WRONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static pthread_barrier_t bar;
static void *before(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);     /* (the other thread restricts itself) */
	pthread_barrier_wait(&bar);
	printf("a thread from before writes outside: %s\n", strerror(write_outside()));
	return NULL;
}
static void *after(void *arg)
{
	(void)arg;
	printf("a thread from after writes outside: %s\n", strerror(write_outside()));
	return NULL;
}

static void run(const char *prog)
{
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { (char *)prog, outside, NULL };
		execv(prog, argv);
		printf("execve of %s: %s\n", strrchr(prog, '/') + 1, strerror(errno));
		fflush(stdout);
		_exit(1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("status %d\n", WEXITSTATUS(st));
}

static void restricted(int rs, const char *noexec, const char *yesexec, const char *inside);

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1) {
		snprintf(outside, sizeof(outside), "%s", argv[1]);
		printf("executed, writes outside: %s\n", strerror(write_outside()));
		return 0;
	}
	long abi = create(NULL, 0, VERSION);
	printf("abi %s\n", abi >= 1 ? "1 or more" : strerror(errno));
	uint64_t handled = 0;
	SHOW(create(NULL, 0, 0));
	SHOW(create(&handled, sizeof(handled), 0));     /* handles nothing */
	handled = WRITE_FILE;
	SHOW(create(&handled, sizeof(handled), 99));
	SHOW(create((void *)16, sizeof(handled), 0));
	SHOW(create(&handled, 8192, 0));
	SHOW(create(&handled, 4, 0));
	handled = EXECUTE | WRITE_FILE | READ_FILE | READ_DIR | REMOVE_FILE | MAKE_REG;
	int rs = (int)create(&handled, sizeof(handled), 0);
	CHECK(rs >= 0);
	struct beneath b = { WRITE_FILE, -1 };
	SHOW(add(rs, PATH_BENEATH, &b));
	SHOW(add(-1, PATH_BENEATH, &b));
	SHOW(add(rs, 9, &b));
	SHOW(add(rs, PATH_BENEATH, (void *)16));
	b.fd = open("/", O_PATH);
	b.access = 1ULL << 40;
	SHOW(add(rs, PATH_BENEATH, &b));
	SHOW(syscall(NR_ADD, rs, PATH_BENEATH, &b, 1));
	SHOW(syscall(NR_RESTRICT, -1, 0));
	SHOW(syscall(NR_RESTRICT, rs, 1u << 30));

	snprintf(dir, sizeof(dir), "/tmp/landlock.XXXXXX");
	CHECK(mkdtemp(dir));
	snprintf(outside, sizeof(outside), "%s.out", dir);
	close(open(outside, O_WRONLY | O_CREAT, 0644));
	char sub[96], noexec[96], yesexec[128], inside[96];
	snprintf(sub, sizeof(sub), "%s/x", dir);
	CHECK(mkdir(sub, 0755) == 0);
	snprintf(noexec, sizeof(noexec), "%s/prog", dir);
	snprintf(yesexec, sizeof(yesexec), "%s/prog", sub);
	snprintf(inside, sizeof(inside), "%s/file", dir);
	int out = open(noexec, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	copy_self(out);
	close(out);
	out = open(yesexec, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	copy_self(out);
	close(out);
	allow(rs, "/", READ_FILE | READ_DIR);
	allow(rs, "/usr", EXECUTE);             /* (a dynamic program's loader and libraries) */
	allow(rs, dir, WRITE_FILE | REMOVE_FILE | MAKE_REG);
	allow(rs, sub, EXECUTE);

	/* (in a child: the parent, not restricted, cleans up) */
	pid_t top = fork();
	if (top == 0)
		restricted(rs, noexec, yesexec, inside);
	CHECK(waitpid(top, NULL, 0) == top);
	unlink(inside);
	unlink(noexec);
	unlink(yesexec);
	unlink(outside);
	rmdir(sub);
	rmdir(dir);
	return 0;
}

static void restricted(int rs, const char *noexec, const char *yesexec, const char *inside)
{
	pthread_barrier_init(&bar, NULL, 2);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, before, NULL) == 0);
	pthread_barrier_wait(&bar);
	SHOW(syscall(NR_RESTRICT, rs, 0));
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	CHECK(pthread_create(&t, NULL, after, NULL) == 0);
	pthread_join(t, NULL);
	printf("writes outside: %s\n", strerror(write_outside()));
	int fd = open(inside, O_WRONLY | O_CREAT, 0644);
	SHOW(fd >= 0 ? write(fd, "in", 2) : -1);
	printf("reads /etc/passwd: %s\n", open("/etc/passwd", O_RDONLY) >= 0 ? "yes" : strerror(errno));
	pid_t pid = fork();
	if (pid == 0) {
		printf("a child writes outside: %s\n", strerror(write_outside()));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	char *none[] = { NULL };
	long chk = syscall(SYS_execveat, AT_FDCWD, noexec, none, none, EXECVE_CHECK);
	printf("AT_EXECVE_CHECK: %s\n", chk == 0 ? "allowed" : strerror(errno));
	run(noexec);
	run(yesexec);
	exit(0);
}
