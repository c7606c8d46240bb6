/* bpf.c - bpf(2): maps, and programs that cannot reach user memory, made by the host.
 *
 * The attribute union holds guest addresses and descriptors. Each command known here
 * gets a host copy of it, with host buffers in place of the addresses (user_buf) and
 * kvmse's own descriptors made unusable (user_fd); what the kernel writes back into the
 * union is copied back. The bytes past the last field kvmse knows for the command must
 * be zero (E2BIG, as from a kernel that knows no more): a newer field may be an address,
 * which the host kernel would take for one of kvmse's.
 *
 * Not here: programs whose helpers read or write user memory (tracing, LSM, syscall
 * programs and their kin: in kvmse's process that is kvmse's memory), links, batch map
 * operations, and mmap of a map (ring buffers, BPF_F_MMAPABLE arrays).
 */
#include "sys.h"
#include "../util.h"
#include <linux/bpf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define END(f) (offsetof(union bpf_attr, f) + sizeof(((union bpf_attr *)0)->f))

/* For each command served, where the fields kvmse knows end (0: not served). */
static const unsigned known[] = {
	[BPF_MAP_CREATE] = END(map_extra),
	[BPF_MAP_LOOKUP_ELEM] = END(flags),
	[BPF_MAP_UPDATE_ELEM] = END(flags),
	[BPF_MAP_DELETE_ELEM] = END(flags),
	[BPF_MAP_GET_NEXT_KEY] = END(flags),
	[BPF_MAP_LOOKUP_AND_DELETE_ELEM] = END(flags),
	[BPF_MAP_FREEZE] = END(map_fd),
	[BPF_PROG_LOAD] = END(core_relo_rec_size),
	[BPF_OBJ_PIN] = END(file_flags),
	[BPF_OBJ_GET] = END(file_flags),
	[BPF_PROG_ATTACH] = END(replace_bpf_fd),
	[BPF_PROG_DETACH] = END(replace_bpf_fd),
	[BPF_PROG_TEST_RUN] = END(test.batch_size),
	[BPF_PROG_GET_NEXT_ID] = END(open_flags),
	[BPF_MAP_GET_NEXT_ID] = END(open_flags),
	[BPF_BTF_GET_NEXT_ID] = END(open_flags),
	[BPF_PROG_GET_FD_BY_ID] = END(open_flags),
	[BPF_MAP_GET_FD_BY_ID] = END(open_flags),
	[BPF_BTF_GET_FD_BY_ID] = END(open_flags),
	[BPF_OBJ_GET_INFO_BY_FD] = END(info.info),
	[BPF_PROG_QUERY] = END(query.prog_attach_flags),
	[BPF_BTF_LOAD] = END(btf_log_level),
};

/* Linux's commands are fewer than this (EINVAL for the others). */
#define CMDS_LINUX 64

static long host_bpf(int cmd, union bpf_attr *u, unsigned size)
{
	return sys_ret(syscall(SYS_bpf, cmd, u, size));
}

/* Program types whose helpers reach no user memory (networking, cgroups, devices). */
static bool prog_type_boxed(uint32_t t)
{
	switch (t) {
	case BPF_PROG_TYPE_SOCKET_FILTER: case BPF_PROG_TYPE_SCHED_CLS: case BPF_PROG_TYPE_SCHED_ACT:
	case BPF_PROG_TYPE_XDP: case BPF_PROG_TYPE_CGROUP_SKB: case BPF_PROG_TYPE_CGROUP_SOCK:
	case BPF_PROG_TYPE_LWT_IN: case BPF_PROG_TYPE_LWT_OUT: case BPF_PROG_TYPE_LWT_XMIT:
	case BPF_PROG_TYPE_SOCK_OPS: case BPF_PROG_TYPE_SK_SKB: case BPF_PROG_TYPE_CGROUP_DEVICE:
	case BPF_PROG_TYPE_SK_MSG: case BPF_PROG_TYPE_CGROUP_SOCK_ADDR: case BPF_PROG_TYPE_LWT_SEG6LOCAL:
	case BPF_PROG_TYPE_LIRC_MODE2: case BPF_PROG_TYPE_SK_REUSEPORT: case BPF_PROG_TYPE_FLOW_DISSECTOR:
	case BPF_PROG_TYPE_CGROUP_SYSCTL: case BPF_PROG_TYPE_CGROUP_SOCKOPT: case BPF_PROG_TYPE_SK_LOOKUP:
		return true;
	default:
		return false;
	}
}

