/* Stack overflow: caught on an alternate stack (sigaltstack), or fatal without one; the
 * SIMD registers of interrupted code survive a handler that uses its own. */
// run: altstack
// run: no-altstack
// run: altstack-query
// run: simd
// run: simd-async
// run: edit-xmm
#include "common.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf jb;
static char *alt;
static volatile sig_atomic_t hits;

static int recurse(int n)
{
	volatile char pad[1024];
	pad[0] = (char)n;
	return recurse(n + 1) + pad[0];
}

static void on_overflow(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	char here;
	int on_alt = &here >= alt && &here < alt + 65536;
	printf("signal %d code %d on the alternate stack %d, uc_stack flags %d\n", sig, si->si_code, on_alt,
	       uc->uc_stack.ss_flags);
	stack_t cur;
	sigaltstack(NULL, &cur);
	printf("inside: SS_ONSTACK %d\n", !!(cur.ss_flags & SS_ONSTACK));
	siglongjmp(jb, 1);
}

/* Clobber every vector register the handler may touch. */
static void on_simd(int sig)
{
	(void)sig;
	__asm__ volatile("pcmpeqd %%xmm0, %%xmm0; pcmpeqd %%xmm1, %%xmm1; pcmpeqd %%xmm7, %%xmm7;"
			 "pcmpeqd %%xmm8, %%xmm8; pcmpeqd %%xmm15, %%xmm15" ::: "xmm0", "xmm1", "xmm7", "xmm8", "xmm15");
	if (__builtin_cpu_supports("avx"))
		__asm__ volatile("vpcmpeqd %%ymm2, %%ymm2, %%ymm2; vpcmpeqd %%ymm9, %%ymm9, %%ymm9" ::: "xmm2", "xmm9");
	hits++;
}

