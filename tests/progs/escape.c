/* Attempts to leave ring 3 or reach the shim: each must end as natively (a signal); and
 * /proc's mem of this process, which must be its memory or nothing. */
// run: read-shim
// run: write-shim
// run: jump-shim
// run: read-dmap
// run: hlt
// run: out
// run: out-syscall-port
// run: in
// run: cli
// run: mov-cr3
// run: wrmsr
// run: lgdt
// run: int40
// run: int41
// run: ud2
// run: int3
// run: div0
// run: noncanonical
// run: caught-ports
// run: proc-mem
#include "common.h"
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <ucontext.h>

/* OUT to each port kvmse's entry page uses, from the program's own code: a #GP, and the
 * handler sees RIP at the OUT itself (the instruction did not run), as natively. */
static sigjmp_buf jb;
static uintptr_t fault_rip;

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	(void)sig; (void)si;
	fault_rip = (uintptr_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP];
	siglongjmp(jb, 1);
}

extern char out_10[], out_12[], out_13[], in_10[];
__asm__(".text\n"
	"out_10: outb %al, $0x10\n ret\n"
	"out_12: outb %al, $0x12\n ret\n"
	"out_13: outb %al, $0x13\n ret\n"
	"in_10: inb $0x10, %al\n ret\n");

static void caught_ports(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigemptyset(&sa.sa_mask);
	CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
	char *sites[] = { out_10, out_12, out_13, in_10 };
	for (int i = 0; i < 4; i++) {
		fault_rip = 0;
		if (!sigsetjmp(jb, 1))
			((void (*)(void))sites[i])();
		printf("site %d: faulted at the instruction %d\n", i, fault_rip == (uintptr_t)sites[i]);
	}
}

/* Through each name of /proc's mem of this process: what is read at a variable's address
 * is its value, and a write there changes it, or the file cannot be used at all. (Under
 * kvmse the host's file would be kvmse's memory, not the program's.) */
static void proc_mem(void)
{
	static volatile uint64_t var = 0x1234;
	char names[4][64];
	snprintf(names[0], 64, "/proc/self/mem");
	snprintf(names[1], 64, "/proc/%d/mem", (int)getpid());
	snprintf(names[2], 64, "/proc/self/task/%d/mem", (int)getpid());
	snprintf(names[3], 64, "/proc/thread-self/mem");
	for (int i = 0; i < 4; i++) {
		int fd = open(names[i], O_RDWR);
		uint64_t got = 0, put = var + 1;
		int ok = fd < 0 ||
			  (pread(fd, &got, 8, (off_t)(uintptr_t)&var) != 8 || got == var) &&
			  (pwrite(fd, &put, 8, (off_t)(uintptr_t)&var) != 8 || var == put);
		printf("%s: %s\n", i ? "another name" : names[0], ok ? "this memory or none" : "other memory");
		if (fd >= 0)
			close(fd);
	}
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *m = argv[1];
	printf("trying %s\n", m);
	fflush(stdout);
	volatile uint64_t *shim = (uint64_t *)0xffffffff80000000UL;
	if (!strcmp(m, "read-shim"))
		printf("%lx\n", (unsigned long)shim[0x2000 / 8]);
	else if (!strcmp(m, "write-shim"))
		shim[0] = 0xcc;
	else if (!strcmp(m, "jump-shim"))
		((void (*)(void))0xffffffff80001000UL)();
	else if (!strcmp(m, "read-dmap"))
		printf("%lx\n", *(volatile unsigned long *)0xffff888000001000UL);
	else if (!strcmp(m, "caught-ports"))
		caught_ports();
	else if (!strcmp(m, "proc-mem"))
		proc_mem();
	else if (!strcmp(m, "hlt"))
		__asm__ volatile("hlt");
	else if (!strcmp(m, "out"))
		__asm__ volatile("outb %al, $0x80");
	else if (!strcmp(m, "out-syscall-port"))
		__asm__ volatile("mov $39, %%eax; outb %%al, $0x10" ::: "eax");
	else if (!strcmp(m, "in"))
		__asm__ volatile("inb $0x10, %%al" ::: "eax");
	else if (!strcmp(m, "cli"))
		__asm__ volatile("cli");
	else if (!strcmp(m, "mov-cr3"))
		__asm__ volatile("mov %%cr3, %%rax" ::: "rax");
	else if (!strcmp(m, "wrmsr"))
		__asm__ volatile("xor %%eax, %%eax; xor %%edx, %%edx; mov $0xc0000082, %%ecx; wrmsr" ::: "eax", "ecx", "edx");
	else if (!strcmp(m, "lgdt")) {
		struct __attribute__((packed)) { uint16_t lim; uint64_t base; } d = { 0, 0 };
		__asm__ volatile("lgdt %0" :: "m"(d));
	} else if (!strcmp(m, "int40"))
		__asm__ volatile("int $0x40");
	else if (!strcmp(m, "int41"))
		__asm__ volatile("int $0x41");
	else if (!strcmp(m, "ud2"))
		__asm__ volatile("ud2");
	else if (!strcmp(m, "int3"))
		__asm__ volatile("int3");
	else if (!strcmp(m, "div0")) {
		volatile int z = 0;
		printf("%d\n", 1 / z);
	} else if (!strcmp(m, "noncanonical"))
		printf("%lx\n", *(volatile unsigned long *)0x8000000000000000UL);
	printf("survived %s\n", m);
	return 0;
}