/* The host's possible CPUs: a per-CPU map's value holds one slot for each. */
static unsigned possible_cpus(void)
{
	static unsigned n;
	if (n)
		return n;
	char buf[256];
	unsigned last = 0, a, b;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	if (f && fgets(buf, sizeof(buf), f)) {
		for (char *s = strtok(buf, ","); s; s = strtok(NULL, ",")) {
			int k = sscanf(s, "%u-%u", &a, &b);
			if (k >= 1)
				last = MAX(last, k == 2 ? b : a);
		}
	}
	if (f)
		fclose(f);
	n = last + 1;
	return n;
}

static bool is_map(int fd)
{
	char link[64];
	return fd_target(fd, link, sizeof(link)) >= 0 && !strcmp(link, "anon_inode:bpf-map");
}

/* Map types whose values are descriptors (the first 4 bytes of one). */
static bool fd_values(uint32_t type)
{
	switch (type) {
	case BPF_MAP_TYPE_PROG_ARRAY: case BPF_MAP_TYPE_PERF_EVENT_ARRAY: case BPF_MAP_TYPE_CGROUP_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS: case BPF_MAP_TYPE_HASH_OF_MAPS: case BPF_MAP_TYPE_SOCKMAP:
	case BPF_MAP_TYPE_SOCKHASH: case BPF_MAP_TYPE_XSKMAP:
		return true;
	default:
		return false;
	}
}

/* The MAP_*_ELEM commands: key and value are as big as the map says. */
static long map_elem(struct proc *p, int cmd, union bpf_attr *u, unsigned size)
{
	struct bpf_map_info info = { 0 };
	union bpf_attr q = { .info = { .bpf_fd = (uint32_t)user_fd(u->map_fd), .info_len = sizeof(info),
				       .info = (uintptr_t)&info } };
	u->map_fd = q.info.bpf_fd;
	/* Not a map: the kernel says so before it looks at key or value. */
	if (!is_map((int)u->map_fd) || host_bpf(BPF_OBJ_GET_INFO_BY_FD, &q, sizeof(q)) < 0) {
		u->key = u->value = 0;
		return host_bpf(cmd, u, size);
	}
	uint64_t vsize = info.value_size;
	if (info.type == BPF_MAP_TYPE_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_ARRAY ||
	    info.type == BPF_MAP_TYPE_LRU_PERCPU_HASH || info.type == BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE)
		vsize = ((vsize + 7) & ~7ULL) * possible_cpus();
	u->key = (uintptr_t)user_in(p, u->key, info.key_size);
	switch (cmd) {
	case BPF_MAP_UPDATE_ELEM:
		if (fd_values(info.type) && vsize >= 4 && vsize <= 8 && u->value) {
			/* (a private copy: what the kernel takes is what was checked) */
			uint32_t *v = user_scratch(8);
			if (mem_read(p->mem, v, u->value, vsize) < 0)
				return -EFAULT;
			v[0] = (uint32_t)user_fd(v[0]);
			u->value = (uintptr_t)v;
		} else {
			u->value = (uintptr_t)user_in(p, u->value, vsize);
		}
		break;
	case BPF_MAP_GET_NEXT_KEY:
		u->next_key = (uintptr_t)user_out(p, u->next_key, info.key_size);
		break;
	case BPF_MAP_DELETE_ELEM:
		break;
	default:        /* lookups */
		u->value = (uintptr_t)user_out(p, u->value, vsize);
	}
	return host_bpf(cmd, u, size);
}

/* How many entries of fd_array the program refers to (map indexes, kfunc BTFs). */
static uint64_t fd_array_len(const struct bpf_insn *insn, uint32_t n)
{
	uint64_t len = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct bpf_insn *in = &insn[i];
		if (in->code == (BPF_LD | BPF_IMM | BPF_DW) &&
		    (in->src_reg == BPF_PSEUDO_MAP_IDX || in->src_reg == BPF_PSEUDO_MAP_IDX_VALUE))
			len = MAX(len, (uint64_t)(uint32_t)in->imm + 1);
		if (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_KFUNC_CALL && in->off > 0)
			len = MAX(len, (uint64_t)in->off + 1);
	}
	return len;
}

/* A copy of the program's fd_array, as long as the program reads it (a program that
 * cannot be read fails to load before the array matters). */
