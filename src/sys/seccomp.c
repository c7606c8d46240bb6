/* seccomp.c - seccomp, strict mode and filters, applied by kvmse to each system call the
 * program makes (the host's would filter kvmse's own calls). A filter is classic BPF over
 * struct seccomp_data, checked at install as Linux's bpf_check_classic and
 * seccomp_check_filter do, and run by the interpreter below. A thread's filters are a
 * chain, newest first, shared with the threads it starts later (thread.c) and copied
 * into forked children; execve keeps them. A filter never changes once installed, and
 * none is freed: the process keeps every one on a list.
 *
 * A filter may have a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER), which a supervisor
 * reads the calls it sends with SECCOMP_RET_USER_NOTIF from (seccomp_notify.c).
 *
 * Not the same: TRACE is ENOSYS, as with no tracer. */
#include "sys.h"
#include "../fd.h"
#include "../util.h"
#include <linux/audit.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#define MAX_INSNS 4096
#define MAX_ERRNO 4095
#define TSYNC_ESRCH (1u << 4)
#define WAIT_KILLABLE_RECV (1u << 5)
#define FLAGS_KNOWN (SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG | \
		     SECCOMP_FILTER_FLAG_SPEC_ALLOW | SECCOMP_FILTER_FLAG_NEW_LISTENER | \
		     TSYNC_ESRCH | WAIT_KILLABLE_RECV)

struct seccomp_filter {
	const struct seccomp_filter *prev;      /* the thread's older filters */
	struct seccomp_filter *next_all;
	int listener;                   /* kvmse's end of its listener, or -1 */
	unsigned len;
	struct sock_filter insn[];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct seccomp_filter *all;

/* bpf_check_classic and seccomp_check_filter: the instructions a filter may use. */
static bool valid(const struct sock_filter *f, unsigned len)
{
	for (unsigned pc = 0; pc < len; pc++) {
		const struct sock_filter *i = &f[pc];
		unsigned op = BPF_OP(i->code);
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			if (i->k >= sizeof(struct seccomp_data) || (i->k & 3))
				return false;
			break;
		case BPF_ALU | BPF_DIV | BPF_K:
			if (!i->k)
				return false;
			break;
		case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_K:
			if (i->k >= 32)
				return false;
			break;
		case BPF_LD | BPF_MEM: case BPF_LDX | BPF_MEM: case BPF_ST: case BPF_STX:
			if (i->k >= BPF_MEMWORDS)
				return false;
			break;
		case BPF_JMP | BPF_JA:
			if (i->k >= len - pc - 1)
				return false;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
		case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
		case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
		case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
			if (pc + i->jt + 1 >= len || pc + i->jf + 1 >= len)
				return false;
			break;
		case BPF_LD | BPF_W | BPF_LEN: case BPF_LDX | BPF_W | BPF_LEN:
		case BPF_LD | BPF_IMM: case BPF_LDX | BPF_IMM:
		case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA:
		case BPF_RET | BPF_K: case BPF_RET | BPF_A: case BPF_ALU | BPF_NEG:
			break;
		default:
			if (BPF_CLASS(i->code) != BPF_ALU || (op != BPF_ADD && op != BPF_SUB &&
			    op != BPF_MUL && op != BPF_DIV && op != BPF_AND && op != BPF_OR &&
			    op != BPF_XOR && op != BPF_LSH && op != BPF_RSH))
				return false;
		}
	}
	return BPF_CLASS(f[len - 1].code) == BPF_RET;
}

static uint32_t alu(unsigned op, uint32_t a, uint32_t v)
{
	switch (op) {
	case BPF_ADD: return a + v;
	case BPF_SUB: return a - v;
	case BPF_MUL: return a * v;
	case BPF_DIV: return a / v;     /* (v is not 0: the caller saw to it) */
	case BPF_AND: return a & v;
	case BPF_OR: return a | v;
	case BPF_XOR: return a ^ v;
	case BPF_LSH: return v < 32 ? a << v : 0;
	case BPF_RSH: return v < 32 ? a >> v : 0;
	default: return -a;             /* BPF_NEG */
	}
}

static bool jump(unsigned op, uint32_t a, uint32_t v)
{
	switch (op) {
	case BPF_JEQ: return a == v;
	case BPF_JGT: return a > v;
	case BPF_JGE: return a >= v;
	default: return a & v;          /* BPF_JSET */
	}
}

