/* admin.c - the machine's administration calls, where they change nothing: syslog's
 * reads and sizes, swapon and swapoff of what is no swap, reboot and pivot_root refused,
 * vhangup with no terminal; file_getattr and file_setattr. */
// run:
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_file_getattr
#define SYS_file_getattr 468
#define SYS_file_setattr 469
#endif
#define LINUX_REBOOT_MAGIC1_ 0xfee1dead
#define LINUX_REBOOT_CMD_RESTART2_ 0xa1b2c3d4

static void logs(void)
{
	long size = syscall(SYS_syslog, 10, NULL, 0);          /* the buffer's size */
	printf("log size: %d\n", size > 0);
	char buf[64];
	long n = syscall(SYS_syslog, 3, buf, (int)sizeof(buf)); /* read all, not cleared */
	printf("read: %d\n", n >= 0 && n <= (long)sizeof(buf));
	/* (a bad buffer: EFAULT only if the log has something to copy, which may change) */
	SHOW(syscall(SYS_syslog, 3, buf, -1));
	SHOW(syscall(SYS_syslog, 99, buf, 64));
	SHOW(syscall(SYS_syslog, 3, NULL, 64));
}

static void swaps(void)
{
	int fd = open("notswap", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1 && close(fd) == 0);
	SHOW(syscall(SYS_swapon, "no-such-file", 0));
	SHOW(syscall(SYS_swapon, (void *)1, 0));
	SHOW(syscall(SYS_swapon, "notswap", 0));
	SHOW(syscall(SYS_swapoff, "notswap"));
	SHOW(syscall(SYS_swapoff, (void *)1));
}

static void refused(void)
{
	SHOW(syscall(SYS_reboot, 0, 0, 0, NULL));                /* bad magic */
	SHOW(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1_, 0, LINUX_REBOOT_CMD_RESTART2_, "x"));
	SHOW(syscall(SYS_pivot_root, "no-such-dir", "no-such-dir"));
	SHOW(syscall(SYS_pivot_root, (void *)1, "."));
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(setsid() >= 0);                            /* no terminal to hang up */
		SHOW(syscall(SYS_vhangup));
		fflush(stdout);
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status));
}

/* struct file_attr: xflags, extsize, nextents, projid, cowextsize */
static void attrs(void)
{
	int fd = open("file", O_CREAT | O_WRONLY, 0600);
	CHECK(fd >= 0 && close(fd) == 0);
	uint64_t fa[4] = { 0 };
	long rc = syscall(SYS_file_getattr, AT_FDCWD, "file", fa, 24, 0);
	if (rc < 0 && errno == ENOSYS) {
		printf("file_getattr: ENOSYS\n");
		return;
	}
	printf("file_getattr: %s\n", rc < 0 ? strerror(errno) : "0");
	SHOW(syscall(SYS_file_getattr, AT_FDCWD, "file", fa, 8, 0));
	SHOW(syscall(SYS_file_getattr, AT_FDCWD, "file", fa, 8192, 0));
	SHOW(syscall(SYS_file_getattr, AT_FDCWD, "file", (void *)1, 24, 0));
	SHOW(syscall(SYS_file_getattr, AT_FDCWD, "no-such-file", fa, 24, 0));
	SHOW(syscall(SYS_file_setattr, AT_FDCWD, "file", fa, 24, 0));
	SHOW(syscall(SYS_file_setattr, AT_FDCWD, "file", (void *)1, 24, 0));
	SHOW(syscall(SYS_file_setattr, AT_FDCWD, "file", fa, 24, 0x12345));
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	logs();
	swaps();
	refused();
	attrs();
	return 0;
}
