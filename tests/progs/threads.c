/* threads.c - POSIX threads: shared counters, condition variables, barriers, TLS,
 * detached threads, cancellation, unmapping under another thread, futex wake-ups,
 * per-thread signals, exit_group from a secondary thread, thousands of unmaps while
 * another thread waits, and a vfork beside a thread that writes next to the stack. */
// run: counters
// run: condvar
// run: barrier
// run: tls
// run: detached
// run: cancel
// run: unmap
// run: futex
// run: signals
// run: exit-group
// run: exit-main
// run: ids
// run: exec
// run: robust
// run: badpath
// run: many-edits
// run: vfork-beside
// run: process-cpu
#include "common.h"
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdbool.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h>, which musl-gcc does not see */
#define FUTEX_WAIT_PRIVATE 128
#define FUTEX_WAKE_PRIVATE 129

#define NTHREADS 8
#define ROUNDS 20000

static atomic_long acount;
static long mcount;
static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;

static void *incr(void *arg)
{
	(void)arg;
	for (int i = 0; i < ROUNDS; i++) {
		atomic_fetch_add(&acount, 1);
		pthread_mutex_lock(&mtx);
		mcount++;
		pthread_mutex_unlock(&mtx);
	}
	return (void *)(long)42;
}

static void counters(void)
{
	pthread_t t[NTHREADS];
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, incr, NULL) == 0);
	long sum = 0;
	for (int i = 0; i < NTHREADS; i++) {
		void *r;
		CHECK(pthread_join(t[i], &r) == 0);
		sum += (long)r;
	}
	printf("atomic %ld mutex %ld returns %ld\n", (long)acount, mcount, sum);
}

/* A bounded queue between producers and consumers. */
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static int queue[16], qn, produced, consumed_sum;

static void *producer(void *arg)
{
	for (int i = 1; i <= 1000; i++) {
		pthread_mutex_lock(&mtx);
		while (qn == 16)
			pthread_cond_wait(&not_full, &mtx);
		queue[qn++] = i * (int)(long)arg;
		produced++;
		pthread_cond_signal(&not_empty);
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void *consumer(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&mtx);
		while (qn == 0 && produced < 4000)
			pthread_cond_wait(&not_empty, &mtx);
		if (qn == 0) {
			pthread_mutex_unlock(&mtx);
			return NULL;
		}
		consumed_sum += queue[--qn];
		pthread_cond_signal(&not_full);
		if (produced == 4000 && qn == 0)
			pthread_cond_broadcast(&not_empty);
		pthread_mutex_unlock(&mtx);
	}
}

static void condvar(void)
{
	pthread_t p[4], c[3];
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&c[i], NULL, consumer, NULL) == 0);
	for (int i = 0; i < 4; i++)
		CHECK(pthread_create(&p[i], NULL, producer, (void *)(long)(i + 1)) == 0);
	for (int i = 0; i < 4; i++)
		pthread_join(p[i], NULL);
	pthread_mutex_lock(&mtx);
	pthread_cond_broadcast(&not_empty);
	pthread_mutex_unlock(&mtx);
	for (int i = 0; i < 3; i++)
		pthread_join(c[i], NULL);
	printf("produced %d consumed sum %d\n", produced, consumed_sum);
}

static pthread_barrier_t bar;
static int phase[NTHREADS];

static void *barrier_worker(void *arg)
{
	int id = (int)(long)arg;
	for (int round = 0; round < 50; round++) {
		phase[id] = round;
		pthread_barrier_wait(&bar);
		for (int j = 0; j < NTHREADS; j++)
			CHECK(phase[j] == round);
		pthread_barrier_wait(&bar);
	}
	return NULL;
}

static void barrier(void)
{
	pthread_t t[NTHREADS];
	CHECK(pthread_barrier_init(&bar, NULL, NTHREADS) == 0);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(pthread_create(&t[i], NULL, barrier_worker, (void *)(long)i) == 0);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);
	printf("50 barrier rounds with %d threads\n", NTHREADS);
}

static __thread long tls_value = 7;
static __thread char tls_buf[64];

