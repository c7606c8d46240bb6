/* proc.h - one guest process: its memory map, program break, signal state and exit status. */
#ifndef KVMSE_PROC_H
#define KVMSE_PROC_H
#include "cpu.h"
#include "mem.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#define VMA_GROWSDOWN 1u                /* the main stack: grows on faults below it */
#define VMA_HEAP      2u                /* the program break's area */
#define VMA_SHARED    4u                /* MAP_SHARED: host memory a fork shares, or the file */
#define VMA_NOWRITE   8u                /* shared, of a file not open for writing */
#define VMA_SHM       16u               /* a System V shared memory segment (shmat) */
#define VMA_LOCKED    32u               /* mlock: its host pages are locked too */
#define VMA_SEALED    64u               /* mseal: no unmap, move, resize or mprotect */
#define VMA_DROPPABLE 128u              /* MAP_DROPPABLE: the host may take its pages (zeros) */
#define VMA_HUGE_2M   256u              /* hugetlb memory of 2 MiB pages (the host's) */
#define VMA_HUGE_1G   512u              /* ... of 1 GiB pages */
#define VMA_HUGE (VMA_HUGE_2M | VMA_HUGE_1G)
#define VMA_NORESERVE 1024u             /* MAP_NORESERVE: not charged to overcommit */
/* Bits from VMA_FILE_SHIFT up: the mapped file, 1 + its index in process.files (0: none). */
#define VMA_FILE_SHIFT 12