static void on_edit(int sig, siginfo_t *si, void *ctx)
{
	(void)sig; (void)si;
	ucontext_t *uc = ctx;
	/* the interrupted XMM3 is in the saved FPU state: change it */
	uc->uc_mcontext.fpregs->_xmm[3].element[0] = 0x12345678;
	hits++;
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *m = argv[1];
	struct sigaction sa = { .sa_sigaction = on_overflow, .sa_flags = SA_SIGINFO | SA_ONSTACK };
	sigemptyset(&sa.sa_mask);
	if (!strcmp(m, "altstack") || !strcmp(m, "no-altstack")) {
		if (!strcmp(m, "altstack")) {
			alt = malloc(65536);
			stack_t ss = { .ss_sp = alt, .ss_size = 65536 };
			CHECK(sigaltstack(&ss, NULL) == 0);
		}
		CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
		printf("recursing\n");
		fflush(stdout);
		if (!sigsetjmp(jb, 1))
			recurse(0);
		printf("recovered\n");
	} else if (!strcmp(m, "altstack-query")) {
		stack_t ss, old;
		SHOW(sigaltstack(NULL, &old));
		printf("initial flags %d size %zu\n", old.ss_flags, old.ss_size);
		ss = (stack_t){ .ss_sp = malloc(1000), .ss_size = 1000 };
		SHOW(sigaltstack(&ss, NULL));
		ss = (stack_t){ .ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 99 };
		SHOW(sigaltstack(&ss, NULL));
		ss.ss_flags = 0;
		SHOW(sigaltstack(&ss, NULL));
		SHOW(sigaltstack(NULL, &old));
		printf("flags %d size %zu\n", old.ss_flags, old.ss_size);
		ss.ss_flags = SS_DISABLE;
		SHOW(sigaltstack(&ss, &old));
		SHOW(sigaltstack(NULL, &old));
		printf("flags %d size %zu\n", old.ss_flags, old.ss_size);
		SHOW(syscall(SYS_sigaltstack, 8, NULL));        /* (libc wrappers may read it first) */
	} else if (!strcmp(m, "simd") || !strcmp(m, "simd-async")) {
		int async = !strcmp(m, "simd-async");
		signal(async ? SIGALRM : SIGUSR1, on_simd);
		uint32_t out[8][4], in[8][4];
		for (int i = 0; i < 8; i++)
			for (int j = 0; j < 4; j++)
				in[i][j] = (uint32_t)(i * 16 + j + 1);
		if (async) {
			struct itimerval it = { { 0, 0 }, { 0, 20000 } };
			setitimer(ITIMER_REAL, &it, NULL);
		}
		/* values live in xmm0, 1, 2, 7, 8, 9, 15 across the signal */
		__asm__ volatile(
			"movdqu 0(%[in]), %%xmm0; movdqu 16(%[in]), %%xmm1; movdqu 32(%[in]), %%xmm2;"
			"movdqu 48(%[in]), %%xmm7; movdqu 64(%[in]), %%xmm8; movdqu 80(%[in]), %%xmm9;"
			"movdqu 96(%[in]), %%xmm15;"
			"test %[async], %[async]; jnz 2f;"
			"mov $39, %%eax; syscall; mov %%eax, %%edi; mov $10, %%esi; mov $62, %%eax; syscall; jmp 3f;"
			"2: cmpl $0, %[hits]; je 2b;"
			"3: movdqu %%xmm0, 0(%[out]); movdqu %%xmm1, 16(%[out]); movdqu %%xmm2, 32(%[out]);"
			"movdqu %%xmm7, 48(%[out]); movdqu %%xmm8, 64(%[out]); movdqu %%xmm9, 80(%[out]);"
			"movdqu %%xmm15, 96(%[out]);"
			: : [in] "r"(in), [out] "r"(out), [async] "r"((long)async), [hits] "m"(hits)
			: "rax", "rcx", "rdi", "rsi", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm7", "xmm8",
			  "xmm9", "xmm15");
		int same = 0;
		for (int i = 0; i < 7; i++)
			same += !memcmp(in[i], out[i], 16);
		printf("handler ran %d, registers kept %d of 7\n", hits, same);
		if (__builtin_cpu_supports("avx")) {
			/* the upper halves of YMM registers too */
			uint32_t yin[2][8], yout[2][8];
			for (int j = 0; j < 16; j++)
				yin[j / 8][j % 8] = (uint32_t)(0x100 + j);
			hits = 0;
			__asm__ volatile("vmovdqu 0(%[in]), %%ymm2; vmovdqu 32(%[in]), %%ymm9;"
					 "mov $39, %%eax; syscall; mov %%eax, %%edi; mov %[sig], %%esi; mov $62, %%eax; syscall;"
					 "vmovdqu %%ymm2, 0(%[out]); vmovdqu %%ymm9, 32(%[out]); vzeroupper"
					 : : [in] "r"(yin), [out] "r"(yout), [sig] "r"(async ? SIGALRM : SIGUSR1)
					 : "rax", "rcx", "rdi", "rsi", "r11", "memory", "xmm2", "xmm9");
			printf("ymm kept: %d\n", !memcmp(yin, yout, sizeof(yin)) && hits == 1);
		}
	} else if (!strcmp(m, "edit-xmm")) {
		struct sigaction e = { .sa_sigaction = on_edit, .sa_flags = SA_SIGINFO };
		sigemptyset(&e.sa_mask);
		sigaction(SIGUSR1, &e, NULL);
		uint32_t v[4] = { 1, 2, 3, 4 }, out[4];
		__asm__ volatile("movdqu (%[v]), %%xmm3; mov $39, %%eax; syscall; mov %%eax, %%edi;"
				 "mov $10, %%esi; mov $62, %%eax; syscall; movdqu %%xmm3, (%[out])"
				 : : [v] "r"(v), [out] "r"(out) : "rax", "rcx", "rdi", "rsi", "r11", "memory", "xmm3");
		printf("xmm3 after: %#x %u %u %u\n", out[0], out[1], out[2], out[3]);
	}
	return 0;
}
