/* Priority-inheritance futexes: the kernel writes the owner's tid into the word and checks
 * each caller against it. Raw calls between two threads, contended PI mutexes, a timed
 * lock, and a robust PI mutex whose owner ends holding it. */
// run: raw
// run: mutex
// run: robust
#include "common.h"
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h>, which musl-gcc does not see */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_LOCK_PI 6
#define FUTEX_UNLOCK_PI 7
#define FUTEX_TRYLOCK_PI 8
#define FUTEX_LOCK_PI2 13
#define PRIVATE 128
#define FUTEX_WAITERS 0x80000000u
#define FUTEX_TID_MASK 0x3fffffffu

static long fx(uint32_t *w, int op, struct timespec *t)
{
	return syscall(SYS_futex, w, op | PRIVATE, 0, t, NULL, 0);
}

/* An absolute time 5 ms from now on 'clock'. */
static struct timespec in_5ms(clockid_t clock)
{
	struct timespec t;
	clock_gettime(clock, &t);
	t.tv_nsec += 5000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

static pid_t tid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static uint32_t mine, held, step;
static atomic_int holder_tid;
static long holder_unlock;      /* (printed by main: the order of two threads' lines would vary) */

static void step_to(uint32_t n)
{
	__atomic_store_n(&step, n, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &step, FUTEX_WAKE | PRIVATE, 1, NULL, NULL, 0);
}

static void wait_step(uint32_t n)
{
	uint32_t s;
	while ((s = __atomic_load_n(&step, __ATOMIC_SEQ_CST)) < n)
		syscall(SYS_futex, &step, FUTEX_WAIT | PRIVATE, s, NULL, NULL, 0);
}

/* Takes 'held', lets the main thread try it, then gives it up while main blocks on it. */
static void *holder(void *arg)
{
	(void)arg;
	atomic_store(&holder_tid, tid());
	CHECK(fx(&held, FUTEX_LOCK_PI, NULL) == 0);
	step_to(1);
	wait_step(2);
	usleep(20000);          /* (main is blocked in LOCK_PI by now, most likely) */
	holder_unlock = fx(&held, FUTEX_UNLOCK_PI, NULL);
	return NULL;
}

static void raw(void)
{
	SHOW(fx(&mine, FUTEX_LOCK_PI, NULL));
	printf("the word holds my tid: %d\n", mine == (uint32_t)tid());
	SHOW(fx(&mine, FUTEX_LOCK_PI, NULL));
	SHOW(fx(&mine, FUTEX_TRYLOCK_PI, NULL));
	SHOW(fx(&mine, FUTEX_UNLOCK_PI, NULL));
	printf("the word after unlock: %u\n", mine);
	SHOW(fx(&mine, FUTEX_TRYLOCK_PI, NULL));
	SHOW(fx(&mine, FUTEX_UNLOCK_PI, NULL));

	pthread_t t;
	CHECK(pthread_create(&t, NULL, holder, NULL) == 0);
	wait_step(1);
	printf("the word holds the holder's tid: %d\n",
	       (held & FUTEX_TID_MASK) == (uint32_t)atomic_load(&holder_tid));
	SHOW(fx(&held, FUTEX_TRYLOCK_PI, NULL));
	SHOW(fx(&held, FUTEX_UNLOCK_PI, NULL));
	struct timespec past;
	clock_gettime(CLOCK_REALTIME, &past);
	past.tv_sec -= 1;
	SHOW(fx(&held, FUTEX_LOCK_PI, &past));
	struct timespec soon = in_5ms(CLOCK_MONOTONIC);
	SHOW(fx(&held, FUTEX_LOCK_PI2, &soon));
	step_to(2);
	SHOW(fx(&held, FUTEX_LOCK_PI, NULL));
	printf("the word holds my tid: %d\n", (held & FUTEX_TID_MASK) == (uint32_t)tid());
	CHECK(pthread_join(t, NULL) == 0);
	printf("the holder's unlock: %ld\n", holder_unlock);
	SHOW(fx(&held, FUTEX_UNLOCK_PI, NULL));
	SHOW(fx((uint32_t *)8, FUTEX_LOCK_PI, NULL));
	SHOW(fx((uint32_t *)8, FUTEX_UNLOCK_PI, NULL));
}

#define NTHREADS 4
#define ROUNDS 20000
static pthread_mutex_t pi_mutex;
static long counter;

static void *incr(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		CHECK(pthread_mutex_lock(&pi_mutex) == 0);
		counter++;
		if (i % 1000 == 0)
			sched_yield();  /* (hand it on while held: contention) */
		CHECK(pthread_mutex_unlock(&pi_mutex) == 0);
	}
	return NULL;
}

static void *hold_a_while(void *arg)
{
	(void)arg;
	CHECK(pthread_mutex_lock(&pi_mutex) == 0);
	step_to(1);
	wait_step(2);
	CHECK(pthread_mutex_unlock(&pi_mutex) == 0);
	return NULL;
}

static void init_mutex(int robust)
{
	pthread_mutexattr_t at;
	CHECK(pthread_mutexattr_init(&at) == 0);
	CHECK(pthread_mutexattr_setprotocol(&at, PTHREAD_PRIO_INHERIT) == 0);
	if (robust)
		CHECK(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST) == 0);
	CHECK(pthread_mutex_init(&pi_mutex, &at) == 0);
	pthread_mutexattr_destroy(&at);
}

static void mutex(void)
{
	init_mutex(0);
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, incr, NULL) == 0);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	printf("counter %ld of %d\n", counter, NTHREADS * ROUNDS);

	pthread_t h;
	CHECK(pthread_create(&h, NULL, hold_a_while, NULL) == 0);
	wait_step(1);
	struct timespec soon = in_5ms(CLOCK_REALTIME);
	printf("timed lock while held: %s\n", strerror(pthread_mutex_timedlock(&pi_mutex, &soon)));
	printf("trylock while held: %s\n", strerror(pthread_mutex_trylock(&pi_mutex)));
	step_to(2);
	CHECK(pthread_join(h, NULL) == 0);
	printf("lock once free: %s\n", strerror(pthread_mutex_lock(&pi_mutex)));
	CHECK(pthread_mutex_unlock(&pi_mutex) == 0);
}

static void *lock_and_end(void *arg)
{
	(void)arg;
	CHECK(pthread_mutex_lock(&pi_mutex) == 0);
	return NULL;
}

static void robust(void)
{
	init_mutex(1);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, lock_and_end, NULL) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	printf("lock after the owner ended: %s\n", strerror(pthread_mutex_lock(&pi_mutex)));
	SHOW(pthread_mutex_consistent(&pi_mutex));
	SHOW(pthread_mutex_unlock(&pi_mutex));
	printf("lock again: %s\n", strerror(pthread_mutex_lock(&pi_mutex)));
	SHOW(pthread_mutex_unlock(&pi_mutex));
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "raw"))
		raw();
	else if (!strcmp(argv[1], "mutex"))
		mutex();
	else if (!strcmp(argv[1], "robust"))
		robust();
	else
		CHECK(0);
	return 0;
}
