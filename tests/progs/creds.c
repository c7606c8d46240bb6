/* creds.c - identity and scheduling: set*id reach every thread of kvmse (a file a
 * dropped uid may not open stays closed, whichever thread opens it), getres*id, groups,
 * nice values, scheduling policies, pidfds, capabilities, each thread's prctl attributes;
 * a set-group-ID file created by creat() as nobody keeps the bit, a truncation drops it;
 * PRIO_PGRP as nobody; setfsuid and setfsgid, which the opens that follow go by. */
// run: ids
// run: fsids
// run: sched
// run: pidfd
// run: caps
// run: keepcaps
// run: attrs
// run: reaper
// run: setgid-file
// run: prio-group
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <spawn.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

static void *opener(void *arg)
{
	int fd = open(arg, O_RDONLY);
	printf("thread opens the root-only file: %s\n", fd >= 0 ? "yes" : strerror(errno));
	return NULL;
}

/* A process that changed its uid is not dumpable: a vfork child of it still hands its
 * parent the error posix_spawn leaves in the parent's memory. */
static void spawn_as_nobody(void)
{
	char *argv[] = { "true", NULL }, *envp[] = { NULL };
	pid_t pid;
	int st;
	printf("posix_spawn of /bin/true: %s\n", strerror(posix_spawn(&pid, "/bin/true", NULL, NULL,
	       argv, envp)));
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("exit status %d\n", WEXITSTATUS(st));
	printf("posix_spawn of a missing file: %s\n", strerror(posix_spawn(&pid, "/missing", NULL,
	       NULL, argv, envp)));
}

