/* Faults caught by handlers: the siginfo and context a handler sees, and what it may
 * change before it returns (the program goes on as the kernel would make it). */
// run: longjmp
// run: guard
// run: skip-ud2
// run: div0
// run: int3
// run: sse
// run: context
// run: blocked
// run: bus
// run: bus-shrunk
#include "common.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <xmmintrin.h>

static sigjmp_buf jb;
static volatile sig_atomic_t caught;
static char *guard;

static void show_info(int sig, const siginfo_t *si, const ucontext_t *uc)
{
	printf("signal %d code %d trapno %lld err %lld\n", sig, si->si_code,
	       (long long)uc->uc_mcontext.gregs[REG_TRAPNO], (long long)uc->uc_mcontext.gregs[REG_ERR]);
}

static void on_jump(int sig, siginfo_t *si, void *ctx)
{
	(void)sig; (void)ctx;
	caught++;
	siglongjmp(jb, si->si_addr == (void *)16 ? 2 : 1);
}

static void on_guard(int sig, siginfo_t *si, void *ctx)
{
	show_info(sig, si, ctx);
	printf("at guard page: %d\n", (char *)si->si_addr == guard + 100);
	/* make it writable and return: the store runs again and succeeds */
	CHECK(mprotect(guard, 4096, PROT_READ | PROT_WRITE) == 0);
}

static void on_ud2(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	show_info(sig, si, uc);
	printf("si_addr is rip: %d\n", si->si_addr == (void *)uc->uc_mcontext.gregs[REG_RIP]);
	uc->uc_mcontext.gregs[REG_RIP] += 2;    /* skip the ud2 */
	uc->uc_mcontext.gregs[REG_RBX] = 42;    /* and hand back a register */
}

static void on_show(int sig, siginfo_t *si, void *ctx)
{
	show_info(sig, si, ctx);
	siglongjmp(jb, 1);
}

/* (kvmse cannot always tell where the host's memory failed: no address here) */
static void on_bus(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	printf("signal %d code %d\n", sig, si->si_code);
	siglongjmp(jb, 1);
}

static void on_context(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	show_info(sig, si, uc);
	printf("uc_flags %#lx csgsfs %#llx ss_flags %d\n", (unsigned long)uc->uc_flags,
	       (unsigned long long)uc->uc_mcontext.gregs[REG_CSGSFS], uc->uc_stack.ss_flags);
	printf("aligned: uc %d info %d fpregs %d frame %d\n", (int)((uintptr_t)uc & 15), (int)((uintptr_t)si & 15),
	       (int)((uintptr_t)uc->uc_mcontext.fpregs & 63), (int)(sp & 15));
	printf("fpstate magic %#x, info after uc: %ld\n", ((unsigned *)uc->uc_mcontext.fpregs)[116],
	       (long)((char *)si - (char *)uc));
	siglongjmp(jb, 1);
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	show_info(sig, si, uc);
	caught = *(unsigned char *)(uc->uc_mcontext.gregs[REG_RIP] - 1) == 0xcc;
}

