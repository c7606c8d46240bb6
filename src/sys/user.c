/* user.c - guest pointers and descriptors turned into host ones for a host system call.
 * The host kernel then checks everything in its own order. Where the guest's memory ends
 * (unmapped, or without the access the call needs), the host buffer ends too, at a
 * PROT_NONE page: the host kernel faults at the same byte and gives EFAULT exactly when
 * Linux would, after any EINVAL or EBADF it checks first. */
#include "sys.h"
#include "../util.h"
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

/* Path slots: PATH_MAX bytes, then a PROT_NONE page. Each thread that runs system calls
 * (a guest thread's, a syscall server) has its own, made at its first call. */
#define SLOT_STRIDE (PATH_MAX + PAGE_SIZE)
static _Thread_local uint8_t *slots;

static void user_init(void)
{
	slots = mmap(NULL, USER_PATH_SLOTS * SLOT_STRIDE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED)
		die_errno("mmap");
	for (int i = 0; i < USER_PATH_SLOTS; i++)
		if (mprotect(slots + i * SLOT_STRIDE + PATH_MAX, PAGE_SIZE, PROT_NONE) < 0)
			die_errno("mprotect");
}

void *user_buf_poison(void)
{
	if (!slots)
		user_init();
	return slots + PATH_MAX;
}

/* An address no user mapping can have (the upper half, non-canonical) means the same to
 * the host kernel: it is passed on as it is. */
static bool not_user(uint64_t va)
{
	return va >= (1ULL << 47);
}

const char *user_path(struct proc *p, uint64_t va, int slot)
{
	if (!va || not_user(va))
		return (const char *)(uintptr_t)va;
	if (!slots)
		user_init();
	uint8_t *guard = slots + (size_t)slot * SLOT_STRIDE + PATH_MAX;
	char tmp[PATH_MAX];
	bool nul;
	size_t n = mem_read_prefix(p->mem, tmp, va, sizeof(tmp), &nul);
	/* No NUL within PATH_MAX bytes: the kernel stops there with ENAMETOOLONG; a string
	 * cut by unreadable memory: it reads up to the guard and faults. */
	memcpy(guard - n, tmp, n);
	/* -L: a whole absolute path that exists under the prefix is taken from there. */
	const char *prefix = p->opt->prefix;
	size_t plen = prefix ? strlen(prefix) : 0;
	if (plen && nul && n > 1 && tmp[0] == '/' && n + plen <= PATH_MAX) {
		char *under = (char *)guard - n - plen;
		struct stat st;
		memcpy(under, prefix, plen);
		if (lstat(under, &st) == 0)
			return under;
	}
	return (const char *)(guard - n);
}

void *user_scratch(size_t len)
{
	if (!slots)
		user_init();
	return slots + (USER_PATH_SLOTS - 1) * SLOT_STRIDE + PATH_MAX - len;
}

long user_timeout_check(struct proc *p, uint64_t va, struct timespec *out)
{
	struct timespec ts;
	if (!va)
		return 0;
	if (mem_read(p->mem, &ts, va, sizeof(ts)) < 0)
		return -EFAULT;
	if (out)
		*out = ts;
	return ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 ? -EINVAL : 0;
}

bool user_path_whole(const char *host, int slot)
{
	/* (a thread whose first path was NULL or kernel space has no slots yet) */
	if (!slots)
		return false;
	const uint8_t *guard = slots + (size_t)slot * SLOT_STRIDE + PATH_MAX;
	const uint8_t *h = (const uint8_t *)host;
	/* A copy in the slot ends at the guard: with its NUL if the string was whole. */
	return h >= guard - PATH_MAX && h < guard && guard[-1] == 0;
}

/* Bytes from 'va' (at most len) that the guest can access with 'acc', in one stretch. */
static uint64_t accessible(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc)
{
	uint64_t covered;
	struct iovec iov[1];
	int n = mem_iov(p->mem, va, len, acc, iov, 1, &covered);
	if (n == 1 || n == 0)
		return len;
	if (n != -E2BIG)
		return covered;
	/* Not contiguous in host memory: measure how far access goes. */
	uint64_t done = covered;
	while (done < len) {
		uint64_t chunk = MIN(PAGE_SIZE - ((va + done) & (PAGE_SIZE - 1)), len - done);
		if (mem_iov(p->mem, va + done, chunk, acc, iov, 1, NULL) != 1)
			break;
		done += chunk;
	}
	return done;
}

#define BOUNCE_MAX (64ULL << 20)

void *user_buf(struct proc *p, uint64_t va, uint64_t len, enum mem_access acc)
{
	if (!va || not_user(va))
		return (void *)(uintptr_t)va;
	struct iovec iov;
	if (len && mem_iov(p->mem, va, len, acc, &iov, 1, NULL) == 1)
		return iov.iov_base;            /* the guest's memory itself */
	uint64_t ok = MIN(accessible(p, va, len, acc), BOUNCE_MAX);
	if (p->nbounce == ARRAY_SIZE(p->bounce))
		die("too many buffers in one system call");
	/* A bounce buffer whose end, like the guest's, is followed by a fault. */
	size_t map = (size_t)PAGE_ALIGN_UP(ok) + PAGE_SIZE;
	uint8_t *b = mmap(NULL, map, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		die_errno("mmap of a bounce buffer");
	if (mprotect(b + map - PAGE_SIZE, PAGE_SIZE, PROT_NONE) < 0)
		die_errno("mprotect");
	uint8_t *host = b + map - PAGE_SIZE - ok;
	mem_read_prefix(p->mem, host, va, ok, NULL);
	p->bounce[p->nbounce++] = (struct bounce){ b, map, host, va, ok, acc == MEM_WRITE };
	return host;
}

void user_finish(struct proc *p)
{
	for (int i = 0; i < p->nbounce; i++) {
		struct bounce *b = &p->bounce[i];
		if (b->copy_out)
			mem_write(p->mem, b->va, b->host, b->len);
		if (munmap(b->map, b->maplen) < 0)
			die_errno("munmap of a bounce buffer");
	}
	p->nbounce = 0;
}
