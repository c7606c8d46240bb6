/* task.c - the process: exit, identity, limits, uname, arch_prctl, futex. */
#include "sys.h"
#include "../thread.h"
#include "../util.h"
#include <dirent.h>
#include <dlfcn.h>
#include <fcntl.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif
#include <grp.h>
#include <sys/fsuid.h>
#include <linux/capability.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <signal.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define ARCH_SET_GS 0x1001
#define ARCH_SET_FS 0x1002
#define ARCH_GET_FS 0x1003
#define ARCH_GET_GS 0x1004
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012

long sys_exit_group(struct proc *p, const uint64_t a[6])
{
	if (p->pt)
		ptrace_exit(p, p->regs, (int)(a[0] & 0xff) << 8);
	sys_terminate(p, (int)(a[0] & 0xff), 0);
	return 0;
}

/* This thread ends; the process with its last thread (thread_run). */
long sys_exit(struct proc *p, const uint64_t a[6])
{
	if (p->pt)
		ptrace_exit(p, p->regs, (int)(a[0] & 0xff) << 8);
	p->exited = true;
	p->exit_code = (int)(a[0] & 0xff);
	return 0;
}

long sys_getpid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return getpid(); }
long sys_gettid(struct proc *p, const uint64_t a[6]) { (void)a; return p->tid; }
long sys_getppid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return getppid(); }
long sys_getuid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return getuid(); }
long sys_geteuid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return geteuid(); }
long sys_getgid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return getgid(); }
long sys_getegid(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return getegid(); }
long sys_getpgrp(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return getpgrp(); }

/*
 * Credentials are per thread in the kernel, and the set*id calls a program makes through
 * its libc reach each of its threads. kvmse's threads all act for the program (a syscall
 * server opens files for its vCPU's thread), so the change is made through kvmse's own
 * libc, which applies it to every thread of kvmse.
 */
static void load_unwinder(void)
{
	(void)dlopen("libgcc_s.so.1", RTLD_NOW | RTLD_NODELETE);
}

/* kvmse's threads end by pthread_exit, whose unwinder libc loads from libgcc_s when first
 * needed: once the program has dropped its rights (or chrooted) it may no longer find it,
 * so it is loaded before. */
void sys_keep_unwinder(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, load_unwinder);
}

/* After a change of uid LeakSanitizer can no longer read /proc/self at exit (on the
 * test host not even '/'), so the ASan build (make check's second pass) checks for leaks
 * once before the first change instead. */
static void before_cred_change(void)
{
#ifdef __SANITIZE_ADDRESS__
	__lsan_do_leak_check();
#endif
	sys_keep_unwinder();
}

/* On the vCPU thread: its filesystem ids as they are now, for its server. */
static void fs_ids_note(struct proc *p)
{
	p->fsuid = (uint32_t)setfsuid((uid_t)-1);       /* (-1: no change; the id is returned) */
	p->fsgid = (uint32_t)setfsgid((gid_t)-1);
	atomic_fetch_add(&p->fs_gen, 1);
}

/* The C library makes every host thread take a new uid; what each keeps of its
 * capabilities then depends on its keepcaps bit. The server takes the guest thread's
 * bits before each call it makes, so one made by the guest thread itself (the exit
 * path) may find a server that has not yet: it is replaced by one that has them. */
static long after_cred_change(struct proc *p, long ret)
{
	fs_ids_note(p);
	if (atomic_load(&p->caps_gen) && syscall(SYS_gettid) == p->tid)
		thread_renew_server(p);
	return ret;
}

#define CRED(call) (before_cred_change(), after_cred_change(p, sys_ret(call)))
long sys_setuid(struct proc *p, const uint64_t a[6]) { return CRED(setuid((uid_t)a[0])); }
long sys_setgid(struct proc *p, const uint64_t a[6]) { return CRED(setgid((gid_t)a[0])); }
long sys_setreuid(struct proc *p, const uint64_t a[6]) { return CRED(setreuid((uid_t)a[0], (uid_t)a[1])); }
long sys_setregid(struct proc *p, const uint64_t a[6]) { return CRED(setregid((gid_t)a[0], (gid_t)a[1])); }
long sys_setresuid(struct proc *p, const uint64_t a[6])
{
	return CRED(setresuid((uid_t)a[0], (uid_t)a[1], (uid_t)a[2]));
}
long sys_setresgid(struct proc *p, const uint64_t a[6])
{
	return CRED(setresgid((gid_t)a[0], (gid_t)a[1], (gid_t)a[2]));
}
long sys_setgroups(struct proc *p, const uint64_t a[6])
{
	if (a[0] > 65536)       /* NGROUPS_MAX */
		return -EINVAL;
	return CRED(setgroups((size_t)a[0], user_in(p, a[1], a[0] * sizeof(gid_t))));
}
/* setfsuid and setfsgid return the old id and report no error, as the raw calls do. They
 * are the thread's alone: made on the vCPU thread (sys_caller_only), then taken by its
 * server (sys_thread_follow), which opens files for it. */
