/* sys.h - the system-call layer: one handler per call, sys_<name>(proc, args). */
#ifndef KVMSE_SYS_H
#define KVMSE_SYS_H
#include "../fd.h"
#include "../proc.h"
#include <errno.h>
#include <limits.h>
#include <signal.h>

#define TASK_SIZE 0x7ffffffff000ULL     /* the top of user memory */

typedef long (*sys_handler)(struct proc *p, const uint64_t a[6]);

#define SC(nr, name, fmt) long sys_##name(struct proc *p, const uint64_t a[6]);
#include "syscalls.def"
#undef SC

/* Run the system call in 'r' (number in rax) and put its result in rax. */
void sys_dispatch(struct proc *p, struct cpu_regs *r);
const char *sys_name(unsigned nr);
/* The same for a CPU model's syscall server (struct cpu_server): the calls it may run,
 * and one call with no registers at hand ('ctx' is the proc). */
bool sys_may_serve(unsigned nr);
long sys_serve(void *ctx, uint64_t nr, const uint64_t a[6], uint64_t ip, bool *stop);
bool sys_caller_only(uint64_t nr, const uint64_t a[6]);
void sys_thread_follow(struct proc *p);
/* On the vCPU thread, after a change of its capabilities: its server will take them. */
void sys_caps_note(struct proc *p);
/* time.c: the host's clock for the guest's clock id. The guest's CPU time is its vCPU
 * thread's: a syscall server's polling is not the program's (and the calling host
 * thread may be that server). */
clockid_t sys_clock(const struct proc *p, uint64_t id);
/* Does the calling thread have capability 'cap' in its effective set? */
bool sys_has_cap(unsigned cap);

/* Host syscall result -> -errno convention. */
static inline long sys_ret(long rc)
{
	return rc < 0 ? -errno : rc;
}

/* user.c: arguments for a host system call that checks them itself, in Linux's order. */
#define USER_PATH_SLOTS 2
/* The guest's path at 'va' as the host kernel should see it (NULL stays NULL). */
const char *user_path(struct proc *p, uint64_t va, int slot);
/* Is 'host', from user_path(..., slot), a whole NUL-terminated string kvmse may read? */
bool user_path_whole(const char *host, int slot);
/* A host pointer for guest buffer [va, va+len) with access 'acc' for the host kernel
 * (MEM_WRITE: it writes there; copied back by user_finish). NULL stays NULL. */
void *user_buf(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc);
#define user_in(p, va, len) user_buf(p, va, len, MEM_READ)
#define user_out(p, va, len) user_buf(p, va, len, MEM_WRITE)
/* 'len' bytes (at most PATH_MAX) of kvmse's that a faulting page follows: for a copy
 * that must end where the guest's readable memory does. Path slot USER_PATH_SLOTS - 1. */
void *user_scratch(size_t len);
/* A wait's timeout at 'va' (NULL: none) as Linux checks it first: 0, -EFAULT, -EINVAL;
 * what was read goes to *out (if 'out'). */
struct timespec;
long user_timeout_check(struct proc *p, uint64_t va, struct timespec *out);
/* An address that faults in the host kernel (a PROT_NONE page of kvmse's). */
void *user_buf_poison(void);
/* After the host call: copy bounce buffers back, free them. */
void user_finish(struct proc *p);
/* A descriptor for the host: kvmse's own become one that is never open. */
static inline int user_fd(uint64_t fd)
{
	return fd_hidden((int)fd) ? INT_MAX : (int)fd;
}
/*
 * An argument kvmse does not know the meaning of: an integer or a pointer, it cannot
 * tell. Small values (below the host's mmap_min_addr, where nothing of kvmse is mapped)
 * go as they are; others become an address that faults, so a call that would
 * dereference it gets EFAULT and never reaches kvmse's memory.
 */
static inline uint64_t user_opaque(uint64_t v)
{
	return v < 65536 ? v : (uint64_t)(uintptr_t)user_buf_poison();
}

