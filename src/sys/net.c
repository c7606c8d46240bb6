/* net.c - sockets: the host's own calls on translated arguments (user.c). Addresses and
 * option values are plain bytes; a length passed by pointer is read to size them. */
#include "sys.h"
#include "../util.h"
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define FD(i) user_fd(a[i])

/* The value behind a socklen_t pointer, to size the buffer it describes (0 if unreadable:
 * the host kernel then faults on the pointer itself). */
static uint32_t len_at(struct proc *p, uint64_t va)
{
	uint32_t n = 0;
	if (va && mem_read(p->mem, &n, va, sizeof(n)) < 0)
		n = 0;
	return n;
}

/* An address and its length pointer, both written by the host kernel. */
#define ADDR_OUT(ai, li) user_out(p, a[ai], len_at(p, a[li])), user_out(p, a[li], sizeof(uint32_t))

long sys_socket(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_socket, (int)a[0], (int)a[1], (int)a[2]); }
long sys_socketpair(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_socketpair, (int)a[0], (int)a[1], (int)a[2], user_out(p, a[3], 2 * sizeof(int)));
}
long sys_bind(struct proc *p, const uint64_t a[6]) { return HOST(SYS_bind, FD(0), user_in(p, a[1], (uint32_t)a[2]), (uint32_t)a[2]); }
long sys_connect(struct proc *p, const uint64_t a[6]) { return HOST(SYS_connect, FD(0), user_in(p, a[1], (uint32_t)a[2]), (uint32_t)a[2]); }
long sys_listen(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_listen, FD(0), (int)a[1]); }
long sys_accept(struct proc *p, const uint64_t a[6]) { return HOST(SYS_accept, FD(0), ADDR_OUT(1, 2)); }
long sys_accept4(struct proc *p, const uint64_t a[6]) { return HOST(SYS_accept4, FD(0), ADDR_OUT(1, 2), (int)a[3]); }
long sys_getsockname(struct proc *p, const uint64_t a[6]) { return HOST(SYS_getsockname, FD(0), ADDR_OUT(1, 2)); }
long sys_getpeername(struct proc *p, const uint64_t a[6]) { return HOST(SYS_getpeername, FD(0), ADDR_OUT(1, 2)); }
long sys_shutdown(struct proc *p, const uint64_t a[6]) { (void)p; return HOST(SYS_shutdown, FD(0), (int)a[1]); }

long sys_sendto(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_sendto, FD(0), user_in(p, a[1], a[2]), a[2], (int)a[3],
		    user_in(p, a[4], (uint32_t)a[5]), (uint32_t)a[5]);
}

long sys_recvfrom(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_recvfrom, FD(0), user_out(p, a[1], a[2]), a[2], (int)a[3], ADDR_OUT(4, 5));
}

/* Option values holding pointers (socket filters) would make the host kernel follow a
 * guest address in kvmse's memory: refused until they are translated. */
static bool option_has_pointer(int level, int name)
{
	return level == SOL_SOCKET && (name == SO_ATTACH_FILTER || name == SO_ATTACH_REUSEPORT_CBPF);
}

long sys_setsockopt(struct proc *p, const uint64_t a[6])
{
	if (option_has_pointer((int)a[1], (int)a[2]))
		return -ENOPROTOOPT;
	return HOST(SYS_setsockopt, FD(0), (int)a[1], (int)a[2], user_in(p, a[3], (uint32_t)a[4]), (uint32_t)a[4]);
}

long sys_getsockopt(struct proc *p, const uint64_t a[6])
{
	if (option_has_pointer((int)a[1], (int)a[2]))
		return -ENOPROTOOPT;
	return HOST(SYS_getsockopt, FD(0), (int)a[1], (int)a[2], ADDR_OUT(3, 4));
}

#define CONTROL_MAX (1 << 20)   /* past the host's optmem_max: ENOBUFS there too */

bool sys_passes_hidden(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int *fds = (int *)CMSG_DATA(c);
		for (size_t k = 0; (uint8_t *)(fds + k + 1) <= (uint8_t *)c + c->cmsg_len; k++)
			if (fd_hidden(fds[k]))
				return true;
	}
	return false;
}

/* sendmsg and recvmsg: the guest's msghdr, with its name, iovecs and control data
 * translated. Descriptors passed with SCM_RIGHTS must be the guest's own. */
