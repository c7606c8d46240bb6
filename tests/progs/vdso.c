/* The vDSO: its clocks agree with the system calls' (never behind them), in each thread
 * and in a forked child; it is read-only, and system calls read it as the program does;
 * /proc/self/maps and smaps name it; getcpu answers a CPU the thread may run on. */
#include "common.h"
#include <elf.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

static const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_MONOTONIC_RAW,
				    CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE, CLOCK_TAI };

static long long ns(struct timespec t) { return t.tv_sec * 1000000000LL + t.tv_nsec; }

/* The C library's call (the vDSO's) and the system call, alternately: in order? */
static int ordered(clockid_t c)
{
	struct timespec a, b;
	for (int i = 0; i < 2000; i++) {
		CHECK(clock_gettime(c, &a) == 0);
		CHECK(syscall(SYS_clock_gettime, c, &b) == 0);
		if (ns(b) < ns(a))
			return 0;
		CHECK(clock_gettime(c, &a) == 0);
		if (ns(a) < ns(b))
			return 0;
	}
	return 1;
}

static void *check_clocks(void *who)
{
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++)
		printf("%s: clock %d in order with the system call: %d\n", (char *)who, clocks[i],
		       ordered(clocks[i]));
	struct timespec r1, r2;
	CHECK(clock_getres(CLOCK_MONOTONIC, &r1) == 0 && syscall(SYS_clock_getres, CLOCK_MONOTONIC, &r2) == 0);
	printf("%s: resolution agrees: %d\n", (char *)who, ns(r1) == ns(r2));
	struct timeval tv;
	struct timespec rt;
	CHECK(gettimeofday(&tv, NULL) == 0 && syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt) == 0);
	printf("%s: gettimeofday not ahead: %d\n", (char *)who,
	       tv.tv_sec * 1000000LL + tv.tv_usec <= ns(rt) / 1000);
	time_t t = time(NULL);
	CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt) == 0);
	printf("%s: time not ahead: %d\n", (char *)who, t <= rt.tv_sec);
	return NULL;
}

static sigjmp_buf back;
static void *fault_addr;
static int fault_code;
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(back, sig);
}

static const char *try_write(volatile char *p)
{
	if (sigsetjmp(back, 1))
		return "SIGSEGV";
	*p = *p;
	return "written";
}

/* Does ELF image 'eh' define symbol 'name'? (its dynamic symbols, through the sections) */
static int defines(const Elf64_Ehdr *eh, const char *name)
{
	const Elf64_Shdr *sh = (const Elf64_Shdr *)((const char *)eh + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM)
			continue;
		const Elf64_Sym *s = (const Elf64_Sym *)((const char *)eh + sh[i].sh_offset);
		const char *str = (const char *)eh + sh[sh[i].sh_link].sh_offset;
		for (size_t j = 0; j < sh[i].sh_size / sizeof(*s); j++)
			if (s[j].st_shndx != SHN_UNDEF && !strcmp(str + s[j].st_name, name))
				return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1) {         /* (strace.sh: 100 clock reads, 10 of them system calls) */
		struct timespec t;
		for (int i = 0; i < 100; i++)
			CHECK((i % 10 ? clock_gettime(CLOCK_MONOTONIC, &t) :
					syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &t)) == 0);
		return 0;
	}
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	printf("vdso: %d\n", eh != NULL);
	if (!eh)
		return 0;
	printf("an ELF image: %d, defines __vdso_clock_gettime: %d\n", !memcmp(eh->e_ident, ELFMAG, SELFMAG),
	       defines(eh, "__vdso_clock_gettime"));
	check_clocks("main");
	pthread_t th;
	CHECK(pthread_create(&th, NULL, check_clocks, "thread") == 0 && pthread_join(th, NULL) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		check_clocks("child");
		exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child: status %d\n", st);

	cpu_set_t set;
	unsigned cpu;
	CHECK(sched_getaffinity(0, sizeof(set), &set) == 0);
	CHECK(syscall(SYS_getcpu, &cpu, NULL, NULL) == 0);
	printf("getcpu (system call) in the affinity mask: %d\n", !!CPU_ISSET(cpu, &set));
	int c = sched_getcpu();
	printf("sched_getcpu in the affinity mask: %d\n", c >= 0 && !!CPU_ISSET(c, &set));

	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f);
	char line[512];
	int vdso = 0, vvar = 0;
	unsigned long vvar_start = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char perm[8];
		if (sscanf(line, "%lx-%lx %7s", &a, &b, perm) != 3)
			continue;
		vdso |= strstr(line, "[vdso]") && a == (unsigned long)eh && !strcmp(perm, "r-xp");
		if (strstr(line, "[vvar]") && !strcmp(perm, "r--p")) {
			vvar = 1;
			vvar_start = a;
		}
	}
	fclose(f);
	printf("maps: [vdso] at the image %d, [vvar] %d\n", vdso, vvar);
	/* smaps has a record for it too, of its size. */
	f = fopen("/proc/self/smaps", "r");
	CHECK(f);
	int sized = 0;
	unsigned long a = 0, b = 0, kb;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && strstr(line, "[vdso]") &&
		    fgets(line, sizeof(line), f) && sscanf(line, "Size: %lu kB", &kb) == 1)
			sized = a == (unsigned long)eh && kb * 1024 == b - a;
	}
	fclose(f);
	printf("smaps: [vdso] of its size %d\n", sized);
	/* System calls read the image and [vvar] as the program does, and write to neither. */
	int pfd[2];
	char buf[64];
	CHECK(pipe(pfd) == 0);
	ssize_t n = write(pfd[1], eh, sizeof(buf));
	printf("write(2) of the image: %zd, the same bytes %d\n", n, n == (ssize_t)sizeof(buf) &&
	       read(pfd[0], buf, sizeof(buf)) == n && !memcmp(buf, eh, sizeof(buf)));
	if (vvar_start) {
		n = write(pfd[1], (void *)vvar_start, 16);
		printf("write(2) of [vvar]: %zd\n", n);
		if (n > 0)
			CHECK(read(pfd[0], buf, (size_t)n) == n);
	}
	CHECK(write(pfd[1], "x", 1) == 1);
	n = read(pfd[0], (void *)eh, 1);
	printf("read(2) into the image: %zd %s\n", n, n < 0 ? strerror(errno) : "");
	close(pfd[0]);
	close(pfd[1]);
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	printf("write to the image: %s\n", try_write((volatile char *)eh));
	if (vvar_start)
		printf("write to [vvar]: %s\n", try_write((volatile char *)vvar_start));
	/* A bad pointer faults in the vDSO's code, with the siginfo of any fault. */
	if (!sigsetjmp(back, 1))
		printf("clock_gettime to address 8: %d\n", clock_gettime(CLOCK_MONOTONIC, (struct timespec *)8));
	else
		printf("clock_gettime to address 8: SIGSEGV, code %d, address %p\n", fault_code, fault_addr);
	return 0;
}
