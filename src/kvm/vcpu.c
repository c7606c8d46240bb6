/* vcpu.c - the KVM model's run loop: enter the guest, decode exits, move the user state. */
#include "kvm.h"
#include "../layout.h"
#include "../util.h"
#include <errno.h>
#include <linux/futex.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

_Thread_local struct kvm_cpu *kvm_self;


#define VCPU_IOCTL(k, req, arg) KVM_IOCTL((k)->vcpu_fd, req, arg)

static void fetch_regs(struct kvm_cpu *k)
{
	if (!k->vm->sync_regs) {
		VCPU_IOCTL(k, KVM_GET_REGS, &k->local);
		VCPU_IOCTL(k, KVM_GET_SREGS, &k->local_s);
	}
	k->r_dirty = k->s_dirty = false;
}

/* User state <-> vCPU registers; 'rsp', 'rip' and 'rflags' live elsewhere in some stops. */
static void gprs_to_user(const struct kvm_cpu *k, struct cpu_regs *u)
{
	const struct kvm_regs *r = k->r;
	/* The guest may have changed them itself with WRFSBASE/WRGSBASE. */
	u->fs_base = k->s->fs.base;
	u->gs_base = k->s->gs.base;
	u->rax = r->rax; u->rbx = r->rbx; u->rcx = r->rcx; u->rdx = r->rdx;
	u->rsi = r->rsi; u->rdi = r->rdi; u->rbp = r->rbp; u->rsp = r->rsp;
	u->r8 = r->r8;   u->r9 = r->r9;   u->r10 = r->r10; u->r11 = r->r11;
	u->r12 = r->r12; u->r13 = r->r13; u->r14 = r->r14; u->r15 = r->r15;
	u->rip = r->rip; u->rflags = r->rflags;
}

static void user_to_gprs(const struct cpu_regs *u, struct kvm_regs *r)
{
	r->rax = u->rax; r->rbx = u->rbx; r->rcx = u->rcx; r->rdx = u->rdx;
	r->rsi = u->rsi; r->rdi = u->rdi; r->rbp = u->rbp; r->rsp = u->rsp;
	r->r8 = u->r8;   r->r9 = u->r9;   r->r10 = u->r10; r->r11 = u->r11;
	r->r12 = u->r12; r->r13 = u->r13; r->r14 = u->r14; r->r15 = u->r15;
}

/* Flags a user program may hold: never IOPL, VM or NT; always IF (as Linux's SYSRET path). */
static uint64_t sane_rflags(uint64_t f)
{
	return (f & 0x240fd5ULL) | 0x202;
}

/* Write the user state back where the stopped vCPU will take it from when resumed. */
static void put_user_state(struct kvm_cpu *k)
{
	struct kvm_regs *r = k->r;
	user_to_gprs(&k->user, r);
	if (k->s->cr3 != k->cpu.mem->root) {
		/* a new address space (execve): a new tree, so no edit queued for the old counts */
		k->s->cr3 = k->cpu.mem->root;
		k->s_dirty = true;
		kvm_qset(k, 0, 0, false);
	}
	if (k->s->cs.dpl == 0) {
		/* In the shim (an exception stub; on VMX/SVM also the entry page): resume by
		 * IRETQ, which takes RIP, RFLAGS and RSP from the frame and leaves every
		 * general register as set, RCX and R11 included. */
		uint64_t *f = kvm_ist_frame(k);
		f[0] = 0;
		f[1] = k->user.rip;
		f[2] = SEL_USER_CS;
		f[3] = sane_rflags(k->user.rflags);
		f[4] = k->user.rsp;
		f[5] = SEL_USER_DS;
		r->rsp = PCPU_VA(k->slot) + PCPU_IST_TOP - 6 * 8;
		r->rip = SHIM_VA + SHIM_RESUME_OFF;
		r->rflags = 0x2;        /* IF clear: nothing may reuse the IST stack meanwhile */
	} else {
		/* Not started yet, stopped in user code, or kvm_pvm (SYSCALL never left ring 3). */
		r->rip = k->user.rip;
		r->rflags = sane_rflags(k->user.rflags);
	}
	k->r_dirty = true;
}

