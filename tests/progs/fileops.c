/* fileops.c - file calls beyond open/read/write: creat, mknod, extended attributes,
 * splice, tee and vmsplice, preadv2/pwritev2, sync calls, pseudo-terminals, fexecve, and
 * newer or older ones ("more": openat2, fchmodat2, futimesat, acct, inotify_init,
 * ioprio, membarrier, readahead, sched_getattr; "info": utime, ustat, sysfs, cachestat,
 * lsm_list_modules). */
// run: files
// run: more
// run: info
// run: pipes
// run: pty
// run: fexecve
#include "common.h"
#include <fcntl.h>
#include <pty.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef RWF_DSYNC
#define RWF_DSYNC 2      /* (musl's headers lack it) */
#endif

extern char **environ;

/* The raw calls (musl has no wrappers): on x86-64 the offset is one argument, then 0. */
static long rv2(long nr, int fd, struct iovec *iov, int n, long off, int flags)
{
	return syscall(nr, fd, iov, n, off, 0, flags);
}

static void files(void)
{
	int fd = creat("made.tmp", 0640);
	CHECK(fd >= 0);
	SHOW(write(fd, "0123456789", 10));
	SHOW(read(fd, (char[4]){ 0 }, 4));     /* write-only */
	close(fd);
	struct stat st;
	CHECK(stat("made.tmp", &st) == 0);
	printf("mode %o size %ld\n", st.st_mode & 0777, (long)st.st_size);
	SHOW(mknod("fifo.tmp", S_IFIFO | 0600, 0));
	CHECK(stat("fifo.tmp", &st) == 0);
	printf("fifo %d\n", S_ISFIFO(st.st_mode));
	SHOW(mknodat(AT_FDCWD, "fifo.tmp", S_IFIFO | 0600, 0));
	SHOW(mknod("bad.tmp", 0777777, 0));
	unlink("fifo.tmp");

	/* extended attributes: where the file system has them, the same answers */
	int rc = setxattr("made.tmp", "user.kvmse", "value", 5, 0);
	printf("setxattr: %s\n", rc == 0 ? "ok" : strerror(errno));
	if (rc == 0) {
		char buf[64] = { 0 };
		SHOW(getxattr("made.tmp", "user.kvmse", buf, sizeof(buf)));
		printf("value %s\n", buf);
		SHOW(getxattr("made.tmp", "user.kvmse", NULL, 0));
		SHOW(getxattr("made.tmp", "user.kvmse", buf, 2));
		SHOW(lgetxattr("made.tmp", "user.none", buf, sizeof(buf)));
		ssize_t n = listxattr("made.tmp", buf, sizeof(buf));
		printf("list has user.kvmse: %d\n", n > 0 && memmem(buf, (size_t)n, "user.kvmse", 10) != NULL);
		SHOW(setxattr("made.tmp", "user.kvmse", "x", 1, XATTR_CREATE));
		fd = open("made.tmp", O_RDWR);
		SHOW(fsetxattr(fd, "user.other", "y", 1, 0));
		SHOW(fgetxattr(fd, "user.other", buf, sizeof(buf)));
		SHOW(flistxattr(fd, NULL, 0) > 0);
		SHOW(fremovexattr(fd, "user.other"));
		close(fd);
		SHOW(removexattr("made.tmp", "user.kvmse"));
		SHOW(removexattr("made.tmp", "user.kvmse"));
	}
	SHOW(getxattr("missing.tmp", "user.kvmse", NULL, 0));
	SHOW(getxattr("made.tmp", "user.kvmse", (void *)16, 64));

	/* preadv2/pwritev2 at an offset, and at the file position (-1) */
	fd = open("made.tmp", O_RDWR);
	char a[4] = { 0 }, b[4] = { 0 };
	struct iovec iov[2] = { { a, 3 }, { b, 3 } };
	SHOW(rv2(SYS_preadv2, fd, iov, 2, 2, 0));
	printf("%.3s %.3s\n", a, b);
	SHOW(rv2(SYS_preadv2, fd, iov, 2, -1, 0));
	printf("%.3s %.3s\n", a, b);
	struct iovec w = { "AB", 2 };
	SHOW(rv2(SYS_pwritev2, fd, &w, 1, 8, RWF_DSYNC));
	SHOW(rv2(SYS_preadv2, fd, iov, 2, 0, 0x1000));   /* an unknown flag */
	SHOW(sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE));
	SHOW(syncfs(fd));
	sync();
	close(fd);
	CHECK(pread(open("made.tmp", O_RDONLY), a, 4, 7) == 3);
	printf("tail %.3s\n", a);
	unlink("made.tmp");
}