long sys_setfsuid(struct proc *p, const uint64_t a[6])
{
	long old = setfsuid((uid_t)a[0]);
	fs_ids_note(p);
	return old;
}

long sys_setfsgid(struct proc *p, const uint64_t a[6])
{
	long old = setfsgid((gid_t)a[0]);
	fs_ids_note(p);
	return old;
}

static long put_ids(struct proc *p, const uint64_t a[6], const uint32_t id[3])
{
	for (int i = 0; i < 3; i++)
		if (mem_write(p->mem, a[i], &id[i], 4) < 0)
			return -EFAULT;
	return 0;
}
long sys_getresuid(struct proc *p, const uint64_t a[6])
{
	uid_t id[3];
	getresuid(&id[0], &id[1], &id[2]);
	return put_ids(p, a, id);
}
long sys_getresgid(struct proc *p, const uint64_t a[6])
{
	gid_t id[3];
	getresgid(&id[0], &id[1], &id[2]);
	return put_ids(p, a, id);
}

#define PF_USER_WORKER 0x4000     /* (a task flag of /proc's stat) */

/* KVM's worker thread in a kvmse process (kvm-nx-lpage-recovery, a user worker). */
static bool kvm_worker(const char *task)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "%s/stat", task);
	fd_proc_read(path, buf, sizeof(buf));
	const char *comm = strchr(buf, '('), *rest = strrchr(buf, ')');
	unsigned long flags = 0;
	if (!comm || !rest || sscanf(rest + 1, " %*c %*d %*d %*d %*d %*d %lu", &flags) != 1)
		return false;
	return (flags & PF_USER_WORKER) && !strncmp(comm + 1, "kvm-", 4);
}

static bool user_is(const char *task, uid_t uid)
{
	char path[64], buf[2048];
	snprintf(path, sizeof(path), "%s/status", task);
	fd_proc_read(path, buf, sizeof(buf));
	const char *u = strstr(buf, "\nUid:");
	unsigned long real;
	return u && sscanf(u + 5, "%lu", &real) == 1 && real == uid;
}

/*
 * PRIO_PGRP and PRIO_USER: each thread of the group's or the user's processes, as Linux
 * walks them (getpriority: the highest; setpriority: ESRCH if none, else the last
 * thread's error), but for the worker thread KVM adds to each kvmse process: it keeps
 * the credentials and nice value it was made with (root's, before the program's setuid,
 * which made an unprivileged setpriority EPERM where Linux says EACCES).
 */
static long prio_walk(int which, id_t who, bool set, int nice)
{
	if (!who)
		who = which == PRIO_PGRP ? (id_t)getpgrp() : getuid();
	int dir = fd_proc_open(".", O_RDONLY | O_DIRECTORY);
	DIR *d = dir < 0 ? NULL : fdopendir(dir);
	if (!d) {
		if (dir >= 0)
			close(dir);
		return -ENOMEM;
	}
	long rc = -ESRCH;
	struct dirent *e;
	while ((e = readdir(d))) {
		pid_t pid = atoi(e->d_name);
		if (pid <= 0 || (which == PRIO_PGRP && getpgid(pid) != (pid_t)who))
			continue;
		char path[64];
		snprintf(path, sizeof(path), "%d/task", pid);
		int tdir = fd_proc_open(path, O_RDONLY | O_DIRECTORY);
		DIR *t = tdir < 0 ? NULL : fdopendir(tdir);
		if (!t) {
			if (tdir >= 0)
				close(tdir);
			continue;
		}
		struct dirent *te;
		while ((te = readdir(t))) {
			pid_t tid = atoi(te->d_name);
			char task[40];
			snprintf(task, sizeof(task), "%d/task/%d", pid, tid);
			if (tid <= 0 || kvm_worker(task) || (which == PRIO_USER && !user_is(task, who)))
				continue;
			long r = syscall(set ? SYS_setpriority : SYS_getpriority, PRIO_PROCESS, tid, nice);
			if (r < 0 && errno == ESRCH)
				continue;       /* (it ended meanwhile) */
			if (!set)
				rc = MAX(rc, r);
			else if (r < 0)
				rc = -errno;
			else if (rc == -ESRCH)
				rc = 0;
		}
		closedir(t);
	}
	closedir(d);
	return rc;
}