/* net.c: does the control data name a descriptor of kvmse's (SCM_RIGHTS)? */
struct msghdr;
bool sys_passes_hidden(struct msghdr *h);
/* uring.c: is fd an io_uring of the program's? mmap of one of its rings. */
bool uring_is(int fd);
/* In a forked child: the parent's rings are not served (kvmse's state of them is the
 * parent's). */
void uring_forked(void);
long uring_mmap(struct proc *p, int fd, gva_t start, uint64_t len, int prot, uint64_t off);

/* strace.c: the strace line of call 'nr' with strace format 'fmt' (see syscalls.def):
 * strace_enter before the call, strace_leave after it. */
void strace_enter(struct proc *p, unsigned nr, const char *fmt, const uint64_t a[6]);
void strace_leave(struct proc *p, unsigned nr, const char *fmt, const uint64_t a[6], long ret);

/* fs.c: host iovecs for guest buffer [va, va+len) appended at iov[*n], ending where the
 * guest's memory ends with a segment that faults (one that outlives the call if
 * 'lasting'); false if it does end early. */
bool sys_add_segments(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc,
		      struct iovec *iov, int *n, int max, bool lasting);

/* fs.c: does a kvmse process run the file at 'path' (ETXTBSY)? */
bool sys_running_program(const char *path);

/* path.c: does 'path' name the running program (/proc/self/exe and the like)? */
bool sys_is_self_exe(const char *path);

/* procfs.c: open one of the /proc files that must show the guest (its maps); -ENOENT if
 * 'path' is none of them. */
long procfs_open(struct proc *p, const char *path, int flags);
/* ... and its ioctl PROCMAP_QUERY on host descriptor fd (-ENOTTY: not one of those). */
#define PROCMAP_QUERY _IOC(_IOC_READ | _IOC_WRITE, 'f', 17, 104)  /* (104: its struct's size) */
long procfs_query(struct proc *p, int fd, gva_t arg);
/* A descriptor the host opened at 'path', unless it is /proc's mem of a process of
 * kvmse's (its own or another's, whose memory is not the program's): -EACCES then. A
 * debugger falls back to PTRACE_PEEKDATA, which is the program's memory. */
long procfs_opened(long fd, const char *path);
/* Is fd one of those files (a memfd here, a file with no page cache on Linux)? */
bool procfs_is(int fd);
/* ... and show the guest's program as this process to others (and to itself, in
 * /proc/self/auxv): its name (the file's, a script's and not its interpreter's), its
 * argv and envp as command line and environ, the auxiliary vector the loader gave it. */
void procfs_show(const struct process *ps, const char *file, char *const argv[], char *const envp[]);


/* A thread id argument: 0, the calling thread, is the guest's (not a server thread). */
static inline pid_t sys_pid(const struct proc *p, uint64_t pid)
{
	return (pid_t)pid == 0 ? p->tid : (pid_t)pid;
}

/* signal.c: the guest's signal state. Bit sig-1 of a mask stands for signal 'sig'. */
#define SIGBIT(sig) (1ULL << ((sig) - 1))
#define SIG_DFL_V ((uint64_t)(uintptr_t)SIG_DFL)     /* dispositions as struct ksigaction holds them */
#define SIG_IGN_V ((uint64_t)(uintptr_t)SIG_IGN)
#define SIG_UNBLOCKABLE (SIGBIT(SIGKILL) | SIGBIT(SIGSTOP))
/* Delivered before the others, as Linux does (the faults' signals) */
#define SIG_SYNCHRONOUS (SIGBIT(SIGSEGV) | SIGBIT(SIGBUS) | SIGBIT(SIGILL) | SIGBIT(SIGTRAP) | \
			 SIGBIT(SIGFPE) | SIGBIT(SIGSYS))
