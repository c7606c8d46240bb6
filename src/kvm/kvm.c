/* kvm.c - the KVM model's set-up: /dev/kvm, the VM, its memory, one vCPU booted into long mode. */
#include "kvm.h"
#include "../layout.h"
#include "../fd.h"
#include "../util.h"
#include <cpuid.h>
#include <linux/close_range.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <stdatomic.h>
#include <unistd.h>

#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SYSCALL_MASK   0xc0000084

#define CR0_PE (1ULL << 0)
#define CR0_MP (1ULL << 1)
#define CR0_ET (1ULL << 4)
#define CR0_NE (1ULL << 5)
#define CR0_WP (1ULL << 16)
#define CR0_AM (1ULL << 18)
#define CR0_PG (1ULL << 31)
#define CR4_PAE        (1ULL << 5)
#define CR4_OSFXSR     (1ULL << 9)
#define CR4_OSXMMEXCPT (1ULL << 10)
#define CR4_FSGSBASE   (1ULL << 16)
#define CR4_OSXSAVE    (1ULL << 18)
#define EFER_SCE (1ULL << 0)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define EFER_NXE (1ULL << 11)


int kvm_ioctl_checked(int fd, unsigned long req, const char *name, void *arg)
{
	int rc = ioctl(fd, req, arg);
	if (rc < 0)
		die_errno("%s", name);
	return rc;
}

static int open_kvm(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			die("/dev/kvm does not exist: KVM is not available on this machine");
		if (errno == EACCES || errno == EPERM)
			die("cannot open /dev/kvm: permission denied (join the 'kvm' group or run as root)");
		die_errno("cannot open /dev/kvm");
	}
	int version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION)
		die("/dev/kvm speaks API version %d, kvmse needs %d", version, KVM_API_VERSION);
	return fd;
}

