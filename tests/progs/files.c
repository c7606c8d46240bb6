/* Files in the current directory: create, write, read, seek, stat, rename, links, dirs. */
#include "common.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char **)a, *(char **)b); }

static void list(const char *dir)
{
	DIR *d = opendir(dir);
	CHECK(d);
	char *names[64];
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < 64)
		names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, (size_t)n, sizeof(char *), cmp);
	for (int i = 0; i < n; i++) {
		printf("  %s\n", names[i]);
		free(names[i]);
	}
}

int main(void)
{
	write(-1, "strace-start", 12);  /* where tests/strace.sh starts comparing */
	int fd = open("a.txt", O_CREAT | O_RDWR | O_TRUNC, 0640);
	CHECK(fd == 3);
	SHOW(write(fd, "hello, file\n", 12));
	struct iovec iov[3] = { { "one ", 4 }, { "two ", 4 }, { "three\n", 6 } };
	SHOW(writev(fd, iov, 3));
	SHOW(lseek(fd, 0, SEEK_CUR));
	SHOW(lseek(fd, 7, SEEK_SET));
	char buf[64] = { 0 };
	SHOW(read(fd, buf, 5));
	printf("read [%s]\n", buf);
	SHOW(pread(fd, buf, 6, 20));
	printf("pread [%.6s]\n", buf);
	SHOW(pwrite(fd, "XY", 2, 0));
	char b1[4], b2[8];
	struct iovec riov[2] = { { b1, 4 }, { b2, 8 } };
	SHOW(lseek(fd, 0, SEEK_SET));
	SHOW(readv(fd, riov, 2));
	printf("readv [%.4s|%.8s]\n", b1, b2);
	struct stat st;
	SHOW(fstat(fd, &st));
	printf("size=%ld mode=%o nlink=%ld\n", (long)st.st_size, st.st_mode & 0777, (long)st.st_nlink);
	SHOW(ftruncate(fd, 5));
	SHOW(fsync(fd));
	SHOW(fdatasync(fd));
	SHOW(close(fd));
	SHOW(close(fd));
	SHOW(stat("a.txt", &st));
	printf("size after truncate=%ld\n", (long)st.st_size);
	SHOW(truncate("a.txt", 100));
	SHOW(stat("a.txt", &st));
	printf("size after truncate=%ld\n", (long)st.st_size);
	SHOW(access("a.txt", R_OK | W_OK));
	SHOW(access("a.txt", X_OK));
	SHOW(access("missing", F_OK));
	SHOW(rename("a.txt", "b.txt"));
	SHOW(link("b.txt", "c.txt"));
	SHOW(symlink("b.txt", "d.txt"));
	SHOW(readlink("d.txt", buf, sizeof(buf)));
	SHOW(lstat("d.txt", &st));
	printf("lstat is link: %d\n", S_ISLNK(st.st_mode));
	SHOW(chmod("b.txt", 0600));
	SHOW(stat("c.txt", &st));
	printf("mode=%o nlink=%ld\n", st.st_mode & 0777, (long)st.st_nlink);
	SHOW(mkdir("sub", 0755));
	SHOW(mkdir("sub", 0755));
	SHOW(mkdirat(AT_FDCWD, "sub/deeper", 0700));
	int dfd = open("sub", O_RDONLY | O_DIRECTORY);
	SHOW(dfd);
	SHOW(openat(dfd, "inner", O_CREAT | O_WRONLY, 0600));
	SHOW(fstatat(dfd, "inner", &st, 0));
	SHOW(renameat(dfd, "inner", AT_FDCWD, "moved"));
	SHOW(unlinkat(dfd, "deeper", AT_REMOVEDIR));
	SHOW(faccessat(dfd, "nothing", F_OK, 0));
	puts("listing .");
	list(".");
	SHOW(rmdir("sub"));
	SHOW(unlink("c.txt"));
	SHOW(unlink("c.txt"));
	SHOW(utimensat(AT_FDCWD, "b.txt", (struct timespec[2]){ { 1000, 0 }, { 2000, 0 } }, 0));
	SHOW(stat("b.txt", &st));
	printf("mtime=%ld atime=%ld\n", (long)st.st_mtime, (long)st.st_atime);
	char cwd[4096];
	CHECK(getcwd(cwd, sizeof(cwd)));
	SHOW(chdir("/"));
	CHECK(getcwd(buf, sizeof(buf)));
	printf("cwd now %s\n", buf);
	SHOW(chdir(cwd));
	SHOW(umask(022));
	SHOW(umask(077));
	int p[2];
	SHOW(pipe(p));
	SHOW(write(p[1], "piped", 5));
	SHOW(read(p[0], buf, sizeof(buf)));
	SHOW(dup2(p[0], 10));
	SHOW(fcntl(10, F_GETFD));
	SHOW(fcntl(10, F_SETFD, FD_CLOEXEC));
	SHOW(fcntl(10, F_GETFD));
	SHOW(fcntl(p[1], F_GETFL) & O_ACCMODE);
	SHOW(fcntl(p[0], F_DUPFD, 20));
	SHOW(dup(p[1]));
	SHOW(dup3(p[1], 12, O_CLOEXEC));
	SHOW(close(p[0]));
	SHOW(close(p[1]));
	SHOW(write(12, "x", 1));
	return 0;
}
