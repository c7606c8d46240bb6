/* landlock.c - Landlock: the host's rulesets and domains. A domain restricts the host
 * thread that asks for it, and what it starts later: kvmse's file system calls for the
 * guest thread run on its vCPU thread (where landlock_restrict_self runs: syscall.c) or
 * on its syscall server, which is started afresh inside the new domain. kvmse's own
 * accesses are restricted as the program's would be (its execve reads the new program:
 * that needs the right to read it, not only to execute it). */
#include "sys.h"
#include "../util.h"
#include "../thread.h"
#include <sys/syscall.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define FD(i) user_fd(a[i])
#define RULE_PATH_BENEATH 1
#define RULE_NET_PORT 2

long sys_landlock_create_ruleset(struct proc *p, const uint64_t a[6])
{
	/* (more than a page is E2BIG before the host reads any of it) */
	void *attr = a[1] > PAGE_SIZE ? (void *)(uintptr_t)user_opaque(a[0]) : user_in(p, a[0], a[1]);
	return HOST(SYS_landlock_create_ruleset, attr, a[1], (unsigned)a[2]);
}

/* The rule's descriptor is the guest's; a rule that cannot be read faults in the host. */
long sys_landlock_add_rule(struct proc *p, const uint64_t a[6])
{
	struct __attribute__((packed)) { uint64_t access; int32_t fd; } beneath;
	void *attr = (void *)(uintptr_t)user_opaque(a[2]);
	if ((unsigned)a[1] == RULE_PATH_BENEATH) {
		attr = user_buf_poison();
		if (mem_read(p->mem, &beneath, a[2], sizeof(beneath)) == 0) {
			beneath.fd = user_fd((uint64_t)(int64_t)beneath.fd);
			attr = &beneath;
		}
	} else if ((unsigned)a[1] == RULE_NET_PORT) {
		attr = user_in(p, a[2], 16);
	}
	return HOST(SYS_landlock_add_rule, FD(0), (unsigned)a[1], attr, (unsigned)a[3]);
}

long sys_landlock_restrict_self(struct proc *p, const uint64_t a[6])
{
	long rc = HOST(SYS_landlock_restrict_self, FD(0), (unsigned)a[1]);
	if (rc == 0)
		thread_renew_server(p);
	return rc;
}
