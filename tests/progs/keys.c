/* keys: add_key, keyctl and request_key reach the host's key service with the
 * program's strings and buffers; bad pointers are EFAULT, too long a type EINVAL. */
#include "common.h"
#include <sys/syscall.h>
#include <unistd.h>

/* <linux/keyctl.h>'s, which musl's tool chain does not have */
#define KEY_SPEC_SESSION_KEYRING -3
#define KEYCTL_JOIN_SESSION_KEYRING 1
#define KEYCTL_UPDATE 2
#define KEYCTL_REVOKE 3
#define KEYCTL_DESCRIBE 6
#define KEYCTL_SEARCH 10
#define KEYCTL_READ 11
#define KEYCTL_CAPABILITIES 31

static long keyctl(int cmd, long a, long b, long c, long d)
{
	return syscall(SYS_keyctl, cmd, a, b, c, d);
}

int main(void)
{
	long ring = keyctl(KEYCTL_JOIN_SESSION_KEYRING, (long)"kvmse-test", 0, 0, 0);
	SHOW(ring > 0);
	long key = syscall(SYS_add_key, "user", "kvmse:one", "payload", 7, KEY_SPEC_SESSION_KEYRING);
	SHOW(key > 0);
	char buf[64] = { 0 };
	SHOW(keyctl(KEYCTL_READ, key, (long)buf, sizeof(buf), 0));
	printf("read: %s\n", buf);
	SHOW(keyctl(KEYCTL_UPDATE, key, (long)"new payload", 11, 0));
	SHOW(keyctl(KEYCTL_READ, key, (long)buf, 3, 0));       /* the whole length, 3 bytes */
	printf("read: %.3s\n", buf);
	long n = keyctl(KEYCTL_DESCRIBE, key, (long)buf, sizeof(buf), 0);
	SHOW(n > 0);
	printf("describe: starts with \"user;\" %d, ends with \";kvmse:one\" %d\n",
	       !strncmp(buf, "user;", 5), n > 10 && !strcmp(buf + n - 11, ";kvmse:one"));
	SHOW(keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"kvmse:one", 0) == key);
	SHOW(keyctl(KEYCTL_SEARCH, KEY_SPEC_SESSION_KEYRING, (long)"user", (long)"kvmse:none", 0));
	SHOW(syscall(SYS_request_key, "user", "kvmse:one", NULL, 0) == key);
	SHOW(syscall(SYS_request_key, "user", "kvmse:none", NULL, 0));
	SHOW(keyctl(KEYCTL_REVOKE, key, 0, 0, 0));
	SHOW(keyctl(KEYCTL_READ, key, (long)buf, sizeof(buf), 0));
	/* bad arguments */
	SHOW(syscall(SYS_add_key, (char *)8, "x", "p", 1, KEY_SPEC_SESSION_KEYRING));
	SHOW(syscall(SYS_add_key, "user", "x", (char *)8, 1, KEY_SPEC_SESSION_KEYRING));
	SHOW(syscall(SYS_add_key, "a-type-name-that-is-too-long-for-the-kernel", "x", "p", 1,
		     KEY_SPEC_SESSION_KEYRING));
	SHOW(keyctl(KEYCTL_READ, ring, 8, 64, 0));
	SHOW(keyctl(KEYCTL_CAPABILITIES, 8, 4, 0, 0));
	SHOW(keyctl(9999, 0, 0, 0, 0));
	return 0;
}
