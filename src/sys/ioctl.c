/* ioctl.c - ioctl: the requests kvmse knows the argument of, translated; a request that
 * encodes its argument's size and direction (_IOR, _IOW, _IOWR) by that; others get an
 * argument that cannot reach kvmse's memory. */
#include "sys.h"
#include "../util.h"
#include <linux/fs.h>
#include <linux/loop.h>
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

long sys_ioctl(struct proc *p, const uint64_t a[6])
{
	unsigned long req = (unsigned)a[1];
	/* Requests whose argument is a plain integer. */
	if (req == FIOCLEX || req == FIONCLEX || req == TCFLSH || req == TCXONC || req == TCSBRK ||
	    req == TIOCSCTTY || req == TIOCNOTTY || req == TIOCGPTPEER || req == TIOCEXCL ||
	    req == TIOCNXCL || req == TCSBRKP || req == TIOCSBRK || req == TIOCCBRK || req == TIOCCONS)
		return HOST(SYS_ioctl, FD(0), req, a[2]);
	/* ... or a descriptor: the loop device's backing file */
	if (req == LOOP_SET_FD || req == LOOP_CHANGE_FD)
		return HOST(SYS_ioctl, FD(0), req, FD(2));
	if (req == LOOP_CONFIGURE)
		return loop_configure(p, a);
	for (size_t i = 0; i < ARRAY_SIZE(ioctls); i++)
		if (ioctls[i].req == req)
			return HOST(SYS_ioctl, FD(0), req,
				    ioctls[i].out ? user_out(p, a[2], ioctls[i].out) : user_in(p, a[2], ioctls[i].in));
	if (_IOC_SIZE(req) && _IOC_DIR(req) != _IOC_NONE)
		return HOST(SYS_ioctl, FD(0), req, user_buf(p, a[2], _IOC_SIZE(req),
							   (_IOC_DIR(req) & _IOC_READ) ? MEM_WRITE : MEM_READ));
	return HOST(SYS_ioctl, FD(0), req, user_opaque(a[2]));
}
