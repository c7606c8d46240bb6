/* syscall.c - dispatch by number, the ENOSYS fallback, and --strace output. */
#include "sys.h"
#include "../util.h"
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

struct sys_entry {
	const char *name;
	sys_handler fn;
	const char *fmt;
};

static const struct sys_entry table[] = {
#define SC(nr, name, fmt) [nr] = { #name, sys_##name, fmt },
#include "syscalls.def"
#undef SC
};

/* Names of the calls kvmse does not emulate yet, for the warning and strace. */
static const char *const other_names[] = {
	[15] = "rt_sigreturn", [27] = "mincore", [29] = "shmget", [30] = "shmat", [31] = "shmctl",
	[34] = "pause", [36] = "getitimer", [37] = "alarm", [38] = "setitimer", [40] = "sendfile",
	[41] = "socket", [42] = "connect", [43] = "accept", [44] = "sendto", [45] = "recvfrom",
	[46] = "sendmsg", [47] = "recvmsg", [48] = "shutdown", [49] = "bind", [50] = "listen",
	[51] = "getsockname", [52] = "getpeername", [53] = "socketpair", [54] = "setsockopt",
	[55] = "getsockopt", [56] = "clone", [57] = "fork", [58] = "vfork", [59] = "execve",
	[64] = "semget", [73] = "flock", [78] = "getdents", [101] = "ptrace", [103] = "syslog",
	[105] = "setuid", [106] = "setgid", [109] = "setpgid", [112] = "setsid", [127] = "rt_sigpending",
	[128] = "rt_sigtimedwait", [130] = "rt_sigsuspend", [161] = "chroot",
	[165] = "mount", [203] = "sched_setaffinity", [213] = "epoll_create", [221] = "fadvise64",
	[222] = "timer_create", [232] = "epoll_wait", [233] = "epoll_ctl", [247] = "waitid",
	[253] = "inotify_init", [281] = "epoll_pwait", [282] = "signalfd", [283] = "timerfd_create",
	[284] = "eventfd", [285] = "fallocate", [288] = "accept4", [289] = "signalfd4",
	[290] = "eventfd2", [291] = "epoll_create1", [309] = "getcpu", [319] = "memfd_create",
	[322] = "execveat", [326] = "copy_file_range", [435] = "clone3",
};

const char *sys_name(unsigned nr)
{
	if (nr < ARRAY_SIZE(table) && table[nr].name)
		return table[nr].name;
	if (nr < ARRAY_SIZE(other_names) && other_names[nr])
		return other_names[nr];
	return NULL;
}

long sys_path(struct proc *p, uint64_t va, char buf[PATH_MAX])
{
	long n = mem_read_str(&p->mem, buf, va, PATH_MAX);
	return n < 0 ? n : 0;
}

long sys_dirfd(struct proc *p, uint64_t fd)
{
	return (int)fd == AT_FDCWD ? AT_FDCWD : fd_guest(p, fd);
}

void sys_terminate(struct proc *p, int status, int sig)
{
	p->exited = true;
	p->exit_status = status;
	p->exit_signal = sig;
}

/* strace's quoting: at most 32 characters, C escapes, "..." when cut. */
static void put_quoted(struct proc *p, uint64_t va, long len, bool nul_term)
{
	char buf[33];
	long n = nul_term ? 32 : MIN(len, 32);
	if (n < 0)
		n = 0;
	long got = 0;
	while (got < n && mem_read(&p->mem, buf + got, va + (uint64_t)got, 1) == 0) {
		if (nul_term && !buf[got])
			break;
		got++;
	}
	if (nul_term && got == n && got == 0 && mem_read(&p->mem, buf, va, 1) < 0) {
		fprintf(stderr, "%#llx", (unsigned long long)va);
		return;
	}
	fputc('"', stderr);
	for (long i = 0; i < got; i++) {
		unsigned char c = (unsigned char)buf[i];
		switch (c) {
		case '\n': fputs("\\n", stderr); break;
		case '\t': fputs("\\t", stderr); break;
		case '\r': fputs("\\r", stderr); break;
		case '"': fputs("\\\"", stderr); break;
		case '\\': fputs("\\\\", stderr); break;
		default:
			if (isprint(c))
				fputc(c, stderr);
			else
				fprintf(stderr, "\\%o", c);
		}
	}
	fputc('"', stderr);
	if ((nul_term && got == n) || (!nul_term && len > n))
		fputs("...", stderr);
}