static struct kvm_cpuid2 *supported_cpuid(int sys_fd)
{
	for (int n = 256;; n *= 2) {
		struct kvm_cpuid2 *c = xcalloc(1, sizeof(*c) + (size_t)n * sizeof(c->entries[0]));
		c->nent = (uint32_t)n;
		if (ioctl(sys_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
			return c;
		free(c);
		if (errno != E2BIG || n > 4096)
			die_errno("KVM_GET_SUPPORTED_CPUID");
	}
}

static struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/*
 * kvm_pvm's supported-CPUID list leaves out most of the instruction set (SSE3 to AVX-512,
 * FSGSBASE), yet its guests run user code on the host CPU, execute all of it, and read
 * the host's CPUID (seen on this host). So on kvm_pvm, and only there, the user-mode ISA
 * bits the host has are given back, so KVM's view matches the guest's and it accepts
 * CR4.FSGSBASE. Under VMX/SVM KVM's list is the truth and is used as it is.
 */
struct isa_bits {
	uint32_t fn, idx;
	int reg;                /* 0 eax, 1 ebx, 2 ecx, 3 edx */
	uint32_t mask;
	uint64_t xcr0;          /* state the features need enabled, or 0 */
};

static const struct isa_bits pvm_isa[] = {
	/* SSE3 PCLMUL SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT AES XSAVE RDRAND */
	{ 1, 0, 2, 0x46d82203, 0 },
	{ 1, 0, 2, (1u << 12) | (1u << 28) | (1u << 29), 0x7 },         /* FMA AVX F16C */
	/* FSGSBASE BMI1 BMI2 ERMS RDSEED ADX CLFLUSHOPT CLWB SHA */
	{ 7, 0, 1, 0x218c0309, 0 },
	{ 7, 0, 1, 1u << 5, 0x7 },                                      /* AVX2 */
	/* AVX512 F DQ IFMA CD BW VL */
	{ 7, 0, 1, 0xd0230000, 0xe7 },
	{ 7, 0, 2, (1u << 8), 0 },                                      /* GFNI */
	{ 7, 0, 2, (1u << 9) | (1u << 10), 0x7 },                       /* VAES VPCLMULQDQ */
	/* AVX512 VBMI VBMI2 VNNI BITALG VPOPCNTDQ */
	{ 7, 0, 2, 0x5842, 0xe7 },
	{ 7, 0, 3, 1u << 4, 0 },                                        /* FSRM */
	{ 7, 0, 3, 1u << 8, 0xe7 },                                     /* AVX512_VP2INTERSECT */
	{ 7, 1, 0, 1u << 4, 0x7 },                                      /* AVX_VNNI */
	{ 7, 1, 0, 1u << 5, 0xe7 },                                     /* AVX512_BF16 */
	/* LAHF ABM SSE4A MISALIGNSSE PREFETCHW XOP FMA4 TBM */
	{ 0x80000001, 0, 2, 0x2109e1, 0 },
};

static bool is_pvm(void)
{
	return access("/sys/module/kvm_pvm", F_OK) == 0;
}

static void pvm_restore_isa(struct kvm_cpuid2 *cpuid, uint64_t xcr0)
{
	for (size_t i = 0; i < ARRAY_SIZE(pvm_isa); i++) {
		const struct isa_bits *b = &pvm_isa[i];
		struct kvm_cpuid_entry2 *e = cpuid_find(cpuid, b->fn, b->idx);
		uint32_t r[4];
		if (!e || (b->xcr0 & xcr0) != b->xcr0 ||
		    !__get_cpuid_count(b->fn, b->idx, &r[0], &r[1], &r[2], &r[3]))
			continue;
		uint32_t *dst = b->reg == 0 ? &e->eax : b->reg == 1 ? &e->ebx : b->reg == 2 ? &e->ecx : &e->edx;
		*dst |= r[b->reg] & b->mask;
	}
}

static uint64_t host_xcr0(void)
{
	uint32_t a, b, c, d;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
		return 0;
	__asm__ volatile("xgetbv" : "=a"(a), "=d"(d) : "c"(0));
	return ((uint64_t)d << 32) | a;
}

/* As Linux for a user process: every XSAVE component the host enables (bar PKRU). */
static uint64_t guest_xcr0(struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *leaf_d = cpuid_find(cpuid, 0xd, 0);
	uint64_t supported = leaf_d ? ((uint64_t)leaf_d->edx << 32 | leaf_d->eax) : 0;
	return host_xcr0() & supported & ~(1ULL << 9);
}

/* Size of the standard-format XSAVE image of 'xcr0' (SDM Vol. 1, 13.4): the legacy area
 * and header, then each component at its own offset. */
static uint32_t xsave_size(uint64_t xcr0)
{
	if (!(xcr0 & 1))
		return 0;
	uint32_t size = 576;
	for (unsigned i = 2; i < 64; i++) {
		uint32_t a, b, c, d;
		if ((xcr0 >> i & 1) && __get_cpuid_count(0xd, i, &a, &b, &c, &d))
			size = MAX(size, a + b);
	}
	return size;
}

/* XCR0 as the VM's vCPUs have it. */
static void set_xcr0(struct kvm_cpu *k)
{
	if (!(k->vm->xcr0 & 1))
		return;
	struct kvm_xcrs x;
	memset(&x, 0, sizeof(x));
	x.nr_xcrs = 1;
	x.xcrs[0].value = k->vm->xcr0;
	KVM_IOCTL(k->vcpu_fd, KVM_SET_XCRS, &x);
}

static void setup_fpu(struct kvm_cpu *k)
{
	set_xcr0(k);
	struct kvm_fpu fpu;
	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;        /* Linux's initial x87 control word and MXCSR */
	fpu.mxcsr = 0x1f80;
	KVM_IOCTL(k->vcpu_fd, KVM_SET_FPU, &fpu);
}

static void user_segment(struct kvm_segment *s, uint16_t sel, bool code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->present = 1;
	s->s = 1;
	s->dpl = 3;
	s->g = 1;
	s->type = code ? 11 : 3;
	s->l = code;
	s->db = !code;
}

static void setup_sregs(struct kvm_cpu *k, uint64_t cr4)
{
	struct kvm_sregs s;
	KVM_IOCTL(k->vcpu_fd, KVM_GET_SREGS, &s);
	s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_AM | CR0_PG;
	s.cr3 = k->cpu.mem->root;
	s.cr4 = cr4;
	s.efer = EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE;
	s.gdt.base = PCPU_VA(k->slot) + PCPU_GDT_OFF;
	s.gdt.limit = (SEL_TSS + 16) - 1;
	s.idt.base = SHIM_VA + SHIM_IDT_OFF;
	s.idt.limit = 256 * 16 - 1;
	user_segment(&s.cs, SEL_USER_CS, true);
	user_segment(&s.ss, SEL_USER_DS, false);
	user_segment(&s.ds, SEL_USER_DS, false);
	user_segment(&s.es, SEL_USER_DS, false);
	user_segment(&s.fs, SEL_USER_DS, false);
	user_segment(&s.gs, SEL_USER_DS, false);
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.selector = SEL_TSS;
	s.tr.base = PCPU_VA(k->slot) + PCPU_TSS_OFF;
	s.tr.limit = 104 + 32;
	s.tr.type = 11;
	s.tr.present = 1;
	memset(&s.ldt, 0, sizeof(s.ldt));
	s.ldt.unusable = 1;
	KVM_IOCTL(k->vcpu_fd, KVM_SET_SREGS, &s);
}

static void setup_msrs(struct kvm_cpu *k)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[4];
	} m;
	memset(&m, 0, sizeof(m));
	m.h.nmsrs = 4;
	/* SYSCALL loads CS from STAR[47:32]; SYSRET CS/SS from STAR[63:48] + 16 / + 8. */
	m.e[0].index = MSR_STAR;
	m.e[0].data = ((uint64_t)SEL_USER32_CS << 48) | ((uint64_t)SEL_KERNEL_CS << 32);
	m.e[1].index = MSR_LSTAR;
	m.e[1].data = SLOT_VA(k->slot);
	m.e[2].index = MSR_CSTAR;
	m.e[2].data = SLOT_VA(k->slot);
	/* Clear TF, DF, AC, NT on entry but keep IF, so the flush interrupt reaches the stub. */
	m.e[3].index = MSR_SYSCALL_MASK;
	m.e[3].data = (1 << 8) | (1 << 10) | (1 << 14) | (1 << 18);
	if (ioctl(k->vcpu_fd, KVM_SET_MSRS, &m) != 4)
		die("KVM_SET_MSRS: could not set the SYSCALL MSRs");
	if (k->vm->vdso && !kvm_vdso_tsc(k))
		die("KVM_SET_DEVICE_ATTR: could not give a vCPU the host's TSC");
}