static void *tls_worker(void *arg)
{
	long id = (long)arg;
	CHECK(tls_value == 7);
	tls_value = id * 100;
	snprintf(tls_buf, sizeof(tls_buf), "thread %ld", id);
	sched_yield();
	CHECK(tls_value == id * 100);
	return strcmp(tls_buf, "thread") > 0 ? (void *)(tls_value + (long)strlen(tls_buf)) : NULL;
}

static void tls(void)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		CHECK(pthread_create(&t[i], NULL, tls_worker, (void *)(i + 1)) == 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(t[i], &r);
		printf("thread %d: %ld\n", i + 1, (long)r);
	}
	printf("main's tls_value %ld\n", tls_value);
}

static atomic_int detached_done;

static void *detached_worker(void *arg)
{
	(void)arg;
	atomic_fetch_add(&detached_done, 1);
	return NULL;
}

static void detached(void)
{
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	/* More threads than any pool: finished ones make room for the next. */
	for (int i = 0; i < 200; i++) {
		pthread_t t;
		CHECK(pthread_create(&t, &a, detached_worker, NULL) == 0);
	}
	while (atomic_load(&detached_done) < 200)
		sched_yield();
	printf("200 detached threads ran\n");
}

static void *cancel_worker(void *arg)
{
	(void)arg;
	for (;;)
		pause();        /* a cancellation point */
}

static void cleanup(void *arg)
{
	printf("cleanup handler: %s\n", (const char *)arg);
}

static void *cancel_sleeper(void *arg)
{
	pthread_cleanup_push(cleanup, arg);
	for (;;)
		sleep(100);
	pthread_cleanup_pop(0);
	return NULL;
}

static void cancel(void)
{
	pthread_t t, u;
	void *r;
	CHECK(pthread_create(&t, NULL, cancel_worker, NULL) == 0);
	CHECK(pthread_cancel(t) == 0);
	CHECK(pthread_join(t, &r) == 0);
	printf("canceled: %d\n", r == PTHREAD_CANCELED);
	CHECK(pthread_create(&u, NULL, cancel_sleeper, "in sleep") == 0);
	usleep(10000);
	CHECK(pthread_cancel(u) == 0);
	CHECK(pthread_join(u, &r) == 0);
	printf("canceled: %d\n", r == PTHREAD_CANCELED);
}

/* One thread reads a page in a loop; the other unmaps it: the reader gets SIGSEGV. */
static volatile char *shared_page;
static atomic_int reading, unmapping;
static sigjmp_buf segv_jmp;
static pthread_t segv_thread;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	printf("SIGSEGV %d in the reader (same thread %d) at the page %d\n", sig,
	       pthread_equal(pthread_self(), segv_thread), si->si_addr == (void *)shared_page);
	siglongjmp(segv_jmp, 1);
}

static void *reader(void *arg)
{
	(void)arg;
	long sum = 0;
	if (sigsetjmp(segv_jmp, 1))
		return (void *)(long)atomic_load(&unmapping);
	for (;;) {
		sum += shared_page[0];
		atomic_store(&reading, 1);
	}
	return (void *)sum;
}

static void unmap(void)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	sigaction(SIGSEGV, &sa, NULL);
	shared_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(shared_page != MAP_FAILED);
	shared_page[0] = 1;
	CHECK(pthread_create(&segv_thread, NULL, reader, NULL) == 0);
	while (!atomic_load(&reading))
		sched_yield();
	usleep(1000);
	atomic_store(&unmapping, 1);
	CHECK(munmap((void *)shared_page, 4096) == 0);
	void *r;
	pthread_join(segv_thread, &r);
	printf("reader faulted once the unmap began: %ld\n", (long)r);
	/* Fewer rights: a write after mprotect(PROT_READ) faults too. */
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 1;
	CHECK(mprotect(p, 4096, PROT_READ) == 0);
	if (!sigsetjmp(segv_jmp, 1)) {
		shared_page = p;
		segv_thread = pthread_self();
		p[0] = 2;
		printf("write after mprotect did not fault\n");
	}
}

static uint32_t fword;

static long futex(uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, w, op, val, NULL, NULL, 0);
}

