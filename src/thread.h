/* thread.h - guest threads: the run loop, clone of a thread, a thread's and the process's end. */
#ifndef KVMSE_THREAD_H
#define KVMSE_THREAD_H
#include "proc.h"
#include <stdnoreturn.h>

/* Run thread p until it ends; then its host thread ends, or kvmse with the process. */
noreturn void thread_run(struct proc *p);
/* clone with CLONE_VM: a new thread in the process, with its own CPU and host thread. */
long thread_clone(struct proc *p, uint64_t flags, gva_t stack, gva_t ptid, gva_t ctid, uint64_t tls);
/* The live thread with this tid, or NULL. */
struct proc *thread_find(struct process *ps, pid_t tid);
/* Start p's CPU serving system calls without stopping, if the process does (--syscalls). */
void thread_serve(struct proc *p);
/* p's server, if any, ends and a new one starts later, sharing what p's host thread has
 * now (namespaces, credentials). Not from a call the server handed back. */
void thread_renew_server(struct proc *p);
/* execve: every other thread ends (as Linux's de_thread); returns once they have. */
void thread_end_others(struct proc *p);
/* Returns once the host threads of every guest thread that has ended have exited (a
 * host fork must not leave locks their way out holds). */
void thread_wait_ended(struct process *ps);
/* Put p on its process's thread list. */
void thread_add(struct proc *p);

#endif