static void ids(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	CHECK(getresuid(&r, &e, &s) == 0 && getresgid(&gr, &ge, &gs) == 0);
	printf("uids %d %d %d, gids %d %d %d\n", r == getuid(), e == geteuid(), s == e, gr == getgid(),
	       ge == getegid(), gs == ge);
	SHOW(syscall(SYS_getresuid, NULL, &e, &s));
	int fd = open("secret.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
	if (getuid() != 0) {
		printf("not root: the rest needs root\n");     /* (the same natively) */
		return;
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		gid_t none[1] = { 65534 };
		SHOW(setgroups(1, none));
		SHOW(setresgid(65534, 65534, 65534));
		SHOW(setresuid(65534, 65534, 65534));
		CHECK(getresuid(&r, &e, &s) == 0);
		printf("now %d %d %d\n", (int)r, (int)e, (int)s);
		SHOW(open("secret.tmp", O_RDONLY));
		pthread_t t;
		CHECK(pthread_create(&t, NULL, opener, "secret.tmp") == 0);
		pthread_join(t, NULL);
		spawn_as_nobody();
		SHOW(setuid(0));
		SHOW(setreuid(-1, 0));
		SHOW(setfsuid(-1) == 65534);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
	SHOW(setreuid(0, 0));
	SHOW(setregid(0, 0));
	SHOW(setgid(0));
	unlink("secret.tmp");
}

/* setfsuid and setfsgid are the calling thread's: every open after them (some made by
 * kvmse's syscall server, in its transports that have one, an execve's by the vCPU's
 * thread) goes by them, and a thread started then has them too. */
static void fsids(void)
{
	int fd = open("fs-secret.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0);
	close(fd);
	fd = open("fs-exec.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0700);
	CHECK(fd >= 0 && write(fd, "#!/bin/true\n", 12) == 12);
	close(fd);
	if (getuid() != 0) {
		printf("not root: the rest needs root\n");
		unlink("fs-secret.tmp");
		unlink("fs-exec.tmp");
		return;
	}
	SHOW(seteuid(0));
	SHOW(setfsuid(65534));
	SHOW(setfsuid(-1));
	SHOW(setfsgid(65534));
	SHOW(setfsgid(-1));
	int denied = 0;
	for (int i = 0; i < 40; i++) {
		fd = open("fs-secret.tmp", O_RDONLY);
		denied += fd < 0 && errno == EACCES;
		if (fd >= 0)
			close(fd);
	}
	printf("opens denied as fsuid nobody: %d of 40\n", denied);
	char *argv[] = { "fs-exec.tmp", NULL }, *envp[] = { NULL };
	SHOW(execve("fs-exec.tmp", argv, envp));         /* (its file is root's, 0700) */
	pthread_t t;
	CHECK(pthread_create(&t, NULL, opener, "fs-secret.tmp") == 0);
	pthread_join(t, NULL);
	SHOW(setfsuid(0));
	SHOW(setfsgid(0));
	fd = open("fs-secret.tmp", O_RDONLY);
	printf("open as fsuid root: %s\n", fd >= 0 ? "yes" : strerror(errno));
	close(fd);
	SHOW(setuid(0));
	SHOW(setfsuid(-1));
	unlink("fs-secret.tmp");
	unlink("fs-exec.tmp");
}

static void sched(void)
{
	SHOW(sched_get_priority_max(SCHED_FIFO));
	SHOW(sched_get_priority_min(SCHED_FIFO));
	SHOW(sched_get_priority_max(12345));
	SHOW(sched_getscheduler(0));
	struct sched_param sp;
	SHOW(sched_getparam(0, &sp));
	printf("priority %d\n", sp.sched_priority);
	struct timespec ts;
	SHOW(sched_rr_get_interval(0, &ts) == 0 || errno == EINVAL ? 0 : -1);
	errno = 0;
	int nice0 = getpriority(PRIO_PROCESS, 0);
	printf("nice %d errno %d\n", nice0, errno);
	SHOW(setpriority(PRIO_PROCESS, 0, nice0 + 3));
	printf("nice now +%d\n", getpriority(PRIO_PROCESS, 0) - nice0);
	SHOW(getpriority(12345, 0));
	SHOW(sched_setscheduler(0, SCHED_BATCH, &(struct sched_param){ 0 }));
	SHOW(sched_getscheduler(0));
	SHOW(sched_setscheduler(0, SCHED_OTHER, &(struct sched_param){ 5 }));
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

static void pidfd(void)
{
	signal(SIGUSR1, on_usr1);
	int self = (int)syscall(SYS_pidfd_open, getpid(), 0);
	CHECK(self >= 0);
	SHOW(syscall(SYS_pidfd_send_signal, self, SIGUSR1, NULL, 0));
	printf("got %d\n", (int)got);
	SHOW(syscall(SYS_pidfd_send_signal, self, 0, NULL, 0));
	SHOW(syscall(SYS_pidfd_send_signal, 12345, SIGUSR1, NULL, 0));
	fflush(stdout);
	int ready[2];
	CHECK(pipe(ready) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		int n = open("/dev/null", O_RDONLY);
		CHECK(write(ready[1], &n, sizeof(n)) == sizeof(n));
		pause();
		_exit(1);
	}
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	CHECK(fd >= 0);
	/* a copy of the child's descriptor: the same file (kcmp), close-on-exec */
	int theirs;
	CHECK(read(ready[0], &theirs, sizeof(theirs)) == sizeof(theirs));
	int copy = (int)syscall(438, fd, theirs, 0);        /* pidfd_getfd */
	printf("pidfd_getfd: a descriptor %d, close-on-exec %d\n", copy >= 0,
	       copy >= 0 && fcntl(copy, F_GETFD) == FD_CLOEXEC);
	SHOW(syscall(SYS_kcmp, getpid(), pid, 0, copy, theirs));     /* KCMP_FILE */
	printf("kcmp of different files is not 0: %d\n", syscall(SYS_kcmp, getpid(), pid, 0, 0, theirs) > 0);
	SHOW(syscall(438, fd, 999, 0));
	SHOW(syscall(438, fd, theirs, 1));
	/* the highest numbers, where kvmse keeps its own: never open for the program */
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	int got_high = 0;
	for (int i = 1; i <= 4; i++)
		got_high += syscall(438, self, (int)rl.rlim_cur - i, 0) >= 0;
	printf("copies of the top four numbers: %d\n", got_high);
	SHOW(syscall(SYS_pidfd_send_signal, fd, SIGTERM, NULL, 0));
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child killed by %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	SHOW(syscall(SYS_pidfd_open, -1, 0));
}

/* capget/capset (struct __user_cap_header_struct and _data_struct, raw: musl has no header) */
struct cap_header { uint32_t version; int pid; };
struct cap_data { uint32_t effective, permitted, inheritable; };

static void caps(void)
{
	struct cap_header h = { 0x20080522, 0 };
	struct cap_data d[2];
	SHOW(syscall(SYS_capget, &h, d));
	printf("effective %x %x, permitted %x %x, inheritable %x %x\n", d[0].effective,
	       d[1].effective, d[0].permitted, d[1].permitted, d[0].inheritable, d[1].inheritable);
	SHOW(syscall(SYS_capset, &h, d));
	h.pid = getpid();
	SHOW(syscall(SYS_capget, &h, d));
	h.version = 1;
	SHOW(syscall(SYS_capget, &h, d));
	printf("preferred version %x\n", h.version);
	h.version = 1;
	SHOW(syscall(SYS_capget, &h, NULL));
	printf("preferred version %x\n", h.version);
	h.version = 0x19980330;          /* version 1: one struct */
	SHOW(syscall(SYS_capget, &h, d));
	h.version = 0x20080522;
	SHOW(syscall(SYS_capget, &h, (void *)8));
	SHOW(syscall(SYS_capget, (void *)8, d));
	SHOW(syscall(SYS_capset, &h, (void *)8));
	h.pid = -1;
	SHOW(syscall(SYS_capget, &h, d));
	/* dropping a capability from the effective set, then raising it again */
	h.pid = 0;
	CHECK(syscall(SYS_capget, &h, d) == 0);
	uint32_t eff = d[0].effective;
	d[0].effective &= ~(1u << 0);    /* CAP_CHOWN */
	SHOW(syscall(SYS_capset, &h, d));
	CHECK(syscall(SYS_capget, &h, d) == 0);
	printf("CAP_CHOWN effective after dropping it: %d\n", d[0].effective & 1);
	d[0].effective = eff;
	SHOW(syscall(SYS_capset, &h, d));

	/* Without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH, even root cannot open a file of
	 * mode 000 (whichever host thread of kvmse makes the open); with them again, it can. */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/creds-caps-%d", getpid());
	int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0);
	CHECK(fd >= 0);
	close(fd);
	d[0].effective = eff & ~(3u << 1);
	SHOW(syscall(SYS_capset, &h, d));
	for (int i = 0; i < 5000; i++)  /* (under kvmse: the syscall server is back at work) */
		getppid();
	fd = open(path, O_RDONLY);
	printf("open without them: %s\n", fd < 0 ? strerror(errno) : "opened");
	if (fd >= 0)
		close(fd);
	d[0].effective = eff;
	SHOW(syscall(SYS_capset, &h, d));
	fd = open(path, O_RDONLY);
	printf("open with them: %s\n", fd < 0 ? strerror(errno) : "opened");
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* With PR_SET_KEEPCAPS, a setuid away from root keeps the permitted set, and the
 * effective one can be raised from it again: for whichever host thread of kvmse makes the
 * calls that need it. */
static void keepcaps(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/creds-keep-%d", getpid());
	int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0);
	CHECK(fd >= 0);
	close(fd);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		SHOW(prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
		SHOW(prctl(PR_GET_SECUREBITS, 0, 0, 0, 0));
		for (int i = 0; i < 5000; i++)  /* (under kvmse: a syscall server at work) */
			getppid();
		SHOW(setresuid(65534, 65534, 65534));
		struct cap_header h = { 0x20080522, 0 };
		struct cap_data d[2];
		CHECK(syscall(SYS_capget, &h, d) == 0);
		printf("CAP_DAC_OVERRIDE permitted %d, effective %d\n", d[0].permitted >> 1 & 1,
		       d[0].effective >> 1 & 1);
		d[0].effective = d[0].permitted;
		SHOW(syscall(SYS_capset, &h, d));
		for (int i = 0; i < 5000; i++)
			getppid();
		fd = open(path, O_RDONLY);
		printf("open of a file of mode 000: %s\n", fd < 0 ? strerror(errno) : "opened");
		_exit(0);
	}
	CHECK(waitpid(pid, NULL, 0) == pid);
	unlink(path);
}

/* A /proc file's first line, as a string. */
static const char *proc_line(const char *fmt, long id)
{
	static char buf[128];
	char path[64];
	snprintf(path, sizeof(path), fmt, id);
	FILE *f = fopen(path, "r");
	if (!f || !fgets(buf, sizeof(buf), f))
		snprintf(buf, sizeof(buf), "(%s)\n", strerror(errno));
	if (f)
		fclose(f);
	return buf;
}

static void *named_thread(void *arg)
{
	(void)arg;
	char name[16] = "";
	SHOW(prctl(PR_SET_NAME, "worker-x"));
	SHOW(prctl(PR_GET_NAME, name));
	printf("thread's name %s, its comm %s", name,
	       proc_line("/proc/self/task/%ld/comm", syscall(SYS_gettid)));
	SHOW(prctl(PR_SET_TIMERSLACK, 90000));
	SHOW(prctl(PR_GET_TIMERSLACK));
	return NULL;
}

static int death_fd;

static void on_usr1_write(int sig)
{
	(void)sig;
	CHECK(write(death_fd, "d", 1) == 1);
	_exit(0);
}

/* Names, timer slack and the parent-death signal are each thread's own (under kvmse:
 * whichever host thread runs the call). */
static sigjmp_buf segv_jump;
static volatile sig_atomic_t segv_seen;
static void on_segv(int sig)
{
	(void)sig;
	segv_seen = 1;
	siglongjmp(segv_jump, 1);
}

static void attrs(void)
{
	char name[16] = "";
	SHOW(prctl(PR_SET_NAME, "main-y"));
	SHOW(prctl(PR_GET_NAME, name));
	printf("name %s, comm %s", name, proc_line("/proc/self/comm", 0));
	SHOW(prctl(PR_SET_TIMERSLACK, 70000));
	SHOW(prctl(PR_GET_TIMERSLACK));
	printf("timerslack_ns %s", proc_line("/proc/self/timerslack_ns", 0));
	pthread_t t;
	CHECK(pthread_create(&t, NULL, named_thread, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	printf("main's name after the thread's: %s", proc_line("/proc/self/comm", 0));
	SHOW(prctl(PR_GET_TIMERSLACK));

	/* The personality too: UNAME26 makes uname report a 2.6 kernel. */
	SHOW(syscall(SYS_personality, 0xffffffffUL));
	SHOW(syscall(SYS_personality, 0x0020000UL));    /* UNAME26 */
	for (int i = 0; i < 5000; i++)  /* (under kvmse: the syscall server is back at work) */
		getppid();
	struct utsname u;
	CHECK(uname(&u) == 0);
	printf("release under UNAME26 starts with 2.6.: %d\n", !strncmp(u.release, "2.6.", 4));
	SHOW(syscall(SYS_personality, 0xffffffffUL));
	SHOW(syscall(SYS_personality, 0UL));
	for (int i = 0; i < 5000; i++)
		getppid();
	CHECK(uname(&u) == 0);
	printf("and after: %d\n", !strncmp(u.release, "2.6.", 4));

	/* A grandchild asks for SIGUSR1 when its parent dies, and tells through a pipe. */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	death_fd = pfd[1];
	fflush(stdout);
	pid_t a = fork();
	CHECK(a >= 0);
	if (a == 0) {
		int ready[2];
		CHECK(pipe(ready) == 0);
		pid_t b = fork();
		CHECK(b >= 0);
		if (b == 0) {
			signal(SIGUSR1, on_usr1_write);
			int sig = 0;
			CHECK(prctl(PR_SET_PDEATHSIG, SIGUSR1) == 0);
			CHECK(prctl(PR_GET_PDEATHSIG, &sig) == 0 && sig == SIGUSR1);
			CHECK(write(ready[1], "r", 1) == 1);
			for (int i = 0; i < 500; i++)   /* (5 s at most) */
				usleep(10000);
			_exit(0);
		}
		char c;
		CHECK(read(ready[0], &c, 1) == 1);
		_exit(0);
	}
	close(pfd[1]);
	int st;
	CHECK(waitpid(a, &st, 0) == a);
	char c = 0;
	printf("the grandchild got its parent-death signal: %d\n", read(pfd[0], &c, 1) == 1 && c == 'd');

	/* Options whose arguments are values, and where the kernel keeps the TID to clear. */
	int *tid_addr = NULL;
	SHOW(prctl(PR_GET_TID_ADDRESS, &tid_addr));
	printf("it holds my tid: %d\n", tid_addr && *tid_addr == gettid());
	SHOW(prctl(PR_GET_TID_ADDRESS, (void *)1));
	SHOW(prctl(PR_GET_KEEPCAPS));
	SHOW(prctl(PR_SET_KEEPCAPS, 1));
	SHOW(prctl(PR_GET_KEEPCAPS));
	SHOW(prctl(PR_SET_KEEPCAPS, 2));
	SHOW(prctl(PR_SET_KEEPCAPS, 0));
	SHOW(prctl(PR_GET_SECUREBITS));
	SHOW(prctl(PR_GET_THP_DISABLE));
	SHOW(prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0));
	SHOW(prctl(PR_GET_THP_DISABLE));
	SHOW(prctl(PR_SET_THP_DISABLE, 0, 0, 0, 0));
	SHOW(prctl(PR_CAPBSET_READ, 0 /* CAP_CHOWN */));
	SHOW(prctl(PR_CAPBSET_READ, 1000));
	SHOW(prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, 0 /* CAP_CHOWN */, 0, 0));
	SHOW(prctl(PR_CAP_AMBIENT, 99, 0, 0, 0));
	SHOW(prctl(PR_MCE_KILL_GET, 0, 0, 0, 0));
	SHOW(prctl(PR_SET_TIMING, 1));
	int tsc = 0;
	SHOW(prctl(PR_GET_TSC, &tsc));
	printf("tsc mode %d\n", tsc);
	SHOW(prctl(PR_SET_TSC, PR_TSC_ENABLE));
	SHOW(prctl(PR_SET_TSC, 7));
	SHOW(prctl(PR_GET_TSC, (void *)1));
	SHOW(prctl(0x7fff, 0));
	/* CPUID faulting, each thread's: where the CPU has it, CPUID raises SIGSEGV */
	SHOW(syscall(SYS_arch_prctl, 0x1011 /* ARCH_GET_CPUID */, 0));
	if (syscall(SYS_arch_prctl, 0x1012 /* ARCH_SET_CPUID */, 0) == 0) {
		signal(SIGSEGV, on_segv);
		unsigned eax = 0, ebx, ecx = 0, edx;
		if (!sigsetjmp(segv_jump, 1))
			__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
		printf("CPUID faulted: %d\n", segv_seen);
		SHOW(syscall(SYS_arch_prctl, 0x1011, 0));
		SHOW(syscall(SYS_arch_prctl, 0x1012, 1));
	} else {
		printf("ARCH_SET_CPUID: %s\n", strerror(errno));
	}
	SHOW(syscall(SYS_arch_prctl, 0x1011, 0));
}

/* A child subreaper waits for its orphaned grandchild; nothing else of kvmse's shows. */
static void reaper(void)
{
	int v = -1;
	SHOW(prctl(PR_GET_CHILD_SUBREAPER, &v));
	printf("subreaper: %d\n", v);
	SHOW(prctl(PR_SET_CHILD_SUBREAPER, 1));
	SHOW(prctl(PR_GET_CHILD_SUBREAPER, &v));
	printf("subreaper: %d\n", v);
	pid_t me = getpid();
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	fflush(stdout);
	pid_t a = fork();
	CHECK(a >= 0);
	if (a == 0) {
		pid_t b = fork();
		CHECK(b >= 0);
		if (b == 0) {
			while (getppid() != me)         /* (until its parent has gone) */
				usleep(1000);
			_exit(7);
		}
		CHECK(write(pfd[1], &b, sizeof(b)) == sizeof(b));
		_exit(3);
	}
	pid_t b;
	CHECK(read(pfd[0], &b, sizeof(b)) == sizeof(b));
	int st, n = 0;
	pid_t w;
	while ((w = wait(&st)) > 0) {
		n++;
		printf("waited for the %s: %s %d\n", w == a ? "child" : w == b ? "grandchild" : "other",
		       WIFEXITED(st) ? "exit" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
		if (w != a && w != b)
			break;
	}
	printf("%d waited for, then %s\n", n, strerror(errno));
}

/* In a child made nobody, in a directory anyone may write. */
/* PRIO_PGRP is each thread of the group's processes (under kvmse, but KVM's worker
 * thread, which kept root's identity): as nobody, a lower nice value is EACCES. */
static void prio_group(void)
{
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		CHECK(setpgid(0, 0) == 0);
		if (setgid(65534) < 0 || setuid(65534) < 0)
			printf("not root: %s\n", strerror(errno));
		int base = getpriority(PRIO_PROCESS, 0);
		SHOW(setpriority(PRIO_PGRP, 0, base - 1));
		SHOW(setpriority(PRIO_PGRP, 0, base + 2));
		printf("group nice +%d\n", getpriority(PRIO_PGRP, 0) - base);
		printf("own nice +%d\n", getpriority(PRIO_PROCESS, 0) - base);
		SHOW(setpriority(PRIO_PGRP, 999999, 0));
		errno = 0;
		SHOW(getpriority(PRIO_PGRP, 999999) == -1 && errno ? -1 : 0);
		fflush(stdout);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st));
}

static void setgid_file(void)
{
	char dir[] = "/tmp/creds-sgid.XXXXXX";
	CHECK(mkdtemp(dir) && chmod(dir, 0777) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK(setgid(65534) == 0 && setuid(65534) == 0 && chdir(dir) == 0);
		struct stat st;
		int fd = creat("f", 02755);
		CHECK(fd >= 0 && fstat(fd, &st) == 0);
		printf("created: set-group-ID %d\n", !!(st.st_mode & S_ISGID));
		close(fd);
		fd = open("f", O_WRONLY | O_CREAT | O_TRUNC, 0644);    /* it exists: cut */
		CHECK(fd >= 0 && fstat(fd, &st) == 0);
		printf("opened with O_TRUNC: set-group-ID %d\n", !!(st.st_mode & S_ISGID));
		close(fd);
		unlink("f");
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && status == 0 && rmdir(dir) == 0);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(argc == 2);
	if (!strcmp(argv[1], "ids"))
		ids();
	else if (!strcmp(argv[1], "fsids"))
		fsids();
	else if (!strcmp(argv[1], "sched"))
		sched();
	else if (!strcmp(argv[1], "pidfd"))
		pidfd();
	else if (!strcmp(argv[1], "caps"))
		caps();
	else if (!strcmp(argv[1], "keepcaps"))
		keepcaps();
	else if (!strcmp(argv[1], "attrs"))
		attrs();
	else if (!strcmp(argv[1], "reaper"))
		reaper();
	else if (!strcmp(argv[1], "prio-group"))
		prio_group();
	else if (!strcmp(argv[1], "setgid-file"))
		setgid_file();
	return 0;
}
