/* ptrace.c - ptrace(2) between guest processes. The tracer's kvmse process traces the
 * tracee's kvmse process on the host (TRACEME, SEIZE), and the guest's stops are host
 * stops: the tracee's vCPU thread stops itself with a signal that names its "box", where
 * the tracer reads the stop and leaves requests, served by the tracee while it is
 * stopped (docs/design.md, "ptrace"). */
#include "sys.h"
#include "../thread.h"
#include "../util.h"
#include <elf.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <unistd.h>

/* si_errno of kvmse's own SIG_KICK messages (si_code SI_QUEUE). */
#define MAGIC_STOP   0x6b767374         /* a tracee stops; si_ptr: its box */
#define MAGIC_TRACER 0x6b767472         /* to a tracee: traced now; si_int: a signal to take */
#define MAGIC_INTERRUPT 0x6b767469      /* to a tracee: PTRACE_INTERRUPT */
/* In a tracee's options: it was seized (its group stops and PTRACE_INTERRUPT's are
 * PTRACE_EVENT_STOP stops). Linux keeps this as PT_SEIZED, outside the options. */
#define PTRACE_O_SEIZED_ (1u << 31)

#define FX_SIZE 512
#define XSAVE_MAX 4096
#define SW_BYTES 464                    /* struct _fpx_sw_bytes in the FXSAVE area */
#define XSTATE_BV 512
#define EFL_TF 0x100
#define EFL_FIX 0x50dd5                 /* the flags a tracer may set (FLAG_MASK) */
#define USER_CS 0x33
#define USER_SS 0x2b
#define USER_SIZE 928                   /* the kernel's struct user (the C library's is less) */

/* Where a stopped tracee's tracer reads the stop and leaves a request, in the tracee's
 * memory (process_vm_readv and _writev). */
struct box {
	int32_t status;         /* the stop, as wait reports it */
	int32_t op;             /* the request: PTRACE_*, 0 if none */
	int64_t result;         /* its result: >= 0, or -errno */
	uint64_t addr, data;    /* its arguments; a PEEK's word comes back in data */
	uint32_t len;           /* the bytes of buf that go with it, either way */
	_Alignas(16) uint8_t buf[XSAVE_MAX];
};
#define BOX_HEAD offsetof(struct box, buf)

struct tracee {
	struct box box;
	int resume;             /* how it was resumed: PTRACE_CONT, _SYSCALL or _SINGLESTEP */
	unsigned options;       /* PTRACE_O_* */
	uint64_t dr[8];         /* the debug registers as set (kept, not armed) */
	int64_t orig_rax;       /* the call of a syscall stop, -1 elsewhere */
	struct ksiginfo info;   /* the signal of a signal-delivery stop */
	bool forced_tf;         /* single-stepping set the trap flag */
	uint64_t event_msg;     /* PTRACE_GETEVENTMSG's */
	uint8_t call_stop;      /* PTRACE_SYSCALL_INFO_ENTRY or _EXIT at a syscall stop, else 0 */
	_Atomic bool lost;      /* its own stop came back to it: no tracer took it */
};

/* One of kvmse's SIG_KICK messages ('magic' its kind), from this process. */
static siginfo_t kick_info(int magic)
{
	siginfo_t si = { .si_signo = SIG_KICK, .si_code = SI_QUEUE, .si_errno = magic };
	si.si_pid = getpid();
	si.si_uid = getuid();
	return si;
}

/* -------------------------------------------------------------- the tracee's side */

static struct tracee *tracee_of(struct proc *p)
{
	return atomic_load(&p->ps->ptraced) == p->tid ? p->pt : NULL;
}

/* A tracer came (or went): the host's dispositions follow (a traced program takes every
 * signal through kvmse), its calls come to the vCPU thread (stops at calls are made
 * there), and it gets a box. On the vCPU thread. */
void ptrace_follow(struct proc *p)
{
	/* (a load first: every call of every thread passes here, and an exchange would
	 * move the line between their cores) */
	if (!atomic_load_explicit(&p->ps->pt_follow, memory_order_relaxed) ||
	    !atomic_exchange(&p->ps->pt_follow, false))
		return;
	bool traced = atomic_load(&p->ps->ptraced) == p->tid;
	if (traced && !p->pt) {
		p->pt = xcalloc(1, sizeof(*p->pt));
		p->pt->orig_rax = -1;
		p->pt->resume = PTRACE_CONT;
		p->pt->options = atomic_load(&p->ps->pt_options);
	}
	if (!traced && p->pt) {
		free(p->pt);
		p->pt = NULL;
	}
	sig_follow_all(p);
	if (traced)
		p->cpu->ops->serve(p->cpu, NULL);
	else
		thread_serve(p);
}

static void untrace(struct proc *p)
{
	atomic_store(&p->ps->ptraced, 0);
	atomic_store(&p->ps->pt_follow, true);
	ptrace_follow(p);
}

void ptrace_forked(struct proc *p)
{
	if (atomic_load(&p->ps->ptraced) || p->pt)
		untrace(p);
}

bool ptrace_message(struct process *ps, struct proc *self, const siginfo_t *si, int *sig)
{
	*sig = 0;
	if (si->si_code != SI_QUEUE)
		return false;
	if (si->si_errno == MAGIC_STOP && si->si_pid == getpid()) {
		if (self && self->pt)
			atomic_store(&self->pt->lost, true);
		return true;
	}
	if (si->si_errno == MAGIC_INTERRUPT) {
		atomic_store(&ps->pt_interrupt, true);
		return true;
	}
	if (si->si_errno != MAGIC_TRACER)
		return false;
	/* (the thread it was sent to: a forked child may not know its own tid yet) */
	atomic_store(&ps->ptracer, si->si_pid);
	unsigned o = (unsigned)si->si_int >> 8;
	atomic_store(&ps->pt_options, (o & 0xff) | (o & 0x100 ? PTRACE_O_SEIZED_ : 0));
	atomic_store(&ps->ptraced, (pid_t)syscall(SYS_gettid));
	atomic_store(&ps->pt_follow, true);
	*sig = si->si_int & 0xff;
	return true;
}

