/* ptrace.c - a parent traces its children: signal-delivery stops (what it sees, a signal
 * it changes or suppresses, an ignored one, stop signals, the exec's SIGTRAP); registers,
 * memory (a read-only code page too), the user area and the FPU state read and written;
 * syscall stops that change or skip a call, the exit event; single steps, over a SYSCALL too; attaching
 * to a running child (ATTACH, SEIZE), the errors, and a tracee whose tracer exits; a
 * seized tracee's INTERRUPT, group stop and LISTEN, and PTRACE_GET_SYSCALL_INFO; the
 * fork and vfork events, and the children they give the tracer. The
 * children print what they saw after, the parent what it saw, in turn. */
// run: stops
// run: regs
// run: syscalls
// run: step
// run: attach
// run: orphan
// run: seize
// run: forks
#include "common.h"
#include <elf.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>

static volatile int word = 1234, flag;
static volatile long count;

/* (both processes print, each while the other waits) */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	CHECK(write(1, buf, (size_t)n) == n);
}

static int wait_stop(pid_t pid)
{
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (!WIFSTOPPED(st)) {
		say("not stopped: %#x\n", st);
		exit(1);
	}
	return st;
}

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	say("child: got signal %d, code %d, from the parent: %s\n", sig, si->si_code,
	    si->si_pid == getppid() ? "yes" : "no");
}

static void handle(int sig)
{
	struct sigaction sa = { .sa_sigaction = on_signal, .sa_flags = SA_SIGINFO };
	sigaction(sig, &sa, NULL);
}

/* --------------------------------------------------------------------- stops */

static void stops_child(const char *self)
{
	handle(SIGUSR1);
	handle(SIGUSR2);
	CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
	errno = 0;
	SHOW(ptrace(PTRACE_TRACEME, 0, 0, 0));
	raise(SIGUSR1);         /* given SIGUSR2 instead */
	raise(SIGUSR1);         /* suppressed */
	say("child: after the suppressed SIGUSR1\n");
	signal(SIGINT, SIG_IGN);
	raise(SIGINT);          /* ignored: seen all the same */
	raise(SIGSTOP);         /* given back: a group stop, seen too */
	say("child: after SIGSTOP\n");
	raise(SIGTSTP);
	say("child: exec\n");
	execl(self, self, "stops-exec", (char *)NULL);
	exit(98);
}

static void stops(const char *self)
{
	pid_t pid = fork();
	if (!pid)
		stops_child(self);
	int st = wait_stop(pid);
	siginfo_t si;
	CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0);
	say("parent: stop %d, siginfo %d code %d from the child: %s\n", WSTOPSIG(st), si.si_signo,
	    si.si_code, si.si_pid == pid ? "yes" : "no");
	CHECK(ptrace(PTRACE_CONT, pid, 0, SIGUSR2) == 0);
	st = wait_stop(pid);
	say("parent: stop %d; suppressed\n", WSTOPSIG(st));
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	for (int i = 0; i < 4; i++) {
		st = wait_stop(pid);
		say("parent: stop %d\n", WSTOPSIG(st));
		/* (SIGSTOP goes on, and its group stop is seen as a stop again) */
		CHECK(ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(st) == SIGSTOP && i == 1 ? SIGSTOP : 0) == 0);
	}
	st = wait_stop(pid);
	say("parent: after the exec: stop %d\n", WSTOPSIG(st));
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	say("parent: the child exited %d\n", WEXITSTATUS(st));
}

/* --------------------------------------------------------------------- regs */

/* Returns 1, unless a tracer rewrote it. */
extern int answer(void);
__asm__(".text\n.globl answer\nanswer:\n\tmov $1, %eax\n\tret\n");

static void regs_child(void)
{
	CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
	long rax;
	uint64_t r12, r13;
	float x[4] = { 1, 2, 3, 4 };
	__asm__ volatile("movups %[x], %%xmm0\n\t"
			 "mov $0x1111, %%r12\n\tmov $0x2222, %%r13\n\t"
			 "syscall\n\t"
			 "mov %%r12, %[r12]\n\tmov %%r13, %[r13]\n\tmovups %%xmm0, %[x]"
			 : "=a"(rax), [r12] "=m"(r12), [r13] "=m"(r13), [x] "+m"(x)
			 : "a"(SYS_tgkill), "D"(getpid()), "S"(syscall(SYS_gettid)), "d"(SIGUSR1)
			 : "rcx", "r11", "r12", "r13", "xmm0", "memory");
	say("child: rax %ld, r12 %#lx, r13 %#lx, word %d, answer() %d, xmm0 %g %g %g %g\n", rax,
	    (unsigned long)r12, (unsigned long)r13, word, answer(), x[0], x[1], x[2], x[3]);
	exit(0);
}

