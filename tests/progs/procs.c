/* Processes: fork with pipes and exit statuses, a bounded fork bomb, vfork + execve,
 * posix_spawn, execve of a #! script and of a missing file, death by a signal,
 * nothing of a child left once it has been waited for, setpgid before and after a
 * child's execve, SIGCHLD's SA_NOCLDSTOP and SA_NOCLDWAIT; a running program is not
 * opened for writing (ETXTBSY), nor truncated; a file open for writing does not run,
 * unless fanotify's pre-content events watch it; what wait4 and waitid write (waitid
 * only the siginfo's first fields, and the rusage only for a child it found). */
// run: fork
// run: bomb
// run: vfork-exec
// run: spawn
// run: script
// run: exec-fail
// run: signal-status
// run: exec-self
// run: exec-signals
// run: sigchld
// run: pselect-chld
// run: text-busy
// run: exec-writer
// run: system
// run: exec-interp
// run: exit-gone
// run: fork-full
// run: clone3
// run: deaths
// run: fork-unprivileged
// run: setpgid-exec
// run: nocld
// run: wait-fields
#include "common.h"
#include <elf.h>
#include <fcntl.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static void show_status(const char *who, int st)
{
	if (WIFEXITED(st))
		printf("%s exited %d\n", who, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("%s killed by signal %d\n", who, WTERMSIG(st));
	else
		printf("%s status %#x\n", who, st);
}

static void show_status_handler(int sig)
{
	(void)sig;
}

static volatile sig_atomic_t chld_code, chld_status, chld_from_child, chld_count;

static void count_chld(int sig)
{
	(void)sig;
	chld_count++;
}

static void on_chld(int sig, siginfo_t *si, void *ctx)
{
	(void)sig; (void)ctx;
	chld_code = si->si_code;
	chld_status = si->si_status;
	chld_from_child = si->si_pid > 0;
}

/* A tiny executable that asks for the dynamic loader 'interp'. */
static void write_elf(const char *path, const char *interp)
{
	struct {
		Elf64_Ehdr eh;
		Elf64_Phdr ph[2];
		char interp[4200];
	} f = { 0 };
	memcpy(f.eh.e_ident, ELFMAG, SELFMAG);
	f.eh.e_ident[EI_CLASS] = ELFCLASS64;
	f.eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f.eh.e_ident[EI_VERSION] = EV_CURRENT;
	f.eh.e_type = ET_EXEC;
	f.eh.e_machine = EM_X86_64;
	f.eh.e_version = EV_CURRENT;
	f.eh.e_entry = 0x400000;
	f.eh.e_phoff = sizeof(f.eh);
	f.eh.e_ehsize = sizeof(f.eh);
	f.eh.e_phentsize = sizeof(Elf64_Phdr);
	f.eh.e_phnum = 2;
	snprintf(f.interp, sizeof(f.interp), "%s", interp);
	f.ph[0] = (Elf64_Phdr){ .p_type = PT_INTERP, .p_flags = PF_R, .p_offset = offsetof(typeof(f), interp),
				.p_filesz = strlen(interp) + 1, .p_memsz = strlen(interp) + 1, .p_align = 1 };
	f.ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_vaddr = 0x400000,
				.p_filesz = sizeof(f), .p_memsz = sizeof(f), .p_align = 4096 };
	FILE *out = fopen(path, "w");
	CHECK(out && fwrite(&f, sizeof(f), 1, out) == 1 && fclose(out) == 0);
	CHECK(chmod(path, 0755) == 0);
}

/* struct clone_args (Linux 5.5), raw: musl has no clone3 */
struct cargs {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls,
		 set_tid, set_tid_size, cgroup;
};
#define CLONE_PIDFD_ 0x1000
#define P_PIDFD_ 3

/* clone3 as a fork: the child exits at once with 'code'. */
static long clone3_run(struct cargs *ca, size_t size, int code)
{
	fflush(stdout);
	long pid = syscall(435, ca, size);
	if (pid == 0)
		syscall(SYS_exit_group, code);
	return pid;
}

