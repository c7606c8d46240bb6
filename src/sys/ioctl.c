/* ioctl.c - ioctl: the requests kvmse knows the argument of, translated; a request that
 * encodes its argument's size and direction (_IOR, _IOW, _IOWR) by that; others get an
 * argument that cannot reach kvmse's memory. */
#include "sys.h"
#include "../util.h"
#include <linux/fs.h>
#include <linux/loop.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define FD(i) user_fd(a[i])

/* The terminal, file and block-device ioctls kvmse knows, with the size of what they
 * read and write. */
static const struct { unsigned long req; unsigned in, out; } ioctls[] = {
	{ TCGETS, 0, sizeof(struct termios) },
	{ TCSETS, sizeof(struct termios), 0 },
	{ TCSETSW, sizeof(struct termios), 0 },
	{ TCSETSF, sizeof(struct termios), 0 },
	{ TIOCGWINSZ, 0, sizeof(struct winsize) },
	{ TIOCSWINSZ, sizeof(struct winsize), 0 },
	{ FIONREAD, 0, sizeof(int) },
	{ TIOCGPGRP, 0, sizeof(pid_t) },
	{ TIOCSPGRP, sizeof(pid_t), 0 },
	{ TIOCGSID, 0, sizeof(pid_t) },
	{ FIONBIO, sizeof(int), 0 },
	{ FIOASYNC, sizeof(int), 0 },
	{ TIOCOUTQ, 0, sizeof(int) },
	/* pseudo-terminals (openpty, grantpt, ptsname) and modem lines */
	{ TIOCSPTLCK, sizeof(int), 0 },
	{ TIOCGPTLCK, 0, sizeof(int) },
	{ TIOCGPTN, 0, sizeof(unsigned) },
	{ TIOCPKT, sizeof(int), 0 },
	{ TIOCGPKT, 0, sizeof(int) },
	{ TIOCGEXCL, 0, sizeof(int) },
	{ TIOCGETD, 0, sizeof(int) },
	{ TIOCSETD, sizeof(int), 0 },
	{ TIOCSTI, sizeof(char), 0 },
	{ TIOCMGET, 0, sizeof(int) },
	{ TIOCMSET, sizeof(int), 0 },
	{ TIOCMBIS, sizeof(int), 0 },
	{ TIOCMBIC, sizeof(int), 0 },
	{ TCGETA, 0, sizeof(struct termio) },
	{ TCSETA, sizeof(struct termio), 0 },
	{ TCSETAW, sizeof(struct termio), 0 },
	{ TCSETAF, sizeof(struct termio), 0 },
	/* the VFS's own, for any file (fs/ioctl.c) */
	{ FIGETBSZ, 0, sizeof(int) },
	{ FIBMAP, sizeof(int), sizeof(int) },
	{ FIOQSIZE, 0, sizeof(long long) },
	{ FS_IOC_GETFLAGS, 0, sizeof(long) },
	{ FS_IOC_SETFLAGS, sizeof(long), 0 },
	{ FS_IOC_GETVERSION, 0, sizeof(long) },
	/* block devices (mkfs, losetup, LTP's test devices) */
	{ BLKROSET, sizeof(int), 0 },
	{ BLKROGET, 0, sizeof(int) },
	{ BLKGETSIZE, 0, sizeof(long) },
	{ BLKRAGET, 0, sizeof(long) },
	{ BLKFRAGET, 0, sizeof(long) },
	{ BLKSSZGET, 0, sizeof(int) },
	{ BLKDISCARD, 2 * sizeof(uint64_t), 0 },
	{ BLKSECDISCARD, 2 * sizeof(uint64_t), 0 },
	{ BLKZEROOUT, 2 * sizeof(uint64_t), 0 },
	{ BLKIOMIN, 0, sizeof(unsigned) },
	{ BLKIOOPT, 0, sizeof(unsigned) },
	{ BLKALIGNOFF, 0, sizeof(int) },
	{ BLKPBSZGET, 0, sizeof(unsigned) },
	{ BLKDISCARDZEROES, 0, sizeof(unsigned) },
	{ BLKROTATIONAL, 0, sizeof(unsigned short) },
	/* loop devices */
	{ LOOP_SET_STATUS, sizeof(struct loop_info), 0 },
	{ LOOP_GET_STATUS, 0, sizeof(struct loop_info) },
	{ LOOP_SET_STATUS64, sizeof(struct loop_info64), 0 },
	{ LOOP_GET_STATUS64, 0, sizeof(struct loop_info64) },
	/* sockets (the "out" ones read a struct ifreq and write it back) */
	{ FIOSETOWN, sizeof(int), 0 },
	{ SIOCSPGRP, sizeof(int), 0 },
	{ FIOGETOWN, 0, sizeof(int) },
	{ SIOCGPGRP, 0, sizeof(int) },
	{ SIOCATMARK, 0, sizeof(int) },
	{ SIOCOUTQNSD, 0, sizeof(int) },
	{ SIOCGSTAMP, 0, sizeof(struct timeval) },
	{ SIOCGSTAMPNS, 0, sizeof(struct timespec) },
	{ SIOCGIFNAME, 0, sizeof(struct ifreq) },
	{ SIOCGIFFLAGS, 0, sizeof(struct ifreq) },
	{ SIOCSIFFLAGS, 0, sizeof(struct ifreq) },
	{ SIOCGIFADDR, 0, sizeof(struct ifreq) },
	{ SIOCSIFADDR, 0, sizeof(struct ifreq) },
	{ SIOCGIFDSTADDR, 0, sizeof(struct ifreq) },
	{ SIOCSIFDSTADDR, 0, sizeof(struct ifreq) },
	{ SIOCGIFBRDADDR, 0, sizeof(struct ifreq) },
	{ SIOCSIFBRDADDR, 0, sizeof(struct ifreq) },
	{ SIOCGIFNETMASK, 0, sizeof(struct ifreq) },
	{ SIOCSIFNETMASK, 0, sizeof(struct ifreq) },
	{ SIOCGIFMETRIC, 0, sizeof(struct ifreq) },
	{ SIOCSIFMETRIC, 0, sizeof(struct ifreq) },
	{ SIOCGIFMTU, 0, sizeof(struct ifreq) },
	{ SIOCSIFMTU, 0, sizeof(struct ifreq) },
	{ SIOCSIFNAME, 0, sizeof(struct ifreq) },
	{ SIOCSIFHWADDR, 0, sizeof(struct ifreq) },
	{ SIOCGIFHWADDR, 0, sizeof(struct ifreq) },
	{ SIOCADDMULTI, 0, sizeof(struct ifreq) },
	{ SIOCDELMULTI, 0, sizeof(struct ifreq) },
	{ SIOCGIFINDEX, 0, sizeof(struct ifreq) },
	{ SIOCSIFPFLAGS, 0, sizeof(struct ifreq) },
	{ SIOCGIFPFLAGS, 0, sizeof(struct ifreq) },
	{ SIOCDIFADDR, 0, sizeof(struct ifreq) },
	{ SIOCSIFHWBROADCAST, 0, sizeof(struct ifreq) },
	{ SIOCGIFTXQLEN, 0, sizeof(struct ifreq) },
	{ SIOCSIFTXQLEN, 0, sizeof(struct ifreq) },
	{ SIOCGIFMAP, 0, sizeof(struct ifreq) },
	{ SIOCSIFMAP, 0, sizeof(struct ifreq) },
};