#define MSR_MISC_FEATURES_ENABLES 0x140     /* bit 0: CPUID faults outside ring 0 */

bool kvm_cpuid_fault(struct kvm_cpu *k, bool on)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = { .h.nmsrs = 1, .e = { .index = MSR_MISC_FEATURES_ENABLES, .data = on } };
	if (ioctl(k->vcpu_fd, KVM_SET_MSRS, &m) != 1)
		return false;
	k->cpuid_fault = on;
	return true;
}

/* Make room in a queue: runs of the same entries (a page mapped and unmapped again and
 * again) are one. With 'whole', each run first grows to its whole table (rewriting an
 * entry that did not change is harmless), so there are at most as many runs as tables
 * with a change. True if that freed some. */
static int qent_cmp(const void *x, const void *y)
{
	const struct kvm_qent *a = x, *b = y;
	return a->pte < b->pte ? -1 : a->pte > b->pte;
}

static void whole_table(struct kvm_qent *e)
{
	uint64_t first = (e->pte & (PAGE_SIZE - 1)) / 8;
	e->pte -= first * 8;
	e->va -= first * PAGE_SIZE;
	e->count = PAGE_SIZE / 8;
}

static bool compact_queue(struct kvm_cpu *k, bool whole)
{
	/* The runs the shim applied go; the one it may be half way through stays first, as
	 * it is (its registers hold it), and is applied again from the start. */
	uint64_t n = kvm_qcount(k), done = kvm_qdone(k), out = 1;
	bool reload = kvm_qreload(k) || whole;
	if (done == n) {
		kvm_qset(k, 0, 0, reload);
		return n > 0;
	}
	memmove(k->qent, k->qent + done, (n - done) * sizeof(*k->qent));
	n -= done;
	for (uint64_t i = 1; whole && i < n; i++)
		whole_table(&k->qent[i]);
	qsort(k->qent + 1, n - 1, sizeof(*k->qent), qent_cmp);
	for (uint64_t i = 1; i < n; i++) {
		struct kvm_qent *q = out > 1 ? &k->qent[out - 1] : NULL, *e = &k->qent[i];
		uint64_t q_end = q ? q->pte + q->count * 8 : 0;
		/* the same table and the same addresses (a run never crosses a table) */
		if (q && e->pte >= q->pte && e->pte <= q_end && e->va - q->va == (e->pte - q->pte) * 512) {
			uint64_t end = MAX(q_end, e->pte + e->count * 8);
			q->count = (end - q->pte) / 8;
		} else {
			k->qent[out++] = *e;
		}
	}
	kvm_qset(k, out, 0, reload);
	return out < n + done;
}

