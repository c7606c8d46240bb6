/* scribble.c SEED - for kvmse only (natively the page below is the kernel's): write
 * garbage over this vCPU's syscall channel page, between system calls and instead of
 * them, and forge requests the entry code would never send. kvmse must answer with
 * errors (or kill the program with SIGSEGV), never crash or run what SYSCALL couldn't. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include "../../src/layout.h"

static volatile uint64_t *const ch = (volatile uint64_t *)(SLOT_VA(0) + 4096);
#define W(off) ch[(off) / 8]

static uint64_t seed;
static uint64_t rnd(void)
{
	seed ^= seed << 13;
	seed ^= seed >> 7;
	seed ^= seed << 17;
	return seed;
}

/* Post a request without SYSCALL. brk always takes the exit path, and kvmse finishes
 * what was posted before it runs an exit-path call: so the answer is there after it. */
static long forge(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	W(CH_NR) = nr;
	W(CH_ARGS) = a0;
	W(CH_ARGS + 8) = a1;
	W(CH_ARGS + 16) = a2;
	uint64_t seq = W(CH_REQ) + 1;
	W(CH_REQ) = seq;
	syscall(SYS_brk, 0);
	return W(CH_RESP) == seq ? (long)W(CH_RET) : -99999;
}

/* The call number and arguments are left alone here (forge() covers them): a bumped
 * CH_REQ makes kvmse run the call in them again, and random ones could be kill(-1, ...). */
static const uint64_t offsets[] = { CH_REQ, CH_RESP, CH_RET, CH_AWAKE, CH_RIP, CH_RFLAGS,
				    CH_RSP, CH_STACK - 8 };

static void scribble(void)
{
	uint64_t off = rnd() % 3 ? offsets[rnd() % (sizeof(offsets) / 8)] : CH_RESP + (rnd() % 504) * 8;
	uint64_t v;
	switch (rnd() % 4) {
	case 0: v = rnd(); break;
	case 1: v = W(CH_REQ) + rnd() % 3 - 1; break;
	case 2: v = rnd() % 2; break;
	default: v = (uint64_t)-1; break;
	}
	W(off) = v;
}

int main(int argc, char **argv)
{
	seed = argc > 1 ? strtoull(argv[1], NULL, 0) | 1 : 1;
	int null = open("/dev/null", O_WRONLY), zero = open("/dev/zero", O_RDONLY);
	static const char msg[] = "forged write\n";
	/* Calls that need the vCPU may not be forged; nor may unknown numbers. */
	printf("exit_group: %ld\n", forge(SYS_exit_group, 3, 0, 0));
	printf("exit: %ld\n", forge(SYS_exit, 3, 0, 0));
	printf("mmap: %ld\n", forge(SYS_mmap, 0, 4096, 3));
	printf("arch_prctl: %ld\n", forge(SYS_arch_prctl, 0x1002, 0, 0));
	printf("number 100000: %ld\n", forge(100000, 0, 0, 0));
	printf("number -1: %ld\n", forge((uint64_t)-1, 0, 0, 0));
	fflush(stdout);
	printf("getppid: %s\n", forge(SYS_getppid, 0, 0, 0) == getppid() ? "right" : "wrong");
	printf("write: %ld\n", forge(SYS_write, 1, (uint64_t)msg, sizeof(msg) - 1));
	printf("bad pointer: %ld\n", forge(SYS_write, 1, 16, 10));
	fflush(stdout);

	char buf[64];
	for (int i = 0; i < 20000; i++) {
		switch (rnd() % 8) {
		case 0: case 1: case 2: scribble(); break;
		case 3: syscall(SYS_getppid); break;
		case 4: syscall(SYS_write, null, buf, 1 + rnd() % 64); break;
		case 5: syscall(SYS_read, zero, buf, 1 + rnd() % 64); break;
		case 6: syscall(SYS_close, 100000 + rnd() % 1000); break;
		default:
			forge(rnd() % 2 ? SYS_getpid : SYS_read, zero, (uint64_t)buf, rnd() % 64);
			break;
		}
	}
	printf("survived\n");
	return 0;
}
