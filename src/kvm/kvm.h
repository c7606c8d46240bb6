/* kvm.h - the KVM CPU model's private state, shared by its files. */
#ifndef KVMSE_KVM_H
#define KVMSE_KVM_H
#include "../cpu.h"
#include "../layout.h"
#include <linux/kvm.h>
#include <stdatomic.h>
#include <stdbool.h>

#ifndef KVM_EXIT_MEMORY_FAULT           /* (newer than some headers) */
#define KVM_EXIT_MEMORY_FAULT 39
#endif

/* A run of page-table entries whose present value changed; the shim (apply_queue in shim.S)
 * writes each one again from ring 0, with the value it holds then, and INVLPGs it. */
struct kvm_qent {
	uint64_t pte;           /* direct-map address of the first entry */
	uint64_t va;            /* address mapped by the first entry */
	uint64_t count;         /* consecutive entries in this run */
};

/* Where the vCPU stopped. A stop in ring 0 resumes by IRETQ from the shim's IST frame;
 * a stop in ring 3 resumes directly. */
enum kvm_stop {
	STOP_NONE,              /* not run yet */
	STOP_SYSCALL,           /* at the entry page's exit path */
	STOP_FAULT,             /* in an exception stub */
	STOP_DIRECT,            /* in user code or the entry page (forged I/O, a kick) */
};

/* What the vCPUs of one guest process share: the VM, its memory slots, the shim. */
struct kvm_vm {
	/* /dev/kvm, open for good: a forked child makes its VM through it (a program that
	 * dropped its rights may not open it again; one that used up its descriptors left
	 * the child only the numbers of the parent's VM and vCPU). */
	int sys_fd;
	int vm_fd;
	struct mem *mem;
	uint8_t *shim;          /* host address of the shim (gpa 0) */
	uint32_t nslots;        /* memory slots registered so far */
	size_t run_size;        /* of each vCPU's kvm_run */
	bool sync_regs;         /* KVM_CAP_SYNC_REGS: registers travel in kvm_run */
	bool pvm;               /* kvm_pvm (its user mode ignores CR4.TSD, for one) */
	bool vdso;              /* the host's vDSO is mapped (vdso.c): TSCs are the host's */
	struct kvm_cpuid2 *cpuid;       /* as set, for later vCPUs and a forked child's */
	uint64_t xcr0;
	unsigned phys_bits;     /* the guest's physical address width (CPUID 0x80000008) */
	/* Every vCPU made, by slot (KVM cannot destroy one alone: those of threads that
	 * ended wait in 'idle' for the next thread). Changed under the memory lock. */
	struct kvm_cpu *vcpus[SLOTS_MAX];
	unsigned nvcpus;
	_Atomic unsigned nlive;         /* vCPUs with a thread */
};

struct kvm_cpu {
	struct cpu cpu;
	struct kvm_vm *vm;
	int vcpu_fd;
	struct kvm_run *run;
	struct kvm_regs local;  /* the registers when they don't travel in 'run' */
	struct kvm_sregs local_s;
	struct kvm_regs *r;     /* either run->s.regs.regs or &local */
	struct kvm_sregs *s;    /* either run->s.regs.sregs or &local_s */
	bool r_dirty, s_dirty;
	enum kvm_stop stop;
	struct cpu_regs user;   /* the user program's state while stopped */
	uint8_t *pcpu;          /* host address of its area (layout.h: PCPU_*) */
	uint64_t *qhdr;
	struct kvm_qent *qent;
	uint64_t queued_pages;
	unsigned slot;          /* its entry slot and area (layout.h) */
	uint64_t *chan;         /* host address of its syscall channel page */
	struct kvm_server *server;      /* the exitless transport, once started */
	struct cpu_server serve_with;   /* ... and what it will serve with (no 'call': none) */
	uint64_t serve_from;            /* ... once exits_syscall reaches this */
	atomic_bool kicked;             /* cpu_ops.kick: stop at the next whole user state */
	/* futex the vCPU thread sleeps on while the server runs a call: bumped by each
	 * answer and by each kick, so a kick just before the sleep is not missed */
	_Atomic uint32_t done_word;
	bool live;                      /* a thread runs it (else it is idle) */
	pid_t host_tid;                 /* the host thread that runs it */
	atomic_bool in_guest;           /* inside KVM_RUN, maybe running guest code */
	bool ran;                       /* has entered the guest: its TLB may hold entries */
	bool cpuid_fault;               /* CPUID faults in ring 3 (ARCH_SET_CPUID) */
};

/* The edit queue's header (layout.h: QHDR_*), which kvmse changes only while the vCPU
 * is out of KVM_RUN. Runs below 'done' are applied; run 'done' may be half applied. */