/* Whether one of the last few runs the shim has not reached holds the entry already
 * (a page mapped and unmapped again and again): the shim writes each entry with the
 * value it holds then, so once is enough. */
static bool queued_already(const struct kvm_cpu *k, uint64_t dmap, gva_t va)
{
	uint64_t n = kvm_qcount(k), first = kvm_qdone(k) + 1;
	for (uint64_t i = n; i > first && i + 8 > n; i--) {
		const struct kvm_qent *q = &k->qent[i - 1];
		if (dmap >= q->pte && dmap < q->pte + q->count * 8 &&
		    va == q->va + (dmap - q->pte) / 8 * PAGE_SIZE)
			return true;
	}
	return false;
}

/* Queue an edited entry for vCPU k's shim, extending the last run when it continues it
 * (and the shim has not reached that run: it may be paused in the middle of one). */
static void queue_edit(struct kvm_cpu *k, uint64_t dmap, gva_t va)
{
	if (queued_already(k, dmap, va))
		return;
	uint64_t n = kvm_qcount(k);
	/* Past a few dozen pages one CR3 reload flushes more cheaply than INVLPG each. */
	bool reload = kvm_qreload(k) || ++k->queued_pages > 64;
	struct kvm_qent *q = n > kvm_qdone(k) + 1 ? &k->qent[n - 1] : NULL;
	if (q && q->pte + q->count * 8 == dmap && q->va + q->count * PAGE_SIZE == va) {
		q->count++;
		kvm_qset(k, n, kvm_qdone(k), reload);
		return;
	}
	if (n == QUEUE_MAX) {
		if (k == kvm_self)
			kvm_flush_now(k);
		else if (!compact_queue(k, false) && !compact_queue(k, true))
			die("the page-table edit queue of a waiting thread's vCPU is full: "
			    "more than %d page tables changed", QUEUE_MAX);
		n = kvm_qcount(k);
		reload = kvm_qreload(k) || k->queued_pages > 64;
	}
	k->qent[n] = (struct kvm_qent){ dmap, va, 1 };
	kvm_qset(k, n + 1, kvm_qdone(k), reload);
}

/*
 * An entry that was present changed (under the memory lock): every vCPU that has run
 * may hold it in its TLB (or, on a shadow-paging host, its shadow), so each one's shim
 * rewrites it before that vCPU runs user code again. One running guest code now leaves
 * KVM_RUN first; it cannot enter again before the lock is released.
 */
static void pte_hook(void *ctx, gpa_t pte, gva_t va)
{
	struct kvm_vm *vm = ctx;
	if (kvm_self)
		kvm_self->cpu.stats.pte_replays++;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_cpu *k = vm->vcpus[i];
		/* Not entered yet: nothing is cached. (Not "not stopped yet": a new thread's
		 * vCPU runs guest code before its first stop.) */
		if (!k || !k->ran)
			continue;
		if (k != kvm_self && atomic_load(&k->in_guest))
			kvm_evict(k);
		queue_edit(k, DMAP_VA + pte, va);
	}
}

/* Register guest memory with KVM a slot at a time as the allocator reaches it: KVM's
 * per-slot bookkeeping (made at VM creation, freed at teardown) grows with the slot, so a
 * VM that uses little starts and ends fast. Slots double from 64 MiB to 1 GiB, each
 * aligned to its size; the shim's direct map grows with them. */
#define SLOT_MIN (64ULL << 20)
#define SLOT_MAX (1ULL << 30)

static void grow_hook(void *ctx, uint64_t top)
{
	struct kvm_vm *vm = ctx;
	struct mem *m = vm->mem;
	while (m->visible < top) {
		uint64_t len = m->visible < SLOT_MIN ? SLOT_MIN : MIN(m->visible, SLOT_MAX);
		len = MIN(len, m->size - m->visible);
		struct kvm_userspace_memory_region region = {
			.slot = vm->nslots++,
			.guest_phys_addr = m->visible,
			.memory_size = len,
			.userspace_addr = (uint64_t)(uintptr_t)(m->host + m->visible),
		};
		KVM_IOCTL(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region);
		m->visible += len;
		/* (may allocate page tables, and so come back here: 'visible' is set first) */
		kvm_map_direct(vm, m->visible - len, m->visible);
	}
}