#define SIG_DEFAULT_IGNORE (SIGBIT(SIGCHLD) | SIGBIT(SIGURG) | SIGBIT(SIGWINCH) | SIGBIT(SIGCONT))
#define SA_RESTORER 0x04000000
#define SA_EXPOSE_TAGBITS 0x00000800
#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define LINUX_MINSIGSTKSZ 2048u         /* what sigaltstack requires at least */
#define SIG_DEFAULT_STOP (SIGBIT(SIGSTOP) | SIGBIT(SIGTSTP) | SIGBIT(SIGTTIN) | SIGBIT(SIGTTOU))
/* The guest starts with kvmse's dispositions (ignored ones stay so across exec). */
void sig_init(struct proc *p);
/* The entries of a new signal queue (a thread's own, the process's), and their end. */
struct sigq_entry *sig_queue_alloc(void);
void sig_queue_free(struct sigq_entry *q);
void sig_set_mask(struct proc *p, uint64_t mask);
/* A new process starts with no signal pending. */
void sig_forget_pending(struct proc *p);
/* A host call the vCPU thread makes for the program: a signal that comes meanwhile
 * ends it, even one that came just before it started. */
void sig_call_begin(struct proc *p);
void sig_call_end(struct proc *p);
/* Around a call that may reach a terminal: this host thread blocks SIGTTIN and SIGTTOU
 * as the guest thread does. */
uint64_t sig_tty_begin(struct proc *p);
void sig_tty_end(uint64_t added);
/* The thread ends (or is the child of a fork, which has none of kvmse's timers). */
void sig_thread_gone(struct proc *p, bool forked);
void sig_set_action(struct proc *p, int sig, const struct ksigaction *act);
/* Queue a fault's signal for p, which is delivered even if blocked or ignored (then by
 * its default action). */
void sig_force(struct proc *p, const struct ksiginfo *info);
/* Take the next pending signal among 'allowed' (faults' first, then the lowest); 0: none. */
int sig_dequeue(struct proc *p, uint64_t allowed, struct ksiginfo *info);
/* The lock of the process's signal queues (signals blocked meanwhile). */
void sig_lock(struct sighand *s, sigset_t *old);
void sig_unlock(struct sighand *s, const sigset_t *old);
/* The pending signals a signalfd takes go to it now. */
void sig_to_signalfds(struct proc *p);
/* sigfd.c: (lock held) write a signal to a signalfd that takes it; false if none can. */
bool sigfd_post(struct sighand *sh, const struct ksiginfo *info);
/* (lock held) The signals the signalfds hold that the program has not read. */
uint64_t sigfd_unread(struct sighand *sh);
/* In a forked child: new pipes for its signalfds, which its parent's were. */
void sigfd_fork(struct proc *p);
/* Is fd one of the program's signalfds (a pipe here, where Linux's has no splice)? */
bool sigfd_is(struct proc *p, int fd);
/* Add the signals of mask 'bits' (bit sig-1) to a host sigset, or take them out. */
void sig_host_bits(sigset_t *set, uint64_t bits, bool add);
/* (on p's vCPU thread) Unblock on the host what the guest no longer has pending. */
void sig_release(struct proc *p);
/* Is a signal waiting that the program must see now? sig_wakes: or the thread must end,
 * or a signal came that a sigtimedwait in progress waits for, or a tracer's
 * PTRACE_INTERRUPT. */
bool sig_deliverable(struct proc *p);
bool sig_wakes(struct proc *p);
/* Sleep until a signal of 'set' is pending (blocked or not) or *flag is set. */
void sig_wait_for(struct proc *p, uint64_t set, atomic_bool *flag);
bool sig_on_altstack(const struct sigstate *s, uint64_t sp);
/* sigaltstack's change for a program at 'sp' (also rt_sigreturn's, from uc_stack): 0 or
 * -EPERM (on the alternate stack), -EINVAL, -ENOMEM. */