static void pipes(void)
{
	int p1[2], p2[2], p3[2];
	CHECK(pipe(p1) == 0 && pipe(p2) == 0 && pipe(p3) == 0);
	CHECK(write(p1[1], "spliced data", 12) == 12);
	SHOW(tee(p1[0], p2[1], 100, 0));
	SHOW(splice(p1[0], NULL, p3[1], NULL, 100, 0));
	char buf[32] = { 0 };
	SHOW(read(p2[0], buf, sizeof(buf)));
	printf("tee: %s\n", buf);
	memset(buf, 0, sizeof(buf));
	SHOW(read(p3[0], buf, sizeof(buf)));
	printf("splice: %s\n", buf);
	/* vmsplice: user memory into a pipe (two buffers), then out of one into memory */
	struct iovec in[2] = { { "vm", 2 }, { "spliced", 7 } };
	SHOW(vmsplice(p1[1], in, 2, 0));
	char o1[4] = { 0 }, o2[16] = { 0 };
	struct iovec out[2] = { { o1, 3 }, { o2, sizeof(o2) - 1 } };
	SHOW(vmsplice(p1[0], out, 2, 0));
	printf("vmsplice: %s|%s\n", o1, o2);
	SHOW(vmsplice(p1[1], (struct iovec *)8, 1, 0));
	SHOW(vmsplice(-1, in, 2, 0));
	SHOW(vmsplice(p1[1], in, 5000, 0));
	/* from a file at an offset the call updates */
	int fd = open("src.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(write(fd, "abcdefghij", 10) == 10);
	loff_t off = 3;
	SHOW(splice(fd, &off, p3[1], NULL, 4, 0));
	printf("offset now %lld\n", (long long)off);
	memset(buf, 0, sizeof(buf));
	SHOW(read(p3[0], buf, sizeof(buf)));
	printf("from the file: %s\n", buf);
	SHOW(splice(fd, (loff_t *)8, p3[1], NULL, 4, 0));
	SHOW(splice(fd, NULL, fd, NULL, 4, 0));
	SHOW(tee(fd, p3[1], 4, 0));
	close(fd);
	unlink("src.tmp");
}

static void pty(void)
{
	int master, slave;
	char name[64];
	SHOW(openpty(&master, &slave, name, NULL, NULL));
	printf("name is a pts: %d\n", !strncmp(name, "/dev/pts/", 9));
	CHECK(write(slave, "to master\n", 10) == 10);
	char buf[64] = { 0 };
	SHOW(read(master, buf, sizeof(buf)) > 0);
	printf("master read: %s", buf);
	int m2 = posix_openpt(O_RDWR | O_NOCTTY);
	CHECK(m2 >= 0);
	SHOW(grantpt(m2));
	SHOW(unlockpt(m2));
	printf("ptsname: %d\n", ptsname(m2) != NULL && !strncmp(ptsname(m2), "/dev/pts/", 9));
	int lock = 1;
	SHOW(ioctl(m2, TIOCSPTLCK, &lock));
	SHOW(ioctl(m2, TIOCGPTPEER, O_RDWR) >= 0 ? 0 : -1);
	SHOW(ioctl(m2, TIOCGPTN, (void *)16));
}

static void fexec(char *self)
{
	int fd = open(self, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		char *args[] = { "fexecve", "files-child", NULL };
		fexecve(fd, args, environ);
		printf("fexecve: %s\n", strerror(errno));
		_exit(1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child exited %d\n", WEXITSTATUS(st));
	char *args[] = { "x", NULL };
	SHOW(syscall(SYS_execveat, fd, "", args, environ, 0));
	SHOW(syscall(SYS_execveat, fd, "", args, environ, 0x8000));
	SHOW(syscall(SYS_execveat, 9999, "", args, environ, AT_EMPTY_PATH));
}

struct how { uint64_t flags, mode, resolve; };        /* struct open_how */

static void more(void)
{
	struct how how = { O_RDONLY | O_CLOEXEC, 0, 0 };
	long fd = syscall(437 /* openat2 */, AT_FDCWD, "/proc/self/exe", &how, sizeof(how));
	printf("openat2 of /proc/self/exe: %s\n", fd >= 0 ? "opened" : strerror(errno));
	if (fd >= 0)
		close((int)fd);
	how.resolve = 2;                /* RESOLVE_NO_MAGICLINKS */
	SHOW(syscall(437, AT_FDCWD, "/proc/self/exe", &how, sizeof(how)));
	how.resolve = 0;
	SHOW(syscall(437, AT_FDCWD, ".", &how, 8));     /* smaller than any version */
	SHOW(syscall(437, AT_FDCWD, ".", &how, 8192));  /* larger than a page */
	SHOW(syscall(437, AT_FDCWD, ".", (void *)8, sizeof(how)));
	how.flags = O_RDONLY | O_DIRECTORY;
	fd = syscall(437, AT_FDCWD, "/", &how, sizeof(how));
	CHECK(fd >= 0);
	close((int)fd);

	CHECK(close(open("at-file", O_CREAT | O_WRONLY, 0600)) == 0);
	CHECK(symlink("at-file", "at-link") == 0);
	SHOW(syscall(452 /* fchmodat2 */, AT_FDCWD, "at-file", 0640, 0));
	SHOW(syscall(452, AT_FDCWD, "at-link", 0600, AT_SYMLINK_NOFOLLOW));
	SHOW(syscall(452, AT_FDCWD, "at-file", 0600, 0x1));     /* not a flag */
	struct stat st;
	CHECK(stat("at-file", &st) == 0);
	printf("mode %03o\n", st.st_mode & 0777);
	struct timeval tv[2] = { { 1000000, 0 }, { 2000000, 0 } };
	SHOW(syscall(261 /* futimesat */, AT_FDCWD, "at-file", tv));
	CHECK(stat("at-file", &st) == 0);
	printf("mtime %ld\n", (long)st.st_mtime);
	SHOW(syscall(261, AT_FDCWD, "at-file", (void *)8));
	unlink("at-link");
	unlink("at-file");

	/* process accounting: on to a file, then off (root only: EPERM alike otherwise) */
	CHECK(close(open("at-acct", O_CREAT | O_WRONLY, 0600)) == 0);
	SHOW(acct("at-acct"));
	SHOW(acct(NULL));
	SHOW(acct((const char *)8));
	unlink("at-acct");

	fd = syscall(253 /* inotify_init */);
	printf("inotify_init: %s\n", fd >= 0 ? "a descriptor" : strerror(errno));
	if (fd >= 0)
		close((int)fd);
	long prio = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
	SHOW(syscall(SYS_ioprio_set, 1, 0, prio < 0 ? 0 : prio));
	SHOW(syscall(SYS_ioprio_get, 1, 0) == prio);
	SHOW(syscall(SYS_ioprio_get, 9, 0));
	long cmds = syscall(SYS_membarrier, 0 /* MEMBARRIER_CMD_QUERY */, 0, 0);
	printf("membarrier: private expedited %s\n", cmds > 0 && (cmds & 8) ? "offered" : "not offered");
	SHOW(syscall(SYS_membarrier, 16 /* REGISTER_PRIVATE_EXPEDITED */, 0, 0));
	SHOW(syscall(SYS_membarrier, 8 /* PRIVATE_EXPEDITED */, 0, 0));
	SHOW(syscall(SYS_membarrier, 0, 1, 0));

	int rfd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	CHECK(rfd >= 0);
	SHOW(syscall(SYS_readahead, rfd, 0, 4096));
	close(rfd);
	SHOW(syscall(SYS_readahead, -1, 0, 4096));
	uint32_t attr[16] = { 0 };       /* struct sched_attr: size first */
	SHOW(syscall(SYS_sched_getattr, 0, attr, sizeof(attr), 0));
	printf("sched_attr: size %u, policy %u\n", attr[0], attr[1]);
	SHOW(syscall(SYS_sched_setattr, 0, attr, 0));
	SHOW(syscall(SYS_sched_getattr, 0, attr, 8, 0));      /* smaller than any version */
	SHOW(syscall(SYS_sched_getattr, 0, (void *)8, sizeof(attr), 0));
	attr[0] = 4;
	SHOW(syscall(SYS_sched_setattr, 0, attr, 0));
	SHOW(syscall(SYS_sched_setattr, 0, (void *)8, 0));
}

#ifndef SYS_cachestat
#define SYS_cachestat 451
#endif
#ifndef SYS_lsm_list_modules
#define SYS_lsm_list_modules 461
#endif

static void info(void)
{
	int fd = open("file", O_CREAT | O_RDWR, 0600);
	CHECK(fd >= 0 && write(fd, "info", 4) == 4);
	long times[2] = { 1000000, 2000000 };       /* struct utimbuf */
	SHOW(syscall(SYS_utime, "file", times));
	SHOW(syscall(SYS_utime, "file", (void *)1));
	SHOW(syscall(SYS_utime, "no-such-file", times));
	struct stat st;
	CHECK(stat("file", &st) == 0);
	printf("utime: %ld %ld\n", (long)st.st_atime, (long)st.st_mtime);
	SHOW(syscall(SYS_utime, "file", NULL));

	uint64_t ust[4];                            /* struct ustat */
	SHOW(syscall(SYS_ustat, (unsigned)st.st_dev, ust));
	SHOW(syscall(SYS_ustat, (unsigned)st.st_dev, (void *)1));
	SHOW(syscall(SYS_ustat, 0xfffffu, ust));

	long n = syscall(SYS_sysfs, 3);
	printf("sysfs types: %d\n", n > 0);
	long idx = syscall(SYS_sysfs, 1, "proc");
	printf("proc's index: %d\n", idx >= 0 && idx < n);
	char name[64] = "";
	SHOW(syscall(SYS_sysfs, 2, idx, name));
	printf("type %s\n", name);
	SHOW(syscall(SYS_sysfs, 2, n, name));
	SHOW(syscall(SYS_sysfs, 2, idx, (void *)1));
	SHOW(syscall(SYS_sysfs, 1, "no-such-fs"));
	SHOW(syscall(SYS_sysfs, 1, (void *)1));
	SHOW(syscall(SYS_sysfs, 9));

	uint64_t range[2] = { 0, 0 }, cs[5];        /* struct cachestat_range, cachestat */
	long rc = syscall(SYS_cachestat, fd, range, cs, 0);
	if (rc < 0) {
		printf("cachestat: %s\n", strerror(errno));
	} else {
		printf("cachestat: %lu cached\n", (unsigned long)cs[0]);
		SHOW(syscall(SYS_cachestat, fd, range, cs, 1));
		SHOW(syscall(SYS_cachestat, fd, (void *)1, cs, 0));
		SHOW(syscall(SYS_cachestat, fd, range, (void *)1, 0));
		SHOW(syscall(SYS_cachestat, 9999, range, cs, 0));
	}
	CHECK(close(fd) == 0);

	uint64_t ids[32];
	uint32_t size = 0;
	rc = syscall(SYS_lsm_list_modules, ids, &size, 0);
	if (rc < 0 && errno == ENOSYS) {
		printf("lsm_list_modules: ENOSYS\n");
		return;
	}
	printf("lsm_list_modules: %s, size %d\n", strerror(errno), size > 0);
	size = sizeof(ids);
	n = syscall(SYS_lsm_list_modules, ids, &size, 0);
	printf("modules: %d, size %d\n", n > 0, size == n * 8);
	SHOW(syscall(SYS_lsm_list_modules, ids, (void *)1, 0));
	SHOW(syscall(SYS_lsm_list_modules, ids, &size, 1));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(argc == 2);
	if (!strcmp(argv[1], "files"))
		files();
	else if (!strcmp(argv[1], "more"))
		more();
	else if (!strcmp(argv[1], "info"))
		info();
	else if (!strcmp(argv[1], "pipes"))
		pipes();
	else if (!strcmp(argv[1], "pty"))
		pty();
	else if (!strcmp(argv[1], "fexecve"))
		fexec(argv[0]);
	else if (!strcmp(argv[1], "files-child"))
		printf("run by fexecve\n");
	return 0;
}
