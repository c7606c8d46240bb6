/* sigframe.c - delivering signals as Linux does on x86-64: the rt_sigframe, the handler's
 * registers, rt_sigreturn, default actions, system-call restarts, faults to signals. */
#include "sys.h"
#include "../util.h"
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>


/*
 * struct rt_sigframe (arch/x86/include/asm/sigframe.h): the return address (sa_restorer),
 * struct ucontext (flags, link, stack_t, struct sigcontext, an 8-byte sigset), siginfo.
 * The FPU state sits above it, 64-byte aligned, with the XSAVE magic words.
 */
#define FRAME_SIZE      440
#define UC              8
#define UC_STACK        (UC + 16)
#define MC              (UC + 40)
#define UC_SIGMASK      (UC + 296)
#define INFO            312
#define UC_FP_XSTATE    1
#define UC_SIGCONTEXT_SS 2
#define UC_STRICT_RESTORE_SS 4
#define FX_SIZE         512
#define XSAVE_MAX       4096
#define SW_BYTES        464             /* struct _fpx_sw_bytes in the FXSAVE area */
#define XSTATE_BV       512

/* struct sigcontext, in 8-byte words (the order of glibc's REG_* indices). */
enum { MC_R8, MC_R9, MC_R10, MC_R11, MC_R12, MC_R13, MC_R14, MC_R15, MC_RDI, MC_RSI, MC_RBP,
       MC_RBX, MC_RDX, MC_RAX, MC_RCX, MC_RSP, MC_RIP, MC_EFL, MC_CSGSFS, MC_ERR, MC_TRAPNO,
       MC_OLDMASK, MC_CR2, MC_FPSTATE, MC_WORDS = 32 };

#define EFL_TF 0x100
#define EFL_DF 0x400
#define EFL_RF 0x10000
/* What rt_sigreturn takes from the frame (FIX_EFLAGS): the arithmetic flags, TF, DF, AC, RF. */
#define EFL_FIX 0x50dd5

static void put(uint8_t *f, size_t off, const void *v, size_t n) { memcpy(f + off, v, n); }
static uint64_t get64(const uint8_t *f, size_t off) { uint64_t v; memcpy(&v, f + off, 8); return v; }
static uint32_t get32(const uint8_t *f, size_t off) { uint32_t v; memcpy(&v, f + off, 4); return v; }

/* Write to the user's stack as the kernel does: a write below it grows it. */
static int put_user(struct proc *p, gva_t va, const void *src, uint64_t len)
{
	if (mem_write(p->mem, va, src, len) == 0)
		return 0;
	if (va + len < va)
		return -EFAULT;
	int rc = 0;
	mem_lock(p->mem);
	for (gva_t pg = PAGE_ALIGN_DOWN(va); pg < va + len && !rc; pg += PAGE_SIZE)
		if (!mm_find(p, pg) && mm_fault(p, pg, true, false))
			rc = -EFAULT;
	mem_unlock(p->mem);
	return rc ? rc : mem_write(p->mem, va, src, len);
}

void sig_init_fpu(struct proc *p)
{
	uint8_t x[FX_SIZE + 64] = { 0 };
	uint16_t fcw = 0x37f;
	uint32_t mxcsr = 0x1f80;
	uint64_t bv = 3;                /* x87 and SSE given, the rest in its initial state */
	put(x, 0, &fcw, 2);
	put(x, 24, &mxcsr, 4);
	put(x, XSTATE_BV, &bv, 8);
	if (!p->cpu->ops->set_xsave(p->cpu, x, sizeof(x)))
		die("the CPU refused the initial FPU state");
}