static void regs(void)
{
	signal(SIGUSR1, SIG_IGN);
	pid_t pid = fork();
	if (!pid)
		regs_child();
	int st = wait_stop(pid);
	struct user_regs_struct r;
	CHECK(ptrace(PTRACE_GETREGS, pid, 0, &r) == 0);
	unsigned long fs;
	CHECK(syscall(SYS_arch_prctl, 0x1003 /* ARCH_GET_FS */, &fs) == 0);
	say("parent: stop %d; rax %lld, orig_rax %lld, rdx %lld, r12 %#llx, cs %#llx, ss %#llx, "
	    "fs_base the parent's: %s\n", WSTOPSIG(st), (long long)r.rax, (long long)r.orig_rax,
	    (long long)r.rdx, (unsigned long long)r.r12, (unsigned long long)r.cs,
	    (unsigned long long)r.ss, r.fs_base == fs ? "yes" : "no");
	long v = ptrace(PTRACE_PEEKUSER, pid, offsetof(struct user_regs_struct, r13), 0);
	say("parent: PEEKUSER r13 %#lx\n", v);
	SHOW(ptrace(PTRACE_POKEUSER, pid, offsetof(struct user_regs_struct, r13), 0x3333));
	r.r12 = 0x4444;
	r.rax = 77;
	SHOW(ptrace(PTRACE_SETREGS, pid, 0, &r));
	r.cs = 0x30;
	SHOW(ptrace(PTRACE_SETREGS, pid, 0, &r));
	SHOW(ptrace(PTRACE_GETREGS, pid, 0, (void *)8));
	say("parent: PEEKDATA word %ld\n", ptrace(PTRACE_PEEKDATA, pid, &word, 0));
	SHOW(ptrace(PTRACE_POKEDATA, pid, &word, 5678));
	/* the code page is read-only: the write is the tracer's privilege */
	errno = 0;
	long code = ptrace(PTRACE_PEEKTEXT, pid, (void *)answer, 0);
	CHECK(errno == 0);
	((uint8_t *)&code)[1] = 42;     /* mov $42, %eax */
	SHOW(ptrace(PTRACE_POKETEXT, pid, (void *)answer, code));
	say("parent: answer() here %d\n", answer());
	errno = 0;
	SHOW(ptrace(PTRACE_PEEKDATA, pid, (void *)8, 0));
	struct user_fpregs_struct fp;
	CHECK(ptrace(PTRACE_GETFPREGS, pid, 0, &fp) == 0);
	float x[4];
	memcpy(x, fp.xmm_space, sizeof(x));
	say("parent: cwd %#x, mxcsr %#x, xmm0 %g %g %g %g\n", fp.cwd, fp.mxcsr, x[0], x[1], x[2], x[3]);
	x[3] = 40;
	memcpy(fp.xmm_space, x, sizeof(x));
	SHOW(ptrace(PTRACE_SETFPREGS, pid, 0, &fp));
	struct iovec iov = { &r, sizeof(r) };
	SHOW(ptrace(PTRACE_GETREGSET, pid, NT_PRSTATUS, &iov));
	say("parent: NT_PRSTATUS %zu bytes, r13 %#llx\n", iov.iov_len, (unsigned long long)r.r13);
	/* the XSAVE image, in a buffer of the size the CPU gives (as LTP's ptrace07) */
	uint32_t eax = 0xd, ebx, ecx = 0, edx;
	__asm__("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
	uint8_t *xs = aligned_alloc(64, (ebx + 63) & ~63u);
	CHECK(xs);
	iov = (struct iovec){ xs, ebx };
	SHOW(ptrace(PTRACE_GETREGSET, pid, NT_X86_XSTATE, &iov));
	uint64_t xcr0, bv;
	memcpy(&xcr0, xs + 464, 8);
	memcpy(&bv, xs + 512, 8);
	memcpy(x, xs + 160, sizeof(x));
	say("parent: NT_X86_XSTATE the CPU's size: %s, x87 and SSE enabled: %s, given: %s, xmm0 %g\n",
	    iov.iov_len == ebx ? "yes" : "no", (xcr0 & 3) == 3 ? "yes" : "no", (bv & 2) ? "yes" : "no", x[3]);
	xs[520] = 1;            /* xcomp_bv: not the standard format */
	SHOW(ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &iov));
	iov.iov_len = 576;      /* less than the whole */
	SHOW(ptrace(PTRACE_SETREGSET, pid, NT_X86_XSTATE, &iov));
	free(xs);
	iov.iov_len = sizeof(r);
	SHOW(ptrace(PTRACE_GETREGSET, pid, 0x999, &iov));
	size_t dr = offsetof(struct user, u_debugreg);
	SHOW(ptrace(PTRACE_POKEUSER, pid, dr, 0x1000));
	say("parent: DR0 %#lx\n", ptrace(PTRACE_PEEKUSER, pid, dr, 0));
	SHOW(ptrace(PTRACE_POKEUSER, pid, dr + 7 * 8, 1));
	SHOW(ptrace(PTRACE_POKEUSER, pid, dr, 0xffff800000000000UL));
	SHOW(ptrace(PTRACE_POKEUSER, pid, dr + 4 * 8, 1));
	SHOW(ptrace(PTRACE_PEEKUSER, pid, 920, 0));
	SHOW(ptrace(PTRACE_PEEKUSER, pid, 928, 0));
	SHOW(ptrace(PTRACE_PEEKUSER, pid, 3, 0));
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	say("parent: the child exited %d\n", WEXITSTATUS(st));
}