long sig_set_altstack(struct sigstate *s, uint64_t sp, uint64_t ss_sp, int flags, uint64_t size);
/* The mask a wait takes for its duration (ppoll, pselect6, epoll_pwait, at 'va', NULL
 * for none), as Linux's set_user_sigmask: 0, -EINVAL (size) or -EFAULT. After the wait,
 * sig_wait_done gives the caller's mask back, unless the wait ended with EINTR: then the
 * handler's frame gets it (sig_deliver). Returns 'rc'. */
long sig_wait_mask(struct proc *p, uint64_t va, uint64_t size);
long sig_wait_done(struct proc *p, long rc);
/* A signal the guest thread gets from its own system call (SIGPIPE: Linux sends it to
 * the thread). */
long sys_self_signal(struct proc *p, int sig);

/* sigframe.c: on the way back to the program, after a stop of the CPU, deliver what is
 * deliverable; 'nr' is the system call just completed (its result in rax), or -1. */
void sig_deliver(struct proc *p, struct cpu_regs *r, int64_t nr);
/* The FPU state a signal handler or a new program starts with (fpu__clear_user_states). */
void sig_init_fpu(struct proc *p);
/* execve: handlers become the default again; the alternate stack is gone. */
void sig_exec(struct proc *p);
/* Turn the CPU's exception into the signal Linux sends for it (or grow the stack). */
void sig_fault(struct proc *p, const struct cpu_regs *r, const struct cpu_event *ev);

/* Queue 'info' again for p (a signal a tracer gave that p blocks). */
void sig_requeue(struct proc *p, const struct ksiginfo *info);
/* The host's dispositions follow the guest's again, for every signal (a tracer came or
 * went: a traced program takes every signal through kvmse). */
void sig_follow_all(struct proc *p);

/* ptrace.c: the tracee's stops and the tracer's view of them. On the vCPU thread unless
 * said. */
void ptrace_follow(struct proc *p);
/* In a forked child: not traced. */
void ptrace_forked(struct proc *p);
/* A clone of a process (flags, exit signal) the tracer asked to follow: its
 * PTRACE_EVENT_* (0: not traced so). The parent stops for it once the child exists, and
 * a vfork's parent again once the child has let it go (PTRACE_O_TRACEVFORKDONE); the
 * child waits for the tracer's attach (ptrace_child_start). */
int ptrace_fork_event(struct proc *p, uint64_t flags, uint64_t exit_signal);
void ptrace_fork_stop(struct proc *p, int event, pid_t child);
void ptrace_vfork_done(struct proc *p, pid_t child);
void ptrace_child_start(struct proc *p);
/* (kvmse's SIG_KICK handler) A message of ptrace's? *sig: a signal for the program. */
bool ptrace_message(struct process *ps, struct proc *self, const siginfo_t *si, int *sig);
/* A signal-delivery stop for 'sig' after call 'nr' (-1: none): the signal to deliver
 * instead (0: none). */
int ptrace_signal(struct proc *p, struct cpu_regs *r, int sig, struct ksiginfo *info, int64_t nr);
/* The default action of a stop signal when traced (false: not traced). */
bool ptrace_group_stop(struct proc *p, struct cpu_regs *r, int sig);
/* After a stop of kvmse's on the host (a stop signal's default action, untraced): a
 * tracer that seized it meanwhile sees that group stop. */
void ptrace_seized_stopped(struct proc *p, struct cpu_regs *r, int sig);
/* The stop a tracer's PTRACE_INTERRUPT asked for, if any. */
void ptrace_interrupted(struct proc *p, struct cpu_regs *r);
void ptrace_exec(struct proc *p);
/* Before the thread ends with wait status 'status' (exit, exit_group, a fatal signal). */
void ptrace_exit(struct proc *p, struct cpu_regs *r, int status);
/* Syscall stops: false if the tracer skips the call; *nr may change. */
bool ptrace_syscall_enter(struct proc *p, struct cpu_regs *r, int64_t *nr);
void ptrace_syscall_exit(struct proc *p, struct cpu_regs *r, int64_t nr);
/* (the tracer) Child 'pid''s stop, which a wait reported: true with *status as the
 * program made it, false if it was passed on (wait again). 'consumed': the wait took it
 * (not WNOWAIT); a fork event's child is attached then. */