static void reap(long pid)
{
	int st;
	if (pid > 0) {
		CHECK(waitpid((pid_t)pid, &st, 0) == pid);
		show_status("  clone3 child", st);
	}
}

/* clone3's argument checks in the kernel's order, CLONE_PIDFD, and namespaces without
 * CAP_SYS_ADMIN. */
static void clone3_checks(void)
{
	struct { struct cargs a; uint64_t more; } big = { { .exit_signal = SIGCHLD }, 0 };
	struct cargs ca = { .exit_signal = SIGCHLD };
	SHOW(clone3_run(&ca, 0, 1));
	SHOW(clone3_run(&ca, 63, 1));
	SHOW(clone3_run(&ca, 4097, 1));
	SHOW(clone3_run((struct cargs *)8, sizeof(ca), 1));
	big.more = 1;
	SHOW(clone3_run(&big.a, sizeof(big), 1));
	big.more = 0;
	reap(clone3_run(&big.a, sizeof(big), 3));
	reap(clone3_run(&ca, 64, 4));
	ca.exit_signal = 65;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	ca.exit_signal = SIGCHLD;
	ca.flags = CLONE_SIGHAND;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	ca.flags = CLONE_THREAD;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	ca.flags = CLONE_FS | CLONE_NEWNS;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	ca.flags = 0;
	ca.stack = 4096;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	ca.stack = 0;
	ca.stack_size = 4096;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	ca.stack_size = 0;
	ca.flags = CLONE_PIDFD_;
	ca.pidfd = 8;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	int pidfd = -1;
	ca.pidfd = (uint64_t)(uintptr_t)&pidfd;
	long pid = clone3_run(&ca, sizeof(ca), 5);
	CHECK(pid > 0);
	printf("pidfd is a descriptor: %d, close-on-exec: %d\n", pidfd > 2,
	       fcntl(pidfd, F_GETFD) == FD_CLOEXEC);
	siginfo_t si;
	SHOW(waitid(P_PIDFD_, (id_t)pidfd, &si, WEXITED));
	printf("  status %d, pid matches %d\n", si.si_status, si.si_pid == pid);
	close(pidfd);
	SHOW(syscall(SYS_clone, CLONE_PIDFD_ | CLONE_PARENT_SETTID | SIGCHLD, 0, &pidfd, NULL, 0));
	/* set_tid: the pid asked for (CAP_SYS_ADMIN), not one in use, from readable memory */
	ca = (struct cargs){ .exit_signal = SIGCHLD, .set_tid = 8, .set_tid_size = 1 };
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	pid_t want = getpid();
	ca.set_tid = (uint64_t)(uintptr_t)&want;
	SHOW(clone3_run(&ca, sizeof(ca), 1));
	long got = -1;
	for (int i = 0; i < 50 && got < 0; i++) {
		want = 20000 + (getpid() + 7919 * i) % 10000;
		if (kill(want, 0) == 0 || errno != ESRCH)
			continue;
		got = clone3_run(&ca, sizeof(ca), 6);
		if (got < 0 && errno != EEXIST)
			break;
	}
	printf("set_tid: %s\n", got < 0 ? strerror(errno) : got == want ? "the pid asked" : "another pid");
	reap(got);
	/* without CAP_SYS_ADMIN (dropped in a child), a new namespace is EPERM */
	fflush(stdout);
	pid_t c = fork();
	CHECK(c >= 0);
	if (c == 0) {
		uint32_t h[2] = { 0x20080522, 0 }, d[6];
		CHECK(syscall(SYS_capget, h, d) == 0);
		d[0] &= ~(1u << 21);
		CHECK(syscall(SYS_capset, h, d) == 0);
		SHOW(syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, 0, NULL, NULL, 0));
		SHOW(syscall(SYS_clone, CLONE_NEWPID | SIGCHLD, 0, NULL, NULL, 0));
		fflush(stdout);
		_exit(0);
	}
	int st;
	CHECK(waitpid(c, &st, 0) == c);
}

/* A child that ignores 'ignore' (if not 0), has a core limit of 'core' bytes and ends
 * by 'how' (1 abort, 2 SIGKILL to itself, 3 raise(SIGSEGV)); or, with 'how' 0, waits
 * for the parent's 'send', then SIGTERM. Its status. */