/* Nice values and scheduling are per thread too: "0", the caller, is the guest thread. */
long sys_getpriority(struct proc *p, const uint64_t a[6])
{
	int which = (int)a[0];
	if (which == PRIO_PGRP || which == PRIO_USER)
		return prio_walk(which, (id_t)a[1], false, 0);
	return HOST(SYS_getpriority, which, which == PRIO_PROCESS ? sys_pid(p, a[1]) : (pid_t)a[1]);
}
long sys_setpriority(struct proc *p, const uint64_t a[6])
{
	int which = (int)a[0];
	if (which == PRIO_PGRP || which == PRIO_USER)
		return prio_walk(which, (id_t)a[1], true, (int)a[2]);
	return HOST(SYS_setpriority, which, which == PRIO_PROCESS ? sys_pid(p, a[1]) : (pid_t)a[1],
		    (int)a[2]);
}
long sys_sched_getscheduler(struct proc *p, const uint64_t a[6]) { return HOST(SYS_sched_getscheduler, sys_pid(p, a[0])); }
long sys_sched_setscheduler(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_setscheduler, sys_pid(p, a[0]), (int)a[1], user_in(p, a[2], sizeof(struct sched_param)));
}
long sys_sched_getparam(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_getparam, sys_pid(p, a[0]), user_out(p, a[1], sizeof(struct sched_param)));
}
long sys_sched_setparam(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_setparam, sys_pid(p, a[0]), user_in(p, a[1], sizeof(struct sched_param)));
}
/* struct sched_attr says its own size (0: the first version's, 48 bytes); the host
 * checks it, and reads no more than a page. */
long sys_sched_setattr(struct proc *p, const uint64_t a[6])
{
	uint32_t size = 0;
	if (a[1] && mem_read(p->mem, &size, a[1], 4) == 0 && size < 48)
		size = 48;
	return HOST(SYS_sched_setattr, sys_pid(p, a[0]), user_in(p, a[1], MIN(size, PAGE_SIZE)),
		    (unsigned)a[2]);
}
long sys_sched_getattr(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_getattr, sys_pid(p, a[0]), user_out(p, a[1], MIN((uint32_t)a[2], PAGE_SIZE)),
		    (unsigned)a[2], (unsigned)a[3]);
}

/* (IOPRIO_WHO_PROCESS names a thread: 0 is the caller) */
long sys_ioprio_get(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_ioprio_get, (int)a[0], (int)a[0] == 1 ? sys_pid(p, a[1]) : (pid_t)a[1]);
}
long sys_ioprio_set(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_ioprio_set, (int)a[0], (int)a[0] == 1 ? sys_pid(p, a[1]) : (pid_t)a[1], (int)a[2]);
}
long sys_sched_get_priority_max(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_sched_get_priority_max, (int)a[0]); }
long sys_sched_get_priority_min(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_sched_get_priority_min, (int)a[0]); }
long sys_sched_rr_get_interval(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_rr_get_interval, sys_pid(p, a[0]), user_out(p, a[1], sizeof(struct timespec)));
}
long sys_getpgid(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_getpgid, (pid_t)a[0]); }
long sys_getsid(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_getsid, (pid_t)a[0]); }
long sys_sched_yield(struct proc *p, const uint64_t a[6]) { (void)p; (void)a; return sched_yield(); }

/* The header is read and written (the preferred version, on EINVAL); the data is one or
 * two structs of three words, by version: the host kernel decides, in its own order. */
#define CAP_DATA_MAX 24
long sys_capget(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_capget, user_out(p, a[0], 8), user_out(p, a[1], CAP_DATA_MAX));
}

#define CAP_V3 0x20080522

bool sys_has_cap(unsigned cap)
{
	uint32_t h[2] = { CAP_V3, 0 }, d[6];
	return syscall(SYS_capget, h, d) == 0 && (d[cap / 32 * 3] >> (cap % 32) & 1);
}

/* On the vCPU thread, after it changed its capabilities: note them for its server. */
void sys_caps_note(struct proc *p)
{
	uint32_t h[2] = { CAP_V3, 0 };
	if (syscall(SYS_capget, h, p->caps) < 0)
		return;
	p->secbits = (unsigned)prctl(PR_GET_SECUREBITS);
	atomic_fetch_add(&p->caps_gen, 1);
}

/* On another host thread: take what sys_caps_note noted. Securebits first: setting
 * them wants CAP_SETPCAP, which capset may drop. */
static bool caps_take(const struct proc *p)
{
	if (prctl(PR_GET_SECUREBITS) != (int)p->secbits)
		prctl(PR_SET_SECUREBITS, p->secbits);
	uint32_t h[2] = { CAP_V3, 0 };
	return syscall(SYS_capset, h, p->caps) == 0;
}