/* struct user_regs_struct from the registers, and back (putreg's checks). */
static void regs_out(const struct tracee *t, const struct cpu_regs *r, struct user_regs_struct *u)
{
	*u = (struct user_regs_struct){
		.r15 = r->r15, .r14 = r->r14, .r13 = r->r13, .r12 = r->r12, .rbp = r->rbp,
		.rbx = r->rbx, .r11 = r->r11, .r10 = r->r10, .r9 = r->r9, .r8 = r->r8,
		.rax = r->rax, .rcx = r->rcx, .rdx = r->rdx, .rsi = r->rsi, .rdi = r->rdi,
		.orig_rax = (uint64_t)t->orig_rax, .rip = r->rip, .cs = USER_CS,
		.eflags = r->rflags & ~(t->forced_tf ? EFL_TF : 0),
		.rsp = r->rsp, .ss = USER_SS, .fs_base = r->fs_base, .gs_base = r->gs_base,
	};
}

static long regs_in(struct tracee *t, struct cpu_regs *r, const struct user_regs_struct *u)
{
	if ((u->cs & 3) != 3 || (u->ss & 3) != 3 || u->fs_base >= TASK_SIZE || u->gs_base >= TASK_SIZE)
		return -EIO;
	*r = (struct cpu_regs){
		.r15 = u->r15, .r14 = u->r14, .r13 = u->r13, .r12 = u->r12, .rbp = u->rbp,
		.rbx = u->rbx, .r11 = u->r11, .r10 = u->r10, .r9 = u->r9, .r8 = u->r8,
		.rax = u->rax, .rcx = u->rcx, .rdx = u->rdx, .rsi = u->rsi, .rdi = u->rdi,
		.rip = u->rip, .rsp = u->rsp, .fs_base = u->fs_base, .gs_base = u->gs_base,
		.rflags = (r->rflags & ~(uint64_t)EFL_FIX) | (u->eflags & EFL_FIX),
	};
	t->orig_rax = (int64_t)u->orig_rax;
	return 0;
}

/* A debug register as ptrace_set_debugreg checks it: an address a breakpoint enabled in
 * DR7 names is a user one, aligned to its length; no I/O breakpoints, no length for an
 * execution one. */
static long set_debugreg(struct tracee *t, unsigned n, uint64_t v)
{
	uint64_t dr[8];
	memcpy(dr, t->dr, sizeof(dr));
	if (n == 4 || n == 5)
		return -EIO;
	dr[n] = v;
	for (unsigned i = 0; i < 4; i++) {
		if (!((dr[7] >> (2 * i)) & 3))
			continue;
		unsigned type = (dr[7] >> (16 + 4 * i)) & 3, len = (dr[7] >> (18 + 4 * i)) & 3;
		uint64_t bytes = len == 2 ? 8 : len + 1;
		if (type == 2 || (type == 0 && len) || dr[i] >= TASK_SIZE || (dr[i] & (bytes - 1)))
			return -EINVAL;
	}
	t->dr[n] = v;
	return 0;
}

static long peek_user(struct tracee *t, const struct cpu_regs *r, uint64_t off, uint64_t *v)
{
	if ((off & 7) || off >= USER_SIZE)
		return -EIO;
	*v = 0;
	if (off < sizeof(struct user_regs_struct)) {
		struct user_regs_struct u;
		regs_out(t, r, &u);
		memcpy(v, (uint8_t *)&u + off, 8);
	} else if (off >= offsetof(struct user, u_debugreg) && off < offsetof(struct user, u_debugreg[8])) {
		*v = t->dr[(off - offsetof(struct user, u_debugreg)) / 8];
	}
	return 0;
}

static long poke_user(struct tracee *t, struct cpu_regs *r, uint64_t off, uint64_t v)
{
	if ((off & 7) || off >= USER_SIZE)
		return -EIO;
	if (off < sizeof(struct user_regs_struct)) {
		struct user_regs_struct u;
		regs_out(t, r, &u);
		memcpy((uint8_t *)&u + off, &v, 8);
		/* (the data segment selectors stay 0: only a null one or a user one is taken) */
		if (off >= offsetof(struct user_regs_struct, ds) && (v & 3) != 3 && v)
			return -EIO;
		return regs_in(t, r, &u);
	}
	if (off >= offsetof(struct user, u_debugreg) && off < offsetof(struct user, u_debugreg[8]))
		return set_debugreg(t, (unsigned)(off - offsetof(struct user, u_debugreg)) / 8, v);
	return 0;
}

/* A tracer's write goes where a read could, even to a read-only private page (FOLL_FORCE):
 * through /proc/self/mem, which breaks the host's sharing of that page as Linux does. */