static void death(const char *what, int ignore, rlim_t core, int how, int send)
{
	int ready[2];
	CHECK(pipe(ready) == 0);
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;               /* (within the hard limit: not all may raise it) */
		CHECK(getrlimit(RLIMIT_CORE, &rl) == 0);
		rl.rlim_cur = core < rl.rlim_max ? core : rl.rlim_max;
		CHECK(setrlimit(RLIMIT_CORE, &rl) == 0);
		if (ignore)
			signal(ignore, SIG_IGN);
		CHECK(write(ready[1], "r", 1) == 1);
		if (how == 1)
			abort();
		if (how == 2)
			kill(getpid(), SIGKILL);
		if (how == 3)
			raise(SIGSEGV);
		for (;;)
			pause();
	}
	char c;
	close(ready[1]);
	CHECK(read(ready[0], &c, 1) == 1);
	close(ready[0]);
	if (!how) {
		kill(pid, send);
		usleep(20000);
		kill(pid, SIGTERM);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("%s: signaled %d, signal %d, core dumped %d\n", what, WIFSIGNALED(st),
	       WIFSIGNALED(st) ? WTERMSIG(st) : 0, WIFSIGNALED(st) && WCOREDUMP(st));
	/* (where this host's core_pattern puts it, or in the working directory) */
	char path[64];
	snprintf(path, sizeof(path), "/tmp/core.%d", pid);
	unlink(path);
	snprintf(path, sizeof(path), "core.%d", pid);
	unlink(path);
	unlink("core");
}

/* Deaths by signals: SIGPIPE and fault signals from another process (kvmse takes both
 * for itself too), SIGKILL to itself, and the core-dump bit of the status, which a core
 * limit decides. */
static void deaths(void)
{
	death("SIGPIPE from the parent", 0, 0, 0, SIGPIPE);
	death("SIGPIPE ignored, then SIGTERM", SIGPIPE, 0, 0, SIGPIPE);
	death("SIGSEGV from the parent", 0, 0, 0, SIGSEGV);
	death("SIGSEGV ignored, then SIGTERM", SIGSEGV, 0, 0, SIGSEGV);
	death("SIGBUS from the parent, a core limit", 0, 4096, 0, SIGBUS);
	death("SIGILL ignored, then SIGTERM", SIGILL, 0, 0, SIGILL);
	death("abort, no core limit", 0, 0, 1, 0);
	death("abort, a core limit", 0, 4096, 1, 0);
	death("SIGKILL to itself", 0, 4096, 2, 0);
	death("SIGSEGV raised, a core limit", 0, 4096, 3, 0);
}

/* The program itself, and a copy of it that a child runs, are not opened for writing
 * while they run; once the child is gone, the copy is. */