/* Save the FPU state at 'fp' in the signal frame's format (copy_fpstate_to_sigframe). */
static int put_fpstate(struct proc *p, gva_t fp)
{
	static _Thread_local uint8_t x[XSAVE_MAX + 4];
	struct sigstate *s = &p->sig;
	uint32_t size = s->xsave_size, magic = FP_XSTATE_MAGIC1, ext = size + 4;
	p->cpu->ops->get_xsave(p->cpu, x, XSAVE_MAX);
	if (!size)
		return put_user(p, fp, x, FX_SIZE);
	uint64_t bv = get64(x, XSTATE_BV) | 3;  /* x87 and SSE always given, as Linux does */
	put(x, XSTATE_BV, &bv, 8);
	memset(x + SW_BYTES, 0, FX_SIZE - SW_BYTES);
	put(x, SW_BYTES, &magic, 4);
	put(x, SW_BYTES + 4, &ext, 4);
	put(x, SW_BYTES + 8, &s->xfeatures, 8);
	put(x, SW_BYTES + 16, &size, 4);
	magic = FP_XSTATE_MAGIC2;
	put(x, size, &magic, 4);
	return put_user(p, fp, x, size + 4);
}

/* Load the FPU state from a frame's 'fp' (__fpu_restore_sig): without the magic words only
 * the FXSAVE part; components the frame leaves out start in their initial state. */
static bool get_fpstate(struct proc *p, gva_t fp)
{
	static _Thread_local uint8_t x[XSAVE_MAX + 4];
	struct sigstate *s = &p->sig;
	if (!fp) {
		sig_init_fpu(p);
		return true;
	}
	memset(x, 0, sizeof(x));
	if (mem_read(p->mem, x, fp, FX_SIZE) < 0)
		return false;
	uint32_t size = get32(x, SW_BYTES + 16), ext = get32(x, SW_BYTES + 4);
	uint64_t want = get64(x, SW_BYTES + 8) & s->xfeatures;
	bool fx_only = !s->xsave_size || get32(x, SW_BYTES) != FP_XSTATE_MAGIC1 ||
		       size < FX_SIZE + 64 || size > s->xsave_size || size > ext;
	if (!fx_only && (mem_read(p->mem, x, fp, size + 4) < 0))
		return false;
	if (!fx_only && get32(x, size) != FP_XSTATE_MAGIC2)
		fx_only = true;
	uint64_t bv = fx_only ? 3 : get64(x, XSTATE_BV) & want;
	if (fx_only)
		memset(x + FX_SIZE, 0, sizeof(x) - FX_SIZE);
	put(x, XSTATE_BV, &bv, 8);
	memset(x + SW_BYTES, 0, FX_SIZE - SW_BYTES);
	return p->cpu->ops->set_xsave(p->cpu, x, XSAVE_MAX);
}

static void regs_to_mc(const struct cpu_regs *r, uint64_t *mc)
{
	const uint64_t v[] = { r->r8, r->r9, r->r10, r->r11, r->r12, r->r13, r->r14, r->r15, r->rdi,
			       r->rsi, r->rbp, r->rbx, r->rdx, r->rax, r->rcx, r->rsp, r->rip, r->rflags };
	memcpy(mc, v, sizeof(v));
	/* CS, GS, FS, SS: Linux stores the user CS and SS, and 0 for the others */
	mc[MC_CSGSFS] = 0x33 | (0x2bULL << 48);
}

static void mc_to_regs(const uint64_t *mc, struct cpu_regs *r)
{
	r->r8 = mc[MC_R8];   r->r9 = mc[MC_R9];   r->r10 = mc[MC_R10]; r->r11 = mc[MC_R11];
	r->r12 = mc[MC_R12]; r->r13 = mc[MC_R13]; r->r14 = mc[MC_R14]; r->r15 = mc[MC_R15];
	r->rdi = mc[MC_RDI]; r->rsi = mc[MC_RSI]; r->rbp = mc[MC_RBP]; r->rbx = mc[MC_RBX];
	r->rdx = mc[MC_RDX]; r->rax = mc[MC_RAX]; r->rcx = mc[MC_RCX]; r->rsp = mc[MC_RSP];
	r->rip = mc[MC_RIP];
	r->rflags = (r->rflags & ~(uint64_t)EFL_FIX) | (mc[MC_EFL] & EFL_FIX);
}