static long poke_mem(struct proc *p, gva_t va, uint64_t v)
{
	if (mem_write(p->mem, va, &v, 8) == 0)
		return 0;
	struct iovec iov[2];
	int n = mem_iov(p->mem, va, 8, MEM_READ, iov, 2, NULL);
	if (n < 0)
		return -EIO;
	mem_lock(p->mem);
	for (gva_t pg = PAGE_ALIGN_DOWN(va); pg < va + 8; pg += PAGE_SIZE) {
		const struct vma *m = mm_find(p, pg);
		if (!m || (m->flags & VMA_SHARED)) {
			mem_unlock(p->mem);
			return -EIO;
		}
	}
	mem_unlock(p->mem);
	int fd = open("/proc/self/mem", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -EIO;
	const uint8_t *src = (const uint8_t *)&v;
	long rc = 0;
	for (int i = 0; i < n && !rc; src += iov[i].iov_len, i++)
		if (pwrite(fd, src, iov[i].iov_len, (off_t)(uintptr_t)iov[i].iov_base) != (ssize_t)iov[i].iov_len)
			rc = -EIO;
	close(fd);
	return rc;
}

/* The XSAVE image as Linux's regsets give it: the FXSAVE part's software bytes start
 * with the enabled features (XCR0). */
static uint32_t xstate_out(struct proc *p, uint8_t *x)
{
	p->cpu->ops->get_xsave(p->cpu, x, XSAVE_MAX);
	memset(x + SW_BYTES, 0, FX_SIZE - SW_BYTES);
	memcpy(x + SW_BYTES, &p->sig.xfeatures, 8);
	return p->sig.xsave_size ? p->sig.xsave_size : FX_SIZE;
}

/* The FPU state from a tracer: 'len' bytes of FXSAVE or XSAVE image over the current one
 * (validate_user_xstate_header: only enabled features, standard format). */
static long xstate_in(struct proc *p, const uint8_t *in, uint32_t len, bool fx)
{
	static _Thread_local uint8_t x[XSAVE_MAX];
	p->cpu->ops->get_xsave(p->cpu, x, sizeof(x));
	uint64_t bv, comp, reserved[6];
	if (fx) {
		memcpy(x, in, FX_SIZE);
		memcpy(&bv, x + XSTATE_BV, 8);
		bv |= 3;
	} else {
		if (len != p->sig.xsave_size)   /* (xstateregs_set: the whole image) */
			return -EFAULT;
		memcpy(&bv, in + XSTATE_BV, 8);
		memcpy(&comp, in + XSTATE_BV + 8, 8);
		memcpy(reserved, in + XSTATE_BV + 16, sizeof(reserved));
		for (size_t i = 0; i < ARRAY_SIZE(reserved); i++)
			comp |= reserved[i];
		if (comp || (bv & ~p->sig.xfeatures))
			return -EINVAL;
		memcpy(x, in, len);
	}
	memset(x + SW_BYTES, 0, FX_SIZE - SW_BYTES);
	memcpy(x + XSTATE_BV, &bv, 8);
	uint32_t mxcsr;
	memcpy(&mxcsr, x + 24, 4);
	if (mxcsr & 0xffff0000u)
		return -EINVAL;
	return p->cpu->ops->set_xsave(p->cpu, x, sizeof(x)) ? 0 : -EINVAL;
}

/* Single-step with the trap flag, which the tracer does not see set (TIF_FORCED_TF): one
 * the program had set itself stays. */
static void step(struct tracee *t, struct cpu_regs *r, bool on)
{
	if (on && !(r->rflags & EFL_TF)) {
		r->rflags |= EFL_TF;
		t->forced_tf = true;
	} else if (!on && t->forced_tf) {
		r->rflags &= ~(uint64_t)EFL_TF;
		t->forced_tf = false;
	}
}

/* PTRACE_GET_SYSCALL_INFO's struct at a syscall stop (else its head only): its size. */
static long syscall_info(const struct tracee *t, const struct cpu_regs *r, uint8_t *out)
{
	struct ptrace_syscall_info_ {
		uint8_t op, pad[3];
		uint32_t arch;
		uint64_t ip, sp;
		union {
			struct { uint64_t nr, args[6]; } entry;
			struct { int64_t rval; uint8_t is_error; } exit;
		};
	} i = { .op = t->call_stop, .arch = AUDIT_ARCH_X86_64, .ip = r->rip, .sp = r->rsp };
	long size = offsetof(struct ptrace_syscall_info_, entry);
	if (t->call_stop == PTRACE_SYSCALL_INFO_ENTRY) {
		i.entry.nr = (uint64_t)t->orig_rax;
		uint64_t args[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
		memcpy(i.entry.args, args, sizeof(args));
		size = offsetof(struct ptrace_syscall_info_, entry.args) + sizeof(args);
	} else if (t->call_stop == PTRACE_SYSCALL_INFO_EXIT) {
		i.exit.rval = (int64_t)r->rax;
		i.exit.is_error = i.exit.rval < 0 && i.exit.rval >= -4095;
		size = offsetof(struct ptrace_syscall_info_, exit.is_error) + 1;
	}
	memcpy(out, &i, (size_t)size);
	return size;
}

/* One request of the tracer's, with the tracee stopped; false once it is resumed. */
static bool serve(struct proc *p, struct cpu_regs *r, struct tracee *t, int *sig)
{
	struct box *b = &t->box;
	long rc = 0;
	b->len = 0;
	switch (b->op) {
	case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA:
		rc = mem_read(p->mem, &b->data, b->addr, 8) ? -EIO : 0;
		break;
	case PTRACE_POKETEXT: case PTRACE_POKEDATA:
		rc = poke_mem(p, b->addr, b->data);
		break;
	case PTRACE_PEEKUSER:
		rc = peek_user(t, r, b->addr, &b->data);
		break;
	case PTRACE_POKEUSER:
		rc = poke_user(t, r, b->addr, b->data);
		break;
	case PTRACE_GETREGS:
		regs_out(t, r, (struct user_regs_struct *)b->buf);
		b->len = sizeof(struct user_regs_struct);
		break;
	case PTRACE_SETREGS:
		rc = regs_in(t, r, (const struct user_regs_struct *)b->buf);
		break;
	case PTRACE_GETFPREGS:
		xstate_out(p, b->buf);
		b->len = FX_SIZE;
		break;
	case PTRACE_SETFPREGS:
		rc = xstate_in(p, b->buf, FX_SIZE, true);
		break;
	case PTRACE_GETREGSET:  /* (NT_X86_XSTATE: the others are GETREGS and GETFPREGS) */
		if (!p->sig.xsave_size)
			rc = -ENODEV;
		else
			b->len = xstate_out(p, b->buf);
		break;
	case PTRACE_SETREGSET:
		rc = p->sig.xsave_size ? xstate_in(p, b->buf, (uint32_t)b->data, false) : -ENODEV;
		break;
	case PTRACE_GETSIGINFO:
		memcpy(b->buf, &t->info, sizeof(t->info));
		b->len = sizeof(t->info);
		break;
	case PTRACE_SETSIGINFO:
		memcpy(&t->info, b->buf, sizeof(t->info));
		break;
	case PTRACE_SETOPTIONS:
		t->options = (unsigned)b->data | (t->options & PTRACE_O_SEIZED_);
		break;
	case PTRACE_GET_SYSCALL_INFO:
		b->result = syscall_info(t, r, b->buf);
		b->len = (uint32_t)b->result;
		return true;
	case PTRACE_GETEVENTMSG:
		b->data = t->event_msg;
		break;
	case PTRACE_LISTEN:     /* (the tracer saw a group stop) */
		t->resume = PTRACE_LISTEN;
		return false;
	case PTRACE_DETACH:
		step(t, r, false);
		*sig = (int)b->data;
		untrace(p);
		return false;
	default:                /* PTRACE_CONT, _SYSCALL, _SINGLESTEP */
		t->resume = b->op ? b->op : PTRACE_CONT;
		step(t, r, t->resume == PTRACE_SINGLESTEP);
		*sig = (int)b->data;
		return false;
	}
	b->result = rc;
	return true;
}

/*
 * Stop for the tracer with wait status 'status', and serve its requests until it resumes
 * the program. The stop is a host one: SIG_KICK, sent to this thread with the box's
 * address, stops it for the host's tracer, which takes the signal away as it resumes
 * it. A stop signal that comes back (kick_handler) means nobody took it: the tracer has
 * gone, and the program goes on untraced. Returns the signal the tracer gave (0: none),
 * or -1 if it went.
 */
static int stop(struct proc *p, struct cpu_regs *r, int status)
{
	struct tracee *t = p->pt;
	int sig = 0;
	t->box.status = status;
	do {
		t->box.op = 0;
		siginfo_t si = kick_info(MAGIC_STOP);
		si.si_ptr = &t->box;
		sigset_t kick, old;
		sigemptyset(&kick);
		sigaddset(&kick, SIG_KICK);
		pthread_sigmask(SIG_UNBLOCK, &kick, &old);
		syscall(SYS_rt_tgsigqueueinfo, getpid(), p->tid, SIG_KICK, &si);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (atomic_exchange(&t->lost, false)) {
			untrace(p);
			return -1;
		}
	} while (serve(p, r, t, &sig));
	return sig;
}

static int stop_status(int sig) { return sig << 8 | 0x7f; }
static int event_status(int sig, int event) { return event << 16 | stop_status(sig); }

static int syscall_status(const struct tracee *t)
{
	return stop_status(SIGTRAP | ((t->options & PTRACE_O_TRACESYSGOOD) ? 0x80 : 0));
}

/*
 * A signal-delivery stop: the tracer sees 'sig' first, and gives the signal to deliver
 * instead (0: none). Another signal than the one stopped for comes from the tracer
 * (SI_USER), unless it gave a siginfo; one that is blocked is queued again (ptrace_signal).
 */
int ptrace_signal(struct proc *p, struct cpu_regs *r, int sig, struct ksiginfo *info, int64_t nr)
{
	struct tracee *t = tracee_of(p);
	if (!t || sig == SIGKILL)
		return sig;
	t->info = *info;
	t->orig_rax = nr;
	int to = stop(p, r, stop_status(sig));
	if (to < 0)
		return sig;             /* (the tracer went: as if never traced) */
	if (to == 0 || to > 64)
		return 0;
	if ((t = tracee_of(p))) {       /* (NULL: it detached) */
		*info = t->info;
		t->orig_rax = -1;
	}
	if (to != info->signo)
		*info = (struct ksiginfo){ .signo = to, .code = SI_USER,
					   .kill = { .pid = atomic_load(&p->ps->ptracer), .uid = getuid() } };
	if (atomic_load(&p->sig.mask) & SIGBIT(to)) {
		sig_requeue(p, info);
		return 0;
	}
	return to;
}

/*
 * A PTRACE_EVENT_STOP with 'sig' (a group stop's signal, or SIGTRAP), which PTRACE_LISTEN
 * may end with the tracee still stopped: it then waits for SIGCONT (or SIGKILL, or
 * PTRACE_INTERRUPT) and stops again, with SIGTRAP. False if the tracer went.
 */
static bool event_stop(struct proc *p, struct cpu_regs *r, int sig)
{
	for (;;) {
		int to = stop(p, r, event_status(sig, PTRACE_EVENT_STOP));
		struct tracee *t = tracee_of(p);
		if (!t)
			return to >= 0;
		if (t->resume != PTRACE_LISTEN)
			return true;
		sig_wait_for(p, SIGBIT(SIGCONT) | SIGBIT(SIGKILL), &p->ps->pt_interrupt);
		atomic_store(&p->ps->pt_interrupt, false);
		sig = SIGTRAP;
	}
}

/* The default action of a stop signal, traced: the stop is the tracer's to see (false:
 * not traced, or the tracer went meanwhile); a seized tracee's is an event stop. */
bool ptrace_group_stop(struct proc *p, struct cpu_regs *r, int sig)
{
	ptrace_follow(p);
	struct tracee *t = tracee_of(p);
	if (!t)
		return false;
	if (t->options & PTRACE_O_SEIZED_)
		return event_stop(p, r, sig);
	return stop(p, r, stop_status(sig)) >= 0;
}

void ptrace_seized_stopped(struct proc *p, struct cpu_regs *r, int sig)
{
	ptrace_follow(p);       /* (the tracer's message came as it was resumed) */
	struct tracee *t = tracee_of(p);
	if (t && (t->options & PTRACE_O_SEIZED_))
		event_stop(p, r, sig);
}

int ptrace_fork_event(struct proc *p, uint64_t flags, uint64_t exit_signal)
{
	struct tracee *t = tracee_of(p);
	int ev = (flags & CLONE_VFORK) ? PTRACE_EVENT_VFORK :
		 exit_signal == SIGCHLD ? PTRACE_EVENT_FORK : PTRACE_EVENT_CLONE;
	unsigned want = ev == PTRACE_EVENT_VFORK ? PTRACE_O_TRACEVFORK :
			ev == PTRACE_EVENT_FORK ? PTRACE_O_TRACEFORK : PTRACE_O_TRACECLONE;
	return t && (t->options & want) ? ev : 0;
}

void ptrace_fork_stop(struct proc *p, int event, pid_t child)
{
	struct tracee *t = tracee_of(p);
	if (!t || !event)
		return;
	t->event_msg = (uint64_t)child;
	stop(p, p->regs, event_status(SIGTRAP, event));
}

void ptrace_vfork_done(struct proc *p, pid_t child)
{
	struct tracee *t = tracee_of(p);
	if (!t || !(t->options & PTRACE_O_TRACEVFORKDONE))
		return;
	t->event_msg = (uint64_t)child;
	stop(p, p->regs, event_status(SIGTRAP, PTRACE_EVENT_VFORK_DONE));
}

/* The child of a fork event: its parent's tracer attaches it on seeing the event (up to
 * 10 s waited); then it stops first with SIGSTOP (its message brings it), or seized,
 * with PTRACE_EVENT_STOP, once its fork returns. */
void ptrace_child_start(struct proc *p)
{
	for (int i = 0; i < 100000 && atomic_load(&p->ps->ptraced) != p->tid; i++)
		usleep(100);
	ptrace_follow(p);
	struct tracee *t = tracee_of(p);
	if (t && (t->options & PTRACE_O_SEIZED_))
		atomic_store(&p->ps->pt_interrupt, true);
}

/* PTRACE_INTERRUPT's stop, if one was asked for. */
void ptrace_interrupted(struct proc *p, struct cpu_regs *r)
{
	if (tracee_of(p) && atomic_exchange(&p->ps->pt_interrupt, false))
		event_stop(p, r, SIGTRAP);
}

/* After an execve: SIGTRAP, or the exec event's stop (PTRACE_O_TRACEEXEC). */
void ptrace_exec(struct proc *p)
{
	struct tracee *t = tracee_of(p);
	if (!t)
		return;
	t->event_msg = (uint64_t)p->tid;        /* (the thread that made it) */
	if (t->options & PTRACE_O_TRACEEXEC)
		stop(p, p->regs, stop_status(SIGTRAP | PTRACE_EVENT_EXEC << 8));
	else
		sys_self_signal(p, SIGTRAP);
}

/* Before the thread ends with wait status 'status': the exit event's stop
 * (PTRACE_O_TRACEEXIT), its message that status. */
void ptrace_exit(struct proc *p, struct cpu_regs *r, int status)
{
	struct tracee *t = tracee_of(p);
	if (!t || !(t->options & PTRACE_O_TRACEEXIT))
		return;
	t->event_msg = (uint64_t)status;
	stop(p, r, stop_status(SIGTRAP | PTRACE_EVENT_EXIT << 8));
}

/* Syscall stops (PTRACE_SYSCALL). At the entry the tracer may change the call, or skip
 * it with number -1; false: skip it. */
bool ptrace_syscall_enter(struct proc *p, struct cpu_regs *r, int64_t *nr)
{
	struct tracee *t = tracee_of(p);
	if (!t || t->resume != PTRACE_SYSCALL)
		return true;
	t->orig_rax = *nr;
	r->rax = (uint64_t)-ENOSYS;
	t->call_stop = PTRACE_SYSCALL_INFO_ENTRY;
	int sig = stop(p, r, syscall_status(t));
	if (sig > 0)
		sys_self_signal(p, sig);
	if (!(t = tracee_of(p)))
		return true;
	*nr = t->orig_rax;
	t->orig_rax = -1;
	t->call_stop = 0;
	if (*nr == -1)
		return false;
	r->rax = (uint64_t)*nr;
	return true;
}

void ptrace_syscall_exit(struct proc *p, struct cpu_regs *r, int64_t nr)
{
	struct tracee *t = tracee_of(p);
	if (t && t->resume == PTRACE_SINGLESTEP) {
		/* The trap flag traps nothing at SYSCALL: the step ends here (Linux's
		 * user_single_step_report). */
		struct ksiginfo info = { .signo = SIGTRAP, .code = TRAP_BRKPT };
		sig_force(p, &info);
		return;
	}
	if (!t || t->resume != PTRACE_SYSCALL)
		return;
	t->orig_rax = nr;
	t->call_stop = PTRACE_SYSCALL_INFO_EXIT;
	int sig = stop(p, r, syscall_status(t));
	if (sig > 0)
		sys_self_signal(p, sig);
	if ((t = tracee_of(p))) {
		t->orig_rax = -1;
		t->call_stop = 0;
	}
}

/* -------------------------------------------------------------- the tracer's side */

static bool own_stop(const siginfo_t *si)
{
	return si->si_signo == SIG_KICK && si->si_code == SI_QUEUE && si->si_errno == MAGIC_STOP;
}

static bool is_message(const siginfo_t *si)
{
	return si->si_code == SI_QUEUE && si->si_errno == MAGIC_TRACER;
}

/* A message for a tracee: traced from now on (with PTRACE_O_* 'options' of the low byte,
 * and PTRACE_O_SEIZED_), and 'sig' to take (0: none). */
static siginfo_t message(int sig, unsigned options)
{
	siginfo_t si = kick_info(MAGIC_TRACER);
	si.si_int = sig | (int)(options & 0xff) << 8 | (options & PTRACE_O_SEIZED_ ? 1 << 16 : 0);
	return si;
}

/* Tracee 'pid' stopped on the host for a signal that is no stop of the program's: let it
 * through (to kvmse's handler there, which makes it the program's). SIGSTOP, which no
 * handler takes, goes as a message. */
static void pass_on(pid_t pid, const siginfo_t *si)
{
	int sig = si->si_signo;
	if (sig == SIGSTOP) {
		siginfo_t m = message(SIGSTOP, 0);
		m.si_pid = si->si_pid;  /* (its sender's) */
		m.si_uid = si->si_uid;
		sig = ptrace(PTRACE_SETSIGINFO, pid, 0, &m) == 0 ? SIG_KICK : 0;
	}
	ptrace(PTRACE_CONT, pid, 0, sig);
}

/* The options this tracer gave each tracee (PTRACE_O_SEIZED_ among them: INTERRUPT and
 * LISTEN are a seized tracee's only), which the children it is given inherit. */
#define TRACEES_MAX 256
static struct traced { pid_t pid; unsigned options; } traced[TRACEES_MAX];
static pthread_mutex_t traced_lock = PTHREAD_MUTEX_INITIALIZER;

/* Tracee pid's entry, or with 'make' a new one (options 0) in place of one whose process
 * is gone; NULL if none. Under traced_lock. */
static struct traced *traced_slot(pid_t pid, bool make)
{
	for (int i = 0; i < TRACEES_MAX; i++)
		if (traced[i].pid == pid)
			return &traced[i];
	for (int i = 0; i < TRACEES_MAX && make; i++) {
		if (traced[i].pid <= 0 || kill(traced[i].pid, 0) < 0) {
			traced[i] = (struct traced){ pid, 0 };
			return &traced[i];
		}
	}
	return NULL;
}

/* Tracee pid's options into *options (false: not one of ours); with 'set', they become
 * *options (a new entry if needed). */
static bool traced_options(pid_t pid, unsigned *options, bool set)
{
	pthread_mutex_lock(&traced_lock);
	struct traced *found = traced_slot(pid, set);
	if (found && set)
		found->options = *options;
	else if (found)
		*options = found->options;
	pthread_mutex_unlock(&traced_lock);
	return found;
}

static void traced_forget(pid_t pid)
{
	pthread_mutex_lock(&traced_lock);
	for (int i = 0; i < TRACEES_MAX; i++)
		if (traced[i].pid == pid)
			traced[i].pid = 0;
	pthread_mutex_unlock(&traced_lock);
}

bool ptrace_traces(pid_t pid)
{
	unsigned o;
	return traced_options(pid, &o, false);
}

static bool seized(pid_t pid)
{
	unsigned o;
	return traced_options(pid, &o, false) && (o & PTRACE_O_SEIZED_);
}

static long ask(pid_t pid, struct box *b);
static long attach(pid_t pid, bool seize, unsigned options, bool wait);

/* Tracee 'pid' stopped for a fork event: its child is attached with the same options,
 * as Linux attaches it (it waits for that: ptrace_child_start). */
static void follow_child(pid_t pid)
{
	struct box b = { .op = PTRACE_GETEVENTMSG };
	unsigned o = 0;
	if (ask(pid, &b) < 0 || !traced_options(pid, &o, false))
		return;
	attach((pid_t)b.data, o & PTRACE_O_SEIZED_, o & ~PTRACE_O_SEIZED_, false);
}

bool ptrace_wait_stop(pid_t pid, int *status, bool consumed)
{
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) < 0)
		return true;            /* a job-control stop, or a tracee of another thread's */
	if (!own_stop(&si)) {
		pass_on(pid, &si);
		return false;
	}
	int32_t st;
	struct iovec l = { &st, sizeof(st) }, rm = { (uint8_t *)si.si_ptr + offsetof(struct box, status), sizeof(st) };
	if (process_vm_readv(pid, &l, 1, &rm, 1, 0) != sizeof(st))
		return true;
	*status = st;
	pthread_mutex_lock(&traced_lock);
	traced_slot(pid, true); /* (a TRACEME'd child is one of ours from its first stop) */
	pthread_mutex_unlock(&traced_lock);
	int ev = st >> 16;
	if (consumed && (ev == PTRACE_EVENT_FORK || ev == PTRACE_EVENT_VFORK || ev == PTRACE_EVENT_CLONE))
		follow_child(pid);
	return true;
}

