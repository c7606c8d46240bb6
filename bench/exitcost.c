/* exitcost.c - the raw cost of one VM exit round trip on this host, for `make bench`:
 * a minimal long-mode guest whose ring-3 code does OUT in a loop, timed over N exits.
 * Prints ns per round trip. With "bitmap" the port is opened by the TSS I/O bitmap with
 * IOPL 0, the kind of exit kvmse's syscall entry takes; otherwise IOPL 3 allows it. */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#define MEM (4u << 20)

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
	int rc = ioctl(fd, req, arg);
	if (rc < 0) {
		perror(what);
		exit(1);
	}
	return rc;
}

static void flat(struct kvm_segment *s, uint16_t sel, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->limit = 0xffffffff;
	s->present = s->s = s->g = 1;
	s->dpl = 3;
	s->type = code ? 11 : 3;
	s->l = code;
	s->db = !code;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int bitmap = argc > 2 && !strcmp(argv[2], "bitmap");
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		perror("/dev/kvm");
		return 1;
	}
	int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
	uint8_t *m = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct kvm_userspace_memory_region r = { .memory_size = MEM, .userspace_addr = (uintptr_t)m };
	xioctl(vm, KVM_SET_USER_MEMORY_REGION, &r, "KVM_SET_USER_MEMORY_REGION");
	/* One 2 MiB user page at 0 through PML4 0x1000 -> PDPT 0x2000 -> PD 0x3000. */
	uint64_t *pml4 = (void *)(m + 0x1000), *pdpt = (void *)(m + 0x2000), *pd = (void *)(m + 0x3000);
	pml4[0] = 0x2000 | 7;
	pdpt[0] = 0x3000 | 7;
	pd[0] = 0x87;
	/* mov r12, n; loop: out 0x10, al; dec r12; jnz loop; out 0x11, al */
	uint8_t code[] = { 0x49, 0xbc, 0, 0, 0, 0, 0, 0, 0, 0, 0xe6, 0x10, 0x49, 0xff, 0xcc,
			   0x75, 0xf9, 0xe6, 0x11 };
	memcpy(code + 2, &n, 8);
	memcpy(m + 0x10000, code, sizeof(code));
	int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
	int sz = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
	struct kvm_run *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	struct kvm_sregs s;
	xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
	s.cr0 = 0x80050033;
	s.cr3 = 0x1000;
	s.cr4 = 0x620;
	s.efer = 0xd01;
	flat(&s.cs, 0x33, 1);
	flat(&s.ss, 0x2b, 0);
	flat(&s.ds, 0x2b, 0);
	flat(&s.es, 0x2b, 0);
	/* A 64-bit TSS at 0x5000 whose I/O bitmap opens ports 0x10 and 0x11 only. */
	uint8_t *tss = m + 0x5000;
	uint16_t iomap = 104;
	memcpy(tss + 102, &iomap, 2);
	memset(tss + 104, 0xff, 33);
	tss[104 + 2] = 0xfc;
	memset(&s.tr, 0, sizeof(s.tr));
	s.tr.base = 0x5000;
	s.tr.limit = 104 + 32;
	s.tr.type = 11;
	s.tr.present = 1;
	s.tr.selector = 0x40;
	xioctl(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
	/* IOPL 3 lets ring 3 do OUT without consulting the bitmap. */
	struct kvm_regs g = { .rip = 0x10000, .rsp = 0x100000, .rflags = bitmap ? 0x202 : 0x3202 };
	xioctl(vcpu, KVM_SET_REGS, &g, "KVM_SET_REGS");
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (;;) {
		xioctl(vcpu, KVM_RUN, 0, "KVM_RUN");
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "exitcost: unexpected exit %u\n", run->exit_reason);
			return 1;
		}
		if (run->io.port == 0x11)
			break;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("%.1f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n);
	return 0;
}
