/* strace.c - --strace: each system call as strace prints it, decoded from its format in
 * syscalls.def. Printed after the call, so output buffers and structs are filled (an
 * execve's line is made before it, and a call that does not return prints before it). */
#include "sys.h"
#include "../util.h"
#include <ctype.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* The line being built: strace pads "call(args)" to 39 columns before " = result". */
struct line {
	char buf[1024];
	size_t len;
};

static void add(struct line *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct line *l, const char *fmt, ...)
{
	if (l->len >= sizeof(l->buf) - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(l->buf + l->len, sizeof(l->buf) - l->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		l->len = MIN(l->len + (size_t)n, sizeof(l->buf) - 1);
}

struct name {
	uint64_t val;
	const char *name;
};
#define N(x) { x, #x }

/* One value from a table, or the number. */
static void add_enum(struct line *l, const struct name *t, size_t n, uint64_t v, const char *numfmt)
{
	for (size_t i = 0; i < n; i++) {
		if (t[i].val == v) {
			add(l, "%s", t[i].name);
			return;
		}
	}
	add(l, numfmt, (unsigned long long)v);
}

/* Flags from a table joined by '|', the rest in hex; 'zero' names 0. */
static void add_flags(struct line *l, const struct name *t, size_t n, uint64_t v, const char *zero)
{
	bool first = true;
	if (!v) {
		add(l, "%s", zero);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		if (t[i].val && (v & t[i].val) == t[i].val) {
			add(l, "%s%s", first ? "" : "|", t[i].name);
			v &= ~t[i].val;
			first = false;
		}
	}
	if (v)
		add(l, "%s%#llx", first ? "" : "|", (unsigned long long)v);
}

static const struct name prot_names[] = { N(PROT_READ), N(PROT_WRITE), N(PROT_EXEC) };
static const struct name map_names[] = {
	N(MAP_SHARED), N(MAP_PRIVATE), N(MAP_FIXED), N(MAP_ANONYMOUS), N(MAP_GROWSDOWN),
	N(MAP_DENYWRITE), N(MAP_NORESERVE), N(MAP_POPULATE), N(MAP_STACK), N(MAP_FIXED_NOREPLACE),
};
static const struct name open_names[] = {
	N(O_CREAT), N(O_EXCL), N(O_NOCTTY), N(O_TRUNC), N(O_APPEND), N(O_NONBLOCK), N(O_DSYNC),
	{ 0100000, "O_LARGEFILE" }, N(O_NOFOLLOW), N(O_NOATIME), N(O_CLOEXEC), N(O_PATH), N(O_TMPFILE), N(O_DIRECTORY),
};
static const struct name cloexec_names[] = { N(O_CLOEXEC) };
static const struct name fd_flag_names[] = { N(FD_CLOEXEC) };
static const struct name access_names[] = { N(R_OK), N(W_OK), N(X_OK) };
static const struct name at_names[] = {
	N(AT_SYMLINK_NOFOLLOW), N(AT_REMOVEDIR), N(AT_SYMLINK_FOLLOW), N(AT_NO_AUTOMOUNT),
	N(AT_EMPTY_PATH), N(AT_EACCESS),
};
static const struct name whence_names[] = { N(SEEK_SET), N(SEEK_CUR), N(SEEK_END), N(SEEK_DATA), N(SEEK_HOLE) };
static const struct name ioctl_names[] = {
	N(TCGETS), N(TCSETS), N(TCSETSW), N(TCSETSF), N(TIOCGWINSZ), N(TIOCSWINSZ), N(FIONREAD),
	N(TIOCGPGRP), N(TIOCSPGRP), N(FIONBIO), N(FIOCLEX), N(FIONCLEX), N(TCFLSH), N(TCXONC),
	N(TCSBRK), N(TIOCSCTTY), N(TIOCNOTTY), N(TIOCGSID), N(TIOCOUTQ), N(FIOASYNC),
};
static const struct name fcntl_names[] = {
	N(F_DUPFD), N(F_GETFD), N(F_SETFD), N(F_GETFL), N(F_SETFL), N(F_GETLK), N(F_SETLK),
	N(F_SETLKW), N(F_SETOWN), N(F_GETOWN), N(F_SETSIG), N(F_GETSIG), N(F_OFD_GETLK),
	N(F_OFD_SETLK), N(F_OFD_SETLKW), N(F_SETLEASE), N(F_GETLEASE), N(F_NOTIFY),
	N(F_DUPFD_CLOEXEC), N(F_SETPIPE_SZ), N(F_GETPIPE_SZ), N(F_ADD_SEALS), N(F_GET_SEALS),
};
static const struct name rlimit_names[] = {
	N(RLIMIT_CPU), N(RLIMIT_FSIZE), N(RLIMIT_DATA), N(RLIMIT_STACK), N(RLIMIT_CORE),
	N(RLIMIT_RSS), N(RLIMIT_NPROC), N(RLIMIT_NOFILE), N(RLIMIT_MEMLOCK), N(RLIMIT_AS),
	N(RLIMIT_LOCKS), N(RLIMIT_SIGPENDING), N(RLIMIT_MSGQUEUE), N(RLIMIT_NICE),
	N(RLIMIT_RTPRIO), N(RLIMIT_RTTIME),
};
static const struct name clock_names[] = {
	N(CLOCK_REALTIME), N(CLOCK_MONOTONIC), N(CLOCK_PROCESS_CPUTIME_ID),
	N(CLOCK_THREAD_CPUTIME_ID), N(CLOCK_MONOTONIC_RAW), N(CLOCK_REALTIME_COARSE),
	N(CLOCK_MONOTONIC_COARSE), N(CLOCK_BOOTTIME), N(CLOCK_TAI),
};
static const struct name how_names[] = { N(SIG_BLOCK), N(SIG_UNBLOCK), N(SIG_SETMASK) };
static const struct name arch_names[] = {
	{ 0x1001, "ARCH_SET_GS" }, { 0x1002, "ARCH_SET_FS" }, { 0x1003, "ARCH_GET_FS" },
	{ 0x1004, "ARCH_GET_GS" }, { 0x3001, "ARCH_CET_STATUS" },
};

static void add_signal(struct line *l, uint64_t sig)
{
	const char *abbrev = sig < 65 ? sigabbrev_np((int)sig) : NULL;
	if (abbrev)
		add(l, "SIG%s", abbrev);
	else if (sig >= (uint64_t)SIGRTMIN && sig <= 64)
		add(l, "SIGRT_%d", (int)sig - 32);
	else
		add(l, "%d", (int)sig);
}

/* A guest buffer quoted as strace does: at most 32 bytes, C escapes, "..." when cut. */
static void add_quoted(struct line *l, struct proc *p, uint64_t va, long len, bool nul_term)
{
	char buf[33];
	long max = nul_term ? 32 : MIN(len, 32), got = 0;
	if (!va) {
		add(l, "NULL");
		return;
	}
	while (got < max && mem_read(p->mem, buf + got, va + (uint64_t)got, 1) == 0) {
		if (nul_term && !buf[got])
			break;
		got++;
	}
	if (got == 0 && max > 0 && mem_read(p->mem, buf, va, 1) < 0) {
		add(l, "%#llx", (unsigned long long)va);
		return;
	}
	add(l, "\"");
	for (long i = 0; i < got; i++) {
		unsigned char c = (unsigned char)buf[i];
		const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" :
				  c == '"' ? "\\\"" : c == '\\' ? "\\\\" : NULL;
		if (esc)
			add(l, "%s", esc);
		else if (isprint(c))
			add(l, "%c", c);
		else
			add(l, "\\%o", c);
	}
	add(l, "\"%s", (nul_term && got == max) || (!nul_term && len > max) ? "..." : "");
}

/* An iovec array: [{iov_base="...", iov_len=N}, ...], 'total' bytes shown at most. */
static void add_iovec(struct line *l, struct proc *p, uint64_t va, uint64_t cnt, long total)
{
	struct iovec iov[8];
	uint64_t n = MIN(cnt, ARRAY_SIZE(iov));
	if (cnt > 1024 || mem_read(p->mem, iov, va, n * sizeof(*iov)) < 0) {
		add(l, "%#llx", (unsigned long long)va);
		return;
	}
	add(l, "[");
	for (uint64_t i = 0; i < n; i++) {
		long shown = MIN((long)iov[i].iov_len, MAX(total, 0));
		add(l, "%s{iov_base=", i ? ", " : "");
		add_quoted(l, p, (uint64_t)iov[i].iov_base, shown, false);
		add(l, ", iov_len=%zu}", iov[i].iov_len);
		total -= shown;
	}
	add(l, "%s]", cnt > n ? ", ..." : "");
}

/* getdents64's buffer: strace counts the entries. */
static void add_dirents(struct line *l, struct proc *p, uint64_t va, long len)
{
	int n = 0;
	for (long off = 0; off + 19 <= len; n++) {
		uint16_t reclen;
		if (mem_read(p->mem, &reclen, va + (uint64_t)off + 16, 2) < 0 || !reclen)
			break;
		off += reclen;
	}
	add(l, "%#llx /* %d entries */", (unsigned long long)va, n);
}

/* utimensat's pair: [{tv_sec=S, tv_nsec=N} /- date -/, ...] as strace shows them. */
static void add_times(struct line *l, struct proc *p, uint64_t va)
{
	struct timespec ts[2];
	if (!va) {
		add(l, "NULL");
		return;
	}
	if (mem_read(p->mem, ts, va, sizeof(ts)) < 0) {
		add(l, "%#llx", (unsigned long long)va);
		return;
	}
	add(l, "[");
	for (int i = 0; i < 2; i++) {
		add(l, "%s{tv_sec=%lld, tv_nsec=%ld}", i ? ", " : "", (long long)ts[i].tv_sec, ts[i].tv_nsec);
		if (ts[i].tv_nsec == UTIME_NOW || ts[i].tv_nsec == UTIME_OMIT)
			continue;
		struct tm tm;
		char date[40];
		time_t t = ts[i].tv_sec;
		if (gmtime_r(&t, &tm) && strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S+0000", &tm))
			add(l, " /* %s */", date);
	}
	add(l, "]");
}

static void add_fd_pair(struct line *l, struct proc *p, uint64_t va)
{
	int fds[2];
	if (mem_read(p->mem, fds, va, sizeof(fds)) < 0)
		add(l, "%#llx", (unsigned long long)va);
	else
		add(l, "[%d, %d]", fds[0], fds[1]);
}

static void add_stat(struct line *l, struct proc *p, uint64_t va)
{
	struct stat st;
	if (mem_read(p->mem, &st, va, sizeof(st)) < 0) {
		add(l, "%#llx", (unsigned long long)va);
		return;
	}
	static const struct name types[] = {
		N(S_IFREG), N(S_IFDIR), N(S_IFCHR), N(S_IFBLK), N(S_IFIFO), N(S_IFLNK), N(S_IFSOCK),
	};
	add(l, "{st_mode=");
	add_enum(l, types, ARRAY_SIZE(types), st.st_mode & S_IFMT, "%#llo");
	add(l, "|%04o", st.st_mode & 07777);
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		add(l, ", st_rdev=makedev(%#x, %#x), ...}", major(st.st_rdev), minor(st.st_rdev));
	else
		add(l, ", st_size=%lld, ...}", (long long)st.st_size);
}

static void add_open_flags(struct line *l, uint64_t v)
{
	static const char *const acc[] = { "O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE" };
	add(l, "%s", acc[v & 3]);
	if (v & ~3ULL) {
		add(l, "|");
		add_flags(l, open_names, ARRAY_SIZE(open_names), v & ~3ULL, "");
	}
}

#define ENUM(t, v, f) add_enum(l, t, ARRAY_SIZE(t), v, f)
#define FLAGS(t, v, z) add_flags(l, t, ARRAY_SIZE(t), v, z)

static void add_arg(struct line *l, struct proc *p, char kind, const uint64_t a[6], int i, long ret)
{
	uint64_t v = a[i];
	bool ok = ret >= 0;
	switch (kind) {
	case 'd': add(l, "%d", (int)v); break;
	case 'u': add(l, "%llu", (unsigned long long)v); break;
	case 'o': add(l, "%#llo", (unsigned long long)v); break;
	case 'x': add(l, "%#llx", (unsigned long long)v); break;
	case 'A': if ((int)v == AT_FDCWD) add(l, "AT_FDCWD"); else add(l, "%d", (int)v); break;
	case 'k': FLAGS(cloexec_names, v, "0"); break;
	case 'D': if (ok) add_dirents(l, p, v, ret); else add(l, "%#llx", (unsigned long long)v); break;
	case 'U': add_times(l, p, v); break;
	case 'F': if (ok) add_fd_pair(l, p, v); else add(l, "%#llx", (unsigned long long)v); break;
	case 'r': if (ok) add_quoted(l, p, v, 0, true); else add(l, "%#llx", (unsigned long long)v); break;
	case 'f': add_open_flags(l, v); break;
	case 'P': FLAGS(prot_names, v, "PROT_NONE"); break;
	case 'M': FLAGS(map_names, v, "0"); break;
	case 'K': FLAGS(access_names, v, "F_OK"); break;
	case 'T': FLAGS(at_names, v, "0"); break;
	case 'W': ENUM(whence_names, v, "%llu"); break;
	case 'I': ENUM(ioctl_names, v, "%#llx"); break;
	case 'C': ENUM(fcntl_names, v, "%llu"); break;
	case 'R': ENUM(rlimit_names, v, "%llu"); break;
	case 'L': ENUM(clock_names, v, "%llu"); break;
	case 'H': ENUM(how_names, v, "%llu"); break;
	case 'Z': ENUM(arch_names, v, "%#llx"); break;
	case 'S': add_signal(l, v); break;
	case 's': add_quoted(l, p, v, 0, true); break;
	case 'b': add_quoted(l, p, v, (long)a[i + 1], false); break;
	case 'B': if (ok) add_quoted(l, p, v, ret, false); else add(l, "%#llx", (unsigned long long)v); break;
	case 'V': add_iovec(l, p, v, a[i + 1], LONG_MAX); break;
	case 'v': if (ok) add_iovec(l, p, v, a[i + 1], ret); else add(l, "%#llx", (unsigned long long)v); break;
	case 't': if (ok) add_stat(l, p, v); else add(l, "%#llx", (unsigned long long)v); break;
	default:
		if (v)
			add(l, "%#llx", (unsigned long long)v);
		else
			add(l, "NULL");
	}
}

/* How many of the format's arguments strace shows: some depend on the others. */
static int shown_args(const char *fmt, const uint64_t a[6])
{
	int n = (int)strlen(fmt + 1);
	for (int i = 0; i < n; i++) {
		/* open's mode only with O_CREAT or O_TMPFILE */
		if (fmt[i + 1] == 'f' && !(a[i] & O_CREAT) && (a[i] & O_TMPFILE) != O_TMPFILE)
			return i + 1;
		/* fcntl's third argument only for the commands that take one */
		if (fmt[i + 1] == 'C' && (a[i] == F_GETFD || a[i] == F_GETFL || a[i] == F_GETOWN ||
					  a[i] == F_GETSIG || a[i] == F_GETLEASE || a[i] == F_GETPIPE_SZ ||
					  a[i] == F_GET_SEALS))
			return i + 1;
	}
	return n;
}

/* fcntl's third argument, decoded by command. */
static void add_fcntl_arg(struct line *l, uint64_t cmd, uint64_t v)
{
	if (cmd == F_SETFD)
		FLAGS(fd_flag_names, v, "0");
	else if (cmd == F_SETFL)
		add_open_flags(l, v);
	else if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC || cmd == F_SETPIPE_SZ)
		add(l, "%d", (int)v);
	else
		add(l, "%#llx", (unsigned long long)v);
}

/* The result: errors by name, and flags words decoded as strace does. */
static void put_result(const char *call, const char *fmt, const uint64_t a[6], long ret)
{
	if (ret < 0 && ret > -4096) {
		const char *e = strerrorname_np((int)-ret);
		fprintf(stderr, "%-39s = -1 %s (%s)\n", call, e ? e : "E?", strerror((int)-ret));
	} else if (fmt[0] == 'x') {
		fprintf(stderr, "%-39s = %#lx\n", call, ret);
	} else if (fmt[0] == 'o') {
		fprintf(stderr, "%-39s = %#lo\n", call, ret);
	} else if (fmt[1] && fmt[2] == 'C' && a[1] == F_GETFD && ret) {
		fprintf(stderr, "%-39s = %#lx (flags FD_CLOEXEC)\n", call, ret);
	} else if (fmt[1] && fmt[2] == 'C' && a[1] == F_GETFL) {
		struct line f = { .len = 0 };
		add_open_flags(&f, (uint64_t)ret);
		fprintf(stderr, "%-39s = %#lx (flags %s)\n", call, ret, f.buf);
	} else {
		fprintf(stderr, "%-39s = %ld\n", call, ret);
	}
}

/* "name(args)" of call 'nr', its arguments as they are now. */
static void format_call(struct line *l, struct proc *p, unsigned nr, const char *fmt, const uint64_t a[6],
			long ret)
{
	const char *name = sys_name(nr);
	if (name)
		add(l, "%s(", name);
	else
		add(l, "syscall_%#x(", nr);
	int n = MIN(shown_args(fmt, a), 6);
	for (int i = 0; i < n; i++) {
		if (i)
			add(l, ", ");
		if (i > 0 && fmt[i] == 'C')
			add_fcntl_arg(l, a[i - 1], a[i]);
		else
			add_arg(l, p, fmt[i + 1], a, i, ret);
	}
	add(l, ")");
}

/* The line of an execve made before the call: once it has succeeded, its arguments were
 * the old program's memory. (Each host thread makes its own calls.) */
static _Thread_local struct line before;

static bool is_exec(unsigned nr) { return nr == 59 || nr == 322; }

void strace_enter(struct proc *p, unsigned nr, const char *fmt, const uint64_t a[6])
{
	if (fmt[0] == 'n' || is_exec(nr)) {
		before.len = 0;
		format_call(&before, p, nr, fmt, a, 0);
	}
	if (fmt[0] == 'n')
		fprintf(stderr, "%-39s = ?\n", before.buf);
}

void strace_leave(struct proc *p, unsigned nr, const char *fmt, const uint64_t a[6], long ret)
{
	struct line l = { .len = 0 };
	if (fmt[0] == 'n')
		return;
	if (is_exec(nr)) {
		put_result(before.buf, fmt, a, ret);
		return;
	}
	format_call(&l, p, nr, fmt, a, ret);
	put_result(l.buf, fmt, a, ret);
}

/* si_code names: the kernel's own (SI_*), then per signal for codes above 0. */
static const struct name si_any[] = {
	N(SI_USER), N(SI_KERNEL), N(SI_QUEUE), N(SI_TIMER), N(SI_MESGQ), N(SI_ASYNCIO),
	N(SI_SIGIO), N(SI_TKILL),
};
static const struct name si_segv[] = { N(SEGV_MAPERR), N(SEGV_ACCERR) };
static const struct name si_bus[] = { N(BUS_ADRALN), N(BUS_ADRERR), N(BUS_OBJERR) };
static const struct name si_ill[] = {
	N(ILL_ILLOPC), N(ILL_ILLOPN), N(ILL_ILLADR), N(ILL_ILLTRP), N(ILL_PRVOPC), N(ILL_PRVREG),
	N(ILL_COPROC), N(ILL_BADSTK),
};
static const struct name si_fpe[] = {
	N(FPE_INTDIV), N(FPE_INTOVF), N(FPE_FLTDIV), N(FPE_FLTOVF), N(FPE_FLTUND), N(FPE_FLTRES),
	N(FPE_FLTINV), N(FPE_FLTSUB),
};
static const struct name si_trap[] = { N(TRAP_BRKPT), N(TRAP_TRACE) };

static void add_si_code(struct line *l, int sig, int code)
{
	const struct name *t = si_any;
	size_t n = ARRAY_SIZE(si_any);
	if (code > 0 && code < SI_KERNEL) {
		switch (sig) {
		case SIGSEGV: t = si_segv; n = ARRAY_SIZE(si_segv); break;
		case SIGBUS: t = si_bus; n = ARRAY_SIZE(si_bus); break;
		case SIGILL: t = si_ill; n = ARRAY_SIZE(si_ill); break;
		case SIGFPE: t = si_fpe; n = ARRAY_SIZE(si_fpe); break;
		case SIGTRAP: t = si_trap; n = ARRAY_SIZE(si_trap); break;
		default: break;
		}
	}
	add_enum(l, t, n, (uint64_t)(int64_t)code, "%lld");
}

void strace_signal(struct proc *p, const struct ksiginfo *i)
{
	(void)p;
	struct line l = { .len = 0 };
	add(&l, "--- ");
	add_signal(&l, (uint64_t)i->signo);
	add(&l, " {si_signo=");
	add_signal(&l, (uint64_t)i->signo);
	add(&l, ", si_code=");
	add_si_code(&l, i->signo, i->code);
	if (i->code == SI_USER || i->code == SI_TKILL || i->code == SI_QUEUE)
		add(&l, ", si_pid=%d, si_uid=%u", i->kill.pid, i->kill.uid);
	if (i->code == SI_QUEUE)
		add(&l, ", si_int=%d, si_ptr=%#llx", (int)i->kill.value, (unsigned long long)i->kill.value);
	else if (i->code > 0 && (SIG_SYNCHRONOUS & SIGBIT(i->signo)))
		i->fault.addr ? add(&l, ", si_addr=%#llx", (unsigned long long)i->fault.addr)
			      : add(&l, ", si_addr=NULL");
	fprintf(stderr, "%s} ---\n", l.buf);
}