/* Wait for tracee 'pid''s next host stop that 'want' accepts, passing the others on;
 * consumed unless 'keep' (then the program's wait reports it). 0, or -ESRCH if it ended
 * (its end left for the program's wait). */
static long next_stop(pid_t pid, bool (*want)(const siginfo_t *), bool keep)
{
	for (;;) {
		siginfo_t w = { 0 };
		if (waitid(P_PID, (id_t)pid, &w, WSTOPPED | WEXITED | WNOWAIT | __WALL) < 0) {
			if (errno == EINTR)
				continue;
			return -ESRCH;
		}
		if (w.si_code != CLD_TRAPPED && w.si_code != CLD_STOPPED)
			return -ESRCH;
		siginfo_t si;
		bool got = ptrace(PTRACE_GETSIGINFO, pid, 0, &si) == 0;
		bool hit = got && want(&si);
		if (hit && keep)
			return 0;
		int st;
		while (waitpid(pid, &st, __WALL) < 0 && errno == EINTR)
			;
		if (hit)
			return 0;
		if (got)
			pass_on(pid, &si);
		else
			ptrace(PTRACE_CONT, pid, 0, 0);         /* an event stop (SEIZE's) */
	}
}

/* Tracee 'pid''s next stop of its own (next_stop). */
static long await(pid_t pid, bool keep)
{
	return next_stop(pid, own_stop, keep);
}