/* ------------------------------------------------------------------ syscalls */

static void syscalls_child(void)
{
	CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
	raise(SIGSTOP);
	long a = syscall(SYS_getppid), b = syscall(SYS_getuid), c = syscall(SYS_getgid);
	char line[128];
	int n = snprintf(line, sizeof(line), "child: getppid the parent: %s, getuid %s, getgid %ld\n",
			 a == getppid() ? "yes" : "no", b == getpid() ? "is getpid" : "is not getpid", c);
	CHECK(write(1, line, (size_t)n) == n);
	syscall(SYS_exit_group, 3);
}

static void syscalls(void)
{
	pid_t pid = fork();
	if (!pid)
		syscalls_child();
	wait_stop(pid);
	SHOW(ptrace(PTRACE_SETOPTIONS, pid, 0, PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXIT));
	SHOW(ptrace(PTRACE_SETOPTIONS, pid, 0, 1 << 30));
	int st;
	for (bool entry = true;; entry = !entry) {
		CHECK(ptrace(PTRACE_SYSCALL, pid, 0, 0) == 0);
		CHECK(waitpid(pid, &st, 0) == pid);
		if (!WIFSTOPPED(st))
			break;
		if (st >> 16 == PTRACE_EVENT_EXIT) {
			unsigned long msg;
			CHECK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) == 0);
			say("parent: the exit event, stop %#x, message %#lx\n", st >> 8, msg);
			entry = !entry;
			continue;
		}
		struct user_regs_struct r;
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &r) == 0);
		long nr = (long)r.orig_rax;
		if (nr != SYS_getppid && nr != SYS_getuid && nr != SYS_getgid && nr != SYS_exit_group &&
		    nr != SYS_getpid && nr != SYS_write)
			continue;       /* (the C library's own) */
		say("parent: stop %#x, %s %ld, rax %s\n", WSTOPSIG(st), entry ? "entry" : "exit", nr,
		    entry ? ((long)r.rax == -ENOSYS ? "-ENOSYS" : "?") : nr == SYS_getgid ? "set" : "the result");
		if (entry && nr == SYS_getuid)
			r.orig_rax = SYS_getpid;        /* another call */
		if (entry && nr == SYS_getgid)
			r.orig_rax = -1;                /* none */
		if (!entry && nr == SYS_getgid)
			r.rax = 4242;
		CHECK(ptrace(PTRACE_SETREGS, pid, 0, &r) == 0);
	}
	say("parent: the child exited %d\n", WEXITSTATUS(st));
}

/* ---------------------------------------------------------------------- step */

