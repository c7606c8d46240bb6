/* seccomp.c - seccomp: the errors of seccomp(2) and of bad filters; the actions a filter
 * returns (ERRNO with its data capped, TRAP's SIGSYS and its siginfo, TRACE with no
 * tracer, LOG, KILL_PROCESS, KILL_THREAD, the precedence of stacked filters); filters that
 * read the arguments and use the BPF machine's ALU, memory and jumps; strict mode; the
 * filters of a forked child, of a thread started later, of an execve'd program, and
 * TSYNC. */
// run: errors
// run: actions
// run: kill
// run: inherit
#include "common.h"
#include <pthread.h>
#include <signal.h>
#include <ucontext.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* <linux/filter.h>'s and <linux/seccomp.h>'s (musl's headers lack them) */
struct sock_filter { uint16_t code; uint8_t jt, jf; uint32_t k; };
struct sock_fprog { unsigned short len; struct sock_filter *filter; };
#define BPF_STMT(code, k) { (uint16_t)(code), 0, 0, k }
#define BPF_JUMP(code, k, jt, jf) { (uint16_t)(code), jt, jf, k }
enum { BPF_LD = 0, BPF_LDX = 1, BPF_ST = 2, BPF_STX = 3, BPF_ALU = 4, BPF_JMP = 5, BPF_RET = 6 };
enum { BPF_W = 0, BPF_B = 0x10, BPF_IMM = 0, BPF_ABS = 0x20, BPF_MEM = 0x60, BPF_LEN = 0x80 };
enum { BPF_MUL = 0x20, BPF_DIV = 0x30, BPF_RSH = 0x70, BPF_MOD = 0x90 };
enum { BPF_JEQ = 0x10, BPF_JSET = 0x40, BPF_K = 0, BPF_X = 8, BPF_A = 0x10 };
#define SET_STRICT 0
#define SET_FILTER 1
#define ACTION_AVAIL 2
#define NOTIF_SIZES 3
#define F_TSYNC 1
#define RET_KILL_PROCESS 0x80000000u
#define RET_KILL_THREAD 0u
#define RET_TRAP 0x00030000u
#define RET_ERRNO 0x00050000u
#define RET_TRACE 0x7ff00000u
#define RET_LOG 0x7ffc0000u
#define RET_ALLOW 0x7fff0000u
#define ARCH_X86_64 0xc000003eu
#define NR_OFF 0
#define ARCH_OFF 4
#define ARG0_OFF 16

static long seccomp(unsigned op, unsigned flags, void *arg)
{
	return syscall(SYS_seccomp, op, flags, arg);
}

/* A filter: 'action' for system call 'nr', allow the rest. */
static long deny(int nr, uint32_t action, unsigned flags)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, action),
		BPF_STMT(BPF_RET | BPF_K, RET_ALLOW),
	};
	struct sock_fprog prog = { 4, f };
	return seccomp(SET_FILTER, flags, &prog);
}

static long ppid(void) { return syscall(SYS_getppid); }

