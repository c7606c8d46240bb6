/* syscall.c - dispatch by number, the ENOSYS fallback, and --strace output. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

struct sys_entry {
	const char *name;
	sys_handler fn;
	const char *fmt;
};

static const struct sys_entry table[] = {
#define SC(nr, name, fmt) [nr] = { #name, sys_##name, fmt },
#include "syscalls.def"
#undef SC
};

const char *sys_name(unsigned nr)
{
	if (nr < ARRAY_SIZE(table) && table[nr].name)
		return table[nr].name;
	return NULL;
}

void sys_terminate(struct proc *p, int status, int sig)
{
	p->exited = true;
	p->ps->exit_status = status;
	p->ps->exit_signal = sig;
	atomic_store(&p->ps->group_exit, true);
}

static long unknown(struct proc *p, unsigned nr)
{
	STAT_INC(p->ps->stats.syscalls_unknown);
	bool *warned = nr < ARRAY_SIZE(p->ps->warned) ? &p->ps->warned[nr] : NULL;
	if (!p->opt->quiet && (!warned || !*warned)) {
		const char *name = sys_name(nr);
		if (name)
			pr_warn("unsupported system call %s (%u): returning ENOSYS", name, nr);
		else
			pr_warn("unsupported system call %u: returning ENOSYS", nr);
		if (warned)
			*warned = true;
	}
	return -ENOSYS;
}

/* Calls that read or change the memory map: under the memory lock (threads share it). */
static bool uses_mm(unsigned nr)
{
	switch (nr) {
	case 9: case 10: case 11: case 12: case 25: case 26: case 27: case 28: case 30: case 67:
	case 149: case 150: case 151: case 206: case 207: case 216: case 237: case 325: case 329:
	case 462:
		return true;    /* mmap mprotect munmap brk mremap msync mincore madvise shmat shmdt,
				 * mlock munlock mlockall io_setup io_destroy remap_file_pages mbind
				 * mlock2 pkey_mprotect mseal */
	default:
		return false;
	}
}

/* Calls that may read, write or set a terminal (sig_tty_begin). */
static bool may_reach_tty(unsigned nr)
{
	switch (nr) {
	case 0: case 1: case 16: case 19: case 20: case 40: case 275: case 327: case 328:
		return true;    /* read write ioctl readv writev sendfile splice preadv2 pwritev2 */
	default:
		return false;
	}
}

static long call(struct proc *p, uint64_t nr64, const uint64_t a[6], uint64_t ip)
{
	unsigned nr = nr64 < 1024 ? (unsigned)nr64 : 1023;
	const struct sys_entry *e = nr < ARRAY_SIZE(table) && table[nr].fn ? &table[nr] : NULL;
	if (nr < ARRAY_SIZE(p->ps->stats.syscalls))
		STAT_INC(p->ps->stats.syscalls[nr]);
	const char *fmt = e ? e->fmt : "dxxxxxx";
	if (p->opt->strace)
		strace_enter(p, nr, fmt, a);
	long ret;
	/* A host call ends with EINTR when a host signal comes; unless the guest has a
	 * signal to see now (sig_deliver then decides), it goes on as the kernel would.
	 * (rt_sigreturn's result is the program's RAX, whatever it is.) */
	bool mm = uses_mm(nr), tty = may_reach_tty(nr);
	if (p->seccomp_mode && seccomp_blocks(p, (unsigned)nr64, a, ip, &ret))
		goto done;
	do {
		if (mm)
			mem_lock(p->mem);
		uint64_t tty_blocked = tty ? sig_tty_begin(p) : 0;
		ret = e ? e->fn(p, a) : unknown(p, nr);
		sig_tty_end(tty_blocked);
		if (mm)
			mem_unlock(p->mem);
		user_finish(p);
	} while (ret == -EINTR && nr != 15 && !sig_wakes(p) && !p->exited);
done:
	if (p->opt->strace)
		strace_leave(p, nr, fmt, a, ret);
	return ret;
}

void sys_dispatch(struct proc *p, struct cpu_regs *r)
{
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	sig_call_begin(p);
	r->rax = (uint64_t)call(p, r->rax, a, r->rip);
	sig_call_end(p);
}

/* Calls that need the CPU's state, or change the page tables (which the program must
 * not see half done), or the thread's syscall server (ns.c, landlock.c, ptrace.c: a
 * tracee's calls stop it, and a tracer is a thread), or use the
 * host thread's keyring (keys.c: one thread keyring per guest thread): they always stop
 * the CPU. */
static const unsigned need_cpu[] = {
	9 /* mmap */, 10 /* mprotect */, 11 /* munmap */, 12 /* brk */, 15 /* rt_sigreturn */,
	25 /* mremap */, 30 /* shmat */, 56 /* clone */, 57 /* fork */, 58 /* vfork */, 59 /* execve */,
	60 /* exit */, 67 /* shmdt */, 101 /* ptrace */, 131 /* sigaltstack */, 158 /* arch_prctl */,
	206 /* io_setup */, 207 /* io_destroy */, 231 /* exit_group */, 446 /* landlock_restrict_self */,
	248 /* add_key */, 249 /* request_key */, 250 /* keyctl */, 272 /* unshare */, 308 /* setns */,
	322 /* execveat */, 435 /* clone3 */, 436 /* close_range: its UNSHARE */,
};

bool sys_may_serve(unsigned nr)
{
	if (nr >= ARRAY_SIZE(table) || !table[nr].fn)
		return false;   /* unknown: the exit path warns about it */
	for (size_t i = 0; i < ARRAY_SIZE(need_cpu); i++)
		if (need_cpu[i] == nr)
			return false;
	return true;
}

long sys_serve(void *ctx, uint64_t nr, const uint64_t a[6], uint64_t ip, bool *stop)
{
	struct proc *p = ctx;
	sys_thread_follow(p);
	long ret = call(p, nr, a, ip);
	*stop = p->exited;
	/* A signal to deliver before the program sees the result: stop it with the answer. */
	if (sig_deliverable(p))
		p->cpu->ops->kick(p->cpu);
	return ret;
}