extern char here[], there[];

static void step_child(void)
{
	CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
	raise(SIGUSR1);
	long r;
	__asm__ volatile("here: nop\n\tmov $5, %%eax\n\tadd $3, %%eax\n\tmov %[nr], %%eax\n\t"
			 "syscall\n\tnop\nthere: nop"
			 : "=a"(r) : [nr] "i"(SYS_getppid) : "rcx", "r11", "memory");
	exit(r == getppid() ? 4 : 5);
}

static void step(void)
{
	pid_t pid = fork();
	if (!pid)
		step_child();
	signal(SIGUSR1, SIG_IGN);
	wait_stop(pid);
	struct user_regs_struct r;
	int n = 0, st;
	do {            /* (to 'here', by steps through raise's return) */
		CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0);
		wait_stop(pid);
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &r) == 0);
		CHECK(++n < 100000);
	} while (r.rip != (unsigned long)here);
	while (r.rip != (unsigned long)there) {
		CHECK(ptrace(PTRACE_SINGLESTEP, pid, 0, 0) == 0);
		st = wait_stop(pid);
		CHECK(ptrace(PTRACE_GETREGS, pid, 0, &r) == 0);
		char eax[32];
		snprintf(eax, sizeof(eax), r.rax == (unsigned long)getpid() ? "the pid" : "%lld", (long long)r.rax);
		say("parent: step: stop %d at here+%ld, rax %s, orig_rax %lld, TF %lld\n", WSTOPSIG(st),
		    (long)(r.rip - (unsigned long)here), eax, (long long)r.orig_rax, (long long)(r.eflags >> 8 & 1));
	}
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	say("parent: the child exited %d\n", WEXITSTATUS(st));
}

/* -------------------------------------------------------------------- attach */

static void attach_child(void)
{
	while (!flag)
		count++;
	exit(9);
}

