/* process.c - processes: fork, vfork and clone of a new process (a copy of kvmse with
 * its own VM), execve (the new program in the same process and VM), wait, groups. */
#include "sys.h"
#include "../thread.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

#define CLONE_CLEAR_SIGHAND_ 0x100000000ULL     /* (newer than some headers) */
#define CLONE_INTO_CGROUP_ 0x200000000ULL
#define CLONE_ARGS_SIZE_VER0 64
#define CLONE_ARGS_SIZE_VER2 88

/* What clone may ask of a new process here (CLONE_VM only with CLONE_VFORK, as
 * posix_spawn does: the child gets a copy, whose writes the parent gets when the child
 * leaves it by execve or exit: vfork.c). */
#define PROCESS_FLAGS (CLONE_VFORK | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | \
		       CLONE_CHILD_CLEARTID | CLONE_SETTLS | CLONE_PIDFD | HOST_FLAGS)
/* ... and of those, what the host's clone does: the new process's parent, namespaces,
 * cgroup, its semaphore undo list, working directory (kvmse keeps none of its own),
 * descriptor table (fd.c hides each process's own from the others' programs). */
#define HOST_FLAGS (CLONE_PARENT | CLONE_FS | CLONE_FILES | CLONE_SYSVSEM | CLONE_IO | CLONE_NEWNS | CLONE_NEWCGROUP | \
		    CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
		    CLONE_NEWTIME | CLONE_INTO_CGROUP_)

/* What Linux's copy_process refuses first, in its order, whatever kvmse supports. */
static long clone_flags_check(uint64_t flags)
{
	if ((flags & CLONE_FS) && (flags & (CLONE_NEWNS | CLONE_NEWUSER)))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CLONE_THREAD) && (flags & (CLONE_NEWUSER | CLONE_NEWPID)))
		return -EINVAL;
	if ((flags & CLONE_PIDFD) && (flags & CLONE_DETACHED))
		return -EINVAL;
	return 0;
}

/* In the child of a fork only the forking thread goes on. */
static void only_thread(struct proc *p)
{
	struct process *ps = p->ps;
	for (int i = 0; i < ps->nthreads; i++)
		if (ps->threads[i] != p) {
			sig_queue_free(ps->threads[i]->sig.own.q);
			free(ps->threads[i]);
		}
	for (int i = 0; i < ps->nidle; i++) {
		sig_queue_free(ps->idle[i]->sig.own.q);
		free(ps->idle[i]);
	}
	ps->threads[0] = p;
	ps->nthreads = 1;
	ps->nidle = ps->ending = 0;
	ps->cpu_gone_ns = 0;
	pthread_mutex_init(&ps->lock, NULL);
	pthread_cond_init(&ps->changed, NULL);
}

/*
 * glibc's fork takes no flags, so for any a raw clone3 does what glibc's own would: the
 * child's tid goes to glibc's thread descriptor (the word its set_tid_address gave the
 * kernel), and its robust list is set again. new_process makes sure kvmse has one
 * thread then, so no lock of the C library's is held by a thread the child will not have.
 */
static pid_t raw_fork(const struct clone_args *ca, uint64_t flags)
{
	pid_t *tid;
	void *head;
	size_t len;
	if (prctl(PR_GET_TID_ADDRESS, &tid) < 0 || syscall(SYS_get_robust_list, 0, &head, &len) < 0)
		return -1;
	struct clone_args h = { .flags = flags | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID,
				.child_tid = (uintptr_t)tid,
				/* (CLONE_PARENT's child ends with its parent's signal) */
				.exit_signal = flags & CLONE_PARENT ? 0 : ca->exit_signal,
				.cgroup = (uint64_t)user_fd(ca->cgroup),
				.set_tid = ca->set_tid, .set_tid_size = ca->set_tid_size };
	pid_t pid = (pid_t)syscall(SYS_clone3, &h, sizeof(h));
	if (pid == 0)
		syscall(SYS_set_robust_list, head, len);
	return pid;
}

/* The host process of a new guest process (cpu_ops.fork calls it). */
static pid_t host_fork(void *arg)
{
	const struct clone_args *ca = arg;
	uint64_t flags = ca->flags & HOST_FLAGS;
	pid_t pid = !flags && ca->exit_signal == SIGCHLD && !ca->set_tid ? fork() : raw_fork(ca, flags);
	if (pid == 0)
		fd_forked(flags & CLONE_FILES);
	return pid;
}

