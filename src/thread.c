/* thread.c - guest threads: each runs its own CPU on its own host thread (the run loop),
 * how one starts (clone with CLONE_THREAD), and how a thread, then the process, ends. */
#include "thread.h"
#include "stats.h"
#include "sys/sys.h"
#include "util.h"
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The signals whose default action dumps core (signal(7)). */
static bool dumps_core(int sig)
{
	switch (sig) {
	case SIGQUIT: case SIGILL: case SIGTRAP: case SIGABRT: case SIGBUS: case SIGFPE:
	case SIGSEGV: case SIGXCPU: case SIGXFSZ: case SIGSYS:
		return true;
	default:
		return false;
	}
}

/* End kvmse the way the guest ended, so a waiting parent sees the same status. */
static noreturn void finish(struct process *ps)
{
	if (ps->opt->strace) {
		if (ps->exit_signal)
			fprintf(stderr, "+++ killed by SIG%s +++\n", sigabbrev_np(ps->exit_signal));
		else
			fprintf(stderr, "+++ exited with %d +++\n", ps->exit_status);
	}
	fflush(stdout);
	fflush(stderr);
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer stops the threads by tracing them, which it cannot do to a tracee. */
	if (!ps->exit_signal && atomic_load(&ps->ptraced))
		_exit(ps->exit_status);
#endif
	if (!ps->exit_signal)
		exit(ps->exit_status);
	/*
	 * Under a core limit the kernel dumps, and the status says so (WCOREDUMP), as for the
	 * program natively. The core is kvmse's own, with guest memory left out (so it is
	 * small and quick): a core file of the program itself is not written yet. Without a
	 * limit nothing is dumped.
	 */
	struct rlimit core, none = { 0, 0 };
	if (getrlimit(RLIMIT_CORE, &core) == 0 && core.rlim_cur > 0 && dumps_core(ps->exit_signal))
		mem_no_dump(&ps->mem);
	else if (setrlimit(RLIMIT_CORE, &none) < 0)
		pr_warn("cannot set RLIMIT_CORE");
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, ps->exit_signal);
	if ((ps->exit_signal != SIGKILL && signal(ps->exit_signal, SIG_DFL) == SIG_ERR) ||
	    sigprocmask(SIG_UNBLOCK, &set, NULL) < 0 || raise(ps->exit_signal) != 0)
		pr_warn("cannot end by %s as the program did", sigabbrev_np(ps->exit_signal));
	/* A signal whose default is to continue (none reaches here today) or a failure. */
	exit(128 + ps->exit_signal);
}

/* The cgroups of process 'pid' (0: this one) as /proc says, into 'buf' ("" if
 * unreadable: in another PID namespace than /proc's, say). */
static void read_cgroups(pid_t pid, char *buf, size_t size)
{
	char name[32] = "self/cgroup";
	if (pid)
		snprintf(name, sizeof(name), "%d/cgroup", (int)pid);
	fd_proc_read(name, buf, size);
}

/* Whether this process is in its parent's cgroups: a helper left in another would keep
 * that one busy after the parent has waited for us (and could not remove it). */
static bool parent_cgroups(void)
{
	char mine[4096], parent[4096];
	read_cgroups(0, mine, sizeof(mine));
	read_cgroups(getppid(), parent, sizeof(parent));
	return *mine && !strcmp(mine, parent);
}

/* The CPU model may leave its teardown, and guest memory's, until after the exit, to a
 * helper process that would be orphaned. Not where a program above would have to wait
 * for that orphan or would see it in a cgroup, nor with AddressSanitizer, whose leak
 * check wants everything given back. */
static bool leave_early(struct proc *p)
{
#ifdef __SANITIZE_ADDRESS__
	const bool asan = true;
#else
	const bool asan = false;
#endif
	return !asan && !p->ps->reaper_above && p->cpu->ops->leave && parent_cgroups() &&
	       p->cpu->ops->leave(p->cpu);
}

/* The process ends, from its last thread or by exit_group (the others end with kvmse).
 * With no other thread left, everything is given back first (for leak checkers). */