static void attach(void)
{
	handle(SIGUSR1);
	pid_t pid = fork();
	if (!pid)
		attach_child();
	errno = 0;
	SHOW(ptrace(PTRACE_CONT, pid, 0, 0));
	SHOW(ptrace(PTRACE_PEEKDATA, pid, &word, 0));
	SHOW(ptrace(PTRACE_ATTACH, getpid(), 0, 0));
	SHOW(ptrace(0x4321, pid, 0, 0));
	SHOW(ptrace(PTRACE_ATTACH, pid, 0, 0));
	SHOW(ptrace(PTRACE_ATTACH, pid, 0, 0));
	int st = wait_stop(pid);
	say("parent: attached, stop %d\n", WSTOPSIG(st));
	SHOW(ptrace(PTRACE_POKEDATA, pid, &flag, 1));
	CHECK(ptrace(PTRACE_DETACH, pid, 0, 0) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	SHOW(ptrace(PTRACE_CONT, pid, 0, 0));
	say("parent: the child exited %d\n", WEXITSTATUS(st));

	pid = fork();
	if (!pid)
		attach_child();
	SHOW(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD));
	CHECK(kill(pid, SIGUSR1) == 0);
	st = wait_stop(pid);
	siginfo_t si;
	CHECK(ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0);
	say("parent: seized, stop %d, from the parent: %s\n", WSTOPSIG(st), si.si_pid == getpid() ? "yes" : "no");
	SHOW(ptrace(PTRACE_POKEDATA, pid, &flag, 1));
	CHECK(ptrace(PTRACE_CONT, pid, 0, SIGUSR1) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	say("parent: the child exited %d\n", WEXITSTATUS(st));
}

/* (it says when it is in its loop, where the interrupt's stop is followed by getppid) */
static void seize_child(int ready)
{
	CHECK(write(ready, "r", 1) == 1);
	for (;;)
		syscall(SYS_getppid);
}

static pid_t seize_fork(void)
{
	int fds[2];
	char c;
	CHECK(pipe(fds) == 0);
	pid_t pid = fork();
	if (!pid)
		seize_child(fds[1]);
	CHECK(read(fds[0], &c, 1) == 1);
	close(fds[0]);
	close(fds[1]);
	return pid;
}

static void show_stop(const char *what, int st)
{
	say("parent: %s: event %d, signal %d\n", what, st >> 16, WSTOPSIG(st));
}

#ifndef PTRACE_GET_SYSCALL_INFO
#define PTRACE_GET_SYSCALL_INFO 0x420e
#endif
#ifndef PTRACE_LISTEN
#define PTRACE_LISTEN 0x4208
#endif
#ifndef PTRACE_INTERRUPT
#define PTRACE_INTERRUPT 0x4207
#endif
#ifndef PTRACE_EVENT_STOP
#define PTRACE_EVENT_STOP 128
#endif
/* (linux/ptrace.h's, which the C libraries' headers lack or name otherwise) */
struct syscall_info {
	uint8_t op, pad[3];
	uint32_t arch;
	uint64_t ip, sp;
	union {
		struct { uint64_t nr, args[6]; } entry;
		struct { int64_t rval; uint8_t is_error; } exit;
	};
};
enum { INFO_NONE, INFO_ENTRY, INFO_EXIT };

/* PTRACE_GET_SYSCALL_INFO at a stop: what it says of the call. */
static void call_info(pid_t pid)
{
	struct syscall_info i;
	long n = ptrace(PTRACE_GET_SYSCALL_INFO, pid, sizeof(i), &i);
	say("parent: syscall info size %ld op %d arch %#x", n, i.op, i.arch);
	if (i.op == INFO_ENTRY)
		say(" entry nr %llu\n", (unsigned long long)i.entry.nr);
	else if (i.op == INFO_EXIT)
		say(" exit rval is the parent: %d, error %d\n", i.exit.rval == getpid(), i.exit.is_error);
	else
		say("\n");
}

/* A seized child stopped by PTRACE_INTERRUPT, then by SIGSTOP (a group stop, LISTEN
 * until SIGCONT); what GET_SYSCALL_INFO says at each stop; the errors of LISTEN and
 * INTERRUPT where they do not apply. */
static void seize(void)
{
	pid_t pid = seize_fork();
	CHECK(ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACESYSGOOD) == 0);
	SHOW(ptrace(PTRACE_LISTEN, pid, 0, 0));
	SHOW(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
	int st = wait_stop(pid);
	show_stop("interrupted", st);
	call_info(pid);
	SHOW(ptrace(PTRACE_LISTEN, pid, 0, 0));
	SHOW(ptrace(PTRACE_SYSCALL, pid, 0, 0));       /* (listening: not stopped) */
	SHOW(ptrace(PTRACE_INTERRUPT, pid, 0, 0));
	st = wait_stop(pid);
	show_stop("interrupted again", st);
	for (int i = 0; i < 2; i++) {
		CHECK(ptrace(PTRACE_SYSCALL, pid, 0, 0) == 0);
		st = wait_stop(pid);
		show_stop("syscall stop", st);
		call_info(pid);
	}
	CHECK(kill(pid, SIGSTOP) == 0);
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	st = wait_stop(pid);
	show_stop("signal", st);
	CHECK(ptrace(PTRACE_CONT, pid, 0, SIGSTOP) == 0);
	st = wait_stop(pid);
	show_stop("group stop", st);
	call_info(pid);
	SHOW(ptrace(PTRACE_LISTEN, pid, 0, 0));
	CHECK(kill(pid, SIGCONT) == 0);
	st = wait_stop(pid);
	show_stop("after SIGCONT", st);
	CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
	st = wait_stop(pid);
	show_stop("signal", st);
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	say("parent: killed by %d\n", WTERMSIG(st));

	pid = seize_fork();
	CHECK(ptrace(PTRACE_ATTACH, pid, 0, 0) == 0);
	st = wait_stop(pid);
	show_stop("attached", st);
	SHOW(ptrace(PTRACE_INTERRUPT, pid, 0, 0));     /* (not seized) */
	CHECK(kill(pid, SIGKILL) == 0);
	CHECK(waitpid(pid, &st, 0) == pid);
	say("parent: killed by %d\n", WTERMSIG(st));
}

/* The tracee: a fork whose child exits 7, a vfork whose child exits 8 (SIGCHLD blocked:
 * no signal stops between the events). */
static void forks_child(void)
{
	int st;
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	CHECK(sigprocmask(SIG_BLOCK, &chld, NULL) == 0);
	pid_t g = fork();
	if (!g)
		_exit(7);
	CHECK(waitpid(g, &st, 0) == g);
	say("child: its child exited %d\n", WEXITSTATUS(st));
	pid_t v = vfork();
	if (!v)
		_exit(8);
	CHECK(waitpid(v, &st, 0) == v);
	say("child: its vfork child exited %d\n", WEXITSTATUS(st));
	exit(0);
}

/* The next stop of 'pid': an event's, whose message (a new child) it returns. */
static pid_t event(pid_t pid, const char *what)
{
	int st = wait_stop(pid);
	unsigned long msg = 0;
	CHECK(ptrace(PTRACE_GETEVENTMSG, pid, 0, &msg) == 0);
	say("parent: %s: event %d, signal %d, a child of its: %d\n", what, st >> 16, WSTOPSIG(st),
	    getpgid((pid_t)msg) == getpgid(0));
	return (pid_t)msg;
}

/* The tracer of a child given its fork's and vfork's children (TRACEME: they start
 * with SIGSTOP; seized: with an event stop), each waited for in turn. */
static void forks(void)
{
	for (int seize = 0; seize < 2; seize++) {
		int go[2];
		CHECK(pipe(go) == 0);
		pid_t pid = fork();
		if (!pid) {
			char c;
			if (!seize) {
				CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
				raise(SIGSTOP);
			}
			CHECK(read(go[0], &c, 1) == 1);
			forks_child();
		}
		long opts = PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACEVFORKDONE;
		if (seize) {
			CHECK(ptrace(PTRACE_SEIZE, pid, 0, opts) == 0);
		} else {
			int st = wait_stop(pid);
			show_stop("first stop", st);
			CHECK(ptrace(PTRACE_SETOPTIONS, pid, 0, opts) == 0);
			CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
		}
		CHECK(write(go[1], "g", 1) == 1);
		pid_t g = event(pid, "fork");
		show_stop("its child starts", wait_stop(g));
		CHECK(ptrace(PTRACE_CONT, g, 0, 0) == 0);
		int st;
		CHECK(waitpid(g, &st, 0) == g);
		say("parent: its child exited %d\n", WEXITSTATUS(st));
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
		pid_t v = event(pid, "vfork");
		show_stop("its vfork child starts", wait_stop(v));
		CHECK(ptrace(PTRACE_CONT, v, 0, 0) == 0);
		CHECK(waitpid(v, &st, 0) == v);
		say("parent: its vfork child exited %d\n", WEXITSTATUS(st));
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
		CHECK(event(pid, "vfork done") == v);
		CHECK(ptrace(PTRACE_CONT, pid, 0, 0) == 0);
		CHECK(waitpid(pid, &st, 0) == pid);
		say("parent: the child exited %d\n", WEXITSTATUS(st));
	}
}

/* A tracer that leaves its tracee stopped: the tracee goes on, and gets its signal. */
static void orphan(void)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t mid = fork();
	if (!mid) {
		pid_t pid = fork();
		if (!pid) {
			close(fds[0]);
			CHECK(dup2(fds[1], 1) == 1);
			handle(SIGUSR1);
			CHECK(ptrace(PTRACE_TRACEME, 0, 0, 0) == 0);
			raise(SIGUSR1);
			say("grandchild: goes on\n");
			exit(0);
		}
		int st = wait_stop(pid);
		say("tracer: stop %d; leaves\n", WSTOPSIG(st));
		exit(0);
	}
	close(fds[1]);
	int st;
	CHECK(waitpid(mid, &st, 0) == mid);
	char buf[256];
	ssize_t n, all = 0;
	while ((n = read(fds[0], buf + all, sizeof(buf) - 1 - (size_t)all)) > 0)
		all += n;
	buf[all] = 0;
	say("%s", buf);
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	setvbuf(stdout, NULL, _IONBF, 0);
	if (!strcmp(what, "stops-exec")) {
		say("child: exec'd\n");
		return 5;
	}
	if (!strcmp(what, "stops"))
		stops(argv[0]);
	else if (!strcmp(what, "regs"))
		regs();
	else if (!strcmp(what, "syscalls"))
		syscalls();
	else if (!strcmp(what, "step"))
		step();
	else if (!strcmp(what, "attach"))
		attach();
	else if (!strcmp(what, "orphan"))
		orphan();
	else if (!strcmp(what, "seize"))
		seize();
	else if (!strcmp(what, "forks"))
		forks();
	else
		return 2;
	return 0;
}