/* A VM, made through the open /dev/kvm, its descriptor out of the guest's reach. */
static void new_vm(struct kvm_vm *vm)
{
	vm->vm_fd = KVM_IOCTL(vm->sys_fd, KVM_CREATE_VM, 0);
	fd_hide(&vm->vm_fd);
	vm->run_size = (size_t)KVM_IOCTL(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	/* With KVM_CAP_SYNC_REGS the registers come back in kvm_run at each exit, no ioctl. */
	int sync = ioctl(vm->sys_fd, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS);
	vm->sync_regs = sync > 0 && (sync & (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)) ==
				    (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS);
}

/* The KVM vCPU for slot k->slot (its id). */
static void new_vcpu_fd(struct kvm_cpu *k)
{
	struct kvm_vm *vm = k->vm;
	k->vcpu_fd = KVM_IOCTL(vm->vm_fd, KVM_CREATE_VCPU, (uintptr_t)k->slot);
	fd_hide(&k->vcpu_fd);
	k->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu_fd, 0);
	if (k->run == MAP_FAILED)
		die_errno("mmap of the vCPU's kvm_run");
	k->r = vm->sync_regs ? &k->run->s.regs.regs : &k->local;
	k->s = vm->sync_regs ? &k->run->s.regs.sregs : &k->local_s;
	if (vm->sync_regs)
		k->run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
}

static struct kvm_cpu *new_vcpu(struct kvm_vm *vm)
{
	if (vm->nvcpus == SLOTS_MAX)
		return NULL;
	struct kvm_cpu *k = xcalloc(1, sizeof(*k));
	k->cpu.ops = &kvm_cpu_ops;
	k->cpu.mem = vm->mem;
	k->vm = vm;
	k->slot = vm->nvcpus;
	new_vcpu_fd(k);
	vm->vcpus[vm->nvcpus++] = k;
	return k;
}

/* The vCPU's CPUID, kept for later vCPUs and those of forked children (asking KVM costs
 * 0.4 ms on a nested host); returns the XCR0 it allows and sets the CR4 it needs. */
static uint64_t set_cpuid(struct kvm_cpu *k, uint64_t *cr4)
{
	struct kvm_vm *vm = k->vm;
	struct kvm_cpuid2 *cpuid = supported_cpuid(vm->sys_fd);
	uint64_t xcr0 = guest_xcr0(cpuid);
	*cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	vm->pvm = is_pvm();
	if (vm->pvm)
		pvm_restore_isa(cpuid, xcr0);
	struct kvm_cpuid_entry2 *sizes = cpuid_find(cpuid, 0x80000008, 0);
	vm->phys_bits = sizes ? sizes->eax & 0xff : 36;
	struct kvm_cpuid_entry2 *leaf7 = cpuid_find(cpuid, 7, 0);
	if (leaf7 && (leaf7->ebx & 1))
		*cr4 |= CR4_FSGSBASE;
	if (xcr0 & 1)
		*cr4 |= CR4_OSXSAVE;
	KVM_IOCTL(k->vcpu_fd, KVM_SET_CPUID2, cpuid);
	vm->cpuid = cpuid;
	vm->xcr0 = xcr0;
	return xcr0;
}

/* /dev/kvm is not needed once the vCPU exists, and unlike the VM and vCPU (anonymous
 * inodes) a guest could reopen it through /proc/self/fd. */
static void close_kvm(struct kvm_vm *vm)
{
	if (fd_close(&vm->sys_fd) < 0)
		die_errno("close of /dev/kvm");
	vm->sys_fd = -1;
}

static void on_kick(int sig)
{
	(void)sig;
}