static void errors(void)
{
	SHOW(prctl(PR_GET_SECCOMP));
	SHOW(seccomp(9, 0, NULL));
	SHOW(seccomp(SET_STRICT, 1, NULL));
	SHOW(seccomp(SET_FILTER, 0, (void *)16));
	SHOW(seccomp(SET_FILTER, 1u << 20, NULL));
	struct sock_filter ret = BPF_STMT(BPF_RET | BPF_K, RET_ALLOW);
	struct sock_fprog prog = { 0, &ret };
	SHOW(seccomp(SET_FILTER, 0, &prog));            /* empty */
	prog.len = 5000;
	SHOW(seccomp(SET_FILTER, 0, &prog));
	prog = (struct sock_fprog){ 1, (void *)16 };
	SHOW(seccomp(SET_FILTER, 0, &prog));
	struct sock_filter bad[][2] = {
		{ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), BPF_STMT(BPF_RET | BPF_A, 0) },    /* unaligned */
		{ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), BPF_STMT(BPF_RET | BPF_A, 0) },   /* past the data */
		{ BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), BPF_STMT(BPF_RET | BPF_A, 0) },
		{ BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), BPF_STMT(BPF_RET | BPF_A, 0) },   /* not for seccomp */
		{ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 0), BPF_STMT(BPF_RET | BPF_A, 0) },
		{ BPF_STMT(BPF_ST, 16), BPF_STMT(BPF_RET | BPF_A, 0) },
		{ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0), BPF_STMT(BPF_RET | BPF_A, 0) },
		{ BPF_STMT(BPF_RET | BPF_A, 0), BPF_STMT(BPF_LD | BPF_IMM, 0) },            /* no RET last */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		prog = (struct sock_fprog){ 2, bad[i] };
		printf("bad filter %zu: ", i);
		SHOW(seccomp(SET_FILTER, 0, &prog));
	}
	uint32_t actions[] = { RET_KILL_PROCESS, RET_KILL_THREAD, RET_TRAP, RET_ERRNO, RET_TRACE,
			       RET_LOG, RET_ALLOW, 0x12340000 };
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++) {
		printf("action %#x: ", actions[i]);
		SHOW(seccomp(ACTION_AVAIL, 0, &actions[i]));
	}
	SHOW(seccomp(ACTION_AVAIL, 1, &actions[0]));
	SHOW(seccomp(ACTION_AVAIL, 0, (void *)16));
	uint16_t sizes[3];
	SHOW(seccomp(NOTIF_SIZES, 0, sizes));
	printf("sizes %u %u %u\n", sizes[0], sizes[1], sizes[2]);
	SHOW(prctl(PR_SET_SECCOMP, 7, 0));
	SHOW(prctl(PR_GET_SECCOMP));
}

static void on_sys(int sig, siginfo_t *si, void *uc)
{
	unsigned arch;
	memcpy(&arch, (char *)&si->si_addr + 12, 4);
	/* the call's address is where the program goes on: the frame's RIP */
	uint64_t rip = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
	printf("signal %d, code %d, errno %d, call %d, arch %#x, address %s\n", sig, si->si_code,
	       si->si_errno, *(int *)((char *)&si->si_addr + 8), arch,
	       (uint64_t)(uintptr_t)si->si_addr == rip ? "the return address" : "other");
}

static void actions(void)
{
	/* Arguments and the machine: write() to descriptor 99 is EBADF; getppid gets
	 * ERRNO with data 5000 (4095); getpid with arg0 bit 2 set is TRACE (ENOSYS);
	 * uname is LOG (runs). The length and a stored word go through the ALU. */
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARCH_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),          /* 64 */
		BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 3),         /* 8 */
		BPF_STMT(BPF_ST, 3),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, NR_OFF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_write, 0, 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_OFF),
		BPF_STMT(BPF_LDX | BPF_MEM, 3),
		BPF_STMT(BPF_ALU | BPF_MUL | BPF_X, 0),         /* fd * 8 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 99 * 8, 0, 7),
		BPF_STMT(BPF_RET | BPF_K, RET_ERRNO | EBADF),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, RET_ERRNO | 5000),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_uname, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, RET_LOG),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpid, 0, 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, ARG0_OFF),
		BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 4, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, RET_TRACE),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };
	long me = getpid();     /* (before: libc's getpid leaves arg0 as it finds it) */
	SHOW(seccomp(SET_FILTER, 0, &prog));
	SHOW(prctl(PR_GET_SECCOMP));
	SHOW(write(99, "x", 1));
	SHOW(write(98, "x", 1));
	SHOW(ppid());
	SHOW(syscall(SYS_getpid, 4));
	SHOW(syscall(SYS_getpid, 1) == me);
	char un[512];
	SHOW(syscall(SYS_uname, un));
	/* A newer filter's TRAP prevails over the older one's ERRNO; its data is SIGSYS's
	 * si_errno. */
	struct sigaction sa = { .sa_sigaction = on_sys, .sa_flags = SA_SIGINFO };
	sigaction(SIGSYS, &sa, NULL);
	SHOW(deny(SYS_getppid, RET_TRAP | 7, 0));
	SHOW(deny(SYS_getpgrp, RET_TRAP | 9, 0));
	SHOW(ppid());
	SHOW(syscall(SYS_getpgrp));             /* (RAX holds the number after a TRAP) */
	SHOW(prctl(PR_SET_SECCOMP, 1, 0));      /* no strict mode after filters */
}