static uint32_t run(const struct seccomp_filter *f, const struct seccomp_data *d)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 };
	for (unsigned pc = 0; pc < f->len; pc++) {
		const struct sock_filter *i = &f->insn[pc];
		uint32_t v = BPF_SRC(i->code) == BPF_X ? x : i->k;
		switch (i->code) {
		case BPF_LD | BPF_W | BPF_ABS: memcpy(&a, (const char *)d + i->k, 4); break;
		case BPF_LD | BPF_W | BPF_LEN: a = sizeof(*d); break;
		case BPF_LDX | BPF_W | BPF_LEN: x = sizeof(*d); break;
		case BPF_LD | BPF_IMM: a = i->k; break;
		case BPF_LDX | BPF_IMM: x = i->k; break;
		case BPF_LD | BPF_MEM: a = mem[i->k]; break;
		case BPF_LDX | BPF_MEM: x = mem[i->k]; break;
		case BPF_ST: mem[i->k] = a; break;
		case BPF_STX: mem[i->k] = x; break;
		case BPF_MISC | BPF_TAX: x = a; break;
		case BPF_MISC | BPF_TXA: a = x; break;
		case BPF_RET | BPF_K: return i->k;
		case BPF_RET | BPF_A: return a;
		case BPF_JMP | BPF_JA: pc += i->k; break;
		default:
			if (BPF_CLASS(i->code) == BPF_JMP) {
				pc += jump(BPF_OP(i->code), a, v) ? i->jt : i->jf;
			} else {
				if (BPF_OP(i->code) == BPF_DIV && !v)
					return 0;       /* (as Linux: the program ends, with 0) */
				a = alu(BPF_OP(i->code), a, v);
			}
		}
	}
	return SECCOMP_RET_KILL_PROCESS;        /* (never: the last one returns) */
}

/* The action that prevails: the lowest as a signed number (KILL_PROCESS first), from
 * the newest filter that gave it (*from). */
static uint32_t verdict(const struct proc *p, const struct seccomp_data *d, const struct seccomp_filter **from)
{
	uint32_t ret = SECCOMP_RET_ALLOW;
	for (const struct seccomp_filter *f = p->seccomp; f; f = f->prev) {
		uint32_t r = run(f, d);
		if ((int32_t)(r & SECCOMP_RET_ACTION_FULL) < (int32_t)(ret & SECCOMP_RET_ACTION_FULL)) {
			ret = r;
			*from = f;
		}
	}
	return ret;
}

/* Linux's force_sig_seccomp: SIGSYS, with the call and its architecture. */
static void trap(struct proc *p, const struct seccomp_data *d, uint32_t data)
{
	struct ksiginfo info = { .signo = SIGSYS, .errno_ = (int32_t)data, .code = 1 /* SYS_SECCOMP */ };
	memcpy(info.raw, &d->instruction_pointer, 8);
	memcpy(info.raw + 8, &d->nr, 4);
	memcpy(info.raw + 12, &d->arch, 4);
	sig_force(p, &info);
}

bool seccomp_blocks(struct proc *p, unsigned nr, const uint64_t a[6], uint64_t ip, long *ret)
{
	if (p->seccomp_mode == SECCOMP_MODE_STRICT) {
		if (nr == 0 || nr == 1 || nr == 15 || nr == 60)
			return false;
		sys_terminate(p, 0, SIGKILL);
		*ret = -EPERM;
		return true;
	}
	p->seccomp_restart = false;
	struct seccomp_data d = { (int)nr, AUDIT_ARCH_X86_64, ip, { a[0], a[1], a[2], a[3], a[4], a[5] } };
	const struct seccomp_filter *f = NULL;
	uint32_t r = verdict(p, &d, &f), data = r & SECCOMP_RET_DATA;
	switch (r & SECCOMP_RET_ACTION_FULL) {
	case SECCOMP_RET_ALLOW: case SECCOMP_RET_LOG:
		return false;
	case SECCOMP_RET_ERRNO:
		*ret = -(long)MIN(data, MAX_ERRNO);
		return true;
	case SECCOMP_RET_TRAP:
		trap(p, &d, data);
		*ret = nr;      /* (rolled back: RAX holds the number again) */
		return true;
	case SECCOMP_RET_USER_NOTIF:
		return seccomp_notify(p, &f->listener, &d, ret);
	case SECCOMP_RET_TRACE:
		*ret = -ENOSYS;         /* (no tracer) */
		return true;
	default:
		/* KILL_THREAD ends the thread, unless it is the last; the rest (KILL_PROCESS,
		 * an unknown action) kill the process, as by SIGSYS */
		if ((r & SECCOMP_RET_ACTION_FULL) == SECCOMP_RET_KILL_THREAD && p->ps->nthreads > 1)
			p->exited = true;
		else
			sys_terminate(p, 0, SIGSYS);
		*ret = -ENOSYS;
		return true;
	}
}

/* (process lock held) TSYNC gives every thread the caller's filters: each must have
 * some of them already, the older ones (or none). If one does not, the call fails with
 * its id (or ESRCH, with TSYNC_ESRCH). */
static long tsync_refused(const struct proc *p, unsigned flags)
{
	for (int i = 0; i < p->ps->nthreads; i++) {
		const struct proc *t = p->ps->threads[i];
		const struct seccomp_filter *f = p->seccomp;
		while (f && f != t->seccomp)
			f = f->prev;
		if (f != t->seccomp || t->seccomp_mode == SECCOMP_MODE_STRICT)
			return flags & TSYNC_ESRCH ? -ESRCH : t->tid;
	}
	return 0;
}

