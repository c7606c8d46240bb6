/* perf_event_open: a software counter of the calling thread counts while enabled and
 * not while disabled; an attribute bigger than a page is E2BIG with the size the kernel
 * knows written back; a bad pointer is EFAULT; an unknown type and a hardware counter
 * succeed or fail as they do natively (no PMU on some hosts). */
#include "common.h"
#include <sys/ioctl.h>
#include <sys/syscall.h>

/* <linux/perf_event.h>'s first version of the attribute (musl's headers lack it) */
struct perf_event_attr {
	uint32_t type, size;
	uint64_t config, sample_period, sample_type, read_format;
	uint64_t disabled : 1, rest : 63;
	uint32_t wakeup_events, bp_type;
	uint64_t config1;
};
#define PERF_TYPE_HARDWARE 0
#define PERF_TYPE_SOFTWARE 1
#define PERF_COUNT_HW_INSTRUCTIONS 1
#define PERF_COUNT_SW_TASK_CLOCK 1
#define PERF_FLAG_FD_CLOEXEC 8
#define PERF_EVENT_IOC_ENABLE _IO('$', 0)
#define PERF_EVENT_IOC_DISABLE _IO('$', 1)
#define PERF_EVENT_IOC_RESET _IO('$', 3)

static long open_event(struct perf_event_attr *pe)
{
	return syscall(SYS_perf_event_open, pe, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

static void spin(void)
{
	for (volatile long i = 0; i < 20000000; i++)
		;
}

int main(void)
{
	struct perf_event_attr pe = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(pe),
				      .config = PERF_COUNT_SW_TASK_CLOCK, .disabled = 1 };
	long fd = open_event(&pe);
	if (fd < 0) {
		printf("perf_event_open: %s\n", strerror(errno));
		return 0;
	}
	unsigned long long before = 1, during = 0, after = 0;
	CHECK(read((int)fd, &before, 8) == 8);
	CHECK(ioctl((int)fd, PERF_EVENT_IOC_RESET, 0) == 0);
	CHECK(ioctl((int)fd, PERF_EVENT_IOC_ENABLE, 0) == 0);
	spin();
	CHECK(ioctl((int)fd, PERF_EVENT_IOC_DISABLE, 0) == 0);
	CHECK(read((int)fd, &during, 8) == 8);
	spin();
	CHECK(read((int)fd, &after, 8) == 8);
	printf("disabled at first: %llu; counted while enabled: %s; after disabling: %s\n", before,
	       during > 1000000 ? "yes" : "no", after == during ? "unchanged" : "changed");
	close((int)fd);

	struct perf_event_attr big = pe;
	big.size = 8192;
	SHOW(open_event(&big));
	printf("size written back: %s\n", big.size != 8192 ? "yes" : "no");
	SHOW(syscall(SYS_perf_event_open, (void *)8, 0, -1, -1, 0));
	struct perf_event_attr odd = pe;
	odd.type = 1000;
	SHOW(open_event(&odd));
	struct perf_event_attr hw = { .type = PERF_TYPE_HARDWARE, .size = sizeof(hw),
				      .config = PERF_COUNT_HW_INSTRUCTIONS, .disabled = 1 };
	fd = open_event(&hw);
	printf("hardware instructions: %s\n", fd >= 0 ? "counted" : strerror(errno));
	return 0;
}