/* On the vCPU thread (sys_caller_only: the header's pid must be the caller's tid or 0). */
long sys_capset(struct proc *p, const uint64_t a[6])
{
	before_cred_change();   /* (a call handed back by the server, which must go on) */
	long ret = sys_ret(syscall(SYS_capset, user_in(p, a[0], 8), user_in(p, a[1], CAP_DATA_MAX)));
	if (ret == 0)
		sys_caps_note(p);
	return ret;
}

/* personality is each thread's too (uname answers by it): set on the vCPU thread
 * (sys_caller_only), then taken by the server. */
long sys_personality(struct proc *p, const uint64_t a[6])
{
	long ret = syscall(SYS_personality, (unsigned long)(unsigned)a[0]);
	if ((unsigned)a[0] != 0xffffffffu && ret != -1) {
		p->persona = (unsigned)a[0];
		atomic_fetch_add(&p->persona_gen, 1);
	}
	return ret == -1 ? -errno : ret;
}

/* A server thread takes its guest thread's capabilities and personality, if they changed
 * since it last did (the vCPU thread, running a call handed back, has them already). */
void sys_thread_follow(struct proc *p)
{
	static __thread unsigned caps_seen, persona_seen, fs_seen;
	unsigned caps = atomic_load(&p->caps_gen), persona = atomic_load(&p->persona_gen),
		 fs = atomic_load(&p->fs_gen);
	if (caps == caps_seen && persona == persona_seen && fs == fs_seen)
		return;
	bool self = syscall(SYS_gettid) == p->tid;
	if (caps != caps_seen && (self || caps_take(p)))
		caps_seen = caps;
	if (persona != persona_seen && (self || syscall(SYS_personality, p->persona) != -1))
		persona_seen = persona;
	if (fs != fs_seen && !self) {
		setfsuid(p->fsuid);
		setfsgid(p->fsgid);
	}
	fs_seen = fs;
}

long sys_getgroups(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_getgroups, (int)a[0], user_out(p, a[1], (uint64_t)(int)a[0] * sizeof(gid_t)));
}

long sys_uname(struct proc *p, const uint64_t a[6]) { return HOST(SYS_uname, user_out(p, a[0], sizeof(struct utsname))); }
#ifndef SYS_lsm_list_modules     /* (C library headers older than Linux 6.8) */
#define SYS_lsm_list_modules 461
#endif
/* The security modules' ids: as many bytes as *size says (the kernel reads it first). */
long sys_lsm_list_modules(struct proc *p, const uint64_t a[6])
{
	uint32_t size;
	if (mem_read(p->mem, &size, a[1], sizeof(size)) < 0)
		size = 0;
	return HOST(SYS_lsm_list_modules, user_out(p, a[0], size), user_out(p, a[1], sizeof(size)),
		    (unsigned)a[2]);
}

/* (a length past the field's is refused before the name is read) */
long sys_sethostname(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sethostname, user_in(p, a[0], MIN(a[1], 64)), (int)a[1]);
}

long sys_setdomainname(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_setdomainname, user_in(p, a[0], MIN(a[1], 64)), (int)a[1]);
}

long sys_arch_prctl(struct proc *p, const uint64_t a[6])
{
	struct cpu_regs *r = p->regs;
	switch (a[0]) {
	case ARCH_SET_FS:
	case ARCH_SET_GS:
		if (a[1] >= (1ULL << 47))
			return -EPERM;
		if (a[0] == ARCH_SET_FS)
			r->fs_base = a[1];
		else
			r->gs_base = a[1];
		return 0;
	case ARCH_GET_FS:
	case ARCH_GET_GS: {
		uint64_t v = a[0] == ARCH_GET_FS ? r->fs_base : r->gs_base;
		return mem_write(p->mem, a[1], &v, 8) < 0 ? -EFAULT : 0;
	}
	case ARCH_GET_CPUID:            /* 1: CPUID works (does not fault) */
		return p->cpu->ops->trap(p->cpu, CPU_TRAP_CPUID, -1) != 1;
	case ARCH_SET_CPUID:
		/* Only where the host's CPU can, as its /proc/cpuinfo says (kvmse's own thread
		 * asks to keep CPUID, which it has, to learn that). */
		if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1) < 0)
			return -errno;
		return p->cpu->ops->trap(p->cpu, CPU_TRAP_CPUID, !a[1]) < 0 ? -ENODEV : 0;
	default:
		return -EINVAL;
	}
}

long sys_set_tid_address(struct proc *p, const uint64_t a[6])
{
	p->clear_child_tid = a[0];
	return p->tid;
}