static inline uint64_t kvm_qcount(const struct kvm_cpu *k)
{
	return *k->qhdr & QHDR_COUNT_MASK;
}

static inline uint64_t kvm_qdone(const struct kvm_cpu *k)
{
	return *k->qhdr >> QHDR_DONE_SHIFT & QHDR_COUNT_MASK;
}

static inline bool kvm_qreload(const struct kvm_cpu *k)
{
	return *k->qhdr >> QHDR_RELOAD_BIT & 1;
}

static inline void kvm_qset(struct kvm_cpu *k, uint64_t count, uint64_t done, bool reload)
{
	*k->qhdr = done << QHDR_DONE_SHIFT | (uint64_t)reload << QHDR_RELOAD_BIT | count;
}

/* Fill the shim: code and IDT, and their page tables. */
void kvm_shim_setup(struct kvm_vm *vm);
/* Map guest-physical [from, to) in the direct map, for the shim to reach page tables. */
void kvm_map_direct(struct kvm_vm *vm, uint64_t from, uint64_t to);
/* The host's vDSO for the program (vdso.c), if vCPU k's TSC can be the host's; later
 * vCPUs get the host's TSC with kvm_vdso_tsc, a forked child's VM the slot again. */
void kvm_vdso_setup(struct kvm_cpu *k, struct cpu_features *f);
bool kvm_vdso_tsc(struct kvm_cpu *k);
bool kvm_vdso_slot(struct kvm_vm *vm);
/* The 16-byte hardware frame an exception pushed on the IST stack, plus its error code. */
uint64_t *kvm_ist_frame(struct kvm_cpu *k);
extern const struct cpu_ops kvm_cpu_ops;
/* ioctl() that dies naming the request when it fails; returns its result. */
int kvm_ioctl_checked(int fd, unsigned long req, const char *name, void *arg);
#define KVM_IOCTL(fd, req, arg) kvm_ioctl_checked(fd, req, #req, (void *)(arg))
/* Map vCPU slot 'slot': entry page, a new channel page, and its area (GDT, TSS, IST
 * stack, edit queue: layout.h's PCPU_*). */
void kvm_slot_setup(struct kvm_cpu *k, unsigned slot);

/* exitless.c: the channel's server thread. */
struct kvm_server *kvm_server_start(struct kvm_cpu *k, const struct cpu_server *s);
/* The program exited to wait for an answer (PORT_WAIT): sleep until it is in the channel.
 * False if the call ended the program instead. */
bool kvm_server_wait(struct kvm_server *s);
/* The program stopped with a request posted (kvm_cpu.kicked, or PORT_STOP): sleep until
 * it is answered, and if kicked make a call that blocks return early. False if the call
 * ended the program instead. */
bool kvm_server_finish(struct kvm_server *s);
/* The vCPU stopped for the SE layer: let the server finish first what the program posted
 * (honest entry code never leaves a request behind, but the channel is the guest's to
 * scribble on), so only one thread at a time runs system calls. */
void kvm_server_drain(struct kvm_server *s);
/* A call took the exit path: wake a napping server for the calls that follow, unless
 * it stands down (exitless did not pay lately). */
void kvm_server_kick(struct kvm_server *s);
void kvm_server_stop(struct kvm_server *s);
/* Requests it has run so far (stats.served gets them when it stops). */
uint64_t kvm_server_answered(struct kvm_server *s);
/* Mark request 'seq' answered in the channel again (the program may have overwritten
 * that): false if it is not the last request the server answered. */
bool kvm_server_reanswer(struct kvm_server *s, uint64_t seq);
pid_t kvm_cpu_fork(struct cpu *c, pid_t (*host_fork)(void *arg), void *arg);
long kvm_cpu_alone(struct cpu *c, long (*fn)(void *arg), void *arg);
/* CPUID faults in user mode from now on, or not; false if KVM cannot do that. */
bool kvm_cpuid_fault(struct kvm_cpu *k, bool on);

/* Apply the page-table edit queue now, in the middle of a system call (vcpu.c). */
void kvm_flush_now(struct kvm_cpu *k);
/* The vCPU the calling thread runs (NULL on other threads). */
extern _Thread_local struct kvm_cpu *kvm_self;
/* Make a vCPU that runs guest code leave KVM_RUN (its next entry waits for the memory
 * lock, held by the caller). */
void kvm_evict(struct kvm_cpu *k);
/* kvm.c: the SE layer's cpu_ops.clone and thread_exit. */
struct cpu *kvm_cpu_clone(struct cpu *c);
void kvm_cpu_retire(struct cpu *c);

#endif
