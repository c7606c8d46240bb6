/* bpf: array, hash and per-CPU maps (update, lookup, delete, iteration, info), a socket
 * filter that counts packets in a map, run by PROG_TEST_RUN and attached to a socket;
 * bad pointers, sizes, descriptors and commands. Without the privilege for bpf, both
 * runs say so and stop there. */
#include "common.h"
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

/* (the parts of <linux/bpf.h> used here: musl's headers lack it) */
struct insn {
	uint8_t code, regs;     /* dst in the low nibble, src in the high one */
	int16_t off;
	int32_t imm;
};
union attr {
	struct { uint32_t map_type, key_size, value_size, max_entries, map_flags, inner, numa; char name[16]; } map;
	struct { uint32_t map_fd, pad; uint64_t key, value, flags; } elem;
	struct { uint32_t type, insn_cnt; uint64_t insns, license; uint32_t log_level, log_size;
		 uint64_t log_buf; uint32_t kern_version, flags; char name[16]; } prog;
	struct { uint32_t fd, len; uint64_t info; } info;
	struct { uint32_t prog_fd, retval, size_in, size_out; uint64_t data_in, data_out;
		 uint32_t repeat, duration; } test;
	uint8_t raw[128];
};
struct map_info {
	uint32_t type, id, key_size, value_size, max_entries, map_flags;
	char name[16];
	uint8_t rest[64];
};

static long bpf(int cmd, union attr *a, unsigned size)
{
	return syscall(SYS_bpf, cmd, a, size);
}

static int map_create(uint32_t type, uint32_t key, uint32_t value, uint32_t n, const char *name)
{
	union attr a = { .map = { type, key, value, n } };
	strncpy(a.map.name, name, 15);
	return (int)bpf(0, &a, sizeof(a));
}

static long elem(int cmd, int fd, const void *key, void *value)
{
	union attr a = { .elem = { .map_fd = (uint32_t)fd, .key = (uintptr_t)key, .value = (uintptr_t)value } };
	return bpf(cmd, &a, sizeof(a));
}
#define LOOKUP 1
#define UPDATE 2
#define DELETE 3
#define NEXT_KEY 4
#define LOOKUP_DELETE 21

static unsigned possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
	unsigned a = 0, b = 0;
	CHECK(f && fscanf(f, "%u-%u", &a, &b) >= 1);
	fclose(f);
	return (b > a ? b : a) + 1;
}

static void maps(void)
{
	int fd = map_create(2, 4, 8, 4, "counts");      /* BPF_MAP_TYPE_ARRAY */
	uint32_t k = 1, next;
	uint64_t v = 42, got = 0;
	SHOW(elem(UPDATE, fd, &k, &v));
	SHOW(elem(LOOKUP, fd, &k, &got));
	printf("value at 1: %llu\n", (unsigned long long)got);
	k = 9;
	SHOW(elem(LOOKUP, fd, &k, &got));
	SHOW(elem(DELETE, fd, &k, NULL));
	SHOW(elem(NEXT_KEY, fd, NULL, &next));
	printf("first key: %u\n", next);
	k = 3;
	SHOW(elem(NEXT_KEY, fd, &k, &next));
	struct map_info info = { 0 };
	union attr a = { .info = { (uint32_t)fd, sizeof(info), (uintptr_t)&info } };
	SHOW(bpf(15, &a, sizeof(a)));                   /* BPF_OBJ_GET_INFO_BY_FD */
	printf("info: type %u key %u value %u entries %u name %s, length %s\n", info.type, info.key_size,
	       info.value_size, info.max_entries, info.name, a.info.len > 24 ? "written" : "short");
	/* errors: addresses, sizes, descriptors, commands */
	SHOW(elem(LOOKUP, fd, (void *)0x1000, &got));
	SHOW(syscall(SYS_bpf, LOOKUP, NULL, sizeof(a)));
	SHOW(syscall(SYS_bpf, LOOKUP, &a, 8192));
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	SHOW(elem(LOOKUP, pfd[0], &k, &got));
	SHOW(elem(LOOKUP, 999, &k, &got));
	SHOW(bpf(1000, &a, sizeof(a)));
	close(fd);

	fd = map_create(1, 4, 4, 16, "hash");          /* BPF_MAP_TYPE_HASH */
	uint32_t keys[] = { 5, 3, 9 }, val, seen[8], n = 0;
	for (int i = 0; i < 3; i++) {
		val = keys[i] * 10;
		SHOW(elem(UPDATE, fd, &keys[i], &val));
	}
	uint32_t *prev = NULL;
	while (n < 8 && elem(NEXT_KEY, fd, prev, &seen[n]) == 0) {
		prev = &seen[n];
		n++;
	}
	unsigned sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += seen[i];
	printf("%u keys, summing to %u\n", n, sum);
	k = 3;
	SHOW(elem(LOOKUP_DELETE, fd, &k, &val));
	printf("taken: %u\n", val);
	SHOW(elem(LOOKUP, fd, &k, &val));
	close(fd);

	unsigned cpus = possible_cpus();
	fd = map_create(6, 4, 8, 2, "percpu");          /* BPF_MAP_TYPE_PERCPU_ARRAY */
	uint64_t *vals = calloc(cpus, 8);
	for (unsigned i = 0; i < cpus; i++)
		vals[i] = i + 1;
	k = 1;
	SHOW(elem(UPDATE, fd, &k, vals));
	memset(vals, 0, cpus * 8);
	SHOW(elem(LOOKUP, fd, &k, vals));
	uint64_t total = 0;
	for (unsigned i = 0; i < cpus; i++)
		total += vals[i];
	printf("per-CPU values add up as written: %s\n", total == (uint64_t)cpus * (cpus + 1) / 2 ? "yes" : "no");
	free(vals);
	close(fd);
}