/* A new filter on top of the thread's (or all threads', with TSYNC). */
static long add_filter(struct proc *p, unsigned flags, uint64_t prog)
{
	bool listen = flags & SECCOMP_FILTER_FLAG_NEW_LISTENER;
	if ((flags & ~FLAGS_KNOWN) || ((flags & WAIT_KILLABLE_RECV) && !listen) ||
	    (listen && (flags & SECCOMP_FILTER_FLAG_TSYNC) && !(flags & TSYNC_ESRCH)))
		return -EINVAL;
	struct { uint16_t len; uint64_t filter; } fp;   /* struct sock_fprog */
	if (mem_read(p->mem, &fp.len, prog, 2) < 0 || mem_read(p->mem, &fp.filter, prog + 8, 8) < 0)
		return -EFAULT;
	if (!fp.len || fp.len > MAX_INSNS)
		return -EINVAL;
	if (!sys_has_cap(CAP_SYS_ADMIN) && prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return -EACCES;
	struct seccomp_filter *f = xmalloc(sizeof(*f) + fp.len * sizeof(f->insn[0]));
	f->len = fp.len;
	long e = mem_read(p->mem, f->insn, fp.filter, fp.len * sizeof(f->insn[0])) < 0 ? -EFAULT :
		 !valid(f->insn, fp.len) || p->seccomp_mode == SECCOMP_MODE_STRICT ? -EINVAL : 0;
	f->listener = -1;
	long fd = e ? e : listen ? seccomp_listener_new(&f->listener) : 0;
	if (fd < 0) {
		free(f);
		return fd;
	}
	pthread_mutex_lock(&lock);
	f->next_all = all;
	all = f;
	pthread_mutex_unlock(&lock);
	f->prev = p->seccomp;
	pthread_mutex_lock(&p->ps->lock);
	long rc = flags & SECCOMP_FILTER_FLAG_TSYNC ? tsync_refused(p, flags) : 0;
	for (const struct seccomp_filter *o = p->seccomp; listen && !rc && o; o = o->prev)
		rc = o->listener >= 0 ? -EBUSY : 0;     /* (one listener to a thread) */
	for (int i = 0; !rc && i < p->ps->nthreads; i++) {
		struct proc *t = p->ps->threads[i];
		if (t == p || (flags & SECCOMP_FILTER_FLAG_TSYNC)) {
			t->seccomp = f;
			t->seccomp_mode = SECCOMP_MODE_FILTER;
		}
	}
	pthread_mutex_unlock(&p->ps->lock);
	if (listen && rc) {             /* (the filter stays on the list, unused) */
		close((int)fd);
		fd_close(&f->listener);
	}
	return rc ? rc : fd;
}

static long strict(struct proc *p)
{
	if (p->seccomp_mode == SECCOMP_MODE_FILTER)
		return -EINVAL;
	p->seccomp_mode = SECCOMP_MODE_STRICT;
	return 0;
}

long sys_seccomp(struct proc *p, const uint64_t a[6])
{
	unsigned flags = (unsigned)a[1];
	switch ((unsigned)a[0]) {
	case SECCOMP_SET_MODE_STRICT:
		return flags || a[2] ? -EINVAL : strict(p);
	case SECCOMP_SET_MODE_FILTER:
		return add_filter(p, flags, a[2]);
	case SECCOMP_GET_ACTION_AVAIL: {
		uint32_t action;
		if (flags)
			return -EINVAL;
		if (mem_read(p->mem, &action, a[2], sizeof(action)) < 0)
			return -EFAULT;
		switch (action) {
		case SECCOMP_RET_KILL_PROCESS: case SECCOMP_RET_KILL_THREAD: case SECCOMP_RET_TRAP:
		case SECCOMP_RET_ERRNO: case SECCOMP_RET_USER_NOTIF: case SECCOMP_RET_TRACE:
		case SECCOMP_RET_LOG: case SECCOMP_RET_ALLOW:
			return 0;
		default:
			return -EOPNOTSUPP;
		}
	}
	case SECCOMP_GET_NOTIF_SIZES: {
		const uint16_t sizes[3] = { 80, 24, sizeof(struct seccomp_data) };
		if (flags)
			return -EINVAL;
		return mem_write(p->mem, a[2], sizes, sizeof(sizes)) < 0 ? -EFAULT : 0;
	}
	default:
		return -EINVAL;
	}
}

/* prctl's PR_SET_SECCOMP (mode, filter) and PR_GET_SECCOMP. */
long seccomp_prctl(struct proc *p, const uint64_t a[6])
{
	if ((int)a[0] == PR_GET_SECCOMP)
		return p->seccomp_mode;
	if (a[1] == SECCOMP_MODE_STRICT)
		return strict(p);
	return a[1] == SECCOMP_MODE_FILTER ? add_filter(p, 0, a[2]) : -EINVAL;
}