/* Queue the flush interrupt if page-table edits are pending and the shim won't apply them
 * (it does on the way out of ring 0). Without an in-kernel irqchip KVM holds it until the
 * guest can take it (at once in the program, whose IF is always set), so readiness need
 * not be waited for. */
static void request_flush(struct kvm_cpu *k)
{
	if (!(kvm_qcount(k) || kvm_qreload(k)) || k->s->cs.dpl == 0)
		return;
	struct kvm_interrupt irq = { .irq = VEC_FLUSH };
	/* EEXIST: one not taken yet (say, after MOV SS; SYSCALL) will apply the queue. */
	if (ioctl(k->vcpu_fd, KVM_INTERRUPT, &irq) < 0 && errno != EEXIST)
		die_errno("KVM_INTERRUPT");
	k->cpu.stats.flush_irqs++;
}

static void sync_dirty(struct kvm_cpu *k)
{
	if (k->r_dirty) {
		if (k->vm->sync_regs)
			k->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
		else
			VCPU_IOCTL(k, KVM_SET_REGS, &k->local);
	}
	if (k->s_dirty) {
		if (k->vm->sync_regs)
			k->run->kvm_dirty_regs |= KVM_SYNC_X86_SREGS;
		else
			VCPU_IOCTL(k, KVM_SET_SREGS, &k->local_s);
	}
}

/*
 * One KVM_RUN: 0, or -1 with errno EINTR or EAGAIN (a host signal). With other threads
 * or a syscall server (both may edit page tables), the entry first takes the memory lock
 * (unless 'locked': the caller holds it), so no other thread's page-table edit is half
 * done, and what they queued for this vCPU is applied as it enters; a thread that edits
 * later finds it in_guest and evicts it.
 */
static int enter_once(struct kvm_cpu *k, bool locked)
{
	sync_dirty(k);
	if (!locked && (atomic_load(&k->vm->nlive) > 1 || k->server)) {
		mem_lock(k->cpu.mem);
		request_flush(k);
		k->queued_pages = 0;
		k->ran = true;
		atomic_store(&k->in_guest, true);
		mem_unlock(k->cpu.mem);
	} else {
		k->ran = true;
		atomic_store(&k->in_guest, true);
	}
	int rc = ioctl(k->vcpu_fd, KVM_RUN, 0);
	atomic_store(&k->in_guest, false);
	if (rc < 0 && errno == EFAULT) {
		/* the host's memory behind a guest page failed (KVM tells where only on
		 * some hosts, and not on kvm_pvm) */
		k->run->exit_reason = KVM_EXIT_MEMORY_FAULT;
		rc = 0;
	}
	if (rc < 0 && errno != EINTR && errno != EAGAIN)
		die_errno("KVM_RUN");
	if (k->vm->sync_regs)
		k->run->kvm_dirty_regs = 0;
	return rc;
}

/* Run until an exit, or a host signal that comes with a kick (kvmse's own handler kicks
 * when the program must stop; other signals, an eviction among them, are not its). */
static void enter(struct kvm_cpu *k, bool locked)
{
	uint64_t t0 = now_ns();
	int rc;
	do
		rc = enter_once(k, locked);
	while (rc < 0 && !atomic_load(&k->kicked));
	k->cpu.stats.guest_ns += now_ns() - t0;
	if (rc < 0)
		k->run->exit_reason = KVM_EXIT_INTR;
	fetch_regs(k);
}

void kvm_evict(struct kvm_cpu *k)
{
	/* A signal sent just before KVM_RUN is missed: send again until it is out. */
	while (atomic_load(&k->in_guest)) {
		if (syscall(SYS_tgkill, getpid(), k->host_tid, SIG_KICK) < 0 && errno != ESRCH)
			die_errno("tgkill");
		uint64_t t0 = now_ns();
		while (atomic_load(&k->in_guest) && now_ns() - t0 < 50000)
			sched_yield();
	}
}

