/* argv, envp and the auxiliary vector as a program sees them at start; /proc's
 * cmdline, environ and auxv of this process and of an exec'd child, as others see them. */
// run: one "two words" ''
// run:
#include "common.h"
#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Does /proc file 'name' hold the strings of v, each ended by a NUL? */
static int same_as(const char *name, char **v)
{
	static char got[65536], want[65536];
	int fd = open(name, O_RDONLY);
	CHECK(fd >= 0);
	size_t n = 0, m = 0;
	ssize_t r;
	while ((r = read(fd, got + n, sizeof(got) - n)) > 0)
		n += (size_t)r;
	close(fd);
	for (; *v; v++) {
		size_t len = strlen(*v) + 1;
		CHECK(m + len <= sizeof(want));
		memcpy(want + m, *v, len);
		m += len;
	}
	return n == m && !memcmp(got, want, n);
}

/* Does /proc file 'name' hold an auxiliary vector with this entry point and vDSO (the
 * process's own), and this program's page size, header count and uid? */
static int auxv_is(const char *name, unsigned long entry, unsigned long vdso)
{
	unsigned long v[2];
	int fd = open(name, O_RDONLY), same = 0;
	CHECK(fd >= 0);
	while (read(fd, v, sizeof(v)) == sizeof(v) && v[0] != AT_NULL)
		same += (v[0] == AT_ENTRY && v[1] == entry) || (v[0] == AT_SYSINFO_EHDR && v[1] == vdso) ||
			((v[0] == AT_PAGESZ || v[0] == AT_PHNUM || v[0] == AT_UID) && v[1] == getauxval(v[0]));
	close(fd);
	return same == 5;
}

static void show_file(const char *what, const char *name)
{
	char buf[64] = "";
	FILE *f = fopen(name, "r");
	CHECK(f && fgets(buf, sizeof(buf), f));
	fclose(f);
	printf("%s: %s", what, buf);
}

/* A child exec'd with other arguments and environment: what its parent reads of it. */
static void child_seen(void)
{
	int up[2], down[2];
	CHECK(pipe(up) == 0 && pipe(down) == 0);
	char fds[32];
	snprintf(fds, sizeof(fds), "%d %d", up[1], down[0]);
	char *cargv[] = { "child", "reexec", fds, "two words", NULL };
	char *cenv[] = { "A=1", "B=two words", NULL };
	pid_t pid = fork();
	if (!pid) {
		close(up[0]);
		close(down[1]);
		execve("/proc/self/exe", cargv, cenv);
		_exit(127);
	}
	close(up[1]);
	close(down[0]);
	char name[64];
	unsigned long seen[2];          /* the child's entry point and vDSO */
	CHECK(read(up[0], seen, sizeof(seen)) == sizeof(seen));
	snprintf(name, sizeof(name), "/proc/%d/cmdline", (int)pid);
	printf("child's cmdline is its argv: %d\n", same_as(name, cargv));
	snprintf(name, sizeof(name), "/proc/%d/environ", (int)pid);
	printf("child's environ is its envp: %d\n", same_as(name, cenv));
	snprintf(name, sizeof(name), "/proc/%d/comm", (int)pid);
	show_file("child's comm", name);
	snprintf(name, sizeof(name), "/proc/%d/auxv", (int)pid);
	printf("child's auxv is its auxiliary vector: %d\n", auxv_is(name, seen[0], seen[1]));
	close(down[1]);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* The child: its own view, then it waits for its parent to have looked. */
static int reexec(char **argv)
{
	int up, down;
	CHECK(sscanf(argv[2], "%d %d", &up, &down) == 2);
	printf("exec'd: cmdline is argv: %d, environ is envp: %d\n",
	       same_as("/proc/self/cmdline", argv), same_as("/proc/self/environ", environ));
	fflush(stdout);
	unsigned long seen[2] = { getauxval(AT_ENTRY), getauxval(AT_SYSINFO_EHDR) };
	CHECK(write(up, seen, sizeof(seen)) == sizeof(seen));
	char c;
	CHECK(read(down, &c, 1) == 0);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "reexec"))
		return reexec(argv);
	printf("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	CHECK(argv[argc] == NULL);
	CHECK(((uintptr_t)&argv[-1] & 15) == 0);        /* argc sits 16-byte aligned */
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	printf("envc=%d PATH=%s\n", n, getenv("PATH") ? getenv("PATH") : "(none)");
	CHECK(getauxval(AT_PAGESZ) == 4096);
	printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
	printf("AT_FLAGS=%lu AT_SECURE=%lu\n", getauxval(AT_FLAGS), getauxval(AT_SECURE));
	printf("AT_UID=%d AT_EUID=%d AT_GID=%d AT_EGID=%d\n", getauxval(AT_UID) == getuid(),
	       getauxval(AT_EUID) == geteuid(), getauxval(AT_GID) == getgid(),
	       getauxval(AT_EGID) == getegid());
	printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
	printf("AT_HWCAP=%#lx AT_HWCAP2=%#lx\n", getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
	printf("AT_MINSIGSTKSZ=%lu\n", getauxval(AT_MINSIGSTKSZ));
	printf("AT_PLATFORM=%s\n", (char *)getauxval(AT_PLATFORM));
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN matches argv[0]: %d\n", fn && !strcmp(fn, argv[0]));
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	CHECK(rnd != NULL);
	Elf64_Phdr *ph = (Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	int loads = 0;
	for (unsigned long i = 0; i < phnum; i++)
		loads += ph[i].p_type == PT_LOAD;
	printf("AT_PHDR has %d PT_LOAD of %lu\n", loads > 0, phnum > 0);
	/* AT_BASE: 0 for a static program, else the dynamic loader's ELF header. */
	const unsigned char *base = (const unsigned char *)getauxval(AT_BASE);
	printf("AT_BASE: %s\n", !base ? "none" : memcmp(base, ELFMAG, SELFMAG) ? "not ELF" : "ELF");
	unsigned long entry = getauxval(AT_ENTRY);
	extern char _start[];
	printf("AT_ENTRY is _start: %d\n", entry == (unsigned long)_start);
	printf("cmdline is argv: %d\n", same_as("/proc/self/cmdline", argv));
	printf("environ is envp: %d\n", same_as("/proc/self/environ", environ));
	printf("auxv is the auxiliary vector: %d\n",
	       auxv_is("/proc/self/auxv", getauxval(AT_ENTRY), getauxval(AT_SYSINFO_EHDR)));
	show_file("comm", "/proc/self/comm");
	fflush(stdout);
	child_seen();
	return 0;
}