/* LOOP_CONFIGURE names the backing file by a descriptor inside its struct. */
static long loop_configure(struct proc *p, const uint64_t a[6])
{
	struct loop_config c;
	if (mem_read(p->mem, &c, a[2], sizeof(c)) < 0)
		return -EFAULT;
	c.fd = (unsigned)user_fd(c.fd);
	return HOST(SYS_ioctl, FD(0), LOOP_CONFIGURE, &c);
}

/* SIOCGIFCONF: struct ifconf points to the buffer for the list, ifc_len long (NULL: only
 * the length needed); the length written is copied back. */
static long ifconf(struct proc *p, const uint64_t a[6])
{
	struct ifconf c;
	if (mem_read(p->mem, &c, a[2], sizeof(c)) < 0)
		return -EFAULT;
	uint64_t guest = (uint64_t)(uintptr_t)c.ifc_buf;
	c.ifc_buf = user_out(p, guest, c.ifc_len > 0 ? (uint64_t)c.ifc_len : 0);
	long rc = HOST(SYS_ioctl, FD(0), SIOCGIFCONF, &c);
	if (rc >= 0 && mem_write(p->mem, a[2], &c.ifc_len, sizeof(c.ifc_len)) < 0)
		return -EFAULT;
	return rc;
}

/* FICLONERANGE names its source by a descriptor inside its struct. */
static long clone_range(struct proc *p, const uint64_t a[6])
{
	struct file_clone_range r;
	if (mem_read(p->mem, &r, a[2], sizeof(r)) < 0)
		return -EFAULT;
	r.src_fd = user_fd((uint64_t)r.src_fd);
	return HOST(SYS_ioctl, FD(0), FICLONERANGE, &r);
}