/* A file something maps, named in /proc/self/maps as Linux names it. */
struct mapped_file {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct vma {
	gva_t start, end;
	int prot;                       /* PROT_* */
	unsigned flags;                 /* VMA_* */
	uint64_t pgoff;                 /* as Linux's vm_pgoff: page of 'start' when created */
	unsigned uffd;                  /* userfaultfd: UFFDIO_REGISTER_MODE_* | MM_UFFD_CTX(i) */
};
#define MM_UFFD_CTX(i) (((unsigned)(i) + 1) << 4)  /* context i of uffd.c's (0: none) */
#define MM_UFFD_MODES 7u

/* The kernel's struct sigaction for x86-64 (rt_sigaction's layout). */
struct ksigaction {
	uint64_t handler, flags, restorer, mask;
};

/* Linux's siginfo: 128 bytes, signo, errno, code, then a union from byte 16. */
struct ksiginfo {
	int32_t signo, errno_, code, pad;
	union {
		struct { int32_t pid; uint32_t uid; uint64_t value; } kill;
		struct { uint64_t addr; } fault;
		uint8_t raw[112];
	};
};

/* Signals waiting for a thread, or for whichever thread of the process takes them. The
 * entries are reserved with the queue (sig_queue_alloc), room for RLIMIT_SIGPENDING's
 * hard limit at kvmse's start: a signal handler may add one, and cannot allocate. */
struct sigqueue {
	_Atomic uint64_t pending;       /* queued (bit sig-1) */
	int nq, head;                   /* a ring: the oldest at q[head] */
	int count[64];                  /* queued of each signal */
	struct sigq_entry { int sig; struct ksiginfo info; } *q;
};

/*
 * What the threads of a process share of signals: dispositions and the process's queue.
 * The host signal handler (signal.c) queues signals that come from outside, on whichever
 * thread runs it, so the queues have a lock; 'pending' and masks are read without it.
 */
/* A signalfd (sigfd.c): the program reads a pipe, where kvmse writes the signals it
 * takes. */
#define SIGFD_MAX 16
#define PTIMER_PROXIES 64               /* timers of signal 32 or 33 (ptimer.c) */
#define PTIMER_THREADED 512             /* timers for a thread (ptimer.c) */
#define SIGFD_LOG 512                   /* records a pipe of 64 KiB holds */
struct sigfd {
	int wr;                         /* kvmse's end (0: a free slot; -1: being changed;
					 * its own are high) */
	dev_t dev;                      /* the program's end, as fstat tells it */
	ino_t ino;
	_Atomic uint64_t mask;
	uint32_t written;               /* records written: the last ones are in log */
	uint8_t log[SIGFD_LOG];         /* their signal numbers, in a ring */
};

struct sighand {
	struct ksigaction act[65];
	_Atomic uint64_t ignored;       /* SIG_IGN, or SIG_DFL whose default is to ignore */
	uint64_t host_handled;          /* kvmse's handler takes these on the host */
	int host_chld;                  /* SA_NOCLDSTOP and SA_NOCLDWAIT of the host's SIGCHLD */
	atomic_flag lock;               /* every queue of the process, and the signalfds */
	struct sigqueue shared;
	struct sigfd sfd[SIGFD_MAX];
	_Atomic uint64_t sfd_mask;      /* what the signalfds take, together */
};

/* A thread's own signal state. */
struct sigstate {
	_Atomic uint64_t mask;          /* blocked (bit sig-1) */
	_Atomic uint64_t waitset;       /* what a sigtimedwait in progress waits for */
	_Atomic uint64_t host_held;     /* blocked on its host thread until the guest takes
					 * them (signal.c host_handler) */
	struct sigqueue own;            /* sent to this thread (tgkill, faults) */
	uint64_t saved_mask;            /* rt_sigsuspend's caller's mask ... */
	bool restore_mask;              /* ... to restore once a handler is set up */
	gva_t ss_sp;                    /* sigaltstack */
	uint64_t ss_size;
	int ss_flags;
	uint64_t trapno, err, cr2;      /* the last fault's, as the kernel's thread struct */
	uint32_t xsave_size;            /* of the FPU state in frames (0: FXSAVE) */
	uint64_t xfeatures;
	atomic_bool in_call;            /* its vCPU thread makes a host call for it */
	atomic_bool rekick_armed;       /* ... and must be kicked again (signal.c rekick) */
	_Atomic int rekick_made;        /* 0: no timer yet, 1: being made, 2: rekick_timer */
	int rekick_timer;
	struct timespec sleep_left;     /* an interrupted relative sleep's rest ... */
	bool sleep_resume;              /* ... which its restart sleeps (time.c) */
};

struct proc_stats {
	uint64_t syscalls[512];
	uint64_t syscalls_unknown;
	uint64_t page_faults, stack_growths;
	uint64_t signal_frames;
};

/* How system calls travel from the program to kvmse (--syscalls). */
enum transport { TRANSPORT_AUTO, TRANSPORT_EXIT, TRANSPORT_EXITLESS };

struct options {
	bool strace, quiet;
	const char *stats_file;
	uint64_t memory;
	enum transport syscalls;
	const char *argv0;              /* -0: the program's argv[0] */
	const char *prefix;             /* -L: absolute paths are looked up here first */
};

/* A host copy of guest memory for one system call (sys/user.c). */
struct bounce {
	void *map;
	size_t maplen;
	void *host;
	uint64_t va, len;
	bool copy_out;
};

#define THREADS_MAX 1024

/* One guest process: what its threads share. */
struct process {
	struct mem mem;
	const struct options *opt;
	struct vma *vmas;               /* sorted, non-overlapping (under mem.lock) */
	size_t nvma, capvma;
	gva_t brk_start, brk_end;
	gva_t mmap_base;                /* top-down search for free areas starts here */
	gva_t stack_top;
	uint64_t rlim_stack;            /* RLIMIT_STACK's soft limit (the host has it too) */
	gva_t fill_next;                /* where the last fault's fill ended (mm.c's fill) */
	uint64_t fill_len;              /* and how much it gave */
	/* RLIMIT_AS and RLIMIT_DATA are the program's, kept and enforced by kvmse (mm.c): the
	 * host's would limit kvmse, whose reservation of guest memory is far above them. */
	struct rlimit rlim_as, rlim_data;
	/* The highest RLIMIT_NOFILE hard limit the guest has seen or set since it last set
	 * one: what it sees shrinks as kvmse hides more descriptors, and may still be kept. */
	uint64_t nofile_hard;
	char *exe;                      /* absolute host path: /proc/self/exe */
	struct mapped_file *files;      /* every file mapped since the last execve */
	unsigned nfiles;
	struct cpu_features features;   /* what the loader tells a new program (auxv) */
	uint64_t auxv[24][2];           /* the auxiliary vector it gave the program */
	unsigned nauxv;
	/* An ancestor (or this process) is the init of its PID namespace or a child
	 * subreaper: an orphan would be its program's to wait for (thread.c leave_early). */
	bool reaper_above;
	int vfork_done;                 /* a vfork child's end of its parent's pipe, or -1 */
	/* ... and the parent's pages: all of them (a bitmap by gpa) when it has no other
	 * thread, else those of the caller's stack VMA, as they were at the fork */
	uint64_t *vfork_pages;
	struct vfork_page *vfork_base;
	size_t vfork_nbase;
	struct sighand sh;
	/* The program's POSIX timers (ptimer.c, under 'lock'), and those whose signal the
	 * kick carries (id1: the id + 1, 0: a free slot; read by the kick handler). */
	struct ptimer { int id, overrun; } *timers;     /* overrun: timer_getoverrun's */
	size_t ntimers, captimers;
	struct {
		_Atomic int id1;
		int sig;
		bool thread;            /* SIGEV_THREAD_ID: the thread's own */
	} proxies[PTIMER_PROXIES];
	/* The other timers made with SIGEV_THREAD_ID (id + 1, 0: a free slot; read by the
	 * host handler): their signals are the thread's, not the process's. */
	_Atomic int threaded[PTIMER_THREADED];
	bool exitless;                  /* each thread's CPU serves calls (cpu_ops.serve) */
	unsigned serve_after;           /* ... from this many calls on */
	struct proc_stats stats;        /* (counted with relaxed atomics) */
	bool warned[512];
	pthread_mutex_t lock;           /* the thread list */
	pthread_cond_t changed;         /* a thread ended */
	struct proc *threads[THREADS_MAX];      /* the live ones */
	int nthreads;
	int ending;                     /* off the list, still giving back their CPU */
	uint64_t cpu_gone_ns;           /* the CPU time of the threads that ended */
	struct proc *idle[THREADS_MAX]; /* those that ended, for reuse */
	int nidle;
	uint64_t start_ns;              /* when kvmse started (now_ns) */
	atomic_bool group_exit;         /* exit_group, or a signal that kills them all */
	/* ptrace.c: the thread a tracer traces (its tid; 0: none), the tracer, the options
	 * it gave at the attach, and a change of these the vCPU thread has still to follow. */
	_Atomic pid_t ptraced, ptracer;
	_Atomic unsigned pt_options;    /* (PTRACE_O_SEIZED_: SEIZE, not ATTACH or TRACEME) */
	atomic_bool pt_follow;
	atomic_bool pt_interrupt;       /* PTRACE_INTERRUPT: stop at the next chance */
	int exit_status;
	int exit_signal;                /* terminated by this signal (0: exited) */
};

/* One guest thread: what each system call is made by. */
struct proc {
	struct process *ps;
	struct mem *mem;                /* &ps->mem */
	const struct options *opt;
	struct cpu *cpu;
	struct cpu_regs *regs;          /* the user's registers during a system call */
	/* The guest thread's identity: that of the host thread running its vCPU, whichever
	 * host thread runs a call (the syscall server is another). */
	pid_t tid;
	struct sigstate sig;
	gva_t clear_child_tid, robust_list;
	bool exited;                    /* this thread has ended (or the process) */
	bool host_gone;                 /* ended, and its host thread has exited */
	int exit_code;                  /* exit's status */
	struct bounce bounce[6];
	int nbounce;
	/* Capabilities are each thread's: capset (and prctl's securebits, keepcaps among
	 * them) runs on the vCPU thread, and the syscall server takes the same before its
	 * next call (sys_serve). (The bounding and ambient sets matter at a host execve
	 * only, which a server never makes.) */
	uint32_t caps[6];               /* struct __user_cap_data_struct[2], after a change */
	unsigned secbits;
	_Atomic unsigned caps_gen;      /* changes so far */
	/* The same for the personality (uname answers by it). */
	unsigned long persona;
	_Atomic unsigned persona_gen;
	/* ... and for the filesystem ids (setfsuid, setfsgid; a set*id call resets them). */
	uint32_t fsuid, fsgid;
	_Atomic unsigned fs_gen;
	int seccomp_mode;               /* SECCOMP_MODE_*: sys/seccomp.c */
	bool seccomp_restart;           /* its call, sent to a supervisor, was interrupted */
	const struct seccomp_filter *seccomp;
	struct tracee *pt;              /* ptrace.c: while traced */
};

#define STAT_INC(x) __atomic_fetch_add(&(x), 1, __ATOMIC_RELAXED)

/* mm.c: the process's memory map. */
int mm_map(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags);
/* Linux's may_expand_vm for a mapping of [start, start+len) that replaces what is there:
 * the address space stays within RLIMIT_AS, and private writable memory within
 * RLIMIT_DATA (each summed only when the program has set it). */
bool mm_may_expand(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags);
/* The same with the page offset of a file mapping (what /proc/self/maps shows). */
int mm_map_at(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags, uint64_t pgoff);
/* fn(host address, length, guest address, ctx) over the memory behind [start, end), run
 * by run: what madvise, msync, mlock or mbind must do to the host's own mapping of it.
 * 0, or the last failure's -errno. */
typedef int mm_host_fn(void *host, size_t len, gva_t va, const void *ctx);
int mm_host_call(struct proc *p, gva_t start, gva_t end, mm_host_fn *fn, const void *ctx);
/* An mm_host_fn: munlock of the host memory (ctx unused). */
mm_host_fn mm_host_munlock;
/* The VMAs of [start, end) show the file's pages from 'pgoff' on (remap_file_pages). */
void mm_set_pgoff(struct proc *p, gva_t start, gva_t end, uint64_t pgoff);
/* A mapping whose pages are the host's shared memory (VMA_SHARED: the file 'fd', or
 * anonymous if fd < 0) or a file's pages copy-on-write (MAP_PRIVATE of 'fd'). */
int mm_map_backed(struct proc *p, gva_t start, uint64_t len, int prot, unsigned flags,
		  uint64_t pgoff, int fd);
void mm_unmap(struct proc *p, gva_t start, uint64_t len);
bool mm_cut_refused(struct proc *p, gva_t start, gva_t end);
int mm_protect(struct proc *p, gva_t start, uint64_t len, int prot);
/* Set (or clear) 'flag' of the mapped parts of [start, end), splitting VMAs there. */
void mm_set_flag(struct proc *p, gva_t start, gva_t end, unsigned flag, bool on);
/* A free range of 'len' bytes, top-down from mmap_base, or 0. */
gva_t mm_find_free(struct proc *p, uint64_t len);
bool mm_range_free(struct proc *p, gva_t start, uint64_t len);
/* The VMA holding 'va', or else the first above it; NULL if none. */
struct vma *mm_next(struct proc *p, gva_t va);
/* Is every page of [start, end) mapped? Does a sealed VMA reach into it? */
bool mm_covered(struct proc *p, gva_t start, gva_t end);
bool mm_sealed(struct proc *p, gva_t start, gva_t end);
/* Linux's overcommit check (its heuristic): may a charged mapping of 'len' bytes be
 * made? Could a fork copy every charged VMA? (-ENOMEM if not) */
bool mm_may_charge(uint64_t len);
long mm_fork_charge(struct proc *p);
struct vma *mm_find(struct proc *p, gva_t va);
/* Make a page fault at 'addr' go away (stack growth): 0, or the si_code of the SIGSEGV,
 * or MM_SIGBUS (a file mapping's page past the end of the file). */
#define MM_SIGBUS (-1)
#define MM_UFFD (-2)    /* a userfaultfd context resolves it (uffd_fault) */
int mm_fault(struct proc *p, gva_t addr, bool write, bool exec);
/* The page size of a VMA's memory: 4 KiB, or a hugetlb mapping's (VMA_HUGE_*). */
static inline uint64_t mm_page_size(unsigned flags)
{
	return (flags & VMA_HUGE_1G) ? 1ULL << 30 : (flags & VMA_HUGE_2M) ? 2ULL << 20 : 4096;
}
/* Would a cut at 'start' or 'end' split a hugetlb page (munmap, mprotect: EINVAL)? */
bool mm_cut_huge(struct proc *p, gva_t start, gva_t end);
/* Give the untouched pages of [start, end) theirs (MAP_POPULATE, mlock, MADV_POPULATE_*):
 * 0 or -ENOMEM. */
int mm_populate(struct proc *p, gva_t start, gva_t end);
/* mem.c's miss hook, with the process as its context. */
int mm_miss(void *ctx, gva_t va, bool write);
/* userfaultfd's page states (sys/uffd.c), under the memory lock. Registering [start, end)
 * with 'reg' (MM_UFFD_CTX(i) | modes; 0 unregisters): 0, or the -errno of the first VMA
 * that cannot be. A MISSING page is one with no backing page; a write-protected one is
 * present, read-only and marked PTE_SW_WP; a MINOR one is absent with its backing. */
int mm_uffd_register(struct proc *p, gva_t start, gva_t end, unsigned reg);
/* Drop context ctx's registrations (its last descriptor is closed), or all (ctx -1: a
 * forked child's). */
void mm_uffd_drop(struct proc *p, int ctx);
/* Why a fault at 'addr' waits for a context: a UFFDIO_REGISTER_MODE_*, or 0 (none now);
 * *reg gets the VMA's registration. */
unsigned mm_uffd_reason(struct proc *p, gva_t addr, bool write, unsigned *reg);
/* One page of a resolution at 'va' registered by context 'ctx': 0, -ENOENT (not registered
 * so), -EEXIST (not missing), -ENOMEM. COPY's data (NULL for ZEROPAGE), made read-only if
 * 'wp'; MOVE of src's page; POISON; CONTINUE; WRITEPROTECT on or off. */
int mm_uffd_fill(struct proc *p, int ctx, gva_t va, const void *data, bool wp);
int mm_uffd_move(struct proc *p, int ctx, gva_t dst, gva_t src);
int mm_uffd_poison(struct proc *p, int ctx, gva_t va);
int mm_uffd_continue(struct proc *p, int ctx, gva_t va);
int mm_uffd_wp(struct proc *p, int ctx, gva_t va, bool on);
/* execve: no mapping left, and a new page-table tree (mem_new_root). */
void mm_reset(struct proc *p);
void mm_free(struct process *ps);
unsigned mm_file(struct proc *p, int fd);
/* The same, named 'name' in /proc/self/maps. */
unsigned mm_file_as(struct proc *p, int fd, const char *name);
/* System V shared memory (sys/ipc.c): attach, detach at 'addr' (-EINVAL: none there),
 * detach all. */
int mm_map_shm(struct proc *p, gva_t start, uint64_t len, int prot, int shmid, int shmflg, key_t key);
int mm_shm_detach(struct proc *p, gva_t addr);
void mm_shm_detach_all(struct proc *p);
const struct mapped_file *mm_file_of(const struct proc *p, const struct vma *v);
/* Pages [start, start+len) of a file mapping lie past the end of the file: access is SIGBUS. */
void mm_past_eof(struct proc *p, gva_t start, uint64_t len);
/* Move [old, old+len) to [new, new+len), keeping its pages. */
void mm_move(struct proc *p, gva_t old, gva_t new, uint64_t len);
/* Write into guest memory whatever its protection (the loader's use). */
int mm_poke(struct proc *p, gva_t va, const void *src, uint64_t len);
/* How many pages of VMA v are in memory (the host's pages behind them: /proc's Rss). */
uint64_t mm_resident(struct proc *p, const struct vma *v);
/* Write VMA v's entries of /proc/self/pagemap into 'out' at their offsets: the host's
 * entries (descriptor 'host', its own pagemap) for the pages behind them, a guard
 * page's mark. */
void mm_pagemap(struct proc *p, const struct vma *v, int host, int out);
/* Zero the pages of [start, start+len) (MADV_DONTNEED on private anonymous memory). */
void mm_zero(struct proc *p, gva_t start, uint64_t len);
/* Make the pages of [start, end), inside one VMA, guard pages (their contents dropped
 * first, as MADV_DONTNEED drops them) or ordinary ones again. */
void mm_guard(struct proc *p, gva_t start, gva_t end, bool on);

/* loader.c */
struct cpu_features;
/* A "#!" script becomes its interpreter's run: *path and *argv rewritten as Linux does
 * (up to 4 levels); 0, or -ELOOP. What it allocates is in 's', for loader_script_free.
 * 'probed': loader_probe has judged *path already. */
struct script {
	void *owned[12];
	int n;
};
int loader_script(char **path, char ***argv, struct script *s, bool probed);
void loader_script_free(struct script *s);
/* Would execve of 'path' start here? 0, or the -errno it must fail with. */
long loader_probe(const struct options *o, const char *path);
int loader_exec(struct proc *p, const char *path, char *const argv[], char *const envp[],
		const struct cpu_features *f, struct cpu_regs *regs);
/* The byte whose read lock says a kvmse process runs the file (ETXTBSY); the locks
 * taken (again: a forked child's own, or after a close of the file let them go). */
#define LOADER_BUSY_BYTE (INT64_MAX - 1)
void loader_hold(void);

#endif