struct cpu *kvm_cpu_create(struct mem *mem, struct cpu_features *f)
{
	/* A kick needs a handler, that ends KVM_RUN and host calls with EINTR: this one
	 * unless the SE layer has its own (which takes SIGRTMAX from other processes). */
	static const struct sigaction kick = { .sa_handler = on_kick };
	struct sigaction cur;
	if (sigaction(SIG_KICK, NULL, &cur) < 0 ||
	    (cur.sa_handler == SIG_DFL && sigaction(SIG_KICK, &kick, NULL) < 0))
		die_errno("sigaction");
	struct kvm_vm *vm = xcalloc(1, sizeof(*vm));
	vm->mem = mem;
	vm->sys_fd = open_kvm();
	fd_hide(&vm->sys_fd);
	new_vm(vm);
	mem->hook_ctx = vm;
	kvm_shim_setup(vm);
	mem->grow = grow_hook;
	grow_hook(vm, mem->free[0].start);
	struct kvm_cpu *k = new_vcpu(vm);
	uint64_t cr4;
	uint64_t xcr0 = set_cpuid(k, &cr4);
	kvm_slot_setup(k, 0);
	mem->hook = pte_hook;
	setup_sregs(k, cr4);
	setup_fpu(k);           /* XCR0 needs CR4.OSXSAVE in place */
	setup_msrs(k);
	kvm_vdso_setup(k, f);
	/* The model keeps the segment state at hand from now on (synced at each exit). */
	KVM_IOCTL(k->vcpu_fd, KVM_GET_SREGS, k->s);
	f->hwcap2 = (cr4 & CR4_FSGSBASE) ? 2 : 0;   /* HWCAP2_FSGSBASE */
	f->xfeatures = xcr0;
	f->xsave_size = xsave_size(xcr0);
	if (f->xsave_size > sizeof(((struct kvm_xsave *)0)->region))
		die("this CPU's XSAVE state (%u bytes) needs KVM_GET_XSAVE2", f->xsave_size);
	k->live = true;
	vm->nlive = 1;
	return &k->cpu;
}

/*
 * A vCPU for a new thread of the program (called by the thread that makes it, stopped
 * in its system call, under the memory lock): one whose thread ended if there is one,
 * else a new one. It starts with the caller's segments, FPU state and registers (the SE
 * layer sets what differs), and its own GDT and TSS.
 */
struct cpu *kvm_cpu_clone(struct cpu *c)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c, *n = NULL;
	struct kvm_vm *vm = k->vm;
	for (unsigned i = 0; i < vm->nvcpus && !n; i++)
		if (vm->vcpus[i] && !vm->vcpus[i]->live)
			n = vm->vcpus[i];
	if (!n) {
		if (!(n = new_vcpu(vm)))
			return NULL;
		KVM_IOCTL(n->vcpu_fd, KVM_SET_CPUID2, vm->cpuid);
		kvm_slot_setup(n, n->slot);
		setup_msrs(n);
		set_xcr0(n);
	}
	static struct kvm_xsave xsave;
	KVM_IOCTL(k->vcpu_fd, KVM_GET_XSAVE, &xsave);
	KVM_IOCTL(n->vcpu_fd, KVM_SET_XSAVE, &xsave);
	if (n->cpuid_fault != k->cpuid_fault && !kvm_cpuid_fault(n, k->cpuid_fault))
		die("KVM_SET_MSRS: CPUID faulting");
	struct kvm_sregs s = *k->s;
	/* (the caller may be stopped in the shim's ring 0) */
	user_segment(&s.cs, SEL_USER_CS, true);
	user_segment(&s.ss, SEL_USER_DS, false);
	s.gdt.base = PCPU_VA(n->slot) + PCPU_GDT_OFF;
	s.tr.base = PCPU_VA(n->slot) + PCPU_TSS_OFF;
	KVM_IOCTL(n->vcpu_fd, KVM_SET_SREGS, &s);
	*n->s = s;
	n->s_dirty = false;
	n->user = k->user;
	/* A vCPU that ran before may hold anything in its TLB: it starts afresh. The edits
	 * queued while it waited stay: on a shadow-paging host its shadow of them is stale
	 * until its own ring 0 rewrites them (a CR3 reload alone does not refresh it). */
	if (n->ran)
		kvm_qset(n, kvm_qcount(n), kvm_qdone(n), true);
	n->stop = STOP_NONE;
	n->queued_pages = 0;
	/* (a kick may have come after its last thread's last stop) */
	atomic_store(&n->kicked, false);
	n->run->immediate_exit = 0;
	n->run->request_interrupt_window = 0;
	n->chan[CH_STOP / 8] = 0;
	n->live = true;
	atomic_fetch_add(&vm->nlive, 1);
	return &n->cpu;
}

/* The thread of this vCPU has ended (under the memory lock): it waits for the next. */
void kvm_cpu_retire(struct cpu *c)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	if (k->server) {
		kvm_server_stop(k->server);
		k->server = NULL;
	}
	k->live = false;
	atomic_fetch_sub(&k->vm->nlive, 1);
}

static void release_vcpu(struct kvm_cpu *k)
{
	if (munmap(k->run, k->vm->run_size) < 0)
		die_errno("munmap of kvm_run");
	if (fd_close(&k->vcpu_fd) < 0)
		die_errno("close");
}

static void release_vm(struct kvm_vm *vm)
{
	if (fd_close(&vm->vm_fd) < 0)
		die_errno("close");
}

