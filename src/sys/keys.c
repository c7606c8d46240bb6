/* keys.c - the kernel's key retention service: add_key, request_key and keyctl are the
 * host's (kvmse's process has the program's keyrings), on translated arguments. */
#include "sys.h"
#include <linux/keyctl.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))
#define TYPE_MAX 32             /* key_get_type_from_user's buffer */
#define DESC_MAX 4096           /* strndup_user's PAGE_SIZE */

/* A string of the guest's into buf (size+1 bytes): NULL for NULL, else buf. One the
 * kernel would find no end of within 'size' goes without its end, so the host refuses
 * it the same way (EINVAL); one cut by unreadable memory is *err = -EFAULT. */
static const char *str_in(struct proc *p, uint64_t va, char *buf, size_t size, long *err)
{
	if (!va)
		return NULL;
	bool nul;
	size_t n = mem_read_prefix(p->mem, buf, va, size, &nul);
	if (!nul && n < size)
		*err = -EFAULT;
	buf[size] = 'x';
	return buf;
}

long sys_add_key(struct proc *p, const uint64_t a[6])
{
	char type[TYPE_MAX + 1], desc[DESC_MAX + 1];
	long err = 0;
	const char *t = str_in(p, a[0], type, TYPE_MAX, &err), *d = str_in(p, a[1], desc, DESC_MAX, &err);
	if (err)
		return err;
	return HOST(SYS_add_key, t, d, user_in(p, a[2], a[3]), (size_t)a[3], (int32_t)a[4]);
}

long sys_request_key(struct proc *p, const uint64_t a[6])
{
	char type[TYPE_MAX + 1], desc[DESC_MAX + 1], info[DESC_MAX + 1];
	long err = 0;
	const char *t = str_in(p, a[0], type, TYPE_MAX, &err), *d = str_in(p, a[1], desc, DESC_MAX, &err),
		   *i = str_in(p, a[2], info, DESC_MAX, &err);
	if (err)
		return err;
	return HOST(SYS_request_key, t, d, i, (int32_t)a[3]);
}

/* KEYCTL_INSTANTIATE_IOV: the pieces in one payload, as the kernel copies them. */
static long instantiate_iov(struct proc *p, const uint64_t a[6])
{
	uint64_t n = a[3];
	if (n > UIO_MAXIOV)
		return -EINVAL;
	struct iovec *iov = n ? malloc(n * sizeof(*iov)) : NULL;
	if (n && !iov)
		return -ENOMEM;
	size_t total = 0;
	long rc = n && mem_read(p->mem, iov, a[2], n * sizeof(*iov)) < 0 ? -EFAULT : 0;
	for (uint64_t k = 0; !rc && k < n; k++)
		total += iov[k].iov_len;
	char *buf = !rc && total ? malloc(total) : NULL;
	if (!rc && total && !buf)
		rc = -ENOMEM;
	size_t at = 0;
	for (uint64_t k = 0; !rc && k < n; k++) {
		if (iov[k].iov_len && mem_read(p->mem, buf + at, (uint64_t)(uintptr_t)iov[k].iov_base,
					       iov[k].iov_len) < 0)
			rc = -EFAULT;
		at += iov[k].iov_len;
	}
	if (!rc)
		rc = HOST(SYS_keyctl, KEYCTL_INSTANTIATE, (int32_t)a[1], buf, total, (int32_t)a[4]);
	free(buf);
	free(iov);
	return rc;
}

long sys_keyctl(struct proc *p, const uint64_t a[6])
{
	char s1[DESC_MAX + 1], s2[DESC_MAX + 1];
	long err = 0;
	int id = (int32_t)a[1];
	switch ((int)a[0]) {
	case KEYCTL_JOIN_SESSION_KEYRING: {
		const char *name = str_in(p, a[1], s1, DESC_MAX, &err);
		return err ? err : HOST(SYS_keyctl, a[0], name);
	}
	case KEYCTL_UPDATE:
		return HOST(SYS_keyctl, a[0], id, user_in(p, a[2], a[3]), (size_t)a[3]);
	case KEYCTL_DESCRIBE: case KEYCTL_READ: case KEYCTL_GET_SECURITY:
		return HOST(SYS_keyctl, a[0], id, user_out(p, a[2], a[3]), (size_t)a[3]);
	case KEYCTL_CAPABILITIES:
		return HOST(SYS_keyctl, a[0], user_out(p, a[1], a[2]), (size_t)a[2]);
	case KEYCTL_SEARCH: case KEYCTL_RESTRICT_KEYRING: {
		const char *t = str_in(p, a[2], s1, TYPE_MAX, &err), *d = str_in(p, a[3], s2, DESC_MAX, &err);
		return err ? err : HOST(SYS_keyctl, a[0], id, t, d, (int32_t)a[4]);
	}
	case KEYCTL_INSTANTIATE:
		return HOST(SYS_keyctl, a[0], id, user_in(p, a[2], a[3]), (size_t)a[3], (int32_t)a[4]);
	case KEYCTL_INSTANTIATE_IOV:
		return instantiate_iov(p, a);
	case KEYCTL_WATCH_KEY:
		return HOST(SYS_keyctl, a[0], id, user_fd(a[2]), (int)a[3]);
	case KEYCTL_GET_KEYRING_ID: case KEYCTL_REVOKE: case KEYCTL_CHOWN: case KEYCTL_SETPERM:
	case KEYCTL_CLEAR: case KEYCTL_LINK: case KEYCTL_UNLINK: case KEYCTL_NEGATE:
	case KEYCTL_SET_REQKEY_KEYRING: case KEYCTL_SET_TIMEOUT: case KEYCTL_ASSUME_AUTHORITY:
	case KEYCTL_SESSION_TO_PARENT: case KEYCTL_REJECT: case KEYCTL_INVALIDATE:
	case KEYCTL_GET_PERSISTENT: case KEYCTL_MOVE:
		return HOST(SYS_keyctl, a[0], a[1], a[2], a[3], a[4]);    /* numbers only */
	default:        /* (the public-key and Diffie-Hellman operations: unknown layouts) */
		return HOST(SYS_keyctl, a[0], user_opaque(a[1]), user_opaque(a[2]), user_opaque(a[3]),
			    user_opaque(a[4]));
	}
}