static void *futex_waiter(void *arg)
{
	(void)arg;
	while (__atomic_load_n(&fword, __ATOMIC_ACQUIRE) == 0)
		futex(&fword, FUTEX_WAIT_PRIVATE, 0);
	return (void *)(long)fword;
}

/* Ping-pong through a futex word, then a waiter woken by another thread. */
static uint32_t turn;

static void *ponger(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 1)
			futex(&turn, FUTEX_WAIT_PRIVATE, 0);
		__atomic_store_n(&turn, 0, __ATOMIC_RELEASE);
		futex(&turn, FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

static void futex_test(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, futex_waiter, NULL) == 0);
	usleep(20000);
	__atomic_store_n(&fword, 5, __ATOMIC_RELEASE);
	printf("woke %ld\n", futex(&fword, FUTEX_WAKE_PRIVATE, 1) >= 0 ? 1L : 0L);
	void *r;
	pthread_join(t, &r);
	printf("waiter saw %ld\n", (long)r);
	CHECK(pthread_create(&t, NULL, ponger, NULL) == 0);
	for (int i = 0; i < 1000; i++) {
		__atomic_store_n(&turn, 1, __ATOMIC_RELEASE);
		futex(&turn, FUTEX_WAKE_PRIVATE, 1);
		while (__atomic_load_n(&turn, __ATOMIC_ACQUIRE) != 0)
			futex(&turn, FUTEX_WAIT_PRIVATE, 1);
	}
	pthread_join(t, NULL);
	printf("1000 round trips\n");
}

/* Signals: to a given thread (pthread_kill), and to the process, taken by the one
 * thread that does not block it. */
static volatile _Thread_local int got_usr1;
static atomic_int handled_by_worker, worker_ready, stop_worker;

static void on_usr1(int sig)
{
	(void)sig;
	got_usr1++;
}

static void *sig_worker(void *arg)
{
	(void)arg;
	atomic_store(&worker_ready, 1);
	while (!atomic_load(&stop_worker) && !got_usr1)
		;
	atomic_store(&handled_by_worker, got_usr1);
	return NULL;
}

static void signals(void)
{
	signal(SIGUSR1, on_usr1);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, sig_worker, NULL) == 0);
	while (!atomic_load(&worker_ready))
		sched_yield();
	CHECK(pthread_kill(t, SIGUSR1) == 0);
	pthread_join(t, NULL);
	printf("pthread_kill: worker %d main %d\n", atomic_load(&handled_by_worker), got_usr1);
	/* main blocks SIGUSR1: kill() to the process goes to the worker */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	atomic_store(&worker_ready, 0);
	CHECK(pthread_create(&t, NULL, sig_worker, NULL) == 0);
	while (!atomic_load(&worker_ready))
		sched_yield();
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	kill(getpid(), SIGUSR1);
	pthread_join(t, NULL);
	printf("kill: worker %d main %d\n", atomic_load(&handled_by_worker), got_usr1);
	sigset_t pend;
	sigpending(&pend);
	printf("pending in main: %d\n", sigismember(&pend, SIGUSR1));
	/* a signal to a thread that blocks it stays pending for that thread */
	raise(SIGUSR1);
	sigpending(&pend);
	printf("raised, pending in main: %d\n", sigismember(&pend, SIGUSR1));
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	printf("after unblock: main %d\n", got_usr1);
}

static void *spinner(void *arg)
{
	(void)arg;
	for (;;)
		;
}

static void *group_exiter(void *arg)
{
	(void)arg;
	usleep(20000);
	printf("exit_group from a secondary thread\n");
	fflush(stdout);
	exit(7);
}

static void exit_group_test(void)
{
	pthread_t t;
	for (int i = 0; i < 3; i++)
		CHECK(pthread_create(&t, NULL, spinner, NULL) == 0);
	CHECK(pthread_create(&t, NULL, group_exiter, NULL) == 0);
	for (;;)
		pause();
}

static void *last_one(void *arg)
{
	(void)arg;
	usleep(20000);
	printf("the last thread ends the process\n");
	fflush(stdout);
	return NULL;
}

/* The main thread leaves with pthread_exit; the process lives until the last thread. */
static void exit_main(void)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, last_one, NULL) == 0);
	pthread_exit(NULL);
}

