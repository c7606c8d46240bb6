/* threads.c scale|pingpong|sleep - "scale": the throughput of two CPU-bound threads over
 * one thread's (the same work per thread; prints the ratio). "pingpong": futex round trips
 * per second between two threads. "sleep": how long a 100 ms nanosleep takes (ms, from
 * the call to the next one) while another thread maps and unmaps a page in a loop, each
 * munmap a TLB shootdown for the sleeper. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129
#define WORK 200000000UL
#define TRIPS 20000

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void *work(void *arg)
{
	uint64_t x = (uint64_t)(uintptr_t)arg | 1;
	for (unsigned long i = 0; i < WORK; i++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return (void *)(uintptr_t)x;
}

static double run_threads(int n)
{
	pthread_t t[2];
	double t0 = now();
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, work, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	return now() - t0;
}

static _Atomic uint32_t turn;

static void futex(_Atomic uint32_t *w, int op, uint32_t v)
{
	syscall(SYS_futex, w, op, v, NULL, NULL, 0);
}

static void *ponger(void *arg)
{
	(void)arg;
	for (int i = 0; i < TRIPS; i++) {
		while (atomic_load(&turn) != 1)
			futex(&turn, FUTEX_WAIT_PRIVATE, 0);
		atomic_store(&turn, 0);
		futex(&turn, FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static atomic_bool stop;

static void *mapper(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		*p = 1;
		munmap(p, 4096);
	}
	return NULL;
}

static double sleep_beside_mapper(void)
{
	pthread_t t;
	pthread_create(&t, NULL, mapper, NULL);
	const struct timespec d = { 0, 100000000 };
	double t0 = now();
	for (int i = 0; i < 5; i++)
		nanosleep(&d, NULL);
	double ms = (now() - t0) / 5 * 1e3;
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	return ms;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "sleep")) {
		printf("%.1f\n", sleep_beside_mapper());
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "scale")) {
		double one = run_threads(1), two = run_threads(2);
		printf("%.2f\n", 2 * one / two);
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "pingpong")) {
		pthread_t t;
		pthread_create(&t, NULL, ponger, NULL);
		double t0 = now();
		for (int i = 0; i < TRIPS; i++) {
			atomic_store(&turn, 1);
			futex(&turn, FUTEX_WAKE_PRIVATE, 1);
			while (atomic_load(&turn) != 0)
				futex(&turn, FUTEX_WAIT_PRIVATE, 1);
		}
		pthread_join(t, NULL);
		printf("%.0f\n", TRIPS / (now() - t0));
		return 0;
	}
	fprintf(stderr, "usage: threads scale|pingpong|sleep\n");
	return 2;
}