static long process_flags_check(struct proc *p, const struct clone_args *ca)
{
	uint64_t flags = ca->flags;
	/* (the kernel stores the descriptor before the child exists: a bad address fails) */
	if ((flags & CLONE_PIDFD) && !mem_ptr(p->mem, ca->pidfd, 4, MEM_WRITE))
		return -EFAULT;
	/* (a vfork child's pipe to its parent would be in both processes' table) */
	const char *why = flags & ~(uint64_t)PROCESS_FLAGS & ~(uint64_t)CLONE_VM ||
			  (flags & (CLONE_VFORK | CLONE_FILES)) == (CLONE_VFORK | CLONE_FILES) ?
			  "is not supported" : NULL;
	if (!why && ((flags & HOST_FLAGS) || ca->exit_signal != SIGCHLD) && p->ps->nthreads > 1)
		why = "is supported in a program of one thread only";
	if (why && !p->opt->quiet)
		pr_warn("clone with flags %#llx and exit signal %llu %s: ENOSYS",
			(unsigned long long)flags, (unsigned long long)ca->exit_signal, why);
	return why ? -ENOSYS : 0;
}

static long new_process(struct proc *p, const struct clone_args *ca)
{
	uint64_t flags = ca->flags;
	long e = clone_flags_check(flags);
	if (e < 0)
		return e;
	if ((flags & CLONE_VM) && !(flags & CLONE_VFORK))
		return thread_clone(p, flags | ca->exit_signal, ca->stack, ca->parent_tid, ca->child_tid,
				    ca->tls);
	if ((e = process_flags_check(p, ca)) < 0 || (!(flags & CLONE_VM) && (e = mm_fork_charge(p)) < 0))
		return e;
	if ((flags & CLONE_FILES) && !fd_share_begin())
		return -ENOMEM;
	int event = ptrace_fork_event(p, flags, ca->exit_signal);
	int done[2] = { -1, -1 };
	if ((flags & CLONE_VFORK) && pipe2(done, O_CLOEXEC) < 0)
		return -errno;
	if (flags & CLONE_VFORK) {
		fd_hide(&done[0]);
		fd_hide(&done[1]);
	}
	/* Host signals wait until the child has its own VM and an empty queue: one sent to
	 * it right away is its own, and must neither be dropped nor kick a vCPU half made. */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	thread_wait_ended(p->ps);
	/* Memory and the thread list as they are: no other thread is changing them. */
	execmark_before_fork();
	pthread_mutex_lock(&p->ps->lock);
	bool other_threads = p->ps->nthreads > 1;
	mem_lock(p->mem);
	pid_t pid = p->cpu->ops->fork(p->cpu, host_fork, (void *)ca);
	e = pid < 0 ? -errno : 0;
	mem_unlock(p->mem);
	if (pid == 0) {
		only_thread(p);
		sig_forget_pending(p);
		if (!(flags & CLONE_FILES))     /* (its signalfds are its parent's) */
			sigfd_fork(p);
		ptrace_forked(p);
		execmark_forked();
		ptimer_forked(p);
		aio_forked();
		uffd_forked(p);
		uring_forked();
		loader_hold();          /* (a fork does not pass on POSIX locks) */
		sig_thread_gone(p, true);
		mm_set_flag(p, 0, ~0ULL, VMA_LOCKED, false);   /* (locks are not inherited) */
	} else {
		pthread_mutex_unlock(&p->ps->lock);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		if (flags & CLONE_VFORK)
			vfork_wait(p, done);
		return e;
	}
	if (pid == 0) {
		struct cpu_regs *r = p->regs;
		p->tid = (pid_t)syscall(SYS_gettid);
		p->ps->reaper_above |= p->tid == 1;     /* (a new PID namespace) */
		if (flags & CLONE_VFORK) {
			fd_unhide(&done[0]);
			close(done[0]);
			/* (the registry of hidden descriptors holds where each one is kept) */
			fd_unhide(&done[1]);
			p->ps->vfork_done = done[1];
			fd_hide(&p->ps->vfork_done);
			if (flags & CLONE_VM)
				vfork_snapshot(p, other_threads, r->rsp);
		}
		if (ca->stack)
			r->rsp = ca->stack;
		if (flags & CLONE_SETTLS)
			r->fs_base = ca->tls;
		if ((flags & CLONE_CHILD_SETTID) && mem_write(p->mem, ca->child_tid, &p->tid, 4) < 0)
			pr_warn("clone: cannot store the child's tid");
		if (flags & CLONE_CHILD_CLEARTID)
			p->clear_child_tid = ca->child_tid;
		if (event)
			ptrace_child_start(p);
		return 0;
	}
	int fd = (flags & CLONE_PIDFD) ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	if (fd >= 0 && fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		die_errno("fcntl");
	ptrace_fork_stop(p, event, pid);
	/* After a vfork child has given back the pages it wrote, which would undo these. */
	if (flags & CLONE_VFORK) {
		vfork_wait(p, done);
		ptrace_vfork_done(p, pid);
	}
	if (flags & CLONE_PARENT_SETTID)
		mem_write(p->mem, ca->parent_tid, &pid, 4);
	if (flags & CLONE_PIDFD)
		mem_write(p->mem, ca->pidfd, &fd, 4);
	return pid;
}

long sys_fork(struct proc *p, const uint64_t a[6])
{
	(void)a;
	return new_process(p, &(struct clone_args){ .exit_signal = SIGCHLD });
}

long sys_vfork(struct proc *p, const uint64_t a[6])
{
	(void)a;
	return new_process(p, &(struct clone_args){ .flags = CLONE_VM | CLONE_VFORK,
						    .exit_signal = SIGCHLD });
}

/* x86-64's order: flags, stack, parent_tid, child_tid, tls. */
long sys_clone(struct proc *p, const uint64_t a[6])
{
	/* CLONE_PIDFD's descriptor goes where the parent's tid would */
	if ((a[0] & CLONE_PIDFD) && (a[0] & CLONE_PARENT_SETTID))
		return -EINVAL;
	/* (in clone's flags, CLONE_NEWTIME's bit is the exit signal's) */
	struct clone_args ca = { .flags = (uint32_t)a[0] & ~(uint64_t)CSIGNAL,
				 .exit_signal = a[0] & CSIGNAL, .stack = a[1], .parent_tid = a[2],
				 .child_tid = a[3], .tls = a[4], .pidfd = a[2] };
	return new_process(p, &ca);
}

/* Linux's copy_clone_args_from_user and clone3_args_valid, in their order. */
static long clone3_args(struct proc *p, gva_t va, uint64_t size, struct clone_args *ca)
{
	if (size > PAGE_SIZE)
		return -E2BIG;
	if (size < CLONE_ARGS_SIZE_VER0)
		return -EINVAL;
	if (size > sizeof(*ca)) {       /* a newer struct: what this one lacks must be 0 */
		uint8_t tail[PAGE_SIZE];
		uint64_t n = size - sizeof(*ca);
		if (mem_read(p->mem, tail, va + sizeof(*ca), n) < 0)
			return -EFAULT;
		for (uint64_t i = 0; i < n; i++)
			if (tail[i])
				return -E2BIG;
	}
	if (mem_read(p->mem, ca, va, MIN(size, sizeof(*ca))) < 0)
		return -EFAULT;
	if (ca->set_tid_size > 32 || (!ca->set_tid && ca->set_tid_size) || (ca->set_tid && !ca->set_tid_size))
		return -EINVAL;
	if ((ca->exit_signal & ~(uint64_t)CSIGNAL) || ca->exit_signal > 64)
		return -EINVAL;
	if ((ca->flags & CLONE_INTO_CGROUP_) && (ca->cgroup > INT_MAX || size < CLONE_ARGS_SIZE_VER2))
		return -EINVAL;
	if (ca->flags & ~(0xffffffffULL | CLONE_CLEAR_SIGHAND_ | CLONE_INTO_CGROUP_))
		return -EINVAL;
	if (ca->flags & (CLONE_DETACHED | (CSIGNAL & ~(uint64_t)CLONE_NEWTIME)))
		return -EINVAL;
	if ((ca->flags & (CLONE_THREAD | CLONE_PARENT)) && ca->exit_signal)
		return -EINVAL;
	if ((ca->flags & CLONE_SIGHAND) && (ca->flags & CLONE_CLEAR_SIGHAND_))
		return -EINVAL;
	if (!ca->stack != !ca->stack_size)
		return -EINVAL;
	return 0;
}

long sys_clone3(struct proc *p, const uint64_t a[6])
{
	struct clone_args ca = { 0 };
	long e = clone3_args(p, a[0], a[1], &ca);
	if (e < 0)
		return e;
	/* The pids asked for a new process, to the host's clone3 (a copy: host_fork takes
	 * ca.set_tid as kvmse's address). A thread's are not supported. */
	pid_t tids[32];
	if (ca.set_tid && (ca.flags & CLONE_VM) && !(ca.flags & CLONE_VFORK)) {
		if (!p->opt->quiet)
			pr_warn("clone3 of a thread with set_tid is not supported: ENOSYS");
		return -ENOSYS;
	}
	if (ca.set_tid) {
		if (mem_read(p->mem, tids, ca.set_tid, ca.set_tid_size * sizeof(pid_t)) < 0)
			return -EFAULT;
		ca.set_tid = (uint64_t)(uintptr_t)tids;
	}
	ca.stack = ca.stack ? ca.stack + ca.stack_size : 0;
	return new_process(p, &ca);
}

/* The guest's NULL-terminated array of strings at 'va', copied. */
static long read_strings(struct proc *p, gva_t va, char ***out)
{
	size_t n = 0, cap = 16;
	char **v = xmalloc(cap * sizeof(char *));
	long rc = 0;
	for (; va; n++) {
		uint64_t s;
		if (mem_read(p->mem, &s, va + n * 8, 8) < 0) {
			rc = -EFAULT;
			break;
		}
		if (!s)
			break;
		if (n + 2 > cap)
			v = xrealloc(v, (cap *= 2) * sizeof(char *));
		char buf[PATH_MAX * 8];
		bool nul;
		size_t len = mem_read_prefix(p->mem, buf, s, sizeof(buf), &nul);
		if (!nul) {
			rc = len == sizeof(buf) ? -E2BIG : -EFAULT;
			break;
		}
		v[n] = xstrdup(buf);
	}
	v[n] = NULL;
	*out = v;
	return rc;
}

static void free_strings(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

static void close_if_cloexec(int fd, void *arg)
{
	(void)arg;
	int fl = fcntl(fd, F_GETFD);
	if (fl >= 0 && (fl & FD_CLOEXEC))
		close(fd);
}

/* The new program replaces the old in this process and VM, as the kernel's execve does:
 * the memory map, close-on-exec descriptors, handlers (back to their default), the FPU
 * state and the registers go; the pid, the mask, ignored signals and limits stay. */
static void replace_image(struct proc *p, char *path, const char *name, char **argv, char **envp)
{
	vfork_release(p);
	execmark_exec();
	ptimer_exec(p);
	aio_exec();
	uffd_exec();
	mm_reset(p);
	if (fd_unshare())
		thread_renew_server(p);
	fd_each_guest(close_if_cloexec, NULL);    /* (kvmse's own stay) */
	sig_exec(p);
	p->clear_child_tid = p->robust_list = 0;
	if (p->cpu->ops->trap(p->cpu, CPU_TRAP_CPUID, -1) == 1)       /* (as Linux's exec) */
		p->cpu->ops->trap(p->cpu, CPU_TRAP_CPUID, 0);
	free(p->ps->exe);
	struct script script;
	if (loader_script(&path, &argv, &script, true) < 0)
		die_status(126, "%s: too many levels of #! interpreters", path);
	loader_exec(p, path, argv, envp, &p->ps->features, p->regs);
	procfs_show(p->ps, name, argv, envp);
	sig_init_fpu(p);
	loader_script_free(&script);
}

/* execve: what the kernel checks first is checked first, so a call that must fail
 * returns to its caller; past that the program is replaced and the call "returns" 0 in
 * the new one. */
static long exec(struct proc *p, const char *path, gva_t argv_va, gva_t envp_va)
{
	/* The process is named after the path the program gave (a script's, not its
	 * interpreter's; a descriptor's file for fexecve) */
	char name[PATH_MAX];
	ssize_t n = strncmp(path, "/proc/self/fd/", 14) ? -1 :
		    fd_proc_readlink(path + 6, name, sizeof(name) - 1);
	if (n > 0)
		name[n] = 0;
	else
		snprintf(name, sizeof(name), "%s", path);
	if (sys_is_self_exe(path))
		path = p->ps->exe;
	char **argv, **envp;
	long rc = read_strings(p, argv_va, &argv);
	long rc2 = read_strings(p, envp_va, &envp);
	if (!rc)
		rc = rc2;
	if (!rc && !argv[0]) {  /* no arguments: Linux gives the program "" as argv[0] */
		argv = xrealloc(argv, 2 * sizeof(char *));
		argv[0] = xstrdup("");
		argv[1] = NULL;
	}
	if (!rc)
		rc = loader_probe(p->opt, path);
	if (!rc) {
		thread_end_others(p);
		p->tid = getpid();      /* the thread that execs takes the leader's place */
		/* A descriptor named by path (fexecve) may be close-on-exec: the file is held
		 * open by kvmse, as the kernel holds it, before those are closed. */
		char held_path[64];
		int held = -1;
		if (!strncmp(path, "/proc/self/fd/", 14) && (held = open(path, O_RDONLY | O_CLOEXEC)) >= 0) {
			fd_hide(&held);
			snprintf(held_path, sizeof(held_path), "/proc/self/fd/%d", held);
			path = held_path;
		}
		char *copy = xstrdup(path);
		replace_image(p, copy, name, argv, envp);
		free(copy);
		ptrace_exec(p);
		if (held >= 0) {
			fd_close(&held);
		}
	}
	free_strings(argv);
	free_strings(envp);
	return rc;
}

long sys_execve(struct proc *p, const uint64_t a[6])
{
	const char *path = user_path(p, a[0], 0);
	if (!path || !user_path_whole(path, 0))
		return -EFAULT;
	return exec(p, path, a[1], a[2]);
}

#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif

long sys_execveat(struct proc *p, const uint64_t a[6])
{
	const char *path = user_path(p, a[1], 0);
	if (!path || !user_path_whole(path, 0))
		return -EFAULT;
	int flags = (int)a[4];
	if (!path[0] && !(flags & AT_EMPTY_PATH))
		return -ENOENT;         /* (the name is taken first) */
	if (flags & AT_EXECVE_CHECK) {
		/* The host's check alone, which runs nothing (an older kernel: EINVAL). */
		static char *const none[] = { NULL };
		return HOST(SYS_execveat, (int)a[0] == AT_FDCWD ? AT_FDCWD : user_fd(a[0]), path,
			    none, none, flags);
	}
	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	if ((int)a[0] != AT_FDCWD && path[0] != '/' && fcntl(user_fd(a[0]), F_GETFD) < 0)
		return -EBADF;
	char full[PATH_MAX];
	if (!path[0])           /* fexecve: the descriptor's own file */
		snprintf(full, sizeof(full), "/proc/self/fd/%d", user_fd(a[0]));
	else if ((int)a[0] == AT_FDCWD || path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "/proc/self/fd/%d/%s", user_fd(a[0]), path);
	struct stat st;
	if (path[0] && (flags & AT_SYMLINK_NOFOLLOW) && lstat(full, &st) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return exec(p, full, a[2], a[3]);
}

/* Children are kvmse processes too: the host's own wait calls see them as they are,
 * but for a tracee's stops, which are the program's as it made them (ptrace.c). */
long sys_wait4(struct proc *p, const uint64_t a[6])
{
	int st;
	struct rusage ru;
	long rc;
	do
		rc = HOST(SYS_wait4, (pid_t)a[0], &st, (int)a[2], &ru);
	while (rc > 0 && WIFSTOPPED(st) && !ptrace_wait_stop((pid_t)rc, &st, true));
	if (rc > 0 && ((a[1] && mem_write(p->mem, a[1], &st, sizeof(st))) ||
		       (a[3] && mem_write(p->mem, a[3], &ru, sizeof(ru)))))
		return -EFAULT;
	return rc;
}

long sys_waitid(struct proc *p, const uint64_t a[6])
{
	siginfo_t si;
	struct rusage ru;
	long rc;
	int st;
	do {
		memset(&si, 0, sizeof(si));
		rc = HOST(SYS_waitid, (int)a[0], (pid_t)a[1], &si, (int)a[3], &ru);
		st = si.si_status << 8 | 0x7f;
	} while (rc == 0 && si.si_code == CLD_TRAPPED && si.si_pid &&
		 !ptrace_wait_stop(si.si_pid, &st, !((int)a[3] & WNOWAIT)));
	if (rc == 0 && si.si_code == CLD_TRAPPED)
		si.si_status = st >> 8;
	/* Linux writes these fields (signo to status) of the siginfo, and the rusage only
	 * for a child it found. */
	size_t fields = offsetof(siginfo_t, si_status) + sizeof(si.si_status);
	if (rc == 0 && ((a[2] && mem_write(p->mem, a[2], &si, fields)) ||
			(a[4] && si.si_pid && mem_write(p->mem, a[4], &ru, sizeof(ru)))))
		return -EFAULT;
	return rc;
}

long sys_setpgid(struct proc *p, const uint64_t a[6])
{
	(void)p;
	pid_t pid = (pid_t)a[0];
	/* A child that has exec'd (the host does not know): in Linux's order, one in
	 * another session is EPERM first. */
	if (pid > 0 && pid != getpid() && (pid_t)a[1] >= 0 && execmark_child_execd(pid))
		return getsid(pid) != getsid(0) ? -EPERM : -EACCES;
	return HOST(SYS_setpgid, pid, (pid_t)a[1]);
}
long sys_setsid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return HOST(SYS_setsid); }