#define ROBUST_HEAD_SIZE 24             /* struct robust_list_head: next, futex_offset, pending */
#define ROBUST_LIST_LIMIT 2048          /* as Linux: a loop in the list ends the walk */

long sys_set_robust_list(struct proc *p, const uint64_t a[6])
{
	if (a[1] != ROBUST_HEAD_SIZE)
		return -EINVAL;
	p->robust_list = a[0];
	return 0;
}

long sys_get_robust_list(struct proc *p, const uint64_t a[6])
{
	struct proc *t = (pid_t)a[0] ? thread_find(p->ps, (pid_t)a[0]) : p;
	uint64_t head, size = ROBUST_HEAD_SIZE;
	if (t) {
		head = t->robust_list;
	} else {
		/* Another process's: the host checks the pid and the right to look (as for
		 * ptrace) and answers for it; for a program under another kvmse, that is
		 * kvmse's own list, not the program's. */
		if (syscall(SYS_get_robust_list, (pid_t)a[0], &head, &size) < 0)
			return -errno;
	}
	if (mem_write(p->mem, a[2], &size, 8) < 0 || mem_write(p->mem, a[1], &head, 8) < 0)
		return -EFAULT;
	return 0;
}

/* Linux's handle_futex_death: a lock word still holding the dead thread's tid gets
 * FUTEX_OWNER_DIED (and keeps FUTEX_WAITERS), and one waiter is woken to find it. */
static void futex_death(struct proc *p, uint64_t va, bool pi, bool pending)
{
	_Atomic uint32_t *w = (va & 3) ? NULL : mem_ptr(p->mem, va, 4, MEM_WRITE);
	if (!w)
		return;
	uint32_t old = atomic_load(w);
	if (pending && !pi && !old) {   /* it died between unlocking and leaving the list */
		syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
		return;
	}
	do {
		if ((old & FUTEX_TID_MASK) != (uint32_t)p->tid)
			return;
	} while (!atomic_compare_exchange_weak(w, &old, (old & FUTEX_WAITERS) | FUTEX_OWNER_DIED));
	if (!pi && (old & FUTEX_WAITERS))
		syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* Linux's exit_robust_list: the locks a dying thread holds (set_robust_list's list, of
 * guest pointers whose low bit says PI) are marked for the next owner. */
void futex_exit_robust(struct proc *p)
{
	uint64_t head[3], entry, pending;
	if (!p->robust_list || mem_read(p->mem, head, p->robust_list, sizeof(head)) < 0)
		return;
	int64_t offset = (int64_t)head[1];
	pending = head[2];
	entry = head[0];
	for (int n = 0; entry != p->robust_list && n < ROBUST_LIST_LIMIT; n++) {
		uint64_t next;
		bool ok = mem_read(p->mem, &next, entry & ~1ULL, 8) == 0;
		if ((entry & ~1ULL) != (pending & ~1ULL))
			futex_death(p, (entry & ~1ULL) + (uint64_t)offset, entry & 1, false);
		if (!ok)
			return;
		entry = next;
	}
	if (pending)
		futex_death(p, (pending & ~1ULL) + (uint64_t)offset, pending & 1, true);
	p->robust_list = 0;
}

/* prctl options with values for arguments, which the host applies to kvmse as Linux to
 * the program (those that are each thread's: sys_caller_only). */
static bool plain_option(int op)
{
	switch (op) {
	case PR_GET_DUMPABLE: case PR_SET_DUMPABLE: case PR_SET_PDEATHSIG:
	case PR_GET_NO_NEW_PRIVS: case PR_SET_NO_NEW_PRIVS: case PR_GET_TIMERSLACK:
	case PR_SET_TIMERSLACK: case PR_GET_KEEPCAPS: case PR_GET_SECUREBITS:
	case PR_CAPBSET_READ: case PR_CAPBSET_DROP: case PR_CAP_AMBIENT: case PR_GET_THP_DISABLE:
	case PR_SET_THP_DISABLE: case PR_GET_TIMING: case PR_SET_TIMING:
	case PR_GET_SPECULATION_CTRL: case PR_SET_SPECULATION_CTRL: case PR_MCE_KILL:
	case PR_MCE_KILL_GET: case PR_GET_IO_FLUSHER: case PR_SET_IO_FLUSHER:
		return true;
	default:
		return false;
	}
}

/* An int the host reports through a pointer, written to the guest's. */
static long int_out(struct proc *p, gva_t va, int op)
{
	int v;
	if (prctl(op, &v) < 0)
		return -errno;
	return mem_write(p->mem, va, &v, sizeof(v)) < 0 ? -EFAULT : 0;
}