static long fd_array(struct proc *p, union bpf_attr *u)
{
	uint64_t n = u->insn_cnt, len = 0;
	struct bpf_insn *insns = n <= (1u << 20) ? malloc(n * sizeof(*insns) + 1) : NULL;
	if (insns && mem_read(p->mem, insns, u->insns, n * sizeof(*insns)) == 0)
		len = fd_array_len(insns, (uint32_t)n);
	free(insns);
	int32_t *fds = user_scratch(MIN(len, PATH_MAX / 4) * 4);
	if (len > PATH_MAX / 4 || mem_read(p->mem, fds, u->fd_array, len * 4) < 0)
		return -EFAULT;
	for (uint64_t i = 0; i < len; i++)
		fds[i] = user_fd((uint32_t)fds[i]);
	u->fd_array = (uintptr_t)fds;
	return 0;
}

static long prog_load(struct proc *p, union bpf_attr *u, unsigned size)
{
	if (!prog_type_boxed(u->prog_type)) {
		if (!p->opt->quiet)
			pr_warn("bpf: a program of type %u could read and write kvmse's memory as user "
				"memory: EPERM", u->prog_type);
		return -EPERM;
	}
	u->prog_btf_fd = (uint32_t)user_fd(u->prog_btf_fd);
	u->attach_prog_fd = (uint32_t)user_fd(u->attach_prog_fd);
	if (u->fd_array) {
		long rc = fd_array(p, u);
		if (rc < 0)
			return rc;
	}
	u->insns = (uintptr_t)user_in(p, u->insns, (uint64_t)u->insn_cnt * sizeof(struct bpf_insn));
	u->license = (uintptr_t)user_path(p, u->license, 0);
	u->log_buf = (uintptr_t)user_out(p, u->log_buf, u->log_size);
	u->func_info = (uintptr_t)user_in(p, u->func_info, (uint64_t)u->func_info_rec_size * u->func_info_cnt);
	u->line_info = (uintptr_t)user_in(p, u->line_info, (uint64_t)u->line_info_rec_size * u->line_info_cnt);
	u->core_relos = (uintptr_t)user_in(p, u->core_relos, (uint64_t)u->core_relo_rec_size * u->core_relo_cnt);
	return host_bpf(BPF_PROG_LOAD, u, size);
}

/* OBJ_GET_INFO_BY_FD: what the kernel reads of the info (a program's arrays to fill) is
 * addresses, so it gets zeros, and fills only what needs none. */
static long obj_info(struct proc *p, gva_t attr, union bpf_attr *u, unsigned size)
{
	uint32_t len = MIN(u->info.info_len, (uint32_t)PAGE_SIZE);
	gva_t out = u->info.info;
	uint8_t info[PAGE_SIZE] = { 0 };
	u->info.bpf_fd = (uint32_t)user_fd(u->info.bpf_fd);
	u->info.info_len = len;
	u->info.info = out ? (uintptr_t)info : 0;
	long rc = host_bpf(BPF_OBJ_GET_INFO_BY_FD, u, size);
	if (rc < 0)
		return rc;
	if (mem_write(p->mem, out, info, MIN(len, u->info.info_len)) < 0 ||
	    mem_write(p->mem, attr + offsetof(union bpf_attr, info.info_len), &u->info.info_len, 4) < 0)
		return -EFAULT;
	return rc;
}

static long test_run(struct proc *p, gva_t attr, union bpf_attr *u, unsigned size)
{
	u->test.prog_fd = (uint32_t)user_fd(u->test.prog_fd);
	u->test.data_in = (uintptr_t)user_in(p, u->test.data_in, u->test.data_size_in);
	u->test.data_out = (uintptr_t)user_out(p, u->test.data_out, u->test.data_size_out);
	u->test.ctx_in = (uintptr_t)user_in(p, u->test.ctx_in, u->test.ctx_size_in);
	u->test.ctx_out = (uintptr_t)user_out(p, u->test.ctx_out, u->test.ctx_size_out);
	long rc = host_bpf(BPF_PROG_TEST_RUN, u, size);
	/* retval, data_size_out, duration and ctx_size_out: the kernel's answers (written
	 * as it goes: also when it fails) */
#define BACK(f) mem_write(p->mem, attr + offsetof(union bpf_attr, test.f), &u->test.f, 4)
	if (BACK(retval) < 0 || BACK(data_size_out) < 0 || BACK(duration) < 0 || BACK(ctx_size_out) < 0)
		return -EFAULT;
#undef BACK
	return rc;
}