static void put_open_flags(uint64_t f)
{
	static const struct { int bit; const char *name; } bits[] = {
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" }, { O_NONBLOCK, "O_NONBLOCK" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_NOFOLLOW, "O_NOFOLLOW" }, { O_CLOEXEC, "O_CLOEXEC" },
	};
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	fputs(acc[f & 3], stderr);
	f &= ~3ULL;
	for (size_t i = 0; i < ARRAY_SIZE(bits); i++) {
		if (f & (uint64_t)bits[i].bit) {
			fprintf(stderr, "|%s", bits[i].name);
			f &= ~(uint64_t)bits[i].bit;
		}
	}
	if (f & ~(uint64_t)O_LARGEFILE & 0xffffffff)
		fprintf(stderr, "|%#llx", (unsigned long long)(f & ~(uint64_t)O_LARGEFILE));
}

static void put_arg(struct proc *p, char kind, const uint64_t a[6], int i, long ret)
{
	uint64_t v = a[i];
	switch (kind) {
	case 'd': fprintf(stderr, "%d", (int)v); break;
	case 'u': fprintf(stderr, "%llu", (unsigned long long)v); break;
	case 'o': fprintf(stderr, "%#llo", (unsigned long long)v); break;
	case 'x': fprintf(stderr, "%#llx", (unsigned long long)v); break;
	case 'A':
		if ((int)v == AT_FDCWD)
			fputs("AT_FDCWD", stderr);
		else
			fprintf(stderr, "%d", (int)v);
		break;
	case 'f': put_open_flags(v); break;
	case 's': put_quoted(p, v, 0, true); break;
	case 'b': put_quoted(p, v, (long)a[i + 1], false); break;
	case 'B':
		if (ret >= 0)
			put_quoted(p, v, ret, false);
		else
			fprintf(stderr, "%#llx", (unsigned long long)v);
		break;
	default:
		if (v)
			fprintf(stderr, "%#llx", (unsigned long long)v);
		else
			fputs("NULL", stderr);
	}
}

static const char *fmt_of(unsigned nr)
{
	return nr < ARRAY_SIZE(table) && table[nr].fmt ? table[nr].fmt : "dxxxxxx";
}

/* "name(args) = " as strace prints it, after the call so output buffers are filled. */
static void put_call(struct proc *p, unsigned nr, const uint64_t a[6], long ret)
{
	const char *name = sys_name(nr);
	const char *fmt = fmt_of(nr);
	if (name)
		fprintf(stderr, "%s(", name);
	else
		fprintf(stderr, "syscall_%#x(", nr);
	for (int i = 0; fmt[i + 1] && i < 6; i++) {
		if (i)
			fputs(", ", stderr);
		put_arg(p, fmt[i + 1], a, i, ret);
	}
	fputs(") = ", stderr);
}

static void put_result(unsigned nr, long ret)
{
	if (ret < 0 && ret > -4096)
		fprintf(stderr, "-1 %s (%s)\n", strerrorname_np((int)-ret) ? strerrorname_np((int)-ret) : "E?",
			strerror((int)-ret));
	else if (fmt_of(nr)[0] == 'x')
		fprintf(stderr, "%#lx\n", ret);
	else
		fprintf(stderr, "%ld\n", ret);
}

static long unknown(struct proc *p, unsigned nr)
{
	p->stats.syscalls_unknown++;
	bool *warned = nr < ARRAY_SIZE(p->warned) ? &p->warned[nr] : NULL;
	if (!p->opt->quiet && (!warned || !*warned)) {
		const char *name = sys_name(nr);
		if (name)
			pr_warn("unsupported system call %s (%u): returning ENOSYS", name, nr);
		else
			pr_warn("unsupported system call %u: returning ENOSYS", nr);
		if (warned)
			*warned = true;
	}
	return -ENOSYS;
}

void sys_dispatch(struct proc *p, struct cpu_regs *r)
{
	uint64_t nr64 = r->rax;
	unsigned nr = nr64 < 1024 ? (unsigned)nr64 : 1023;
	const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
	const struct sys_entry *e = nr < ARRAY_SIZE(table) && table[nr].fn ? &table[nr] : NULL;
	if (nr < ARRAY_SIZE(p->stats.syscalls))
		p->stats.syscalls[nr]++;
	bool no_ret = fmt_of(nr)[0] == 'n';
	if (p->opt->strace && no_ret) {
		put_call(p, nr, a, 0);
		fputs("?\n", stderr);
	}
	long ret = e ? e->fn(p, a) : unknown(p, nr);
	if (p->opt->strace && !no_ret) {
		put_call(p, nr, a, ret);
		put_result(nr, ret);
	}
	r->rax = (uint64_t)ret;
}