/* The box of tracee 'pid', stopped for this thread (its tracer); else -ESRCH. */
static long stopped_box(pid_t pid, uint8_t **box)
{
	siginfo_t si;
	if (ptrace(PTRACE_GETSIGINFO, pid, 0, &si) < 0)
		return -ESRCH;
	if (!own_stop(&si))
		return -ESRCH;
	*box = si.si_ptr;
	return 0;
}

static bool stopped(pid_t pid)
{
	uint8_t *box;
	return stopped_box(pid, &box) == 0;
}

/* Write request b (with b->len bytes of buf) into stopped tracee 'pid''s box, whose
 * address comes back in 'remote'. */
static long post(pid_t pid, const struct box *b, uint8_t **remote)
{
	long rc = stopped_box(pid, remote);
	if (rc)
		return rc;
	size_t skip = offsetof(struct box, op), n = BOX_HEAD - skip + b->len;
	struct iovec l = { (uint8_t *)b + skip, n }, rm = { *remote + skip, n };
	return process_vm_writev(pid, &l, 1, &rm, 1, 0) == (ssize_t)n ? 0 : -ESRCH;
}

/* Ask stopped tracee 'pid' for request b; its answer comes back in b. */
static long ask(pid_t pid, struct box *b)
{
	uint8_t *remote;
	long rc = post(pid, b, &remote);
	if (rc)
		return rc;
	if (ptrace(PTRACE_CONT, pid, 0, 0) < 0)
		return -ESRCH;
	if ((rc = await(pid, false)) < 0)
		return rc;
	struct iovec l = { b, sizeof(*b) }, rm = { remote, sizeof(*b) };
	if (process_vm_readv(pid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof(*b))
		return -ESRCH;
	return b->result;
}

/* Resume tracee 'pid' as request 'op' with signal 'sig'. */
static long resume(pid_t pid, int op, uint64_t sig)
{
	if (sig > 64)
		return -EIO;
	uint8_t *remote;
	long rc = post(pid, &(struct box){ .op = op, .data = sig }, &remote);
	if (rc)
		return rc;
	if (op == PTRACE_DETACH)
		traced_forget(pid);
	return sys_ret(ptrace(op == PTRACE_DETACH ? PTRACE_DETACH : PTRACE_CONT, pid, 0, 0));
}

/* PTRACE_LISTEN: in a PTRACE_EVENT_STOP only, else EIO. */
static long listen_request(pid_t pid)
{
	uint8_t *remote;
	long rc = stopped_box(pid, &remote);
	if (rc)
		return rc;
	int32_t st;
	struct iovec l = { &st, sizeof(st) }, rm = { remote + offsetof(struct box, status), sizeof(st) };
	if (process_vm_readv(pid, &l, 1, &rm, 1, 0) != sizeof(st))
		return -ESRCH;
	if (st >> 16 != PTRACE_EVENT_STOP)
		return -EIO;
	return resume(pid, PTRACE_LISTEN, 0);
}

/* PTRACE_INTERRUPT: a message asks the tracee to stop (PTRACE_EVENT_STOP): at once, or
 * when resumed if it is stopped. */
static long interrupt(pid_t pid)
{
	if (!seized(pid))
		return ptrace(PTRACE_GETSIGINFO, pid, 0, &(siginfo_t){ 0 }) == 0 || errno != ESRCH ? -EIO : -ESRCH;
	siginfo_t m = kick_info(MAGIC_INTERRUPT);
	return syscall(SYS_rt_tgsigqueueinfo, pid, pid, SIG_KICK, &m) < 0 ? -errno : 0;
}

/* PTRACE_ATTACH and PTRACE_SEIZE: the host's SEIZE, then a message that makes it a
 * tracee (with its options); ATTACH's SIGSTOP comes with it, and with 'wait' its stop is
 * there on return, for the program's wait (as Linux's attach to a stopped process makes
 * it at once). */
static long attach(pid_t pid, bool seize, unsigned options, bool wait)
{
	if (pid == getpid())
		return -EPERM;
	if (ptrace(PTRACE_SEIZE, pid, 0, options & PTRACE_O_EXITKILL) < 0)
		return -errno;
	options |= seize ? PTRACE_O_SEIZED_ : 0;
	siginfo_t m = message(seize ? 0 : SIGSTOP, options);
	if (syscall(SYS_rt_tgsigqueueinfo, pid, pid, SIG_KICK, &m) < 0) {
		long e = -errno;
		ptrace(PTRACE_DETACH, pid, 0, 0);
		return e;
	}
	if (next_stop(pid, is_message, false) < 0)
		return 0;
	ptrace(PTRACE_CONT, pid, 0, SIG_KICK);
	traced_options(pid, &options, true);
	if (!seize && wait)
		await(pid, true);
	return 0;
}

#define OPTIONS_KNOWN (PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEEXEC | PTRACE_O_TRACEEXIT | PTRACE_O_EXITKILL | \
		       PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEVFORKDONE)

