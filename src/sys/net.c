/* net.c - sockets: the host's own calls on translated arguments (user.c). Addresses and
 * option values are plain bytes; a length passed by pointer is read to size them. */
#include "sys.h"
#include "../util.h"
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define FD(i) user_fd(a[i])

/* The value behind a socklen_t pointer, to size the buffer it describes (0 if unreadable:
 * the host kernel then faults on the pointer itself). */
static uint32_t len_at(struct proc *p, uint64_t va)
{
	uint32_t n = 0;
	if (va && mem_read(&p->mem, &n, va, sizeof(n)) < 0)
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