long sys_prctl(struct proc *p, const uint64_t a[6])
{
	char name[16];
	int op = (int)a[0];
	if (plain_option(op))
		return sys_ret(prctl(op, a[1], a[2], a[3], a[4]));
	switch (op) {
	case PR_SET_NAME:
		if (mem_read(p->mem, name, a[1], sizeof(name)) < 0)
			return -EFAULT;
		name[15] = 0;
		return sys_ret(prctl(PR_SET_NAME, name));
	case PR_GET_NAME:
		if (prctl(PR_GET_NAME, name) < 0)
			return -errno;
		return mem_write(p->mem, a[1], name, sizeof(name)) < 0 ? -EFAULT : 0;
	case PR_GET_PDEATHSIG: case PR_GET_CHILD_SUBREAPER:
		return int_out(p, a[1], op);
	case PR_SET_KEEPCAPS: case PR_SET_SECUREBITS:
		if (prctl(op, a[1], a[2], a[3], a[4]) < 0)
			return -errno;
		sys_caps_note(p);
		return 0;
	case PR_SET_CHILD_SUBREAPER:
		if (prctl(op, a[1]) < 0)
			return -errno;
		p->ps->reaper_above |= a[1] != 0;
		return 0;
	case PR_GET_TID_ADDRESS:
		return mem_write(p->mem, a[1], &p->clear_child_tid, 8) < 0 ? -EFAULT : 0;
	case PR_GET_TSC: {
		int mode = p->cpu->ops->trap(p->cpu, CPU_TRAP_TSC, -1) ? PR_TSC_SIGSEGV : PR_TSC_ENABLE;
		return mem_write(p->mem, a[1], &mode, sizeof(mode)) < 0 ? -EFAULT : 0;
	}
	case PR_SET_TSC:
		if (a[1] != PR_TSC_ENABLE && a[1] != PR_TSC_SIGSEGV)
			return -EINVAL;
		if (p->cpu->ops->trap(p->cpu, CPU_TRAP_TSC, a[1] == PR_TSC_SIGSEGV) < 0) {
			pr_warn("prctl PR_SET_TSC: RDTSC cannot be made to fault on this host: EINVAL");
			return -EINVAL;
		}
		return 0;
	case PR_SET_SECCOMP: case PR_GET_SECCOMP:
		return seccomp_prctl(p, a);
	default:
		return -EINVAL;
	}
}

long sys_rseq(struct proc *p, const uint64_t a[6])
{
	(void)p;
	(void)a;
	return -ENOSYS;         /* glibc and musl run without it */
}

/* RLIMIT_AS and RLIMIT_DATA are kvmse's to keep (struct process); the others are the
 * host's. */
static struct rlimit *own_limit(struct proc *p, int res)
{
	switch (res) {
	case RLIMIT_AS: return &p->ps->rlim_as;
	case RLIMIT_DATA: return &p->ps->rlim_data;
	default: return NULL;
	}
}

/* prlimit of RLIMIT_AS or RLIMIT_DATA, checked as Linux's do_prlimit. */
static long own_prlimit(struct rlimit *own, const struct rlimit *nw, struct rlimit *old)
{
	if (nw && nw->rlim_max > own->rlim_max && !sys_has_cap(CAP_SYS_RESOURCE))
		return -EPERM;
	*old = *own;
	if (nw)
		*own = *nw;
	return 0;
}