long sys_ioctl(struct proc *p, const uint64_t a[6])
{
	unsigned long req = (unsigned)a[1];
	/* Requests whose argument is a plain integer. */
	if (req == FIOCLEX || req == FIONCLEX || req == TCFLSH || req == TCXONC || req == TCSBRK ||
	    req == TIOCSCTTY || req == TIOCNOTTY || req == TIOCGPTPEER || req == TIOCEXCL ||
	    req == TIOCNXCL || req == TCSBRKP || req == TIOCSBRK || req == TIOCCBRK || req == TIOCCONS)
		return HOST(SYS_ioctl, FD(0), req, a[2]);
	/* ... or a descriptor: the loop device's backing file, a clone's source, where a
	 * perf event's samples go or its BPF program */
	if (req == LOOP_SET_FD || req == LOOP_CHANGE_FD || req == FICLONE ||
	    req == PERF_EVENT_IOC_SET_OUTPUT || req == PERF_EVENT_IOC_SET_BPF)
		return HOST(SYS_ioctl, FD(0), req, FD(2));
	if (req == PERF_EVENT_IOC_PAUSE_OUTPUT)         /* (an _IOW whose argument is the value) */
		return HOST(SYS_ioctl, FD(0), req, a[2]);
	if (req == PERF_EVENT_IOC_SET_FILTER)           /* a string */
		return HOST(SYS_ioctl, FD(0), req, user_path(p, a[2], 0));
	if (req == LOOP_CONFIGURE)
		return loop_configure(p, a);
	if (req == FICLONERANGE)
		return clone_range(p, a);
	if (req == SIOCGIFCONF)
		return ifconf(p, a);
	if (_IOC_TYPE(req) == 0xAA)
		return uffd_ioctl(p, a);
	if (req == PROCMAP_QUERY)
		return procfs_query(p, FD(0), a[2]);
	if (_IOC_TYPE(req) == SECCOMP_IOC_MAGIC) {
		bool listener;
		long rc = seccomp_listener_ioctl(p, a, &listener);
		if (listener)
			return rc;
	}
	for (size_t i = 0; i < ARRAY_SIZE(ioctls); i++)
		if (ioctls[i].req == req)
			return HOST(SYS_ioctl, FD(0), req,
				    ioctls[i].out ? user_out(p, a[2], ioctls[i].out) : user_in(p, a[2], ioctls[i].in));
	if (_IOC_SIZE(req) && _IOC_DIR(req) != _IOC_NONE)
		return HOST(SYS_ioctl, FD(0), req, user_buf(p, a[2], _IOC_SIZE(req),
							   (_IOC_DIR(req) & _IOC_READ) ? MEM_WRITE : MEM_READ));
	return HOST(SYS_ioctl, FD(0), req, user_opaque(a[2]));
}
