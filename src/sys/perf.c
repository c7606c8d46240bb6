/* perf.c - perf_event_open: the host's counters, on the host thread that runs the guest
 * thread's vCPU (its time in the guest counts; what the syscall server does for it does
 * not). Hardware events exist only where the host has a PMU (not on kvm_pvm). */
#include "sys.h"
#include "../util.h"
#include <linux/perf_event.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

long sys_perf_event_open(struct proc *p, const uint64_t a[6])
{
	uint32_t head[2];       /* type, size */
	if (mem_read(p->mem, head, a[0], sizeof(head)) < 0)
		return -EFAULT;
	uint32_t size = head[1] ? head[1] : PERF_ATTR_SIZE_VER0;
	/* (Linux's perf_copy_attr: the size it knows is written back with E2BIG) */
	if (size > PAGE_SIZE || size < PERF_ATTR_SIZE_VER0) {
		uint32_t known = sizeof(struct perf_event_attr);
		mem_write(p->mem, a[0] + 4, &known, sizeof(known));
		return -E2BIG;
	}
	const void *attr = user_in(p, a[0], size);
	/* pid 0 is the calling guest thread, whichever host thread makes the call */
	return HOST(SYS_perf_event_open, attr, sys_pid(p, a[1]), (int)a[2], user_fd(a[3]),
		    (unsigned long)a[4]);
}