static long prog_query(struct proc *p, gva_t attr, union bpf_attr *u, unsigned size)
{
	uint64_t n = u->query.prog_cnt;
	u->query.target_fd = (uint32_t)user_fd(u->query.target_fd);
	u->query.prog_ids = (uintptr_t)user_out(p, u->query.prog_ids, n * 4);
	u->query.prog_attach_flags = (uintptr_t)user_out(p, u->query.prog_attach_flags, n * 4);
	long rc = host_bpf(BPF_PROG_QUERY, u, size);
	if (mem_write(p->mem, attr + offsetof(union bpf_attr, query.attach_flags), &u->query.attach_flags, 4) < 0 ||
	    mem_write(p->mem, attr + offsetof(union bpf_attr, query.prog_cnt), &u->query.prog_cnt, 4) < 0)
		return -EFAULT;
	return rc;
}

static long run(struct proc *p, int cmd, gva_t attr, union bpf_attr *u, unsigned size)
{
	switch (cmd) {
	case BPF_MAP_CREATE:
		u->inner_map_fd = (uint32_t)user_fd(u->inner_map_fd);
		u->btf_fd = (uint32_t)user_fd(u->btf_fd);
		return host_bpf(cmd, u, size);
	case BPF_MAP_LOOKUP_ELEM: case BPF_MAP_UPDATE_ELEM: case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_GET_NEXT_KEY: case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
		return map_elem(p, cmd, u, size);
	case BPF_MAP_FREEZE:
		u->map_fd = (uint32_t)user_fd(u->map_fd);
		return host_bpf(cmd, u, size);
	case BPF_PROG_LOAD:
		return prog_load(p, u, size);
	case BPF_OBJ_PIN: case BPF_OBJ_GET:
		u->bpf_fd = (uint32_t)user_fd(u->bpf_fd);
		u->pathname = (uintptr_t)user_path(p, u->pathname, 0);
		return host_bpf(cmd, u, size);
	case BPF_PROG_ATTACH: case BPF_PROG_DETACH:
		u->target_fd = (uint32_t)user_fd(u->target_fd);
		u->attach_bpf_fd = (uint32_t)user_fd(u->attach_bpf_fd);
		u->replace_bpf_fd = (uint32_t)user_fd(u->replace_bpf_fd);
		return host_bpf(cmd, u, size);
	case BPF_PROG_TEST_RUN:
		return test_run(p, attr, u, size);
	case BPF_PROG_GET_NEXT_ID: case BPF_MAP_GET_NEXT_ID: case BPF_BTF_GET_NEXT_ID: {
		long rc = host_bpf(cmd, u, size);
		if (rc == 0 && mem_write(p->mem, attr + offsetof(union bpf_attr, next_id), &u->next_id, 4) < 0)
			return -EFAULT;
		return rc;
	}
	case BPF_OBJ_GET_INFO_BY_FD:
		return obj_info(p, attr, u, size);
	case BPF_PROG_QUERY:
		return prog_query(p, attr, u, size);
	case BPF_BTF_LOAD:
		u->btf = (uintptr_t)user_in(p, u->btf, u->btf_size);
		u->btf_log_buf = (uintptr_t)user_out(p, u->btf_log_buf, u->btf_log_size);
		return host_bpf(cmd, u, size);
	default:        /* the GET_FD_BY_ID commands */
		return host_bpf(cmd, u, size);
	}
}

long sys_bpf(struct proc *p, const uint64_t a[6])
{
	int cmd = (int)a[0];
	gva_t attr = a[1];
	uint32_t size = (uint32_t)a[2];
	unsigned end = cmd >= 0 && (size_t)cmd < ARRAY_SIZE(known) ? known[cmd] : 0;
	if (cmd < 0 || cmd >= CMDS_LINUX)
		return -EINVAL;
	if (!end) {
		if (!p->opt->quiet)
			pr_warn("bpf: command %d is not supported: ENOSYS", cmd);
		return -ENOSYS;
	}
	if (size > PAGE_SIZE)
		return -E2BIG;
	uint8_t raw[PAGE_SIZE] = { 0 };
	if (mem_read(p->mem, raw, attr, size) < 0)
		return -EFAULT;
	for (uint32_t i = end; i < size; i++)
		if (raw[i])
			return -E2BIG;
	union bpf_attr u;
	memcpy(&u, raw, sizeof(u));
	return run(p, cmd, attr, &u, MIN(size, end));
}