static void *ids_worker(void *arg)
{
	pid_t *tid = arg;
	*tid = (pid_t)syscall(SYS_gettid);
	return (void *)(long)(getpid() == (pid_t)(long)getpid());
}

static void ids(void)
{
	pid_t tid = 0;
	pthread_t t;
	CHECK(pthread_create(&t, NULL, ids_worker, &tid) == 0);
	pthread_join(t, NULL);
	printf("main's tid is the pid: %d\n", (pid_t)syscall(SYS_gettid) == getpid());
	printf("worker's tid differs: %d\n", tid != getpid() && tid > 0);
	/* The join returns once the thread has cleared its tid, which the kernel does a
	 * little before the thread is gone: until then tgkill still finds it (natively too). */
	long rc = 0;
	for (int i = 0; i < 5000 && (rc = syscall(SYS_tgkill, getpid(), tid, 0)) == 0; i++)
		usleep(1000);
	printf("tgkill of a finished thread: %ld (%s)\n", rc, strerror(errno));
}

/* A thread whose first path is no string at all (kvmse keeps path buffers per thread). */
static void *bad_path(void *arg)
{
	char buf[16];
	long rc = syscall(SYS_readlink, arg, buf, sizeof(buf));
	printf("readlink(%p): %ld (%s)\n", arg, rc, strerror(errno));
	return NULL;
}

static void badpath(void)
{
	void *bad[] = { NULL, (void *)0xffffffff80000000UL, (void *)0x8000000000000000UL };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		pthread_t t;
		CHECK(pthread_create(&t, NULL, bad_path, bad[i]) == 0);
		pthread_join(t, NULL);
	}
}

static void *execer(void *arg)
{
	usleep(10000);
	printf("exec from a secondary thread\n");
	execl("/proc/self/exe", (const char *)arg, "tls", (char *)NULL);
	printf("execl failed: %s\n", strerror(errno));
	exit(1);
}

static void exec_test(const char *argv0)
{
	pthread_t t;
	CHECK(pthread_create(&t, NULL, spinner, NULL) == 0);
	CHECK(pthread_create(&t, NULL, execer, (void *)argv0) == 0);
	for (;;)
		pause();
}

/* Robust mutexes: a holder that dies leaves EOWNERDEAD for the next locker, whether it
 * was a thread (its exit walks its robust list) or a process (shared memory). */
static void *die_holding(void *arg)
{
	CHECK(pthread_mutex_lock(arg) == 0);
	return NULL;            /* ends without unlocking */
}

static pthread_mutex_t *robust_mutex(int pshared)
{
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutexattr_setpshared(&a, pshared);
	CHECK(pthread_mutex_init(m, &a) == 0);
	return m;
}

static void robust(void)
{
	long head = 0;
	size_t len = 0;
	SHOW(syscall(SYS_get_robust_list, 0, &head, &len));
	printf("robust list: registered %d, size %zu\n", head != 0, len);
	SHOW(syscall(SYS_get_robust_list, 0, NULL, &len));
	/* Another process's: the parent's (a native one here), a pid that does not exist. */
	len = 0;
	SHOW(syscall(SYS_get_robust_list, getppid(), &head, &len));
	printf("the parent's: size %zu\n", len);
	SHOW(syscall(SYS_get_robust_list, 0x7fffffff, &head, &len));
	pthread_mutex_t *m = robust_mutex(PTHREAD_PROCESS_PRIVATE);
	pthread_t t;
	CHECK(pthread_create(&t, NULL, die_holding, m) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	int rc = pthread_mutex_lock(m);
	printf("lock after the holder thread died: %s\n", strerror(rc));
	CHECK(pthread_mutex_consistent(m) == 0 && pthread_mutex_unlock(m) == 0);
	printf("lock again: %s\n", strerror(pthread_mutex_lock(m)));
	pthread_mutex_unlock(m);

	/* a waiter asleep in the lock when the holder dies is woken */
	pthread_mutex_t *s = robust_mutex(PTHREAD_PROCESS_SHARED);
	int *go = (int *)(s + 1);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		pthread_mutex_lock(s);
		__atomic_store_n(go, 1, __ATOMIC_SEQ_CST);
		usleep(100 * 1000);
		_exit(0);
	}
	while (!__atomic_load_n(go, __ATOMIC_SEQ_CST))
		sched_yield();
	rc = pthread_mutex_lock(s);
	printf("lock after the holder process died: %s\n", strerror(rc));
	CHECK(waitpid(pid, NULL, 0) == pid);
}