static bool has_error_code(int v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

static int syscall_exit(struct kvm_cpu *k, struct cpu_event *ev)
{
	struct kvm_regs *r = k->r;
	gprs_to_user(k, &k->user);
	/* As a kernel's pt_regs: the program resumes at RCX with the flags saved in R11. */
	k->user.rip = r->rcx;
	k->user.rflags = r->r11;
	k->stop = STOP_SYSCALL;
	ev->kind = CPU_SYSCALL;
	k->cpu.stats.exits_syscall++;
	if (k->server)
		kvm_server_kick(k->server);
	else if (k->serve_with.call && k->cpu.stats.exits_syscall >= k->serve_from)
		k->server = kvm_server_start(k, &k->serve_with);
	return 0;
}

/* Read the bytes of user code around 'rip' (0, or -EFAULT). */
static int peek_code(struct kvm_cpu *k, uint64_t rip, uint8_t *buf, size_t n)
{
	return mem_read(k->cpu.mem, buf, rip, n);
}

/* kvm_pvm raises #UD for "INT n" through a gate ring 3 may not use, where the CPU
 * raises #GP with the gate in the error code (SDM Vol. 3A, 6.12.1.1): report that. */
static void fix_int_n(struct kvm_cpu *k, struct cpu_event *ev)
{
	uint8_t insn[2];
	if (ev->vector == 6 && peek_code(k, k->user.rip, insn, 2) == 0 && insn[0] == 0xcd) {
		ev->vector = 13;
		ev->error_code = (uint64_t)insn[1] * 8 + 2;
	}
}

static int fault_exit(struct kvm_cpu *k, int vec, struct cpu_event *ev)
{
	uint64_t *f = kvm_ist_frame(k);
	if ((f[2] & 3) != 3)
		die("exception %d in the shim at rip %#llx (cs %#llx)", vec,
		    (unsigned long long)f[1], (unsigned long long)f[2]);
	gprs_to_user(k, &k->user);
	k->user.rip = f[1];
	k->user.rflags = f[3];
	k->user.rsp = f[4];
	k->stop = STOP_FAULT;
	ev->kind = CPU_FAULT;
	ev->vector = vec;
	ev->error_code = f[0];
	ev->addr = 0;
	if (vec == 14)
		ev->addr = k->s->cr2;
	fix_int_n(k, ev);
	k->cpu.stats.exits_fault++;
	return 0;
}

/* The program's access at RIP found no host memory behind it: Linux sends SIGBUS. The
 * address is unknown: KVM names the guest-physical page only on some hosts (not on
 * kvm_pvm), and that names no user address. */
static void memory_exit(struct kvm_cpu *k, struct cpu_event *ev)
{
	if (k->s->cs.dpl == 0)
		die("the host's memory failed under the shim at rip %#llx", (unsigned long long)k->r->rip);
	gprs_to_user(k, &k->user);
	k->stop = STOP_DIRECT;
	ev->kind = CPU_FAULT;
	ev->vector = CPU_VEC_MEMORY;
	ev->error_code = 0;
	ev->addr = 0;
	k->cpu.stats.exits_fault++;
}

/* Length of the IN/OUT (or INS/OUTS) instruction that ends just before 'rip'. */
static unsigned io_insn_len(struct kvm_cpu *k, uint64_t rip)
{
	uint8_t b[4];
	if (peek_code(k, rip - 4, b, 4) < 0)
		return 2;
	unsigned len;
	if (b[2] >= 0xe4 && b[2] <= 0xe7 && (b[3] == PORT_SYSCALL || b[3] == PORT_WAIT || b[3] == PORT_STOP))
		len = 2;                        /* IN/OUT imm8 */
	else
		len = 1;                        /* IN/OUT DX, INS/OUTS */
	while (len < 4 && (b[4 - len - 1] == 0x66 || b[4 - len - 1] == 0xf3 || b[4 - len - 1] == 0xf2))
		len++;                          /* operand-size and REP prefixes */
	return len;
}

/* KVM may finish an IN or OUT only when next entered (step over it, store what an IN
 * read); enter without running the guest, so that is done and RIP is past it. */
static void complete_io(struct kvm_cpu *k)
{
	k->run->immediate_exit = 1;
	if (ioctl(k->vcpu_fd, KVM_RUN, 0) < 0 && errno != EINTR)
		die_errno("KVM_RUN");
	k->run->immediate_exit = atomic_load(&k->kicked);
	fetch_regs(k);
}

/* IN or OUT on the syscall port from anywhere but the shim: what the CPU would do
 * natively (no I/O permission in ring 3) is #GP. */
static int forged_exit(struct kvm_cpu *k, struct cpu_event *ev)
{
	uint64_t rax = k->r->rax;
	complete_io(k);
	gprs_to_user(k, &k->user);
	k->user.rax = rax;              /* (an IN stored what it read there) */
	k->user.rip -= io_insn_len(k, k->user.rip);
	k->stop = STOP_DIRECT;
	ev->kind = CPU_FAULT;
	ev->vector = 13;
	ev->error_code = 0;
	ev->addr = 0;
	k->cpu.stats.exits_other++;
	return 0;
}

/* Is this exit the entry page's OUT at 'off' (not an IN or OUT made elsewhere)? KVM
 * reports RIP past the OUT (kvm_pvm) or at it, to step over it when next entered (the
 * fast port I/O path of VMX/SVM; a stop that resumes elsewhere cancels that). */
static bool entry_exit(struct kvm_cpu *k, unsigned off)
{
	uint64_t at = SLOT_VA(k->slot) + off;
	return (k->r->rip == at + 2 || k->r->rip == at) && k->run->io.direction == KVM_EXIT_IO_OUT;
}

/*
 * The program stopped with a request posted, at entry page offset 'off': once it is
 * answered, stop as if the call had returned (SYSCALL's RCX and R11, the result in RAX),
 * so the SE layer can deliver a signal first.
 */
static int posted_exit(struct kvm_cpu *k, uint64_t off, struct cpu_event *ev)
{
	if (!kvm_server_finish(k->server)) {
		ev->kind = CPU_STOP;
		return 0;
	}
	struct cpu_regs *u = &k->user;
	const uint64_t *ch = k->chan;
	gprs_to_user(k, u);
	u->rax = ch[CH_RET / 8];
	u->rdx = ch[(CH_ARGS + 16) / 8];
	u->rip = u->rcx = ch[CH_RIP / 8];
	u->rflags = u->r11 = ch[CH_RFLAGS / 8];
	if (off > ENTRY_RET3_OFF && off < ENTRY_SLOW_OFF)
		u->rsp = ch[CH_RSP / 8];        /* on the channel's stack for POPFQ */
	uint64_t nr = ch[CH_NR / 8];
	k->stop = STOP_DIRECT;
	ev->kind = CPU_INTERRUPT;
	ev->done_syscall = nr < ENTRY_MAP_BITS ? (int64_t)nr : -1;
	return 0;
}

/* 1: the guest should just go on (its answer is in the channel); else as io_exit. */
static int wait_exit(struct kvm_cpu *k, struct cpu_event *ev)
{
	if (!entry_exit(k, ENTRY_WAIT_OFF) || !k->server)
		return forged_exit(k, ev);
	k->cpu.stats.exits_syscall++;
	if (!kvm_server_wait(k->server)) {
		ev->kind = CPU_STOP;
		return 0;
	}
	/* The entry code waits for the answer to request RCX. If the server never had that
	 * request, the program scribbled on its channel and would wait (and exit) forever. */
	if (!kvm_server_reanswer(k->server, k->r->rcx))
		return forged_exit(k, ev);
	return atomic_load(&k->kicked) ? posted_exit(k, ENTRY_WAIT_OFF, ev) : 1;
}

/*
 * Stop at a whole user state after a kick. In user code that is where the vCPU is. In
 * the entry page before the request is posted, the state is the one before SYSCALL (the
 * call is made again on resuming); after, posted_exit's. In the shim's ring-0 code, the
 * vCPU goes on until it can take an interrupt, that is back in user code.
 */
static int interrupt_exit(struct kvm_cpu *k, struct cpu_event *ev)
{
	uint64_t off = k->r->rip - SLOT_VA(k->slot);
	bool in_entry = off < PAGE_SIZE;
	if (k->s->cs.dpl == 0 && !in_entry) {
		k->run->immediate_exit = 0;
		if (!k->run->request_interrupt_window)
			k->cpu.stats.kick_windows++;
		k->run->request_interrupt_window = 1;
		return 1;
	}
	k->run->request_interrupt_window = 0;
	if (in_entry && off >= ENTRY_POSTED_OFF && off != ENTRY_SLOW_OFF && k->server)
		return posted_exit(k, off, ev);
	gprs_to_user(k, &k->user);
	if (in_entry && (off < ENTRY_POSTED_OFF || off == ENTRY_SLOW_OFF)) {
		k->user.rip = k->r->rcx - 2;    /* SYSCALL is 0f 05 */
		k->user.rflags = k->r->r11;
	} else if (in_entry && k->s->cs.dpl == 0) {
		/* (VMX/SVM) posted with no server: the program forged CH_AWAKE. */
		k->user.rip = k->chan[CH_RIP / 8];
		k->user.rflags = k->chan[CH_RFLAGS / 8];
		k->user.rax = (uint64_t)-ENOSYS;
	}
	k->stop = STOP_DIRECT;
	ev->kind = CPU_INTERRUPT;
	ev->done_syscall = -1;
	k->cpu.stats.exits_other++;
	return 0;
}

/* 0 with an event for the SE layer, or 1 to resume the guest at once. */
static int io_exit(struct kvm_cpu *k, struct cpu_event *ev)
{
	struct kvm_run *run = k->run;
	uint64_t rip = k->r->rip;
	unsigned port = run->io.port;
	if (port == PORT_SYSCALL)
		return entry_exit(k, ENTRY_SLOW_OFF) ? syscall_exit(k, ev) : forged_exit(k, ev);
	if (port == PORT_WAIT)
		return wait_exit(k, ev);
	if (port == PORT_STOP) {
		if (!entry_exit(k, ENTRY_STOP_OFF) || !k->server)
			return forged_exit(k, ev);
		k->cpu.stats.exits_syscall++;
		return posted_exit(k, ENTRY_STOP_OFF, ev);
	}
	if (run->io.direction != KVM_EXIT_IO_OUT)
		die("unexpected IN from port %#x at rip %#llx", port, (unsigned long long)rip);
	if (port >= PORT_EXC && port < PORT_EXC + 32) {
		int vec = (int)port - PORT_EXC;
		uint64_t site = SHIM_VA + SHIM_TEXT_OFF + (uint64_t)vec * EXC_STUB_SIZE +
				(has_error_code(vec) ? 2 : 4);
		/* Only ring 0 may use these ports, and only shim code runs in ring 0. */
		if (rip != site)
			die("exit on port %#x from unexpected rip %#llx", port, (unsigned long long)rip);
		return fault_exit(k, vec, ev);
	}
	die("OUT to unknown port %#x at rip %#llx", port, (unsigned long long)rip);
}

static const char *exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
		[KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL", [KVM_EXIT_DEBUG] = "DEBUG",
		[KVM_EXIT_HLT] = "HLT", [KVM_EXIT_MMIO] = "MMIO",
		[KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN", [KVM_EXIT_SHUTDOWN] = "SHUTDOWN",
		[KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY", [KVM_EXIT_INTR] = "INTR",
		[KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	};
	return reason < ARRAY_SIZE(names) && names[reason] ? names[reason] : "unknown";
}

/*
 * The edit queue is full in the middle of a system call: apply it now. The vCPU takes
 * VEC_FLUSH_SYNC where it stopped, the shim applies the queue and exits; then every
 * register and segment goes back to what it was, as if nothing had run.
 */
void kvm_flush_now(struct kvm_cpu *k)
{
	if (k->stop != STOP_SYSCALL)
		die("page-table edit queue full outside a system call");
	struct kvm_regs r = *k->r;
	struct kvm_sregs s = *k->s;
	struct kvm_interrupt irq = { .irq = VEC_FLUSH_SYNC };
	/* Queued by KVM and taken at entry: the vCPU stands at the entry stub with IF set. */
	VCPU_IOCTL(k, KVM_INTERRUPT, &irq);
	do
		enter(k, true);
	while (k->run->exit_reason == KVM_EXIT_INTR);
	if (k->run->exit_reason != KVM_EXIT_IO || k->run->io.port != PORT_FLUSHED)
		die("unexpected exit %u during a page-table flush", k->run->exit_reason);
	k->cpu.stats.exits_flush++;
	*k->r = r;
	*k->s = s;
	k->r_dirty = k->s_dirty = true;
	k->queued_pages = 0;
}

static void clear_kick(struct kvm_cpu *k)
{
	if (atomic_load(&k->kicked))
		k->cpu.stats.kicks++;
	atomic_store(&k->kicked, false);
	k->run->immediate_exit = 0;
	k->run->request_interrupt_window = 0;
	if (k->chan)
		__atomic_store_n(&k->chan[CH_STOP / 8], 0, __ATOMIC_SEQ_CST);
}

static int kvm_run_cpu(struct cpu *c, struct cpu_event *ev)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	if (kvm_self != k) {
		kvm_self = k;
		k->host_tid = (pid_t)syscall(SYS_gettid);
	}
	put_user_state(k);
	if (atomic_load(&k->kicked)) {
		/* (a signal came while the SE layer ran: the user state is k->user already) */
		ev->kind = CPU_INTERRUPT;
		ev->done_syscall = -1;
		clear_kick(k);
		return 0;
	}
	request_flush(k);
	k->queued_pages = 0;
	for (;;) {
		enter(k, false);
		struct kvm_run *run = k->run;
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			if (io_exit(k, ev))
				continue;
			break;
		case KVM_EXIT_IRQ_WINDOW_OPEN:
		case KVM_EXIT_INTR:
			if (!atomic_load(&k->kicked) || interrupt_exit(k, ev)) {
				k->cpu.stats.exits_other++;
				continue;
			}
			break;
		case KVM_EXIT_MEMORY_FAULT:
			memory_exit(k, ev);
			break;
		case KVM_EXIT_FAIL_ENTRY:
			die("KVM_RUN failed to enter the guest (hardware reason %#llx)",
			    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		case KVM_EXIT_INTERNAL_ERROR:
			die("KVM internal error %u at rip %#llx", run->internal.suberror,
			    (unsigned long long)k->r->rip);
		default:
			die("unexpected KVM exit %s (%u) at rip %#llx", exit_name(run->exit_reason),
			    run->exit_reason, (unsigned long long)k->r->rip);
		}
		if (k->server)
			kvm_server_drain(k->server);
		/* The SE layer looks for signals after this stop: a kick before it is served. */
		clear_kick(k);
		return 0;
	}
}

static void kvm_get_regs(struct cpu *c, struct cpu_regs *r)
{
	*r = ((struct kvm_cpu *)c)->user;
}

static void kvm_set_regs(struct cpu *c, const struct cpu_regs *r)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	if (r->fs_base != k->s->fs.base || r->gs_base != k->s->gs.base) {
		k->s->fs.base = r->fs_base;
		k->s->gs.base = r->gs_base;
		k->s_dirty = true;
	}
	k->user = *r;
}

static size_t kvm_get_xsave(struct cpu *c, void *buf, size_t size)
{
	struct kvm_xsave x;
	VCPU_IOCTL((struct kvm_cpu *)c, KVM_GET_XSAVE, &x);
	size = MIN(size, sizeof(x.region));
	memcpy(buf, x.region, size);
	return size;
}

static bool kvm_set_xsave(struct cpu *c, const void *buf, size_t size)
{
	struct kvm_xsave x;
	memset(&x, 0, sizeof(x));
	memcpy(x.region, buf, MIN(size, sizeof(x.region)));
	/* EINVAL: reserved MXCSR bits or header fields, as XRSTOR would #GP on them */
	if (ioctl(((struct kvm_cpu *)c)->vcpu_fd, KVM_SET_XSAVE, &x) == 0)
		return true;
	if (errno != EINVAL)
		die_errno("KVM_SET_XSAVE");
	return false;
}

#define CR4_TSD (1ULL << 2)     /* RDTSC is privileged (SDM Vol. 3A, 2.5) */

/* kvm_pvm runs user mode with the host's CR4: RDTSC cannot fault there. CPUID exits to
 * KVM, which emulates CPUID faulting (an MSR of Intel's); on kvm_pvm only where the host
 * CPU has CPUID faulting itself (seen: without it the MSR is taken, and CPUID does not
 * fault), which the SE layer asks the host first. */
static int kvm_trap(struct cpu *c, enum cpu_trap insn, int on)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	if (on > 0 && k->vm->pvm && insn == CPU_TRAP_TSC)
		return -1;
	if (insn == CPU_TRAP_CPUID) {
		if (on >= 0 && !kvm_cpuid_fault(k, on))
			return -1;
		return k->cpuid_fault;
	}
	if (on >= 0) {
		k->s->cr4 = on ? k->s->cr4 | CR4_TSD : k->s->cr4 & ~CR4_TSD;
		k->s_dirty = true;
	}
	return (k->s->cr4 & CR4_TSD) != 0;
}