static long traceme(struct proc *p)
{
	if (ptrace(PTRACE_TRACEME, 0, 0, 0) < 0)
		return -errno;
	atomic_store(&p->ps->ptracer, getppid());
	atomic_store(&p->ps->ptraced, p->tid);
	atomic_store(&p->ps->pt_follow, true);
	ptrace_follow(p);
	return 0;
}

/* A word to the tracer's memory (PEEK's 'data' is where the word goes). */
static long put_word(struct proc *p, gva_t va, uint64_t v)
{
	return mem_write(p->mem, va, &v, 8) ? -EFAULT : 0;
}

/* GETREGSET and SETREGSET: an iovec names the buffer, and gets the length used. */
static long regset(struct proc *p, pid_t pid, bool set, unsigned type, gva_t iov_va)
{
	struct iovec iov;
	if (mem_read(p->mem, &iov, iov_va, sizeof(iov)))
		return -EFAULT;
	struct box *b = xcalloc(1, sizeof(*b));
	size_t size;
	switch (type) {
	case NT_PRSTATUS: b->op = set ? PTRACE_SETREGS : PTRACE_GETREGS; size = sizeof(struct user_regs_struct); break;
	case NT_PRFPREG: b->op = set ? PTRACE_SETFPREGS : PTRACE_GETFPREGS; size = FX_SIZE; break;
	case NT_X86_XSTATE: b->op = set ? PTRACE_SETREGSET : PTRACE_GETREGSET; size = XSAVE_MAX; break;
	default: free(b); return -EINVAL;
	}
	long rc = 0;
	size_t n = MIN(iov.iov_len, size);
	if (set) {
		if ((type != NT_X86_XSTATE && n < size) || mem_read(p->mem, b->buf, (gva_t)(uintptr_t)iov.iov_base, n))
			rc = n < size && type != NT_X86_XSTATE ? -EINVAL : -EFAULT;
		b->len = (uint32_t)n;
		b->data = n;
	}
	if (!rc)
		rc = ask(pid, b);
	if (!rc && !set) {
		n = MIN(iov.iov_len, b->len);
		iov.iov_len = n;
		if (mem_write(p->mem, (gva_t)(uintptr_t)iov.iov_base, b->buf, n) ||
		    mem_write(p->mem, iov_va, &iov, sizeof(iov)))
			rc = -EFAULT;
	}
	free(b);
	return rc;
}