/*
 * Thousands of separate unmaps and remaps while two threads that touched the pages wait:
 * one blocked in a futex, one ended (its vCPU waits for the next thread, which checks).
 * Each unmap changes an entry the waiting vCPUs may have cached, far from the others.
 * Afterwards every page reads as it should in both, and the unmapped ones fault.
 */
#define EDIT_PAGES 8500
static char *edit_base;
static uint32_t edit_word;
static atomic_int edit_touched;

static void *edit_touch_all(void *arg)
{
	(void)arg;
	for (long i = 0; i < 2 * EDIT_PAGES; i++)
		(void)*(volatile char *)(edit_base + i * 4096);
	atomic_fetch_add(&edit_touched, 1);
	return NULL;
}

static void on_edit_segv(int sig)
{
	(void)sig;
	siglongjmp(segv_jmp, 1);
}

/* 1 if reading *p faults (its own frame: no local of the caller lives across the jump) */
static __attribute__((noinline)) int faults(volatile char *p)
{
	if (sigsetjmp(segv_jmp, 1))
		return 1;
	(void)*p;
	return 0;
}

static void *edit_checker(void *arg)
{
	long kept = 0, remapped = 0, wrong = 0, faulted = 0, probed = 0;
	for (long i = 0; i < 2 * EDIT_PAGES; i++) {
		unsigned char *v = (unsigned char *)edit_base + i * 4096 + 1;
		if (i % 2 == 1)
			*v == (unsigned char)i ? kept++ : wrong++;
		else if (i % 8 == 0)
			*v == (unsigned char)(i + 100) ? remapped++ : wrong++;
	}
	signal(SIGSEGV, on_edit_segv);
	for (long i = 2; i < 2 * EDIT_PAGES; i += 2 * 97) {
		if (i % 8 == 0)
			continue;
		probed++;
		faulted += faults(edit_base + i * 4096);
	}
	printf("%s: kept %ld, remapped %ld, wrong %ld, unmapped pages that faulted %ld of %ld\n",
	       (char *)arg, kept, remapped, wrong, faulted, probed);
	return NULL;
}

static void *edit_waiter(void *arg)
{
	edit_touch_all(NULL);
	while (__atomic_load_n(&edit_word, __ATOMIC_ACQUIRE) == 0)
		futex(&edit_word, FUTEX_WAIT_PRIVATE, 0);
	return edit_checker(arg);
}

