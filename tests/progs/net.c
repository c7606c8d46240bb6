/* Sockets on loopback only, in one process: socketpair, TCP to itself, UDP to itself;
 * the interface ioctls (if_nametoindex, SIOCGIFCONF, flags, MTU), SIOCATMARK; and
 * sendfile, copy_file_range, flock, fallocate, fadvise, FICLONE on files. */
#include "common.h"
#include <stdbool.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/file.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FICLONE_ _IOW(0x94, 9, int)             /* <linux/fs.h>'s, which musl lacks */

static struct sockaddr_in loopback(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = 0 };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return a;
}

/* sendmmsg and recvmmsg over datagrams: several at once, MSG_WAITFORONE, timeouts. */
static void mmsg(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	struct iovec out[3] = { { "one", 3 }, { "two!", 4 }, { "three", 5 } };
	struct mmsghdr sm[3];
	memset(sm, 0, sizeof(sm));
	for (int i = 0; i < 3; i++) {
		sm[i].msg_hdr.msg_iov = &out[i];
		sm[i].msg_hdr.msg_iovlen = 1;
	}
	SHOW(sendmmsg(sv[0], sm, 3, 0));
	printf("sent lengths %u %u %u\n", sm[0].msg_len, sm[1].msg_len, sm[2].msg_len);
	char buf[4][16];
	struct iovec in[4];
	struct mmsghdr rm[4];
	memset(rm, 0, sizeof(rm));
	memset(buf, 0, sizeof(buf));
	for (int i = 0; i < 4; i++) {
		in[i] = (struct iovec){ buf[i], sizeof(buf[i]) - 1 };
		rm[i].msg_hdr.msg_iov = &in[i];
		rm[i].msg_hdr.msg_iovlen = 1;
	}
	SHOW(recvmmsg(sv[1], rm, 4, MSG_WAITFORONE, NULL));
	printf("received %s/%u %s/%u %s/%u\n", buf[0], rm[0].msg_len, buf[1], rm[1].msg_len,
	       buf[2], rm[2].msg_len);
	struct timespec bad = { -1, 0 }, zero = { 0, 0 };
	SHOW(recvmmsg(sv[1], rm, 4, 0, &bad));
	bad = (struct timespec){ 0, 1000000000 };
	SHOW(recvmmsg(sv[1], rm, 4, 0, &bad));
	SHOW(recvmmsg(sv[1], rm, 4, 0, (struct timespec *)8));
	SHOW(recvmmsg(sv[1], rm, 4, MSG_DONTWAIT, &zero));
	SHOW(recvmmsg(-1, rm, 4, 0, NULL));
	/* (raw: musl's sendmmsg writes the vector's padding first) */
	SHOW(syscall(SYS_sendmmsg, sv[0], (struct mmsghdr *)8, 2, 0));
	SHOW(sendmmsg(sv[0], sm, 0, 0));
	close(sv[0]);
	close(sv[1]);
}

/* The loopback interface as ioctls see it; the list of interfaces, whatever else the
 * machine has, holds it. */
static void interfaces(void)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	CHECK(s >= 0);
	unsigned idx = if_nametoindex("lo");
	printf("lo has an index: %d\n", idx > 0);
	struct ifreq r;
	memset(&r, 0, sizeof(r));
	r.ifr_ifindex = (int)idx;
	SHOW(ioctl(s, SIOCGIFNAME, &r));
	printf("name: %s\n", r.ifr_name);
	SHOW(ioctl(s, SIOCGIFFLAGS, &r));
	printf("loopback, up: %d %d\n", !!(r.ifr_flags & IFF_LOOPBACK), !!(r.ifr_flags & IFF_UP));
	SHOW(ioctl(s, SIOCGIFMTU, &r));
	printf("mtu > 0: %d\n", r.ifr_mtu > 0);
	SHOW(ioctl(s, SIOCGIFFLAGS, (void *)1));
	struct ifconf c = { .ifc_len = 0, .ifc_buf = NULL };
	SHOW(ioctl(s, SIOCGIFCONF, &c));
	int need = c.ifc_len;
	printf("length asked: %d\n", need > 0);
	struct ifreq list[16];
	c.ifc_len = sizeof(list);
	c.ifc_req = list;
	SHOW(ioctl(s, SIOCGIFCONF, &c));
	bool lo = false;
	for (int i = 0; i < c.ifc_len / (int)sizeof(list[0]); i++)
		lo |= !strcmp(list[i].ifr_name, "lo");
	printf("same length %d, lo listed %d\n", c.ifc_len == need, lo);
	SHOW(ioctl(s, SIOCGIFCONF, (void *)1));
	int mark = -1;
	SHOW(ioctl(s, SIOCATMARK, &mark));                          /* UDP: ENOTTY */
	close(s);
	s = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(s >= 0);
	SHOW(ioctl(s, SIOCATMARK, &mark));
	printf("at mark: %d\n", mark);
	close(s);
	/* FICLONE names its source by descriptor (the file system may not clone) */
	int a = open("clone-src", O_CREAT | O_RDWR, 0600), b = open("clone-dst", O_CREAT | O_RDWR, 0600);
	CHECK(a >= 0 && b >= 0 && write(a, "data", 4) == 4);
	long rc = ioctl(b, FICLONE_, a);
	printf("FICLONE: %s\n", rc < 0 ? strerror(errno) : "0");
	SHOW(ioctl(b, FICLONE_, 9999));
	close(a);
	close(b);
}