/* count[0] += 1 for each packet; keep all of it. */
static int load_counter(int map)
{
	struct insn prog[] = {
		{ 0x18, 0x10 | 1, 0, map }, { 0, 0, 0, 0 },     /* r1 = map (BPF_PSEUDO_MAP_FD) */
		{ 0x62, 10, -4, 0 },                            /* *(u32 *)(r10 - 4) = 0 */
		{ 0xbf, 0xa0 | 2, 0, 0 },                       /* r2 = r10 */
		{ 0x07, 2, 0, -4 },                             /* r2 += -4 */
		{ 0x85, 0, 0, 1 },                              /* call map_lookup_elem */
		{ 0x15, 0, 2, 0 },                              /* if r0 == 0 goto +2 */
		{ 0xb7, 1, 0, 1 },                              /* r1 = 1 */
		{ 0xdb, 0x10 | 0, 0, 0 },                       /* lock *(u64 *)(r0) += r1 */
		{ 0xb7, 0, 0, -1 },                             /* r0 = -1 */
		{ 0x95, 0, 0, 0 },                              /* exit */
	};
	static char log[4096];
	union attr a = { .prog = { .type = 1, .insn_cnt = sizeof(prog) / sizeof(prog[0]),
				   .insns = (uintptr_t)prog, .license = (uintptr_t)"GPL", .log_level = 1,
				   .log_size = sizeof(log), .log_buf = (uintptr_t)log } };
	int fd = (int)bpf(5, &a, sizeof(a));            /* BPF_PROG_LOAD */
	if (fd < 0)
		printf("load: %s\n%s\n", strerror(errno), log);
	printf("verifier log: %s\n", log[0] ? "written" : "empty");
	return fd;
}

static void programs(void)
{
	int map = map_create(2, 4, 8, 1, "packets");
	int prog = load_counter(map);
	CHECK(prog >= 0);
	char data[64] = { 0 };
	union attr a = { .test = { .prog_fd = (uint32_t)prog, .size_in = sizeof(data),
				   .data_in = (uintptr_t)data, .repeat = 1 } };
	SHOW(bpf(10, &a, sizeof(a)));                   /* BPF_PROG_TEST_RUN */
	printf("test run returned %u\n", a.test.retval);
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
	SHOW(setsockopt(sv[1], SOL_SOCKET, 50 /* SO_ATTACH_BPF */, &prog, sizeof(prog)));
	char buf[16];
	for (int i = 0; i < 3; i++) {
		CHECK(send(sv[0], "ping", 4, 0) == 4);
		SHOW(recv(sv[1], buf, sizeof(buf), 0));
	}
	uint32_t k = 0;
	uint64_t count = 0;
	SHOW(elem(LOOKUP, map, &k, &count));
	printf("packets counted: %llu\n", (unsigned long long)count);
	/* a program array's value is a program's descriptor */
	int progs = map_create(3, 4, 4, 2, "progs");    /* BPF_MAP_TYPE_PROG_ARRAY */
	SHOW(elem(UPDATE, progs, &k, &prog));
	int bad = 999;
	SHOW(elem(UPDATE, progs, &k, &bad));
}

/* Around the descriptor limit, where kvmse keeps its own: none is a map to the program,
 * nor can it go into a program array. */
static void high_fds(void)
{
	struct rlimit rl;
	CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
	int progs = map_create(3, 4, 4, 1, "progs2"), ebadf = 0;
	uint32_t k = 0;
	uint64_t v;
	for (int fd = (int)rl.rlim_cur - 16; fd < (int)rl.rlim_cur + 16; fd++) {
		ebadf += elem(LOOKUP, fd, &k, &v) == -1 && errno == EBADF;
		ebadf += elem(UPDATE, progs, &k, &fd) == -1 && errno == EBADF;
	}
	printf("calls near the descriptor limit that were EBADF: %d of 64\n", ebadf);
}

int main(void)
{
	int fd = map_create(2, 4, 8, 4, "probe");
	if (fd < 0) {
		printf("no bpf maps here: %s\n", strerror(errno));
		return 0;
	}
	close(fd);
	maps();
	programs();
	high_fds();
	return 0;
}