/* In a forked child only the forking thread goes on: the others' vCPUs go. */
static void drop_other_vcpus(struct kvm_cpu *k)
{
	struct kvm_vm *vm = k->vm;
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_cpu *o = vm->vcpus[i];
		if (!o || o == k)
			continue;
		release_vcpu(o);
		free(o->server);        /* (its thread is the parent's) */
		free(o);
		vm->vcpus[i] = NULL;
	}
	vm->nlive = 1;
}

/* What a vCPU carries into a VM made again: its registers, FPU state and XCR0. */
struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_xcrs xcrs;
	struct kvm_xsave xsave;
};

/* Take k's state, and stop its server: no thread but the caller's may run kvmse's
 * code in what follows (a host fork, or a call the host allows only one thread). The
 * next exit-path call starts the server again, after 'start_after' calls. */
static void vcpu_keep(struct kvm_cpu *k, struct vcpu_state *st)
{
	st->regs = *k->r;
	st->sregs = *k->s;
	KVM_IOCTL(k->vcpu_fd, KVM_GET_XSAVE, &st->xsave);
	KVM_IOCTL(k->vcpu_fd, KVM_GET_XCRS, &st->xcrs);
	if (k->server) {
		kvm_server_stop(k->server);
		k->server = NULL;
	}
}

/* The VM goes, with every vCPU but k. */
static void vm_unmake(struct kvm_cpu *k)
{
	drop_other_vcpus(k);
	release_vcpu(k);
	release_vm(k->vm);
}

/* A new VM over the same guest memory (page tables, shim and channel pages included),
 * with k in it in state 'st'. */
static void vm_remake(struct kvm_cpu *k, const struct vcpu_state *st)
{
	struct kvm_vm *vm = k->vm;
	k->chan[CH_STOP / 8] = 0;
	k->serve_from = k->cpu.stats.exits_syscall + k->serve_with.start_after;
	atomic_store(&k->kicked, false);
	struct mem *m = k->cpu.mem;
	uint64_t visible = m->visible;
	/* A program that lowered its descriptor limit and used it up leaves kvmse none for
	 * the new VM: the limit goes up to the hard one meanwhile. */
	struct rlimit nofile, raised;
	if (getrlimit(RLIMIT_NOFILE, &nofile) < 0)
		die_errno("getrlimit");
	raised = (struct rlimit){ nofile.rlim_max, nofile.rlim_max };
	bool raise = nofile.rlim_cur < nofile.rlim_max && setrlimit(RLIMIT_NOFILE, &raised) == 0;
	new_vm(vm);
	m->visible = 0;
	vm->nslots = 0;
	grow_hook(vm, visible);
	if (vm->vdso && !kvm_vdso_slot(vm))
		die("KVM_SET_USER_MEMORY_REGION: the vDSO's time data");
	new_vcpu_fd(k);
	if (raise && setrlimit(RLIMIT_NOFILE, &nofile) < 0)
		die_errno("setrlimit");
	KVM_IOCTL(k->vcpu_fd, KVM_SET_CPUID2, vm->cpuid);
	KVM_IOCTL(k->vcpu_fd, KVM_SET_SREGS, &st->sregs);
	KVM_IOCTL(k->vcpu_fd, KVM_SET_XCRS, &st->xcrs);
	KVM_IOCTL(k->vcpu_fd, KVM_SET_XSAVE, &st->xsave);
	setup_msrs(k);
	if (k->cpuid_fault && !kvm_cpuid_fault(k, true))
		die("KVM_SET_MSRS: CPUID faulting");
	*k->r = st->regs;
	*k->s = st->sregs;
	k->r_dirty = k->s_dirty = true;
}

/*
 * fork() for the guest: KVM serves a VM only to the process that made it, so the child
 * makes its own over its (copy-on-write) copy of guest memory, and gives its vCPU the
 * state the parent's has now. kvmse forks with one thread (the server stopped), so no
 * lock is held across the fork by a thread the child will not have; the child counts
 * its calls afresh before its server starts, as most children run a short program.
 */
pid_t kvm_cpu_fork(struct cpu *c, pid_t (*host_fork)(void *arg), void *arg)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	static struct vcpu_state st;
	vcpu_keep(k, &st);
	pid_t pid = host_fork(arg);
	if (pid != 0)
		return pid;
	vm_unmake(k);
	vm_remake(k, &st);
	return 0;
}