long sys_prlimit64(struct proc *p, const uint64_t a[6])
{
	int res = (int)a[1];
	struct rlimit nw, old;
	if (a[0] && (pid_t)a[0] != getpid())
		return -ESRCH;
	if (res < 0 || res >= RLIM_NLIMITS)
		return -EINVAL;
	if (a[2] && mem_read(p->mem, &nw, a[2], sizeof(nw)) < 0)
		return -EFAULT;
	if (a[2] && nw.rlim_cur > nw.rlim_max)
		return -EINVAL;
	struct rlimit *own = own_limit(p, res);
	long rc = own ? own_prlimit(own, a[2] ? &nw : NULL, &old) : 0;
	if (own)
		return rc < 0 ? rc : a[3] && mem_write(p->mem, a[3], &old, sizeof(old)) < 0 ? -EFAULT : 0;
	uint64_t guest_hard = a[2] ? nw.rlim_max : 0;
	if (a[2] && res == RLIMIT_NOFILE && getrlimit(RLIMIT_NOFILE, &old) == 0) {
		bool raise = nw.rlim_max > MAX(p->ps->nofile_hard, fd_limit_guest(old.rlim_max));
		nw = (struct rlimit){ fd_limit_host(nw.rlim_cur, old.rlim_max),
				      fd_limit_host(nw.rlim_max, old.rlim_max) };
		/* A hard limit above the guest's needs CAP_SYS_RESOURCE: the host's rises
		 * too, so the host decides. */
		if (raise && nw.rlim_max <= old.rlim_max)
			nw.rlim_max = old.rlim_max + 1;
	}
	if (prlimit(0, res, a[2] ? &nw : NULL, &old) < 0)
		return -errno;
	if (res == RLIMIT_NOFILE) {
		old = (struct rlimit){ fd_limit_guest(old.rlim_cur), fd_limit_guest(old.rlim_max) };
		p->ps->nofile_hard = a[2] ? guest_hard : MAX(p->ps->nofile_hard, old.rlim_max);
	}
	if (res == RLIMIT_STACK) {      /* (the soft limit kvmse places the stack by) */
		old.rlim_cur = p->ps->rlim_stack;
		if (a[2])
			p->ps->rlim_stack = nw.rlim_cur;
	}
	if (a[3] && mem_write(p->mem, a[3], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

long sys_getrlimit(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { 0, a[0], 0, a[1] };
	return sys_prlimit64(p, b);
}

long sys_setrlimit(struct proc *p, const uint64_t a[6])
{
	const uint64_t b[6] = { 0, a[0], a[1], 0 };
	return sys_prlimit64(p, b);
}

long sys_getrusage(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_getrusage, (int)a[0], user_out(p, a[1], sizeof(struct rusage)));
}

long sys_sysinfo(struct proc *p, const uint64_t a[6]) { return HOST(SYS_sysinfo, user_out(p, a[0], sizeof(struct sysinfo))); }
long sys_times(struct proc *p, const uint64_t a[6]) { return HOST(SYS_times, user_out(p, a[0], sizeof(struct tms))); }

long sys_sched_getaffinity(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sched_getaffinity, sys_pid(p, a[0]), (unsigned)a[1], user_out(p, a[2], (unsigned)a[1]));
}

long sys_getrandom(struct proc *p, const uint64_t a[6])
{
	size_t len = (size_t)MIN(a[1], 1u << 25);
	return HOST(SYS_getrandom, user_out(p, a[0], len), len, (unsigned)a[2]);
}

/* A futex word lives in guest memory; the host kernel sleeps on its host address. The
 * word must be the guest's memory itself, never a copy: other waiters share it. A word
 * kvmse cannot reach (or misaligned) becomes an address the host kernel refuses alike. */
static void *futex_word(struct proc *p, uint64_t va, enum mem_access acc)
{
	void *w = (va & 3) ? (void *)(uintptr_t)va : mem_ptr(p->mem, va, 4, acc);
	return w ? w : user_buf_poison();
}

long sys_futex(struct proc *p, const uint64_t a[6])
{
	int op = (int)a[1] & FUTEX_CMD_MASK;
	switch (op) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET:
		return HOST(SYS_futex, futex_word(p, a[0], MEM_READ), (int)a[1], (uint32_t)a[2],
			    user_in(p, a[3], sizeof(struct timespec)), NULL, (uint32_t)a[5]);
	case FUTEX_WAKE:
	case FUTEX_WAKE_BITSET:
		return HOST(SYS_futex, futex_word(p, a[0], MEM_READ), (int)a[1], (int)a[2], NULL, NULL,
			    (uint32_t)a[5]);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE:
		/* the fourth argument is a count here, not a pointer */
		return HOST(SYS_futex, futex_word(p, a[0], MEM_READ), (int)a[1], (int)a[2], a[3],
			    futex_word(p, a[4], MEM_READ), (uint32_t)a[5]);
	case FUTEX_WAKE_OP:
		return HOST(SYS_futex, futex_word(p, a[0], MEM_READ), (int)a[1], (int)a[2], a[3],
			    futex_word(p, a[4], MEM_WRITE), (uint32_t)a[5]);
	case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2: case FUTEX_TRYLOCK_PI: case FUTEX_UNLOCK_PI:
	case FUTEX_WAIT_REQUEUE_PI: case FUTEX_CMP_REQUEUE_PI:
		/* The kernel takes the caller for the lock's owner (or waiter): only the
		 * guest thread's own host thread may make these (sys_caller_only). After an
		 * execve by a thread other than the leader, its tid is not its host thread's. */
		if (syscall(SYS_gettid) != p->tid)
			return -ENOSYS;
		return HOST(SYS_futex, futex_word(p, a[0], MEM_WRITE), (int)a[1], (uint32_t)a[2],
			    op == FUTEX_CMP_REQUEUE_PI ? (void *)(uintptr_t)a[3] :
			    user_in(p, a[3], sizeof(struct timespec)),
			    op == FUTEX_WAIT_REQUEUE_PI || op == FUTEX_CMP_REQUEUE_PI ?
			    futex_word(p, a[4], MEM_WRITE) : NULL, (uint32_t)a[5]);
	default:
		return -ENOSYS;
	}
}

