/* Clocks move forward and sleeps last at least as long as asked. */
#include "common.h"
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

static double secs(struct timespec t) { return (double)t.tv_sec + (double)t.tv_nsec / 1e9; }

int main(void)
{
	struct timespec a, b, res;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &a) == 0);
	struct timespec req = { 0, 20 * 1000 * 1000 };
	CHECK(nanosleep(&req, NULL) == 0);
	CHECK(clock_gettime(CLOCK_MONOTONIC, &b) == 0);
	printf("slept at least 20ms: %d\n", secs(b) - secs(a) >= 0.020);
	CHECK(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL) == 0);
	CHECK(usleep(1000) == 0);
	CHECK(clock_getres(CLOCK_MONOTONIC, &res) == 0);
	printf("res positive: %d\n", res.tv_nsec > 0 || res.tv_sec > 0);
	struct timeval tv;
	CHECK(gettimeofday(&tv, NULL) == 0);
	time_t t = time(NULL);
	/* time() may read a coarse clock, a tick behind gettimeofday's (so across a second) */
	printf("time agrees: %d\n", t - tv.tv_sec <= 1 && tv.tv_sec - t <= 1);
	CHECK(clock_gettime(CLOCK_REALTIME, &a) == 0);
	printf("realtime after 2020: %d\n", a.tv_sec > 1577836800);
	SHOW(clock_gettime(12345, &a));
	struct timespec bad = { 0, 2000000000 };
	SHOW(nanosleep(&bad, NULL));
	/* setting clocks: only what fails the same way for root and others, never a change */
	SHOW(clock_settime(CLOCK_MONOTONIC, &a));
	SHOW(clock_settime(CLOCK_REALTIME, &bad));
	SHOW(syscall(SYS_clock_settime, CLOCK_REALTIME, (struct timespec *)16));
	SHOW(clock_settime(CLOCK_PROCESS_CPUTIME_ID, &a));
	SHOW(settimeofday(&(struct timeval){ 0, 2000000 }, NULL));
	struct timex tx = { 0 };
	int state = adjtimex(&tx);
	printf("adjtimex: %s, frequency read %d\n", state >= 0 ? "ok" : strerror(errno), tx.tick > 0);
	SHOW(adjtimex((struct timex *)16));
	SHOW(clock_adjtime(CLOCK_MONOTONIC, &(struct timex){ .modes = ADJ_FREQUENCY }));
	return 0;
}