static void text_busy(void)
{
	SHOW(open("/proc/self/exe", O_WRONLY));
	char copy[] = "/tmp/procs-busy.XXXXXX";
	int out = mkstemp(copy);
	copy_self(out);
	CHECK(fchmod(out, 0755) == 0);
	close(out);
	struct stat before, after;
	CHECK(stat(copy, &before) == 0);
	int ready[2], hold[2];
	CHECK(pipe(ready) == 0 && pipe(hold) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		char r[16], h[16];
		snprintf(r, sizeof(r), "%d", ready[1]);
		snprintf(h, sizeof(h), "%d", hold[0]);
		close(hold[1]);
		char *args[] = { copy, "hold", r, h, NULL };
		execv(copy, args);
		_exit(99);
	}
	close(ready[1]);
	close(hold[0]);
	char c;
	CHECK(read(ready[0], &c, 1) == 1);
	SHOW(open(copy, O_WRONLY));
	SHOW(open(copy, O_RDWR | O_TRUNC));
	SHOW(truncate(copy, 0) == 0 ? 0 : errno == ETXTBSY ? -1 : -2);
	CHECK(stat(copy, &after) == 0);
	printf("size kept: %d\n", after.st_size == before.st_size);
	SHOW(open(copy, O_RDONLY) >= 0);
	close(hold[1]);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	SHOW(open(copy, O_WRONLY | O_TRUNC) >= 0);
	CHECK(stat(copy, &after) == 0);
	printf("size now %lld\n", (long long)after.st_size);
	/* A file locked whole (by this process, then by a child) is no running program. */
	int lk = open(copy, O_RDWR);
	struct flock whole = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	CHECK(lk >= 0 && fcntl(lk, F_SETLK, &whole) == 0);
	SHOW(open(copy, O_WRONLY | O_TRUNC) >= 0);
	/* (unlocked before the fork, so the child's read lock can be taken whichever runs
	 * first; the parent's write end of 'ready' closed, so a child that fails is seen) */
	whole.l_type = F_UNLCK;
	CHECK(fcntl(lk, F_SETLK, &whole) == 0);
	CHECK(pipe(ready) == 0 && pipe(hold) == 0);
	if ((pid = fork()) == 0) {
		whole.l_type = F_RDLCK;
		CHECK(fcntl(lk, F_SETLK, &whole) == 0 && write(ready[1], "x", 1) == 1);
		close(hold[1]);
		CHECK(read(hold[0], &c, 1) == 0);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	CHECK(read(ready[0], &c, 1) == 1);
	SHOW(open(copy, O_WRONLY) >= 0);
	SHOW(truncate(copy, 0));
	close(hold[1]);
	CHECK(waitpid(pid, &st, 0) == pid);
	unlink(copy);
}

/* A child opens a copy of this program for writing and runs it; the parent answers
 * the fanotify permission events of 'fan' (none: -1) until the child is gone. */
static void exec_writer_child(const char *copy, int fan)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		CHECK(open(copy, O_RDWR) >= 0);
		char *args[] = { (char *)copy, "child", "a writer open", NULL };
		execv(copy, args);
		printf("execv: %s\n", strerror(errno));
		fflush(stdout);
		_exit(99);
	}
	int st;
	while (waitpid(pid, &st, fan < 0 ? 0 : WNOHANG) == 0) {
		struct pollfd pf = { .fd = fan, .events = POLLIN };
		if (poll(&pf, 1, 10) <= 0)
			continue;
		char buf[4096];
		ssize_t n = read(fan, buf, sizeof(buf));
		for (struct fanotify_event_metadata *e = (void *)buf; n > 0 && FAN_EVENT_OK(e, n);
		     e = FAN_EVENT_NEXT(e, n)) {
			struct fanotify_response r = { .fd = e->fd, .response = FAN_ALLOW };
			CHECK(write(fan, &r, sizeof(r)) == sizeof(r));
			close(e->fd);
		}
	}
	show_status("child", st);
}

/* Linux runs no file open for writing (ETXTBSY), except one that fanotify's
 * pre-content events watch (Linux 6.14: the watcher must be able to fill it in). */