static long msg(struct proc *p, const uint64_t a[6], bool send)
{
	struct msghdr m;
	enum mem_access acc = send ? MEM_READ : MEM_WRITE;
	if (mem_read(p->mem, &m, a[1], sizeof(m)) < 0)
		return HOST(send ? SYS_sendmsg : SYS_recvmsg, FD(0), user_in(p, a[1], sizeof(m)), (int)a[2]);
	if (m.msg_iovlen > 1024)
		return -EMSGSIZE;
	struct iovec giov[1024], hiov[1024];
	int n = 0;
	if (m.msg_iovlen && mem_read(p->mem, giov, (uint64_t)m.msg_iov, m.msg_iovlen * sizeof(*giov)) < 0)
		return -EFAULT;
	for (size_t i = 0; i < m.msg_iovlen && n < 1024; i++)
		if (!sys_add_segments(p, (uint64_t)giov[i].iov_base, giov[i].iov_len, acc, hiov, &n, 1024, false))
			break;
	struct msghdr h = m;
	h.msg_iov = hiov;
	h.msg_iovlen = (size_t)n;
	h.msg_name = user_buf(p, (uint64_t)m.msg_name, m.msg_namelen, acc);
	h.msg_control = user_buf(p, (uint64_t)m.msg_control, m.msg_controllen, acc);
	/* Control data to send is checked, then sent, from kvmse's own copy (another thread
	 * of the program could change it in between). Unreadable, the host says EFAULT. */
	void *ctl = NULL;
	if (send && m.msg_control && m.msg_controllen) {
		if (m.msg_controllen > CONTROL_MAX)
			return -ENOBUFS;
		ctl = xmalloc(m.msg_controllen);
		if (mem_read(p->mem, ctl, (uint64_t)m.msg_control, m.msg_controllen) == 0) {
			h.msg_control = ctl;
		} else {
			free(ctl);
			ctl = NULL;
		}
	}
	if (ctl && sys_passes_hidden(&h)) {
		free(ctl);
		return -EBADF;
	}
	long rc = HOST(send ? SYS_sendmsg : SYS_recvmsg, FD(0), &h, (int)a[2]);
	free(ctl);
	if (!send && rc >= 0) {
		/* What the kernel wrote back into the header itself. */
		m.msg_namelen = h.msg_namelen;
		m.msg_controllen = h.msg_controllen;
		m.msg_flags = h.msg_flags;
		if (mem_write(p->mem, a[1], &m, sizeof(m)) < 0)
			return -EFAULT;
	}
	return rc;
}

long sys_sendmsg(struct proc *p, const uint64_t a[6]) { return msg(p, a, true); }
long sys_recvmsg(struct proc *p, const uint64_t a[6]) { return msg(p, a, false); }

#define MMSG_MAX 1024           /* UIO_MAXIOV: a longer vector is cut there */

/* recvmmsg's timeout: checked before anything, then as Linux does, after each message;
 * what is left of it is written back. 0: none. */
static long mmsg_deadline(struct proc *p, gva_t va, uint64_t *deadline)
{
	struct timespec ts;
	*deadline = 0;
	if (!va)
		return 0;
	if (mem_read(p->mem, &ts, va, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || (unsigned long)ts.tv_nsec >= 1000000000UL)
		return -EINVAL;
	*deadline = now_ns() + (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	return 0;
}

/* sendmmsg and recvmmsg: msg() for each header of the vector, as the kernel loops: an
 * error ends the loop, and is the result only if nothing went through. */
static long mmsg(struct proc *p, const uint64_t a[6], bool send)
{
	uint64_t deadline = 0;
	long rc = send ? 0 : mmsg_deadline(p, a[4], &deadline);
	if (rc < 0)
		return rc;
	unsigned vlen = MIN((unsigned)a[2], MMSG_MAX), n = 0;
	unsigned flags = (unsigned)a[3];
	bool late = false;
	while (n < vlen && !late) {
		gva_t hdr = a[1] + (uint64_t)n * sizeof(struct mmsghdr);
		const uint64_t b[6] = { a[0], hdr, flags };
		if ((rc = msg(p, b, send)) < 0)
			break;
		unsigned len = (unsigned)rc;
		if (mem_write(p->mem, hdr + offsetof(struct mmsghdr, msg_len), &len, 4) < 0) {
			rc = -EFAULT;
			break;
		}
		n++;
		if (!send && (flags & MSG_WAITFORONE))
			flags |= MSG_DONTWAIT;
		late = !send && deadline && now_ns() >= deadline;
	}
	if (!send && deadline) {
		uint64_t now = now_ns(), left = now < deadline ? deadline - now : 0;
		struct timespec ts = { (time_t)(left / 1000000000ULL), (long)(left % 1000000000ULL) };
		mem_write(p->mem, a[4], &ts, sizeof(ts));
	}
	return n ? (long)n : rc;
}

long sys_sendmmsg(struct proc *p, const uint64_t a[6]) { return mmsg(p, a, true); }
long sys_recvmmsg(struct proc *p, const uint64_t a[6]) { return mmsg(p, a, false); }