static noreturn void process_end(struct proc *p)
{
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	for (int i = 0; i < ps->nthreads; i++)  /* each thread's, as each would at its exit */
		futex_exit_robust(ps->threads[i]);
	pthread_mutex_unlock(&ps->lock);
	futex_exit_robust(p);
	vfork_release(p);
	if (ps->opt->stats_file)
		stats_write(p, ps->opt->stats_file, now_ns() - ps->start_ns);
	pthread_mutex_lock(&ps->lock);
	bool alone = ps->nthreads <= 1 && !ps->ending;
	pthread_mutex_unlock(&ps->lock);
	if (alone) {
		/* (the segments' attach counts drop before a parent learns of the exit,
		 * although kvmse's memory may outlive it: leave_early) */
		mem_lock(p->mem);
		mm_shm_detach_all(p);
		mem_unlock(p->mem);
	}
	if (alone && !leave_early(p)) {
		p->cpu->ops->destroy(p->cpu);
		mem_destroy(p->mem);
		mm_free(ps);
		ptimer_free(ps);
		free(ps->exe);
	}
	if (alone)      /* (a table shared with other processes outlives this one) */
		fd_close_own();
	finish(ps);
}

void thread_add(struct proc *p)
{
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	ps->threads[ps->nthreads++] = p;
	pthread_mutex_unlock(&ps->lock);
}

/* The thread leaves the list; true if it was the last. The last one waits until the
 * others have finished ending (thread_end uses their CPUs, which process_end frees). */
static bool thread_remove(struct proc *p)
{
	struct process *ps = p->ps;
	struct timespec cpu;
	pthread_mutex_lock(&ps->lock);
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)        /* (sys_process_cpu) */
		ps->cpu_gone_ns += (uint64_t)cpu.tv_sec * 1000000000 + (uint64_t)cpu.tv_nsec;
	for (int i = 0; i < ps->nthreads; i++)
		if (ps->threads[i] == p)
			ps->threads[i] = ps->threads[--ps->nthreads];
	bool last = ps->nthreads == 0;
	if (last)
		while (ps->ending)
			pthread_cond_wait(&ps->changed, &ps->lock);
	else
		ps->ending++;
	pthread_mutex_unlock(&ps->lock);
	return last;
}

/* (A thread's way out, after thread_end, is the C library's and a sanitizer's teardown,
 * which take their allocators' locks. Its tid stays valid until it is gone; up to
 * 200 ms is waited for each.) */
void thread_wait_ended(struct process *ps)
{
	pthread_mutex_lock(&ps->lock);
	while (ps->ending)
		pthread_cond_wait(&ps->changed, &ps->lock);
	for (int i = 0; i < ps->nidle; i++) {
		struct proc *t = ps->idle[i];
		for (int n = 0; !t->host_gone && n < 10000; n++) {
			if (syscall(SYS_tgkill, getpid(), t->tid, 0) < 0 && errno == ESRCH)
				t->host_gone = true;
			else
				usleep(20);
		}
	}
	pthread_mutex_unlock(&ps->lock);
}

struct proc *thread_find(struct process *ps, pid_t tid)
{
	struct proc *t = NULL;
	pthread_mutex_lock(&ps->lock);
	for (int i = 0; i < ps->nthreads && !t; i++)
		if (ps->threads[i]->tid == tid)
			t = ps->threads[i];
	pthread_mutex_unlock(&ps->lock);
	return t;
}

/* exit of a thread that is not the last: CLONE_CHILD_CLEARTID's word is cleared and
 * woken (what pthread_join waits on), and the CPU waits for a next thread. */
