/* futex operations on words in guest memory: wake, requeue, cmp_requeue, wake_op (which
 * writes the second word), waits that fail or time out, and bad addresses. */
#include "common.h"
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* <linux/futex.h>, which musl-gcc does not see */
#define FUTEX_WAIT 0
#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define PRIVATE 128
#define OP_ADD_5_IF_EQ_2 ((1 << 28) | (5 << 12) | (0 << 24) | 2)

static uint32_t a = 1, b = 2;

int main(void)
{
	struct timespec ts = { 0, 1000000 };
	SHOW(syscall(SYS_futex, &a, FUTEX_WAKE | PRIVATE, 1, NULL, NULL, 0));
	SHOW(syscall(SYS_futex, &a, FUTEX_REQUEUE | PRIVATE, 1, 1, &b, 0));
	SHOW(syscall(SYS_futex, &a, FUTEX_CMP_REQUEUE | PRIVATE, 1, 1, &b, 1));
	SHOW(syscall(SYS_futex, &a, FUTEX_CMP_REQUEUE | PRIVATE, 1, 1, &b, 5));
	SHOW(syscall(SYS_futex, &a, FUTEX_WAKE_OP | PRIVATE, 1, 1, &b, OP_ADD_5_IF_EQ_2));
	printf("b after wake_op: %u\n", b);
	SHOW(syscall(SYS_futex, &a, FUTEX_WAIT | PRIVATE, 9, NULL, NULL, 0));
	SHOW(syscall(SYS_futex, &a, FUTEX_WAIT | PRIVATE, 1, &ts, NULL, 0));
	SHOW(syscall(SYS_futex, (void *)8, FUTEX_WAKE, 1, NULL, NULL, 0));
	SHOW(syscall(SYS_futex, &a, FUTEX_WAKE_OP | PRIVATE, 1, 1, (void *)16, 0));
	SHOW(syscall(SYS_futex, &a, 99, 1, NULL, NULL, 0));
	return 0;
}
