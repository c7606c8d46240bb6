/* admin.c - calls that administer the machine rather than the process: reboot, syslog,
 * swapon, swapoff, vhangup. They are the host's, with the program's rights (kvmse's
 * process has them): what root may do natively, it may do here. */
#include "sys.h"
#include <linux/reboot.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

/* Only LINUX_REBOOT_CMD_RESTART2's argument is a string (a command for the firmware). */
long sys_reboot(struct proc *p, const uint64_t a[6])
{
	const void *arg = (unsigned)a[2] == LINUX_REBOOT_CMD_RESTART2 ? user_path(p, a[3], 0)
								     : (const void *)(uintptr_t)user_opaque(a[3]);
	return HOST(SYS_reboot, (int)a[0], (int)a[1], (unsigned)a[2], arg);
}

/* The kernel's log: actions 2, 3 and 4 read it into the buffer (its length in a[2]). */
long sys_syslog(struct proc *p, const uint64_t a[6])
{
	int type = (int)a[0], len = (int)a[2];
	bool reads = type == 2 || type == 3 || type == 4;
	void *buf = reads ? user_out(p, a[1], len > 0 ? (uint64_t)len : 0) : (void *)(uintptr_t)user_opaque(a[1]);
	return HOST(SYS_syslog, type, buf, len);
}

long sys_swapon(struct proc *p, const uint64_t a[6]) { return HOST(SYS_swapon, user_path(p, a[0], 0), (int)a[1]); }
long sys_swapoff(struct proc *p, const uint64_t a[6]) { return HOST(SYS_swapoff, user_path(p, a[0], 0)); }
long sys_vhangup(struct proc *p, const uint64_t a[6])
{
	(void)p;
	(void)a;
	return HOST(SYS_vhangup);
}
