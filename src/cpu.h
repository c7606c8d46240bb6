/* cpu.h - the interface between the SE layer and a CPU model (KVM today, a simulator later). */
#ifndef KVMSE_CPU_H
#define KVMSE_CPU_H
#include "mem.h"
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* kvmse's own host signal: its handler does nothing, so it only ends the host call (or
 * KVM_RUN) in progress on the thread it is sent to. The CPU model installs it. */
#define SIG_KICK SIGRTMAX

/* The architectural state of the user program, as a kernel's pt_regs would hold it. */
struct cpu_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rip, rflags;
	uint64_t fs_base, gs_base;
};

enum cpu_event_kind {
	CPU_SYSCALL,            /* rip is the instruction after SYSCALL */
	CPU_FAULT,              /* an exception in user code; rip is the faulting instruction */
	CPU_STOP,               /* a call the server ran ended the program (see cpu_server) */
	CPU_INTERRUPT,          /* stopped as asked by cpu_ops.kick */
};

/* CPU_FAULT that is no exception: the host could not supply the memory behind an
 * access of the program's (a shared file mapping past the file's end, or a write to one
 * on a full file system); 'addr' is where, or 0 if the model cannot tell. */
#define CPU_VEC_MEMORY 32

struct cpu_event {
	enum cpu_event_kind kind;
	int vector;             /* CPU_FAULT: exception vector (0-31), or CPU_VEC_MEMORY */
	uint64_t error_code;
	uint64_t addr;          /* #PF: the faulting linear address (CR2) */
	/* CPU_INTERRUPT: the number of a system call the server has just run, whose result
	 * is in rax (the program has not seen it yet); -1 if none. */
	int64_t done_syscall;
};

struct cpu_stats {
	uint64_t exits_syscall, exits_fault, exits_flush, exits_other;
	uint64_t pte_replays, flush_irqs;
	uint64_t kicks, kick_windows;   /* CPU_INTERRUPT stops; those first let the shim finish */
	uint64_t guest_ns;      /* time spent inside KVM_RUN */
	/* The exitless transport: calls the server answered, those of them the program
	 * stopped to wait for (an exit each), the server's polling time, its naps and wake-ups. */
	uint64_t served, served_waited, server_spin_ns, server_sleeps, server_wakeups;
	uint64_t server_backoffs;       /* times it stood down (exitless did not pay) */
};

/*
 * A system-call server, for models that can run calls while the program waits on its
 * own instead of stopping (KVM's exitless channel). 'call' runs on the model's threads.
 */
struct cpu_server {
	/* May 'call' run system call 'nr' (it needs nothing of the CPU's state)? */
	bool (*may_serve)(unsigned nr);
	/* Must this one be made by the program's own thread after all? (The host kernel
	 * takes the caller of a PI futex call for the lock's owner.) */
	bool (*caller_only)(uint64_t nr, const uint64_t a[6]);
	/* Run it and return the result; set *stop if the program has ended. 'ip' is where
	 * the program made it (its return address, as the program reported it). */
	long (*call)(void *ctx, uint64_t nr, const uint64_t a[6], uint64_t ip, bool *stop);
	/* Run on the program's thread when a kick reaches it as it waits for an answer:
	 * what only that thread can do for the call to end (let in a host signal it holds
	 * back, which the call may be waiting for). */
	void (*kicked)(void *ctx);
	void *ctx;
	/* Start serving once the program has made this many more calls the slow way (a
	 * forked child counts them afresh): a short program is over before a server thread
	 * would pay for itself (0: at once). */
	unsigned start_after;
};

struct cpu;

enum cpu_trap { CPU_TRAP_TSC, CPU_TRAP_CPUID };

struct cpu_ops {
	const char *name;
	/* Run the user program until it makes a syscall or faults. 0, or -1 on a model error. */
	int (*run)(struct cpu *c, struct cpu_event *ev);
	void (*get_regs)(struct cpu *c, struct cpu_regs *r);
	void (*set_regs)(struct cpu *c, const struct cpu_regs *r);
	/* The XSAVE image of the FPU/SIMD state (standard format, as Linux's signal frames
	 * hold it); returns its size. set_xsave: false if the CPU refuses the image. */
	size_t (*get_xsave)(struct cpu *c, void *buf, size_t size);
	bool (*set_xsave)(struct cpu *c, const void *buf, size_t size);
	/* While on, the instruction faults in user mode as a general protection fault
	 * (RDTSC and RDTSCP: PR_SET_TSC; CPUID: ARCH_SET_CPUID); a new thread or process
	 * keeps the setting. 'on' < 0 only asks. Returns the setting, or -1 if the model
	 * cannot make it fault. */
	int (*trap)(struct cpu *c, enum cpu_trap insn, int on);
	/* Run system calls through 's' from now on where the model can; NULL: stop that. */
	void (*serve)(struct cpu *c, const struct cpu_server *s);
	/* Make 'run' return CPU_INTERRUPT soon, at a point where the user state is whole
	 * (a signal is waiting). Safe in a signal handler and from the server's thread. */
	void (*kick)(struct cpu *c);
	/* fork() of kvmse with the program: in the child, the model goes on with a copy of
	 * itself in the state it stopped in. 'host_fork(arg)' makes the host process, as
	 * fork() would (one thread of the model's runs meanwhile). Returns as fork() does. */
	pid_t (*fork)(struct cpu *c, pid_t (*host_fork)(void *arg), void *arg);
	/* Run fn(arg) in a process with no thread but the caller's (the model's own gone
	 * meanwhile: what the host allows only such a process, a new user namespace, say),
	 * and go on with the program's state as it was. The program has one thread, stopped
	 * in a system call. Returns fn's result. */
	long (*alone)(struct cpu *c, long (*fn)(void *arg), void *arg);
	/* A CPU for a new thread of the program, with c's state (the caller's, stopped in
	 * a system call; the memory lock held); NULL if the model has no more. Its 'run'
	 * is called on the new thread. */
	struct cpu *(*clone)(struct cpu *c);
	/* The thread of c has ended (the memory lock held); c may serve a later clone. */
	void (*retire)(struct cpu *c);
	/* The statistics of every CPU of the program, summed. */
	void (*stats)(struct cpu *c, struct cpu_stats *sum);
	/* Every CPU of the program goes (no thread runs one). */
	void (*destroy)(struct cpu *c);
	/* The process is about to exit (no thread runs a CPU): leave what is left to free
	 * to be freed after the exit, off a waiting parent's path. False: free it now. */
	bool (*leave)(struct cpu *c);
};

struct cpu {
	const struct cpu_ops *ops;
	struct mem *mem;
	struct cpu_stats stats;
};

/* An area of the vDSO a model gives the program, as /proc/self/maps names it. */
struct cpu_vdso_area {
	uint64_t start, end;
	char name[16];
};
#define VDSO_AREAS 4

/* The host features the guest sees, so the loader can fill the auxv like Linux. */
struct cpu_features {
	uint64_t hwcap, hwcap2;
	uint64_t vdso;          /* AT_SYSINFO_EHDR: the vDSO's ELF image (0: none) */
	struct cpu_vdso_area vdso_areas[VDSO_AREAS];    /* its areas, the code last */
	unsigned nvdso_areas;
	uint64_t minsigstksz;
	uint32_t xsave_size;    /* the XSAVE image of the enabled features (0: FXSAVE only) */
	uint64_t xfeatures;     /* XCR0 */
};

/* Create the KVM model for 'mem' (NULL with a message printed if /dev/kvm is unusable). */
struct cpu *kvm_cpu_create(struct mem *mem, struct cpu_features *f);

#endif