/* Async-signal-safe: plain stores, which the vCPU thread looks at before and after
 * KVM_RUN (immediate_exit covers a kick just before entering; one during the run comes
 * with a host signal, which ends KVM_RUN with EINTR), and a futex wake for a vCPU thread
 * about to wait for its server (a signal that came just before would not end the wait). */
static void kvm_kick(struct cpu *c)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	atomic_store(&k->kicked, true);
	k->run->immediate_exit = 1;
	if (k->chan)
		__atomic_store_n(&k->chan[CH_STOP / 8], 1, __ATOMIC_SEQ_CST);
	atomic_fetch_add(&k->done_word, 1);
	syscall(SYS_futex, &k->done_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void kvm_serve(struct cpu *c, const struct cpu_server *s)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	k->serve_with = s ? *s : (struct cpu_server){ 0 };
	k->serve_from = k->cpu.stats.exits_syscall + k->serve_with.start_after;
	if (s && !s->start_after && !k->server)
		k->server = kvm_server_start(k, s);
	if (!s && k->server) {
		kvm_server_stop(k->server);
		k->server = NULL;
	}
}

static void kvm_stats(struct cpu *c, struct cpu_stats *sum)
{
	struct kvm_vm *vm = ((struct kvm_cpu *)c)->vm;
	memset(sum, 0, sizeof(*sum));
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (!vm->vcpus[i])
			continue;
		const uint64_t *from = (const uint64_t *)&vm->vcpus[i]->cpu.stats;
		uint64_t *to = (uint64_t *)sum;
		for (size_t j = 0; j < sizeof(*sum) / 8; j++)
			to[j] += from[j];
		if (vm->vcpus[i]->server)       /* (one still running) */
			sum->served += kvm_server_answered(vm->vcpus[i]->server);
	}
}

void kvm_cpu_destroy(struct cpu *c);
bool kvm_cpu_leave(struct cpu *c);

const struct cpu_ops kvm_cpu_ops = {
	.name = "kvm",
	.run = kvm_run_cpu,
	.get_regs = kvm_get_regs,
	.set_regs = kvm_set_regs,
	.get_xsave = kvm_get_xsave,
	.set_xsave = kvm_set_xsave,
	.trap = kvm_trap,
	.serve = kvm_serve,
	.kick = kvm_kick,
	.fork = kvm_cpu_fork,
	.alone = kvm_cpu_alone,
	.clone = kvm_cpu_clone,
	.retire = kvm_cpu_retire,
	.stats = kvm_stats,
	.destroy = kvm_cpu_destroy,
	.leave = kvm_cpu_leave,
};