/* Build the frame for 'sig' and point the registers at its handler (__setup_rt_frame). */
static bool setup_frame(struct proc *p, struct cpu_regs *r, int sig, const struct ksiginfo *info,
			const struct ksigaction *act, uint64_t oldmask)
{
	struct sigstate *s = &p->sig;
	if (!(act->flags & SA_RESTORER))
		return false;           /* x86-64 has no other way back */
	bool was_on = sig_on_altstack(s, r->rsp);
	uint64_t sp = r->rsp - 128;     /* the red zone */
	if ((act->flags & SA_ONSTACK) && s->ss_size && !sig_on_altstack(s, sp))
		sp = s->ss_sp + s->ss_size;
	uint64_t fp = (sp - (s->xsave_size ? s->xsave_size + 4 : FX_SIZE)) & ~63ULL;
	uint64_t frame = ((fp - FRAME_SIZE) & ~15ULL) - 8;
	if (was_on && !sig_on_altstack(s, frame))
		return false;           /* it would overflow the alternate stack */
	if (put_fpstate(p, fp) < 0)
		return false;

	uint8_t f[FRAME_SIZE] = { 0 };
	uint64_t flags = (s->xsave_size ? UC_FP_XSTATE : 0) | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	uint64_t mc[MC_WORDS] = { 0 };
	put(f, 0, &act->restorer, 8);
	put(f, UC, &flags, 8);
	put(f, UC_STACK, &s->ss_sp, 8);
	put(f, UC_STACK + 8, &s->ss_flags, 4);
	put(f, UC_STACK + 16, &s->ss_size, 8);
	regs_to_mc(r, mc);
	mc[MC_ERR] = s->err;
	mc[MC_TRAPNO] = s->trapno;
	mc[MC_OLDMASK] = oldmask;
	mc[MC_CR2] = s->cr2;
	mc[MC_FPSTATE] = fp;
	put(f, MC, mc, sizeof(mc));
	put(f, UC_SIGMASK, &oldmask, 8);
	if (act->flags & SA_SIGINFO)
		put(f, INFO, info, sizeof(*info));
	if (put_user(p, frame, f, sizeof(f)) < 0)
		return false;

	r->rdi = (uint64_t)sig;
	r->rax = 0;
	r->rsi = frame + INFO;
	r->rdx = frame + UC;
	r->rip = act->handler;
	r->rsp = frame;
	r->rflags &= ~(uint64_t)(EFL_DF | EFL_RF | EFL_TF);
	sig_init_fpu(p);
	return true;
}

/* How an interrupted call goes on (the kernel's ERESTART* codes): restarted if the
 * handler has SA_RESTART or no handler ran; restarted only if no handler ran; never. */
enum restart { NEVER, RESTART_SYS, RESTART_NOHAND };

static enum restart restart_kind(int64_t nr, const struct cpu_regs *r)
{
	switch (nr) {
	case 0: case 1: case 2: case 16: case 17: case 18: case 19: case 20: case 40: case 42:
	case 43: case 44: case 45: case 46: case 47: case 61: case 72: case 73: case 247:
	case 257: case 288: case 295: case 296: case 318: case 326:
	case 449: case 455:     /* futex_waitv, futex_wait: absolute timeouts */
		return RESTART_SYS;
	case 202:       /* futex: a wait with a timeout ends as nanosleep does */
		return r->r10 && ((r->rsi & 127) == 0 || (r->rsi & 127) == 9) ? RESTART_NOHAND : RESTART_SYS;
	case 7: case 23: case 34: case 35: case 69: case 70: case 130: case 230: case 270: case 271:
		return RESTART_NOHAND;
	default:
		return NEVER;
	}
}

/* The call 'nr' returned EINTR as a signal came: make it return that or run again. A
 * relative sleep run again sleeps what was left (time.c), as Linux's restart block. */
static void restart(struct proc *p, struct cpu_regs *r, int64_t nr, const struct ksigaction *handler)
{
	if (nr < 0 || (int64_t)r->rax != -EINTR)
		return;
	/* (a call a seccomp supervisor had not answered: Linux's ERESTARTSYS) */
	enum restart k = p->seccomp_restart ? RESTART_SYS : restart_kind(nr, r);
	p->sig.sleep_resume = false;
	if (k == NEVER || (handler && !(k == RESTART_SYS && (handler->flags & SA_RESTART))))
		return;
	p->sig.sleep_resume = nr == 35 || nr == 230;  /* nanosleep, clock_nanosleep */
	r->rax = (uint64_t)nr;
	r->rip -= 2;            /* SYSCALL again */
}