bool ptrace_wait_stop(pid_t pid, int *status, bool consumed);
/* Is process 'pid' a tracee of this one's (attached or seized here, or whose options
 * were set here)? */
bool ptrace_traces(pid_t pid);

/* strace.c: the line for a delivered signal (--- SIGSEGV {...} ---). */
void strace_signal(struct proc *p, const struct ksiginfo *info);

/* The guest terminates now: signal 0 means exit with 'status'. */
void sys_terminate(struct proc *p, int status, int sig);
/* Load what pthread_exit needs while the files are still reachable (set*id, chroot). */
void sys_keep_unwinder(void);
/* The robust futexes a thread that ends still holds (set_robust_list). */
void futex_exit_robust(struct proc *p);

/* ptimer.c: the program's POSIX timers. Whether host timer 'id' stands for one whose
 * signal (*sig; *thread: its thread's own) the kick carries (async-signal-safe); those
 * an execve ends; a forked child has none; the list's memory, at the end. */
bool ptimer_proxied(struct process *ps, int id, int *sig, bool *thread);
/* Whether host timer 'id' signals a thread of its own (SIGEV_THREAD_ID) with the
 * program's signal (async-signal-safe). */
bool ptimer_threaded(struct process *ps, int id);
void ptimer_exec(struct proc *p);
/* The program took a signal of timer 'id' with this overrun count. */
void ptimer_taken(struct process *ps, int id, int overrun);
void ptimer_forked(struct proc *p);
void ptimer_free(struct process *ps);
/* aio.c: execve ends the program's AIO contexts (after their I/O); a forked child has
 * none. */
void aio_exec(void);
void aio_forked(void);
/* uffd.c: ioctl requests of type 0xAA; a page fault a userfaultfd context resolves (0:
 * run the access again; MM_SIGBUS); a forked child's and execve's end of the contexts. */
long uffd_ioctl(struct proc *p, const uint64_t a[6]);
int uffd_fault(struct proc *p, gva_t addr, bool write);
void uffd_forked(struct proc *p);
/* Is fd one of the program's userfaultfd contexts (a pipe here)? */
bool uffd_is(int fd);
void uffd_exec(void);
/* seccomp.c: before system call nr (made at 'ip'): false to run it, or true with
 * *ret the result it gets instead (the thread or the process may have ended); prctl's
 * PR_SET_SECCOMP and PR_GET_SECCOMP. */
bool seccomp_blocks(struct proc *p, unsigned nr, const uint64_t a[6], uint64_t ip, long *ret);
long seccomp_prctl(struct proc *p, const uint64_t a[6]);
/* seccomp_notify.c: a listener (the program's descriptor, or -errno; kvmse's end, hidden,
 * in *kvmse_end); a call sent to the supervisor through kvmse's end '*listener' (false:
 * run it; true: *ret is its result); the listener's ioctls (*handled false: fd is not
 * one). */
struct seccomp_data;
int seccomp_listener_new(int *kvmse_end);
bool seccomp_notify(struct proc *p, const int *listener, const struct seccomp_data *d, long *ret);
long seccomp_listener_ioctl(struct proc *p, const uint64_t a[6], bool *handled);

/* execmark.c: which children have exec'd (setpgid on them is EACCES). Before a host
 * fork, in its child, at an execve, and the question. */
void execmark_before_fork(void);
void execmark_forked(void);
void execmark_exec(void);
bool execmark_child_execd(pid_t pid);

/* vfork.c: a CLONE_VM|CLONE_VFORK child's writes reach its parent. */
void vfork_snapshot(struct proc *p, bool other_threads, gva_t sp);
void vfork_release(struct proc *p);
void vfork_wait(struct proc *p, int done[2]);

#endif
