/* futex2.c - futex_waitv and the futex2 calls (futex_wake, futex_wait, futex_requeue):
 * each argument's errors in the kernel's order, timeouts, and a wait on three words that
 * another thread ends by waking the second. */
#include "common.h"
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NR_futex_waitv 449
#define NR_futex_wake 454
#define NR_futex_wait 455
#define NR_futex_requeue 456
#define U32 0x02                /* FUTEX2_SIZE_U32 */
#define PRIV 128                /* FUTEX2_PRIVATE */
#define ALL 0xffffffffUL        /* FUTEX_BITSET_MATCH_ANY (a 32-bit word's) */

struct waitv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

static uint32_t word[3] = { 10, 20, 30 };
static struct waitv wv[3];

static long waitv(struct waitv *v, unsigned n, unsigned flags, struct timespec *t, int clk)
{
	return syscall(NR_futex_waitv, v, n, flags, t, clk);
}

static void set_waitv(void)
{
	for (int i = 0; i < 3; i++)
		wv[i] = (struct waitv){ word[i], (uint64_t)(uintptr_t)&word[i], U32 | PRIV, 0 };
}

static void *waiter(void *arg)
{
	(void)arg;
	return (void *)waitv(wv, 3, 0, NULL, 0);
}

/* Which word woke the waiter: the second, woken as soon as the waiter sleeps on it. */
static void wake_second(void)
{
	pthread_t t;
	set_waitv();
	CHECK(pthread_create(&t, NULL, waiter, NULL) == 0);
	long rc;
	while ((rc = syscall(NR_futex_wake, &word[1], ALL, 1, U32 | PRIV)) == 0)
		usleep(1000);
	CHECK(rc == 1);
	void *ret;
	pthread_join(t, &ret);
	printf("waitv woken by word %ld\n", (long)ret);
}

int main(void)
{
	struct timespec past = { 0, 0 }, bad_ns = { 0, 1000000000 };
	char *page = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(page != MAP_FAILED && munmap(page + 4096, 4096) == 0);

	set_waitv();
	SHOW(waitv(wv, 3, 1, NULL, 0));
	SHOW(waitv(wv, 0, 0, NULL, 0));
	SHOW(waitv(wv, 129, 0, NULL, 0));
	SHOW(waitv(NULL, 1, 0, NULL, 0));
	SHOW(waitv(wv, 3, 0, &bad_ns, CLOCK_MONOTONIC));
	SHOW(waitv(wv, 3, 0, &past, CLOCK_PROCESS_CPUTIME_ID));
	SHOW(waitv(wv, 3, 0, (void *)8, CLOCK_MONOTONIC));
	SHOW(waitv((void *)8, 3, 0, NULL, 0));
	SHOW(waitv(wv, 3, 0, &past, CLOCK_MONOTONIC));
	SHOW(waitv(wv, 3, 0, &past, CLOCK_REALTIME));
	wv[1].val = 21;
	SHOW(waitv(wv, 3, 0, NULL, 0));
	set_waitv();
	wv[2].reserved = 1;
	SHOW(waitv(wv, 3, 0, NULL, 0));
	set_waitv();
	wv[2].flags = PRIV;
	SHOW(waitv(wv, 3, 0, NULL, 0));
	set_waitv();
	wv[1].uaddr += 2;
	SHOW(waitv(wv, 3, 0, NULL, 0));
	set_waitv();
	wv[0].uaddr = 8;
	SHOW(waitv(wv, 3, 0, NULL, 0));
	set_waitv();
	wv[2].uaddr = 0xffffffff80000000UL;
	SHOW(waitv(wv, 3, 0, NULL, 0));
	/* Two readable entries, the third past the end of readable memory. */
	struct waitv *edge = (struct waitv *)(page + 4096) - 2;
	set_waitv();
	edge[0] = wv[0];
	edge[1] = wv[1];
	SHOW(waitv(edge, 3, 0, &past, CLOCK_MONOTONIC));
	edge[1].reserved = 1;
	SHOW(waitv(edge, 3, 0, &past, CLOCK_MONOTONIC));

	SHOW(syscall(NR_futex_wake, &word[0], ALL, 1, U32 | PRIV));
	SHOW(syscall(NR_futex_wake, &word[0], 0UL, 1, U32 | PRIV));
	SHOW(syscall(NR_futex_wake, &word[0], ALL, 1, PRIV));
	SHOW(syscall(NR_futex_wake, (char *)&word[0] + 1, ALL, 1, U32 | PRIV));
	SHOW(syscall(NR_futex_wake, (void *)8, ALL, 1, U32 | PRIV));
	SHOW(syscall(NR_futex_wait, &word[0], 11UL, ALL, U32 | PRIV, NULL, 0));
	SHOW(syscall(NR_futex_wait, &word[0], 10UL, ALL, U32 | PRIV, &past, CLOCK_MONOTONIC));
	SHOW(syscall(NR_futex_wait, &word[0], 10UL, ALL, U32 | PRIV, &past, CLOCK_BOOTTIME));
	SHOW(syscall(NR_futex_wait, &word[0], 1UL << 32, ALL, U32 | PRIV, NULL, 0));
	SHOW(syscall(NR_futex_wait, (void *)8, 10UL, ALL, U32 | PRIV, NULL, 0));
	set_waitv();
	SHOW(syscall(NR_futex_requeue, wv, 0, 1, 1));
	SHOW(syscall(NR_futex_requeue, wv, 1, 1, 1));
	wv[0].val = 11;
	SHOW(syscall(NR_futex_requeue, wv, 0, 1, 1));
	SHOW(syscall(NR_futex_requeue, (void *)8, 0, 1, 1));

	wake_second();
	return 0;
}