/* The host threads of this process (/proc's count; 0 if unreadable). */
static int host_threads(void)
{
	char buf[4096];
	fd_proc_read("self/status", buf, sizeof(buf));
	const char *t = strstr(buf, "\nThreads:");
	return t ? atoi(t + 9) : 0;
}

/*
 * The host lets only a process of one thread change its user namespace or join a time
 * namespace, and a VM has threads of KVM's in its process (Linux 6.13 and later: the
 * NX huge page recovery worker). So the VM goes for the call, and is made again after
 * it, in the new namespaces. Its worker ends soon after the VM (up to 100 ms waited).
 */
long kvm_cpu_alone(struct cpu *c, long (*fn)(void *arg), void *arg)
{
	struct kvm_cpu *k = (struct kvm_cpu *)c;
	static struct vcpu_state st;
	vcpu_keep(k, &st);
	vm_unmake(k);
	for (int i = 0; i < 100 && host_threads() > 1; i++)
		usleep(1000);
	long ret = fn(arg);
	vm_remake(k, &st);
	return ret;
}

/*
 * The process ends (from its last thread). Tearing the VM down (its shadow pages and
 * memory slots) takes a few hundred µs on a nested host, and a parent waiting for this
 * process would wait for that too. So a helper process that shares this memory is left
 * to do it: the vCPUs' kvm_run mappings hold their descriptors' files, and those the VM,
 * so our exit drops no last reference; the helper's parent-death signal kills it once
 * we are gone, and its exit does the rest.
 * - It starts with our descriptor table shared and leaves it empty-handed
 *   (CLOSE_RANGE_UNSHARE copies nothing), so the program's descriptors (a pipe's write
 *   end) still close with our exit.
 * - It makes its own session, out of the program's process group and terminal.
 * - It runs on a small stack with the caller's TLS, so it makes raw calls only.
 * Orphaned, it goes to init (or a subreaper): the SE layer asks for none where that is
 * a program of its own (thread.c leave_early). None is made where a limit on processes
 * could make the program's next fork fail while one lingers.
 */
/* Every vCPU's syscall server ends (asked: faster than killed by an exit). */
static void stop_servers(struct kvm_vm *vm)
{
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		if (vm->vcpus[i] && vm->vcpus[i]->server) {
			kvm_server_stop(vm->vcpus[i]->server);
			vm->vcpus[i]->server = NULL;
		}
	}
}

struct leaver {
	pid_t creator;
	_Atomic uint32_t ready;
};

static int leave_helper(void *arg)
{
	struct leaver *l = arg;
	uint64_t all = ~0ULL;
	syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, NULL, sizeof(all));
	syscall(SYS_close_range, 0, ~0U, CLOSE_RANGE_UNSHARE);
	syscall(SYS_setsid);
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL);
	bool orphan = syscall(SYS_getppid) != l->creator;
	atomic_store(&l->ready, 1);
	syscall(SYS_futex, &l->ready, FUTEX_WAKE, 1, NULL, NULL, 0);
	while (!orphan)
		syscall(SYS_pause);
	syscall(SYS_exit, 0);
	return 0;
}

bool kvm_cpu_leave(struct cpu *c)
{
	static struct leaver l;
	static uint64_t stack[512];
	struct rlimit nproc;
	/* (a server killed by the exit kept a waiting parent 0.3 ms longer in
	 * fork+exec+wait) */
	stop_servers(((struct kvm_cpu *)c)->vm);
	if (getrlimit(RLIMIT_NPROC, &nproc) < 0 ||
	    (nproc.rlim_cur != RLIM_INFINITY && geteuid() != 0))
		return false;
	l = (struct leaver){ .creator = getpid() };
	if (clone(leave_helper, stack + 512, CLONE_VM | CLONE_FILES | SIGCHLD, &l) < 0)
		return false;
	while (!atomic_load(&l.ready))
		syscall(SYS_futex, &l.ready, FUTEX_WAIT, 0, NULL, NULL, 0);
	return true;
}

void kvm_cpu_destroy(struct cpu *c)
{
	struct kvm_vm *vm = ((struct kvm_cpu *)c)->vm;
	stop_servers(vm);
	for (unsigned i = 0; i < vm->nvcpus; i++) {
		struct kvm_cpu *k = vm->vcpus[i];
		if (!k)
			continue;
		release_vcpu(k);
		free(k);
	}
	release_vm(vm);
	close_kvm(vm);
	free(vm->cpuid);
	free(vm);
}