/* A request that reads or writes a block of the tracer's memory at 'va'. */
static long block(struct proc *p, pid_t pid, int op, gva_t va, size_t size, bool set)
{
	struct box *b = xcalloc(1, sizeof(*b));
	b->op = op;
	long rc = 0;
	if (set) {
		b->len = (uint32_t)size;
		if (mem_read(p->mem, b->buf, va, size))
			rc = -EFAULT;
	}
	if (!rc)
		rc = ask(pid, b);
	if (!rc && !set && mem_write(p->mem, va, b->buf, size))
		rc = -EFAULT;
	free(b);
	return rc;
}

long sys_ptrace(struct proc *p, const uint64_t a[6])
{
	int op = (int)a[0];
	pid_t pid = (pid_t)a[1];
	struct box b = { .op = op, .addr = a[2], .data = a[3] };
	long rc;
	switch (op) {
	case PTRACE_TRACEME:
		return traceme(p);
	case PTRACE_ATTACH:
		return attach(pid, false, 0, true);
	case PTRACE_SEIZE:
		if (a[2] || (a[3] & ~(uint64_t)OPTIONS_KNOWN))
			return a[2] ? -EIO : -EINVAL;
		return attach(pid, true, (unsigned)a[3], true);
	case PTRACE_KILL:
		return stopped(pid) ? sys_ret(ptrace(PTRACE_KILL, pid, 0, 0)) : -ESRCH;
	case PTRACE_CONT: case PTRACE_SYSCALL: case PTRACE_SINGLESTEP: case PTRACE_DETACH:
		return resume(pid, op, a[3]);
	case PTRACE_LISTEN:
		return seized(pid) ? listen_request(pid) : stopped(pid) ? -EIO : -ESRCH;
	case PTRACE_INTERRUPT:
		return interrupt(pid);
	case PTRACE_GET_SYSCALL_INFO:
		if ((rc = ask(pid, &b)) >= 0 && mem_write(p->mem, a[3], b.buf, MIN(a[2], (uint64_t)rc)))
			rc = -EFAULT;
		return rc;
	case PTRACE_PEEKTEXT: case PTRACE_PEEKDATA: case PTRACE_PEEKUSER:
		if ((rc = ask(pid, &b)) < 0)
			return rc;
		return put_word(p, a[3], b.data);
	case PTRACE_POKETEXT: case PTRACE_POKEDATA: case PTRACE_POKEUSER:
		return ask(pid, &b);
	case PTRACE_GETREGS: case PTRACE_SETREGS:
		return block(p, pid, op, a[3], sizeof(struct user_regs_struct), op == PTRACE_SETREGS);
	case PTRACE_GETFPREGS: case PTRACE_SETFPREGS:
		return block(p, pid, op, a[3], FX_SIZE, op == PTRACE_SETFPREGS);
	case PTRACE_GETSIGINFO: case PTRACE_SETSIGINFO:
		return block(p, pid, op, a[3], sizeof(siginfo_t), op == PTRACE_SETSIGINFO);
	case PTRACE_GETREGSET: case PTRACE_SETREGSET:
		return regset(p, pid, op == PTRACE_SETREGSET, (unsigned)a[2], a[3]);
	case PTRACE_SETOPTIONS: {
		if (a[3] & ~(uint64_t)OPTIONS_KNOWN)
			return -EINVAL;
		if ((rc = ask(pid, &b)) < 0)
			return rc;
		unsigned o = (unsigned)a[3] | (seized(pid) ? PTRACE_O_SEIZED_ : 0);
		traced_options(pid, &o, true);
		return sys_ret(ptrace(PTRACE_SETOPTIONS, pid, 0, a[3] & PTRACE_O_EXITKILL));
	}
	case PTRACE_GETEVENTMSG:
		if ((rc = ask(pid, &b)) < 0)
			return rc;
		return put_word(p, a[3], b.data);
	default:
		return stopped(pid) ? -EIO : -ESRCH;
	}
}