static void exec_writer(void)
{
	char copy[] = "/tmp/procs-writer.XXXXXX";
	int out = mkstemp(copy);
	copy_self(out);
	CHECK(fchmod(out, 0755) == 0);
	close(out);
	exec_writer_child(copy, -1);
	int fan = fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC, O_RDONLY);
	if (fan >= 0 && fanotify_mark(fan, FAN_MARK_ADD, 0x00100000 /* FAN_PRE_ACCESS */,
				      AT_FDCWD, copy) < 0) {
		printf("mark: %s\n", strerror(errno));
		close(fan);
		fan = -1;
	}
	if (fan < 0)
		printf("no pre-content events here\n");
	else
		exec_writer_child(copy, fan);
	unlink(copy);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "child-signals")) {
		/* what execve kept: ignored stays ignored, a handler is the default again,
		 * the mask and the argv[0] the caller gave */
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		printf("USR1 ignored %d\n", sa.sa_handler == SIG_IGN);
		sigaction(SIGUSR2, NULL, &sa);
		printf("USR2 default %d\n", sa.sa_handler == SIG_DFL);
		sigset_t cur;
		sigprocmask(SIG_BLOCK, NULL, &cur);
		printf("HUP blocked %d, INT blocked %d, argv[0] %s\n", sigismember(&cur, SIGHUP),
		       sigismember(&cur, SIGINT), argv[0]);
		return 0;
	}
	if (argc < 2) {
		printf("argc %d, argv[0] \"%s\"\n", argc, argc ? argv[0] : "(none)");
		return 5;
	}
	if (argc == 4 && !strcmp(argv[1], "hold")) {
		/* an exec'd child: reads its own file (which must not make it writable), says
		 * it runs, and stays until its parent closes the pipe */
		char c = 'x';
		int self = open(argv[0], O_RDONLY);
		CHECK(self >= 0 && read(self, &c, 1) == 1 && close(self) == 0);
		CHECK(write(atoi(argv[2]), &c, 1) == 1);
		while (read(atoi(argv[3]), &c, 1) > 0)
			;
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "child")) {
		printf("child runs with %s, parent is the same: %d\n", argv[2], 1);
		return 7;
	}
	CHECK(argc == 2);
	const char *m = argv[1];
	int st;
	if (!strcmp(m, "fork")) {
		int fds[2];
		CHECK(pipe(fds) == 0);
		fflush(stdout);
		pid_t me = getpid(), pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			char msg[64];
			int n = snprintf(msg, sizeof(msg), "hello from the child, ppid ok %d", getppid() == me);
			CHECK(write(fds[1], msg, n) == n);
			_exit(42);
		}
		close(fds[1]);
		char buf[64] = { 0 };
		CHECK(read(fds[0], buf, sizeof(buf) - 1) > 0);
		printf("parent read: %s\n", buf);
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("child", st);
		SHOW(waitpid(-1, &st, WNOHANG));
	} else if (!strcmp(m, "bomb")) {
		int sum = 0;
		for (int i = 0; i < 50; i++) {
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0)
				_exit(i % 7);
		}
		for (int i = 0; i < 50; i++) {
			CHECK(wait(&st) > 0);
			sum += WEXITSTATUS(st);
		}
		printf("50 children, statuses sum %d\n", sum);
		SHOW(wait(&st));
	} else if (!strcmp(m, "vfork-exec")) {
		fflush(stdout);
		pid_t pid = vfork();
		if (pid == 0) {
			char *args[] = { "renamed", "child", "vfork", NULL };
			execve("/proc/self/exe", args, environ);
			_exit(99);
		}
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("vfork child", st);
	} else if (!strcmp(m, "spawn")) {
		fflush(stdout);
		pid_t pid;
		char *args[] = { "spawned", "child", "posix_spawn", NULL };
		int rc = posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ);
		CHECK(waitpid(pid, &st, 0) == pid);     /* (then print: the child prints too) */
		printf("posix_spawn: %d\n", rc);
		show_status("spawned", st);
		/* the child's execve error reaches the parent (glibc: through shared memory) */
		char *none[] = { "missing", NULL };
		rc = posix_spawn(&pid, "/nonexistent/program", NULL, NULL, none, environ);
		printf("posix_spawn of a missing file: %s\n", strerror(rc));
		rc = posix_spawnp(&pid, "no-such-program-anywhere", NULL, NULL, none, environ);
		printf("posix_spawnp of a missing file: %s\n", strerror(rc));
		/* a vfork child's stores are the parent's (Linux shares the memory) */
		static volatile int seen;
		volatile int on_stack = 1;
		pid = vfork();
		if (pid == 0) {
			seen = 42;
			on_stack = 7;
			_exit(0);
		}
		CHECK(waitpid(pid, &st, 0) == pid);
		printf("after vfork: %d %d\n", seen, on_stack);
	} else if (!strcmp(m, "script")) {
		/* a script whose interpreter is this program, with one argument */
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		CHECK(n > 0);
		self[n] = 0;
		FILE *f = fopen("script.tmp", "w");
		CHECK(f);
		fprintf(f, "#!%s child\necho not a shell\n", self);
		fclose(f);
		CHECK(chmod("script.tmp", 0755) == 0);
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			char *args[] = { "script.tmp", NULL };
			execve("./script.tmp", args, environ);
			_exit(99);
		}
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("script", st);
		unlink("script.tmp");
	} else if (!strcmp(m, "system")) {
		/* /bin/sh is dynamically linked on Debian: ld.so runs under kvmse too */
		fflush(stdout);
		show_status("system", system("echo from system; seq 100 | sort -rn | head -3; exit 3"));
		FILE *f = popen("echo popen | tr a-z A-Z", "r");
		CHECK(f);
		char line[64];
		while (fgets(line, sizeof(line), f))
			printf("read: %s", line);
		show_status("pclose", pclose(f));
	} else if (!strcmp(m, "exec-interp")) {
		char cwd[4096], interp[4200];
		CHECK(getcwd(cwd, sizeof(cwd)));
		char *args[] = { "x", NULL };
		write_elf("no-loader.tmp", "/nonexistent/ld.so");
		SHOW(execve("./no-loader.tmp", args, environ));
		/* a loader that is no ELF file, then one too short for an ELF header */
		snprintf(interp, sizeof(interp), "%s/loader.tmp", cwd);
		write_elf("bad-loader.tmp", interp);
		FILE *f = fopen("loader.tmp", "w");
		CHECK(f);
		fprintf(f, "%100s\n", "not an ELF file");
		fclose(f);
		CHECK(chmod("loader.tmp", 0755) == 0);
		SHOW(execve("./bad-loader.tmp", args, environ));
		CHECK(truncate("loader.tmp", 10) == 0);
		SHOW(execve("./bad-loader.tmp", args, environ));
		unlink("no-loader.tmp");
		unlink("bad-loader.tmp");
		unlink("loader.tmp");
		printf("still here\n");
	} else if (!strcmp(m, "exec-fail")) {
		char *args[] = { "x", NULL };
		SHOW(execve("/nonexistent/program", args, environ));
		SHOW(execve("/etc/passwd", args, environ));
		SHOW(execve("/", args, environ));
		SHOW(execve(NULL, args, environ));
		int w = open("busy.tmp", O_WRONLY | O_CREAT | O_TRUNC, 0755);
		CHECK(w >= 0 && write(w, "#!/bin/sh\n", 10) == 10);
		SHOW(execve("./busy.tmp", args, environ));      /* open for writing */
		close(w);
		unlink("busy.tmp");
		printf("still here\n");
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			execve("/proc/self/exe", NULL, environ);        /* no argv at all */
			_exit(99);
		}
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("run without arguments", st);
	} else if (!strcmp(m, "signal-status")) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			raise(SIGUSR1);
			_exit(0);
		}
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("child", st);
		pid = fork();
		if (pid == 0) {
			pause();
			_exit(0);
		}
		kill(pid, SIGTERM);
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("paused child", st);
	} else if (!strcmp(m, "exec-signals")) {
		signal(SIGUSR1, SIG_IGN);
		signal(SIGUSR2, show_status_handler);
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, SIGHUP);
		sigprocmask(SIG_BLOCK, &set, NULL);
		fflush(stdout);
		char *args[] = { "exec-signals-argv0", "child-signals", NULL };
		/* (on the stack: gone once the exec is made, for --strace's test) */
		char self[] = "/proc/self/exe";
		execve(self, args, environ);
		printf("not reached\n");
	} else if (!strcmp(m, "exec-writer")) {
		exec_writer();
	} else if (!strcmp(m, "text-busy")) {
		text_busy();
	} else if (!strcmp(m, "sigchld")) {
		struct sigaction sa = { .sa_sigaction = on_chld, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
		sigset_t block, empty;
		sigemptyset(&block);
		sigaddset(&block, SIGCHLD);
		sigemptyset(&empty);
		sigprocmask(SIG_BLOCK, &block, NULL);
		pid_t pid = fork();
		if (pid == 0)
			_exit(3);
		while (!chld_code)
			sigsuspend(&empty);
		printf("SIGCHLD: code %d (CLD_EXITED %d), status %d, from the child %d\n", chld_code,
		       chld_code == CLD_EXITED, chld_status, chld_from_child);
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("child", st);
	} else if (!strcmp(m, "pselect-chld")) {
		/* GNU make's wait for its jobs: SIGCHLD blocked but in pselect. Each child has
		 * exited (its SIGCHLD sent) before the pselect that takes it, and kvmse kept
		 * that one blocked on the host while the one before was blocked in the program:
		 * the pselect lets it in. */
		signal(SIGCHLD, count_chld);
		sigset_t block, empty;
		sigemptyset(&block);
		sigaddset(&block, SIGCHLD);
		sigemptyset(&empty);
		sigprocmask(SIG_BLOCK, &block, NULL);
		int sum = 0, eintr = 0;
		for (int i = 0; i < 20; i++) {
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0)
				_exit(i);
			siginfo_t si;
			CHECK(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
			for (int j = 0; j < 1000; j++)  /* (quick calls, as make makes) */
				syscall(SYS_getppid);
			int before = chld_count;
			while (chld_count == before)
				eintr += pselect(0, NULL, NULL, NULL, NULL, &empty) == -1 && errno == EINTR;
			CHECK(waitpid(pid, &st, 0) == pid);
			sum += WEXITSTATUS(st);
		}
		printf("20 children, statuses sum %d, each pselect ended by its SIGCHLD %d\n", sum,
		       eintr == 20);
	} else if (!strcmp(m, "exit-gone")) {
		/* Once waited for, nothing of a child is left: its process group is empty, and
		 * a pipe it held reads as closed even without blocking. */
		int in_group = 0, not_eof = 0;
		for (int i = 0; i < 20; i++) {
			int fds[2];
			CHECK(pipe(fds) == 0);
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0) {
				setpgid(0, 0);
				_exit(0);
			}
			setpgid(pid, pid);
			close(fds[1]);
			CHECK(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0);
			CHECK(waitpid(pid, &st, 0) == pid);
			char c;
			not_eof += read(fds[0], &c, 1) != 0;
			in_group += kill(-pid, 0) == 0 || errno != ESRCH;
			close(fds[0]);
		}
		printf("20 children: process group still there %d, pipe still open %d\n", in_group, not_eof);
	} else if (!strcmp(m, "fork-full")) {
		/* A program that opened every descriptor it may forks (LTP's fork09), with the
		 * limit as it is and lowered: the child closes them all. */
		for (int round = 0; round < 2; round++) {
			struct rlimit rl;
			CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
			if (round == 1) {
				rl.rlim_cur = 64;
				CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
			}
			int n = 0, fd;
			while ((fd = open("/dev/null", O_RDONLY)) >= 0)
				n++;
			int err = errno;
			fflush(stdout);
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0) {
				int closed = 0;
				for (fd = 3; fd < (int)rl.rlim_cur; fd++)
					closed += close(fd) == 0;
				_exit(closed >= n ? 0 : 1);
			}
			CHECK(waitpid(pid, &st, 0) == pid);
			printf("opened until %s; ", strerror(err));
			show_status("the child that closed them", st);
			for (fd = 3; fd < (int)rl.rlim_cur; fd++)
				close(fd);
		}
	} else if (!strcmp(m, "clone3")) {
		clone3_checks();
	} else if (!strcmp(m, "deaths")) {
		deaths();
	} else if (!strcmp(m, "fork-unprivileged")) {
		/* A process that gave up root forks (LTP's setuid04): under kvmse the child's
		 * VM must not need /dev/kvm opened again, which nobody may not. */
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			SHOW(setgid(65534));
			SHOW(setuid(65534));
			fflush(stdout);
			pid_t g = fork();
			CHECK(g >= 0);
			if (g == 0) {
				printf("grandchild euid %d\n", (int)geteuid());
				fflush(stdout);
				_exit(3);
			}
			CHECK(waitpid(g, &st, 0) == g);
			show_status("grandchild", st);
			fflush(stdout);
			_exit(0);
		}
		CHECK(waitpid(pid, &st, 0) == pid);
		show_status("child", st);
	} else if (!strcmp(m, "nocld")) {
		/* SA_NOCLDSTOP: no SIGCHLD when a child stops (blocked, it would be pending
		 * when the wait returns); SA_NOCLDWAIT: no zombie to wait for */
		struct sigaction sa = { .sa_handler = show_status_handler, .sa_flags = SA_NOCLDSTOP };
		sigemptyset(&sa.sa_mask);
		CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
		sigset_t chld, pend;
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		CHECK(sigprocmask(SIG_BLOCK, &chld, NULL) == 0);
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			raise(SIGSTOP);
			_exit(0);
		}
		CHECK(waitpid(pid, &st, WUNTRACED) == pid);
		sigpending(&pend);
		printf("stopped %d, SIGCHLD pending %d\n", WIFSTOPPED(st), sigismember(&pend, SIGCHLD));
		CHECK(kill(pid, SIGCONT) == 0 && waitpid(pid, &st, 0) == pid);
		sa.sa_handler = SIG_DFL;
		CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);      /* (drops the pending one) */
		CHECK(sigprocmask(SIG_UNBLOCK, &chld, NULL) == 0);
		sa.sa_flags = SA_NOCLDWAIT;
		CHECK(sigaction(SIGCHLD, &sa, NULL) == 0);
		fflush(stdout);
		if ((pid = fork()) == 0)
			_exit(4);
		CHECK(pid > 0);
		SHOW(wait(&st));
	} else if (!strcmp(m, "wait-fields")) {
		siginfo_t si;
		struct rusage ru;
		memset(&si, 0x55, sizeof(si));
		memset(&ru, 0x55, sizeof(ru));
		fflush(stdout);
		pid_t pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			pause();
			_exit(0);
		}
		SHOW(syscall(SYS_waitid, P_PID, pid, &si, WEXITED | WNOHANG, &ru));
		const uint8_t *b = (const uint8_t *)&si;
		printf("signo %d, pid %d, byte 40 %#x, rusage kept %d\n", si.si_signo, si.si_pid, b[40],
		       ru.ru_utime.tv_sec == (time_t)0x5555555555555555);
		CHECK(kill(pid, SIGKILL) == 0);
		SHOW(syscall(SYS_waitid, P_PID, pid, &si, WEXITED, &ru));
		printf("signo %d, code %d, status %d, byte 40 %#x, rusage filled %d\n", si.si_signo,
		       si.si_code, si.si_status, b[40], ru.ru_utime.tv_sec != (time_t)0x5555555555555555);
		/* a bad status address: the child is reaped all the same */
		if ((pid = fork()) == 0)
			_exit(3);
		CHECK(pid > 0);
		SHOW(wait4(pid, (int *)8, 0, NULL));
		SHOW(waitpid(pid, NULL, WNOHANG));
	} else if (!strcmp(m, "setpgid-exec")) {
		/* Allowed on a child until it execs; then EACCES, or EPERM first if it is in
		 * another session. */
		for (int own_session = 0; own_session < 2; own_session++) {
			int ready[2], hold[2], go[2];
			CHECK(pipe(ready) == 0 && pipe(hold) == 0 && pipe(go) == 0);
			fflush(stdout);
			pid_t pid = fork();
			CHECK(pid >= 0);
			if (pid == 0) {
				char c, w[16], r[16];
				CHECK(read(go[0], &c, 1) == 1);
				if (own_session)
					CHECK(setsid() == getpid());
				snprintf(w, sizeof(w), "%d", ready[1]);
				snprintf(r, sizeof(r), "%d", hold[0]);
				close(hold[1]);
				char *args[] = { "procs", "hold", w, r, NULL };
				execve("/proc/self/exe", args, environ);
				_exit(127);
			}
			close(ready[1]);
			close(hold[0]);
			if (!own_session)
				SHOW(setpgid(pid, pid));
			char c = 'g';
			CHECK(write(go[1], &c, 1) == 1);
			CHECK(read(ready[0], &c, 1) == 1);
			SHOW(setpgid(pid, pid));
			SHOW(setpgid(pid, getpgrp()));
			SHOW(setpgid(pid, -1));
			close(hold[1]);
			CHECK(waitpid(pid, &st, 0) == pid);
			show_status("child", st);
			close(ready[0]);
			close(go[0]);
			close(go[1]);
		}
	} else if (!strcmp(m, "exec-self")) {
		fflush(stdout);
		char *args[] = { "again", "child", "execve", NULL };
		execve("/proc/self/exe", args, environ);
		printf("not reached\n");
	}
	return 0;
}