bool sys_caller_only(uint64_t nr, const uint64_t a[6])
{
	/* (a tracee's stops are the tracer thread's to see: ptrace.c) */
	if (nr == SYS_capset || nr == SYS_capget || nr == SYS_personality || nr == SYS_setfsuid ||
	    nr == SYS_setfsgid || nr == SYS_wait4 || nr == SYS_waitid ||
	    nr == SYS_set_mempolicy || nr == SYS_get_mempolicy || nr == SYS_seccomp)
		return true;
	if (nr == SYS_prctl) {          /* the thread's own attributes */
		switch ((int)a[0]) {
		case PR_SET_NAME: case PR_GET_NAME: case PR_SET_PDEATHSIG: case PR_GET_PDEATHSIG:
		case PR_SET_TIMERSLACK: case PR_GET_TIMERSLACK: case PR_SET_NO_NEW_PRIVS:
		case PR_GET_NO_NEW_PRIVS: case PR_GET_KEEPCAPS: case PR_SET_KEEPCAPS:
		case PR_GET_SECUREBITS: case PR_SET_SECUREBITS: case PR_CAPBSET_READ:
		case PR_CAPBSET_DROP: case PR_CAP_AMBIENT: case PR_GET_SPECULATION_CTRL:
		case PR_SET_SPECULATION_CTRL: case PR_MCE_KILL: case PR_MCE_KILL_GET:
		case PR_GET_IO_FLUSHER: case PR_SET_IO_FLUSHER: case PR_GET_TSC: case PR_SET_TSC:
		case PR_SET_SECCOMP:    /* (no_new_privs is the vCPU thread's) */
			return true;
		default:
			return false;
		}
	}
	switch ((int)a[1] & FUTEX_CMD_MASK) {
	case FUTEX_LOCK_PI: case FUTEX_LOCK_PI2: case FUTEX_TRYLOCK_PI: case FUTEX_UNLOCK_PI:
	case FUTEX_WAIT_REQUEUE_PI: case FUTEX_CMP_REQUEUE_PI:
		return nr == SYS_futex;
	default:
		return false;
	}
}

#ifndef SYS_futex_wake          /* (C library headers older than Linux 6.7) */
#define SYS_futex_wake 454
#define SYS_futex_wait 455
#define SYS_futex_requeue 456
#endif

/* futex2 (Linux 6.7): the word is given with its size in the flags, the mask apart. */
long sys_futex_wake(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_futex_wake, futex_word(p, a[0], MEM_READ), a[1], (int)a[2], (unsigned)a[3]);
}

long sys_futex_wait(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_futex_wait, futex_word(p, a[0], MEM_READ), a[1], a[2], (unsigned)a[3],
		    user_in(p, a[4], sizeof(struct timespec)), (clockid_t)a[5]);
}

#define WAITV_MAX 128           /* FUTEX_WAITV_MAX */

struct waitv {                  /* struct futex_waitv */
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

/*
 * A guest futex_waitv array for the host: its words' host addresses in place of theirs.
 * The kernel reads and checks entry by entry, so the copy holds the entries the guest
 * can read and then ends at a page that faults (NULL stays NULL).
 */
static struct waitv *waitv_in(struct proc *p, uint64_t va, unsigned n)
{
	if (!va)
		return NULL;
	n = MIN(n, WAITV_MAX);
	struct waitv v[WAITV_MAX];
	unsigned got = 0;
	while (got < n && mem_read(p->mem, &v[got], va + got * sizeof(*v), sizeof(*v)) == 0) {
		v[got].uaddr = (uint64_t)(uintptr_t)futex_word(p, v[got].uaddr, MEM_READ);
		got++;
	}
	struct waitv *h = user_scratch(got * sizeof(*v));
	memcpy(h, v, got * sizeof(*v));
	return h;
}

long sys_futex_waitv(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_futex_waitv, waitv_in(p, a[0], (unsigned)a[1]), (unsigned)a[1], (unsigned)a[2],
		    user_in(p, a[3], sizeof(struct timespec)), (clockid_t)a[4]);
}

/* Two entries: the words to wake from and to requeue onto. */
long sys_futex_requeue(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_futex_requeue, waitv_in(p, a[0], 2), (unsigned)a[1], (int)a[2], (int)a[3]);
}
