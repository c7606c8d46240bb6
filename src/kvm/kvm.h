/* kvm.h - the KVM CPU model's private state, shared by its files. */
#ifndef KVMSE_KVM_H
#define KVMSE_KVM_H
#include "../cpu.h"
#include <linux/kvm.h>
#include <stdbool.h>

/* A run of page-table entries whose present value changed; the shim (apply_queue in shim.S)
 * writes each one again from ring 0, with the value it holds then, and INVLPGs it. */
struct kvm_qent {
	uint64_t pte;           /* direct-map address of the first entry */
	uint64_t va;            /* address mapped by the first entry */
	uint64_t count;         /* consecutive entries in this run */
};

/* Where the vCPU stopped, which decides how the user state is read and written back. */
enum kvm_stop { STOP_NONE, STOP_SYSCALL, STOP_FAULT };

struct kvm_cpu {
	struct cpu cpu;
	int sys_fd;             /* /dev/kvm, while the VM is set up */
	int vm_fd;              /* this guest process's VM */
	int vcpu_fd;            /* its only vCPU */
	struct kvm_run *run;
	size_t run_size;
	bool sync_regs;         /* KVM_CAP_SYNC_REGS: registers travel in 'run' */
	struct kvm_regs local;  /* the registers when they don't */
	struct kvm_sregs local_s;
	struct kvm_regs *r;     /* either run->s.regs.regs or &local */
	struct kvm_sregs *s;    /* either run->s.regs.sregs or &local_s */
	bool r_dirty, s_dirty;
	int syscall_ring;       /* -1 unknown; 3 on kvm_pvm, 0 on VMX/SVM */
	enum kvm_stop stop;
	struct cpu_regs user;   /* the user program's state while stopped */
	uint8_t *shim;          /* host address of the shim (gpa 0) */
	uint64_t *qhdr;
	struct kvm_qent *qent;
	uint64_t queued_pages;
	uint32_t nslots;        /* memory slots registered so far */
};

/* Fill the shim: code, GDT, TSS, IDT and their page tables. */
void kvm_shim_setup(struct kvm_cpu *k);
/* Map guest-physical [from, to) in the direct map, for the shim to reach page tables. */
void kvm_map_direct(struct kvm_cpu *k, uint64_t from, uint64_t to);
/* The 16-byte hardware frame an exception pushed on the IST stack, plus its error code. */
uint64_t *kvm_ist_frame(struct kvm_cpu *k);
extern const struct cpu_ops kvm_cpu_ops;
/* ioctl() that dies naming the request when it fails; returns its result. */
int kvm_ioctl_checked(int fd, unsigned long req, const char *name, void *arg);
#define KVM_IOCTL(fd, req, arg) kvm_ioctl_checked(fd, req, #req, (void *)(arg))
/* Apply the page-table edit queue now, in the middle of a system call (vcpu.c). */
void kvm_flush_now(struct kvm_cpu *k);

#endif