static void handle(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = { .sa_sigaction = fn, .sa_flags = SA_SIGINFO | flags };
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(sig, &sa, NULL) == 0);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *m = argv[1];
	volatile int zero = 0;
	if (!strcmp(m, "longjmp")) {
		handle(SIGSEGV, on_jump, 0);
		int twos = 0;
		for (int i = 0; i < 1000; i++) {
			int r = sigsetjmp(jb, 1);
			if (r == 0)
				*(volatile int *)(uintptr_t)(i % 2 ? 16 : 0) = i;
			twos += r == 2;
		}
		sigset_t cur;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		printf("caught %d, at 16: %d, SEGV blocked after: %d\n", caught, twos, sigismember(&cur, SIGSEGV));
	} else if (!strcmp(m, "guard")) {
		guard = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(guard != MAP_FAILED);
		handle(SIGSEGV, on_guard, 0);
		guard[100] = 7;
		printf("after: %d\n", guard[100]);
	} else if (!strcmp(m, "skip-ud2")) {
		handle(SIGILL, on_ud2, 0);
		long rbx = 0;
		__asm__ volatile("xor %%ebx, %%ebx; ud2; mov %%rbx, %0" : "=r"(rbx) : : "rbx");
		printf("after ud2, rbx %ld\n", rbx);
	} else if (!strcmp(m, "div0")) {
		handle(SIGFPE, on_show, 0);
		if (!sigsetjmp(jb, 1))
			printf("%d\n", 7 / zero);
		printf("recovered\n");
	} else if (!strcmp(m, "int3")) {
		handle(SIGTRAP, on_trap, 0);
		__asm__ volatile("int3");
		printf("after int3, rip was past it: %d\n", caught);
	} else if (!strcmp(m, "sse")) {
		handle(SIGFPE, on_show, 0);
		_mm_setcsr(_mm_getcsr() & ~_MM_MASK_DIV_ZERO);
		volatile float a = 1.0f, b = 0.0f;
		if (!sigsetjmp(jb, 1))
			printf("%f\n", a / b);
		printf("mxcsr restored by siglongjmp? masked: %d\n", !!(_mm_getcsr() & _MM_MASK_DIV_ZERO));
	} else if (!strcmp(m, "context")) {
		/* what a handler sees of the stack and the frame */
		handle(SIGSEGV, on_context, SA_NODEFER);
		if (!sigsetjmp(jb, 1))
			*(volatile int *)8 = 1;
	} else if (!strcmp(m, "bus")) {
		/* a file mapping's whole pages past the end of the file */
		int fd = open("bus.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0 && write(fd, "abc", 3) == 3);
		char *map = mmap(NULL, 3 * 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		CHECK(map != MAP_FAILED);
		unlink("bus.tmp");
		handle(SIGBUS, on_show, 0);
		printf("in the file's last page: %c %d\n", map[1], map[4000]);
		if (!sigsetjmp(jb, 1))
			printf("%d\n", map[2 * 4096 + 5]);
		SHOW(write(1, map + 4096, 1));
	} else if (!strcmp(m, "bus-shrunk")) {
		/* a shared file mapping whose file shrank after it was touched: SIGBUS for a
		 * read and a write past the new end, caught and not; EFAULT for a system call */
		int fd = open("shrunk.tmp", O_RDWR | O_CREAT | O_TRUNC, 0600);
		CHECK(fd >= 0 && ftruncate(fd, 3 * 4096) == 0);
		volatile char *map = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		CHECK(map != MAP_FAILED);
		map[0] = 'a';
		map[4096] = 'b';
		CHECK(ftruncate(fd, 10) == 0);
		unlink("shrunk.tmp");
		/* system calls given memory there: EFAULT, as any bad address */
		void *gone = (char *)map + 4096;
		SHOW(syscall(SYS_clock_gettime, CLOCK_REALTIME, gone));
		SHOW(syscall(SYS_uname, gone));
		SHOW(syscall(SYS_rt_sigaction, SIGUSR1, gone, NULL, 8));
		SHOW(syscall(SYS_pipe2, gone, 0));
		SHOW(syscall(SYS_write, 1, gone, 5));
		SHOW(syscall(SYS_open, gone, O_RDONLY));
		handle(SIGBUS, on_bus, 0);
		printf("still in the file: %c\n", map[0]);
		if (!sigsetjmp(jb, 1))
			printf("%d\n", map[4096]);
		if (!sigsetjmp(jb, 1))
			map[2 * 4096] = 'c';
		fflush(stdout);
		signal(SIGBUS, SIG_DFL);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			map[8000] = 'd';
			_exit(0);
		}
		int st;
		CHECK(waitpid(pid, &st, 0) == pid);
		printf("child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	} else if (!strcmp(m, "blocked")) {
		/* a fault's signal blocked: the default action, whatever the handler */
		handle(SIGSEGV, on_show, 0);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGSEGV);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("faulting\n");
		fflush(stdout);
		*(volatile int *)0 = 1;
	}
	return 0;
}
