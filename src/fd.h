/* fd.h - kvmse's own file descriptors, kept high and hidden from the guest. */
#ifndef KVMSE_FD_H
#define KVMSE_FD_H
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Move *fdp above the guest's usual range, close-on-exec, and remember where it lives
 * so it can be moved again if the guest dup2()s onto it. */
void fd_hide(int *fdp);
bool fd_hidden(int fd);
/* Move a hidden descriptor out of the way of guest descriptor 'fd' (dup2 target). */
void fd_evict(int fd);
/* Forget *fdp (before closing it). */
void fd_unhide(int *fdp);
/* Forget *fdp and close it, unless another process sharing the table uses it too (it
 * then stays open and hidden); *fdp is -1 after. close's result. */
int fd_close(int *fdp);

/* Descriptor tables shared between processes (clone's CLONE_FILES). Before such a fork:
 * each hides the others' descriptors from now on, and what is hidden now is kept, never
 * closed (false: no memory for that). */
bool fd_share_begin(void);
/* In a forked child: unless it shares its parent's table ('files'), its table is a
 * copy, shared with no one. */
void fd_forked(bool files);
/* The table is this process's alone again (the program's unshare or close_range). */
void fd_share_end(void);
/* execve: a shared table is copied first, as Linux's execve does (true: done; then
 * this thread has a table of its own, and kvmse's other threads the old one). */
bool fd_unshare(void);
/* At the process's end, in a shared table: its own hidden descriptors are closed (the
 * table outlives it). */
void fd_close_own(void);
/* RLIMIT_NOFILE as the guest sees it (what it can open: the host's less the hidden
 * descriptors under it), and back. */
uint64_t fd_limit_guest(uint64_t host);
uint64_t fd_limit_host(uint64_t guest, uint64_t max);

/* kvmse's own files under /proc ("self/pagemap"), reached through the /proc it saw at
 * start (fd_proc_init): a guest that chroots may go where there is none. */
void fd_proc_init(void);
int fd_proc_open(const char *name, int flags);
ssize_t fd_proc_readlink(const char *name, char *buf, size_t size);
/* What host descriptor fd is open on (its /proc link), NUL-terminated in buf: the
 * length, or -1. */
ssize_t fd_target(int fd, char *buf, size_t size);
/* The start of a small file there, NUL-terminated ("" if it cannot be read). */
void fd_proc_read(const char *name, char *buf, size_t size);

/* Call fn for each of the guest's descriptors (not kvmse's own). */
void fd_each_guest(void (*fn)(int fd, void *arg), void *arg);

#endif