/* Stop kvmse as the default action of a stop signal does, until SIGCONT. */
static void stop_self(struct proc *p, int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	if (sig != SIGSTOP && sigaction(sig, &dfl, &old) < 0)
		return;
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	if (sig != SIGSTOP && sigaction(sig, &old, NULL) < 0)
		pr_warn("cannot restore kvmse's handler of %s", sigabbrev_np(sig));
	if (p->opt->strace)
		fprintf(stderr, "--- stopped by SIG%s ---\n", sigabbrev_np(sig));
}

static void default_action(struct proc *p, struct cpu_regs *r, int sig, const struct ksiginfo *info)
{
	if (SIG_DEFAULT_IGNORE & SIGBIT(sig))
		return;
	if (SIG_DEFAULT_STOP & SIGBIT(sig)) {
		if (!ptrace_group_stop(p, r, sig)) {
			stop_self(p, sig);
			ptrace_seized_stopped(p, r, sig);
		}
		return;
	}
	if ((SIG_SYNCHRONOUS & SIGBIT(sig)) && info->code > 0 && sig != SIGSYS)  /* (seccomp's) */
		fprintf(stderr, "kvmse: %s: killed by SIG%s (si_code %d, address %#llx, ip %#llx)\n",
			p->ps->exe, sigabbrev_np(sig), info->code, (unsigned long long)info->fault.addr,
			(unsigned long long)r->rip);
	if (p->pt && sig != SIGKILL)
		ptrace_exit(p, r, sig);
	sys_terminate(p, 0, sig);
}

/* The frame for 'sig' could not be written: SIGSEGV instead (force_sigsegv). */
static void frame_failed(struct proc *p, int sig)
{
	if (sig == SIGSEGV) {
		struct ksigaction dfl = { .handler = SIG_DFL_V };
		sig_set_action(p, SIGSEGV, &dfl);
	}
	struct ksiginfo info = { .signo = SIGSEGV, .code = SI_KERNEL };
	sig_force(p, &info);
}

void sig_deliver(struct proc *p, struct cpu_regs *r, int64_t nr)
{
	struct sigstate *s = &p->sig;
	bool handled = false;
	struct ksiginfo info;
	int sig;
	ptrace_follow(p);
	if (p->pt)
		ptrace_interrupted(p, r);
	while (!p->exited && (sig = sig_dequeue(p, ~atomic_load(&s->mask), &info))) {
		ptrace_follow(p);       /* (a tracer's message may come during a stop) */
		if (p->pt && !(sig = ptrace_signal(p, r, sig, &info, nr)))
			continue;
		struct ksigaction act = p->ps->sh.act[sig];
		if (p->opt->strace)
			strace_signal(p, &info);
		if (act.handler == SIG_IGN_V)
			continue;
		if (act.handler == SIG_DFL_V) {
			default_action(p, r, sig, &info);
			continue;
		}
		if (act.flags & SA_RESETHAND) {
			struct ksigaction dfl = act;
			dfl.handler = SIG_DFL_V;
			sig_set_action(p, sig, &dfl);
		}
		if (!handled)
			restart(p, r, nr, &act);
		handled = true;
		uint64_t old = s->restore_mask ? s->saved_mask : atomic_load(&s->mask);
		if (!setup_frame(p, r, sig, &info, &act, old)) {
			frame_failed(p, sig);
			continue;
		}
		STAT_INC(p->ps->stats.signal_frames);
		s->restore_mask = false;
		sig_set_mask(p, atomic_load(&s->mask) | act.mask | ((act.flags & SA_NODEFER) ? 0 : SIGBIT(sig)));
		if (s->ss_flags & SS_AUTODISARM) {
			s->ss_sp = s->ss_size = 0;
			s->ss_flags = SS_DISABLE;
		}
	}
	if (!handled)
		restart(p, r, nr, NULL);
	if (s->restore_mask) {
		s->restore_mask = false;
		sig_set_mask(p, s->saved_mask);
	}
	sig_release(p);
}