static void thread_end(struct proc *p)
{
	sig_thread_gone(p, false);
	futex_exit_robust(p);
	uint32_t zero = 0;
	if (p->clear_child_tid && mem_write(p->mem, p->clear_child_tid, &zero, 4) == 0) {
		void *w = mem_ptr(p->mem, p->clear_child_tid, 4, MEM_WRITE);
		if (w)
			syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	mem_lock(p->mem);
	p->cpu->ops->retire(p->cpu);
	mem_unlock(p->mem);
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	ps->idle[ps->nidle++] = p;      /* for the next clone (signal handlers may still look) */
	ps->ending--;
	pthread_cond_broadcast(&ps->changed);
	pthread_mutex_unlock(&ps->lock);
}

/* Run the thread: each stop of the CPU is a system call, a fault or a kick, and on the
 * way back signals are delivered, as a kernel does on its way back to user mode. When
 * it ends, so does its host thread, or kvmse with the process. */
noreturn void thread_run(struct proc *p)
{
	struct cpu_regs regs;
	struct cpu_event ev;
	while (!p->exited) {
		if (p->cpu->ops->run(p->cpu, &ev) < 0)
			die("the CPU model failed");
		p->cpu->ops->get_regs(p->cpu, &regs);
		switch (ev.kind) {
		case CPU_SYSCALL: {
			int64_t nr = (int64_t)regs.rax;
			p->regs = &regs;
			if (!p->pt || ptrace_syscall_enter(p, &regs, &nr))
				sys_dispatch(p, &regs);
			if (p->pt && !p->exited)
				ptrace_syscall_exit(p, &regs, nr);
			p->regs = NULL;
			sig_deliver(p, &regs, nr);
			break;
		}
		case CPU_FAULT:
			sig_fault(p, &regs, &ev);
			sig_deliver(p, &regs, -1);
			break;
		case CPU_INTERRUPT:
			sig_deliver(p, &regs, ev.done_syscall);
			break;
		case CPU_STOP:
			break;
		}
		p->cpu->ops->set_regs(p->cpu, &regs);
	}
	if (atomic_load(&p->ps->group_exit))
		process_end(p);
	if (p->tid == getpid())         /* the leader's status is the process's */
		p->ps->exit_status = p->exit_code;
	/* Off the list first: once its tid word is cleared, the tid is gone. */
	if (thread_remove(p))
		process_end(p);
	thread_end(p);
	pthread_exit(NULL);
}

/* (cpu_server.kicked) A call the server makes can be waiting for a host signal this
 * thread holds back: a pselect whose mask lets in a SIGCHLD the program had blocked. */
static void release_held(void *ctx)
{
	sig_release(ctx);
}

void thread_serve(struct proc *p)
{
	if (!p->ps->exitless)
		return;
	struct cpu_server srv = { .may_serve = sys_may_serve, .caller_only = sys_caller_only,
				  .call = sys_serve, .kicked = release_held, .ctx = p,
				  .start_after = p->ps->serve_after };
	p->cpu->ops->serve(p->cpu, &srv);
}

void thread_renew_server(struct proc *p)
{
	p->cpu->ops->serve(p->cpu, NULL);
	thread_serve(p);
}

/* What a new thread needs from its creator until it runs. */
struct start {
	struct proc *t;
	sigset_t host_mask;     /* the creator's host signal mask */
	uint64_t flags;
	gva_t ptid, ctid;
	pid_t tid;
	_Atomic uint32_t started;       /* futex: its tid is known */
};

static void *thread_main(void *arg)
{
	struct start *st = arg;
	struct proc *t = st->t;
	t->tid = (pid_t)syscall(SYS_gettid);
	/* Both before it runs: its own code may look for its tid there at once. */
	if ((st->flags & CLONE_PARENT_SETTID) && mem_write(t->mem, st->ptid, &t->tid, 4) < 0)
		pr_warn("clone: cannot store the new thread's tid");
	if ((st->flags & CLONE_CHILD_SETTID) && mem_write(t->mem, st->ctid, &t->tid, 4) < 0)
		pr_warn("clone: cannot store the new thread's tid");
	st->tid = t->tid;
	sigset_t mask = st->host_mask;
	thread_add(t);
	atomic_store(&st->started, 1);
	syscall(SYS_futex, &st->started, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	thread_run(t);
}

/* The flags of pthread_create in glibc and musl; what a thread must share. */
#define THREAD_NEEDS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_FLAGS (THREAD_NEEDS | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | \
		      CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED)

long thread_clone(struct proc *p, uint64_t flags, gva_t stack, gva_t ptid, gva_t ctid, uint64_t tls)
{
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & THREAD_NEEDS) != THREAD_NEEDS || (flags & ~(uint64_t)THREAD_FLAGS & ~(uint64_t)CSIGNAL)) {
		if (!p->opt->quiet)
			pr_warn("clone with flags %#llx: only threads as pthread_create makes them "
				"share memory here: ENOSYS", (unsigned long long)flags);
		return -ENOSYS;
	}
	struct process *ps = p->ps;
	pthread_mutex_lock(&ps->lock);
	bool full = ps->nthreads + ps->ending >= THREADS_MAX, reused = !full && ps->nidle;
	struct proc *t = full ? NULL : reused ? ps->idle[--ps->nidle] : xmalloc(sizeof(*t));
	pthread_mutex_unlock(&ps->lock);
	if (!t)
		return -EAGAIN;
	struct sigq_entry *q = reused ? t->sig.own.q : sig_queue_alloc();
	memset(t, 0, sizeof(*t));
	t->sig.own.q = q;
	t->ps = p->ps;
	t->mem = p->mem;
	t->opt = p->opt;
	atomic_store(&t->sig.mask, atomic_load(&p->sig.mask));
	t->sig.xsave_size = p->sig.xsave_size;
	t->sig.xfeatures = p->sig.xfeatures;
	t->clear_child_tid = (flags & CLONE_CHILD_CLEARTID) ? ctid : 0;
	t->seccomp_mode = p->seccomp_mode;
	t->seccomp = p->seccomp;
	mem_lock(p->mem);
	t->cpu = p->cpu->ops->clone(p->cpu);
	mem_unlock(p->mem);
	if (!t->cpu) {
		sig_queue_free(t->sig.own.q);
		free(t);        /* (never on the list) */
		return -EAGAIN;
	}
	struct cpu_regs r = *p->regs;
	r.rax = 0;
	if (stack)
		r.rsp = stack;
	if (flags & CLONE_SETTLS)
		r.fs_base = tls;
	t->cpu->ops->set_regs(t->cpu, &r);
	thread_serve(t);

	struct start st = { .t = t, .flags = flags, .ptid = ptid, .ctid = ctid };
	sigset_t all;
	sigfillset(&all);
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* It starts with host signals blocked, until it is on the list signals look at. */
	sigset_t own;
	pthread_sigmask(SIG_BLOCK, &all, &own);
	/* what this thread holds for the guest (sig_release) is its own to let go */
	st.host_mask = own;
	sig_host_bits(&st.host_mask, atomic_load(&p->sig.host_held), false);
	int rc = pthread_create(&th, &attr, thread_main, &st);
	pthread_sigmask(SIG_SETMASK, &own, NULL);
	pthread_attr_destroy(&attr);
	if (rc) {
		mem_lock(p->mem);
		t->cpu->ops->retire(t->cpu);
		mem_unlock(p->mem);
		free(t);        /* (never on the list) */
		return -EAGAIN;
	}
	while (!atomic_load(&st.started))
		syscall(SYS_futex, &st.started, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	return st.tid;
}

void thread_end_others(struct proc *p)
{
	struct process *ps = p->ps;
	for (;;) {
		pthread_mutex_lock(&ps->lock);
		int n = ps->nthreads;
		for (int i = 0; i < n; i++) {
			struct proc *t = ps->threads[i];
			if (t == p)
				continue;
			t->exited = true;
			t->cpu->ops->kick(t->cpu);
			syscall(SYS_tgkill, getpid(), t->tid, SIG_KICK);
		}
		pthread_mutex_unlock(&ps->lock);
		if (n <= 1)
			return;
		usleep(1000);   /* (they leave at their next stop; a host call ends with EINTR) */
	}
}