int main(void)
{
	interfaces();
	mmsg();
	int sv[2];
	char buf[64] = { 0 };
	SHOW(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SHOW(write(sv[0], "pair", 4));
	SHOW(read(sv[1], buf, sizeof(buf)));
	printf("got [%s]\n", buf);

	/* sendmsg/recvmsg with two iovecs and a descriptor passed along (SCM_RIGHTS). */
	int pp[2];
	CHECK(pipe(pp) == 0);
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec siov[2] = { { "scatter ", 8 }, { "gather", 6 } };
	struct msghdr sm = { .msg_iov = siov, .msg_iovlen = 2, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&sm);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pp[1], sizeof(int));
	SHOW(sendmsg(sv[0], &sm, 0));
	char r1[4], r2[32] = { 0 };
	char rcbuf[CMSG_SPACE(sizeof(int))];
	struct iovec riov[2] = { { r1, 4 }, { r2, sizeof(r2) - 1 } };
	struct msghdr rm = { .msg_iov = riov, .msg_iovlen = 2, .msg_control = rcbuf, .msg_controllen = sizeof(rcbuf) };
	SHOW(recvmsg(sv[1], &rm, 0));
	int passed = -1;
	struct cmsghdr *rc = CMSG_FIRSTHDR(&rm);
	if (rc && rc->cmsg_type == SCM_RIGHTS)
		memcpy(&passed, CMSG_DATA(rc), sizeof(int));
	printf("got [%.4s|%s] controllen %zu, fd passed %d\n", r1, r2, (size_t)rm.msg_controllen, passed >= 0);
	SHOW(write(passed, "via passed fd", 13));
	memset(r2, 0, sizeof(r2));
	SHOW(read(pp[0], r2, sizeof(r2)));
	SHOW(syscall(SYS_sendmsg, sv[0], (struct msghdr *)0x10, 0));    /* (raw: musl reads it first) */
	/* control data at addresses that fault: EFAULT, whatever the length (raw calls:
	 * musl's sendmsg copies the control data first) */
	sm.msg_control = (void *)-1;
	SHOW(syscall(SYS_sendmsg, sv[0], &sm, 0));
	sm.msg_control = (void *)0x10;
	SHOW(syscall(SYS_sendmsg, sv[0], &sm, 0));
	sm.msg_controllen = 1 << 30;
	SHOW(syscall(SYS_sendmsg, sv[0], &sm, 0));

	int ls = socket(AF_INET, SOCK_STREAM, 0);
	int one = 1, type = 0;
	socklen_t len = sizeof(type);
	SHOW(setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	SHOW(getsockopt(ls, SOL_SOCKET, SO_TYPE, &type, &len));
	printf("type %d len %u\n", type, len);
	struct sockaddr_in a = loopback();
	SHOW(bind(ls, (struct sockaddr *)&a, sizeof(a)));
	SHOW(listen(ls, 4));
	len = sizeof(a);
	SHOW(getsockname(ls, (struct sockaddr *)&a, &len));
	int c = socket(AF_INET, SOCK_STREAM, 0);
	SHOW(connect(c, (struct sockaddr *)&a, sizeof(a)));
	struct sockaddr_in peer;
	len = sizeof(peer);
	int s = accept(ls, (struct sockaddr *)&peer, &len);
	printf("accepted %d, peer is loopback %d\n", s >= 0, peer.sin_addr.s_addr == htonl(INADDR_LOOPBACK));
	SHOW(send(c, "tcp hello", 9, 0));
	memset(buf, 0, sizeof(buf));
	SHOW(recv(s, buf, sizeof(buf), 0));
	printf("got [%s]\n", buf);
	SHOW(shutdown(c, SHUT_WR));
	SHOW(recv(s, buf, sizeof(buf), 0));
	len = sizeof(peer);
	SHOW(getpeername(c, (struct sockaddr *)&peer, &len));
	SHOW(connect(c, (struct sockaddr *)0x10, sizeof(a)));
	SHOW(getsockname(ls, (struct sockaddr *)&a, (socklen_t *)0x10));

	int u = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in ua = loopback();
	SHOW(bind(u, (struct sockaddr *)&ua, sizeof(ua)));
	len = sizeof(ua);
	SHOW(getsockname(u, (struct sockaddr *)&ua, &len));
	SHOW(sendto(u, "datagram", 8, 0, (struct sockaddr *)&ua, sizeof(ua)));
	struct sockaddr_in from;
	len = sizeof(from);
	memset(buf, 0, sizeof(buf));
	SHOW(recvfrom(u, buf, sizeof(buf), 0, (struct sockaddr *)&from, &len));
	printf("got [%s] from same port %d\n", buf, from.sin_port == ua.sin_port);

	int f = open("data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	SHOW(write(f, "file to socket\n", 15));
	off_t off = 5;
	SHOW(sendfile(sv[0], f, &off, 10));
	printf("offset now %ld\n", (long)off);
	memset(buf, 0, sizeof(buf));
	SHOW(read(sv[1], buf, sizeof(buf)));
	printf("got [%s]\n", buf);
	int g = open("copy", O_RDWR | O_CREAT | O_TRUNC, 0644);
	loff_t in = 0;
	SHOW(copy_file_range(f, &in, g, NULL, 15, 0));
	SHOW(flock(f, LOCK_EX | LOCK_NB));
	SHOW(flock(f, LOCK_UN));
	SHOW(fallocate(g, 0, 0, 4096));
	SHOW(posix_fadvise(g, 0, 0, POSIX_FADV_SEQUENTIAL));
	SHOW(lseek(g, 0, SEEK_END));
	return 0;
}