static void status(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (WIFSIGNALED(st))
		printf("killed by signal %d\n", WTERMSIG(st));
	else
		printf("exit %d\n", WEXITSTATUS(st));
}

static void *killed_thread(void *arg)
{
	(void)arg;
	ppid();
	printf("not reached\n");
	return NULL;
}

/* A child whose getppid meets 'action'. */
static void child_calls(uint32_t action)
{
	pid_t pid = fork();
	if (pid == 0) {
		deny(SYS_getppid, action, 0);
		ppid();
		_exit(0);
	}
	status(pid);
}

static void kill_cases(void)
{
	child_calls(RET_KILL_PROCESS);
	child_calls(RET_KILL_THREAD);
	/* One thread of two killed: the other goes on. (Not joined: on Linux that join
	 * waits for ever.) */
	pid_t pid = fork();
	if (pid == 0) {
		deny(SYS_getppid, RET_KILL_THREAD, 0);
		pthread_t t;
		pthread_create(&t, NULL, killed_thread, NULL);
		sleep(1);
		printf("the other thread goes on\n");
		fflush(stdout);
		_exit(3);
	}
	status(pid);
	/* Strict mode: read, write and exit only. */
	pid = fork();
	if (pid == 0) {
		if (prctl(PR_SET_SECCOMP, 1, 0) != 0)
			_exit(9);
		syscall(SYS_write, 1, "strict: write works\n", 20);
		syscall(SYS_getppid);
		syscall(SYS_exit, 0);
	}
	status(pid);
	pid = fork();
	if (pid == 0) {
		seccomp(SET_STRICT, 0, NULL);
		syscall(SYS_exit, 4);
	}
	status(pid);
}

static void *later(void *arg)
{
	(void)arg;
	printf("a thread started later: ");
	SHOW(ppid());
	return NULL;
}

static pthread_barrier_t bar;
static void *earlier(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	printf("a thread from before: ");
	SHOW(syscall(SYS_getpgrp) > 0);
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	printf("after TSYNC: ");
	SHOW(syscall(SYS_getpgrp));
	return NULL;
}

static void inherit(char *self)
{
	pthread_barrier_init(&bar, NULL, 2);
	pthread_t t;
	pthread_create(&t, NULL, earlier, NULL);
	pthread_barrier_wait(&bar);
	SHOW(deny(SYS_getppid, RET_ERRNO | 33, 0));
	pthread_barrier_wait(&bar);
	pthread_barrier_wait(&bar);
	SHOW(deny(SYS_getpgrp, RET_ERRNO | 34, F_TSYNC));       /* (the other has none) */
	pthread_barrier_wait(&bar);
	pthread_join(t, NULL);
	pthread_create(&t, NULL, later, NULL);
	pthread_join(t, NULL);
	pid_t pid = fork();
	if (pid == 0) {
		printf("a forked child: ");
		SHOW(ppid());
		_exit(0);
	}
	status(pid);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		char *argv[] = { self, "exec", NULL };
		execv(self, argv);
		_exit(7);
	}
	status(pid);
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "errors"))
		errors();
	else if (!strcmp(what, "actions"))
		actions();
	else if (!strcmp(what, "kill"))
		kill_cases();
	else if (!strcmp(what, "inherit"))
		inherit(argv[0]);
	else if (!strcmp(what, "exec")) {
		printf("after execve: ");
		SHOW(ppid());
	} else
		return 2;
	return 0;
}