long sys_rt_sigreturn(struct proc *p, const uint64_t a[6])
{
	(void)a;
	struct cpu_regs *r = p->regs;
	uint8_t f[INFO];
	uint64_t mc[MC_WORDS] = { 0 };
	gva_t frame = r->rsp - 8;       /* the handler's RET took the return address */
	if (mem_read(p->mem, f, frame, sizeof(f)) < 0)
		goto bad;
	memcpy(mc, f + MC, sizeof(mc));
	sig_set_mask(p, get64(f, UC_SIGMASK));
	mc_to_regs(mc, r);
	if (!get_fpstate(p, mc[MC_FPSTATE]))
		goto bad;
	/* uc_stack comes back too; a bad one is ignored, as Linux does */
	sig_set_altstack(&p->sig, r->rsp, get64(f, UC_STACK), (int)get32(f, UC_STACK + 8),
			 get64(f, UC_STACK + 16));
	return (long)r->rax;
bad:;
	struct ksiginfo info = { .signo = SIGSEGV, .code = SI_KERNEL };
	sig_force(p, &info);
	return 0;
}

/* The x87 or SSE exception's si_code (Linux's fpu__exception_code); 0: none unmasked. */
static int fpe_code(struct proc *p, int vector)
{
	uint8_t x[FX_SIZE];
	p->cpu->ops->get_xsave(p->cpu, x, sizeof(x));
	unsigned err;
	if (vector == 16) {
		uint16_t cw, sw;
		memcpy(&cw, x, 2);
		memcpy(&sw, x + 2, 2);
		err = sw & ~cw & 0x3f;
	} else {
		uint32_t mxcsr = get32(x, 24);
		err = ~(mxcsr >> 7) & mxcsr & 0x3f;
	}
	if (err & 0x001) return FPE_FLTINV;
	if (err & 0x004) return FPE_FLTDIV;
	if (err & 0x008) return FPE_FLTOVF;
	if (err & 0x012) return FPE_FLTUND;
	if (err & 0x020) return FPE_FLTRES;
	return 0;
}

/* An exception in the program: the signal Linux sends for it (arch/x86/kernel/traps.c),
 * queued to be delivered even if blocked or ignored. */
void sig_fault(struct proc *p, const struct cpu_regs *r, const struct cpu_event *ev)
{
	struct ksiginfo info = { .signo = SIGSEGV, .code = SI_KERNEL };
	switch (ev->vector) {
	case 14:
		STAT_INC(p->ps->stats.page_faults);
		mem_lock(p->mem);
		info.code = mm_fault(p, ev->addr, ev->error_code & 2, ev->error_code & 16);
		mem_unlock(p->mem);
		if (info.code == MM_UFFD)
			info.code = uffd_fault(p, ev->addr, ev->error_code & 2);
		if (!info.code)
			return;         /* the stack grew */
		if (info.code == MM_SIGBUS)
			info = (struct ksiginfo){ .signo = SIGBUS, .code = BUS_ADRERR };
		info.fault.addr = ev->addr;
		p->sig.cr2 = ev->addr;
		break;
	case 0: info = (struct ksiginfo){ .signo = SIGFPE, .code = FPE_INTDIV, .fault.addr = r->rip }; break;
	case 16: case 19:
		info = (struct ksiginfo){ .signo = SIGFPE, .code = fpe_code(p, ev->vector), .fault.addr = r->rip };
		if (!info.code)
			return;
		break;
	case 1: info = (struct ksiginfo){ .signo = SIGTRAP, .code = TRAP_TRACE, .fault.addr = r->rip }; break;
	case 3: info.signo = SIGTRAP; break;
	case 6: info = (struct ksiginfo){ .signo = SIGILL, .code = ILL_ILLOPN, .fault.addr = r->rip }; break;
	case 11: case 12: info.signo = SIGBUS; break;
	case 17: info = (struct ksiginfo){ .signo = SIGBUS, .code = BUS_ADRALN }; break;
	case CPU_VEC_MEMORY:
		info = (struct ksiginfo){ .signo = SIGBUS, .code = BUS_ADRERR, .fault.addr = ev->addr };
		break;
	default: break;
	}
	p->sig.trapno = ev->vector == CPU_VEC_MEMORY ? 14 : (uint64_t)ev->vector;    /* (a #PF) */
	p->sig.err = ev->error_code;
	sig_force(p, &info);
}