static void many_edits(void)
{
	edit_base = mmap(NULL, 2 * EDIT_PAGES * 4096L, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(edit_base != MAP_FAILED);
	for (long i = 0; i < 2 * EDIT_PAGES; i++)
		edit_base[i * 4096 + 1] = (char)i;
	pthread_t ended, waiter, next;
	CHECK(pthread_create(&waiter, NULL, edit_waiter, "blocked thread") == 0);
	while (atomic_load(&edit_touched) < 1)
		usleep(1000);
	CHECK(pthread_create(&ended, NULL, edit_touch_all, NULL) == 0);
	CHECK(pthread_join(ended, NULL) == 0);
	/* every other page goes; every fourth of those comes back with new contents */
	for (long i = 0; i < 2 * EDIT_PAGES; i += 2)
		CHECK(munmap(edit_base + i * 4096, 4096) == 0);
	for (long i = 0; i < 2 * EDIT_PAGES; i += 8) {
		char *p = mmap(edit_base + i * 4096, 4096, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		CHECK(p == edit_base + i * 4096);
		p[1] = (char)(i + 100);
	}
	CHECK(pthread_create(&next, NULL, edit_checker, "new thread") == 0);
	CHECK(pthread_join(next, NULL) == 0);
	__atomic_store_n(&edit_word, 1, __ATOMIC_RELEASE);
	futex(&edit_word, FUTEX_WAKE_PRIVATE, 1);
	CHECK(pthread_join(waiter, NULL) == 0);
}

/* A thread vforks; while its child runs, the main thread writes to memory right above
 * that thread's stack (one mapping with it). The child's end must not undo the store.
 * (Pipes order it: the child says it runs, and waits for the store to be made.) */
static int vb_started[2], vb_stored[2];

static void *vb_thread(void *arg)
{
	(void)arg;
	pid_t pid = vfork();
	if (pid == 0) {
		char c = 's';
		if (write(vb_started[1], &c, 1) != 1 || read(vb_stored[0], &c, 1) != 1)
			_exit(1);
		_exit(5);
	}
	int st;
	CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
	return (void *)(intptr_t)WEXITSTATUS(st);
}

static void vfork_beside(void)
{
	size_t stack = 256 * 1024;
	char *m = mmap(NULL, stack + 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK(pipe(vb_started) == 0 && pipe(vb_stored) == 0);
	volatile char *beside = m + stack;
	beside[0] = 1;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	CHECK(pthread_attr_setstack(&attr, m, stack) == 0);
	pthread_t t;
	CHECK(pthread_create(&t, &attr, vb_thread, NULL) == 0);
	char c;
	CHECK(read(vb_started[0], &c, 1) == 1);
	beside[0] = 2;
	CHECK(write(vb_stored[1], &c, 1) == 1);
	void *code;
	CHECK(pthread_join(t, &code) == 0);
	printf("vfork child exited %d; the store beside its parent's stack, made while it ran, "
	       "kept %d\n", (int)(intptr_t)code, beside[0] == 2);
}

/* The process's CPU-time clock counts every thread's time, ended threads' too; a forked
 * child's starts afresh. */
static double cpu_clock(clockid_t c)
{
	struct timespec t;
	CHECK(clock_gettime(c, &t) == 0);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void *burn(void *arg)
{
	double start = cpu_clock(CLOCK_THREAD_CPUTIME_ID);
	volatile unsigned long x = 0;
	while (cpu_clock(CLOCK_THREAD_CPUTIME_ID) - start < 0.2)
		for (int i = 0; i < 100000; i++)
			x += (unsigned)i;
	return arg;
}

static void process_cpu(void)
{
	double start = cpu_clock(CLOCK_PROCESS_CPUTIME_ID);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		CHECK(pthread_create(&t[i], NULL, burn, NULL) == 0);
	for (int i = 0; i < 2; i++)
		CHECK(pthread_join(t[i], NULL) == 0);
	double used = cpu_clock(CLOCK_PROCESS_CPUTIME_ID) - start;
	clockid_t mine;
	CHECK(clock_getcpuclockid(getpid(), &mine) == 0);
	printf("the process clock counts both threads' 0.2 s: %d, by its pid too: %d\n", used >= 0.39,
	       cpu_clock(mine) - start >= 0.39);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		printf("a forked child's starts afresh: %d\n", cpu_clock(CLOCK_PROCESS_CPUTIME_ID) < 0.2);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid && st == 0);
}

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	const char *w = argv[1];
	if (!strcmp(w, "counters")) counters();
	else if (!strcmp(w, "condvar")) condvar();
	else if (!strcmp(w, "barrier")) barrier();
	else if (!strcmp(w, "tls")) tls();
	else if (!strcmp(w, "detached")) detached();
	else if (!strcmp(w, "cancel")) cancel();
	else if (!strcmp(w, "unmap")) unmap();
	else if (!strcmp(w, "futex")) futex_test();
	else if (!strcmp(w, "signals")) signals();
	else if (!strcmp(w, "exit-group")) exit_group_test();
	else if (!strcmp(w, "exit-main")) exit_main();
	else if (!strcmp(w, "ids")) ids();
	else if (!strcmp(w, "exec")) exec_test(argv[0]);
	else if (!strcmp(w, "robust")) robust();
	else if (!strcmp(w, "badpath")) badpath();
	else if (!strcmp(w, "many-edits")) many_edits();
	else if (!strcmp(w, "vfork-beside")) vfork_beside();
	else if (!strcmp(w, "process-cpu")) process_cpu();
	else CHECK(0);
	return 0;
}
