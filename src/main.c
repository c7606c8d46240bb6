/* main.c - the command line, the run loop, and how the guest's end becomes kvmse's. */
#include "cpu.h"
#include "fd.h"
#include "layout.h"
#include "proc.h"
#include "thread.h"
#include "sys/sys.h"
#include "util.h"
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KVMSE_VERSION "0.1"

extern char **environ;

static void usage(FILE *f)
{
	fputs("usage: kvmse [options] PROGRAM [ARGS...]\n"
	      "Run an x86-64 Linux program with its user code inside a KVM virtual machine\n"
	      "and its system calls emulated by kvmse.\n\n"
	      "  --strace          print each system call on stderr, as strace does\n"
	      "  --stats FILE      write gem5-style statistics to FILE at exit\n"
	      "  --memory SIZE     cap guest memory (bytes, or with K, M, G suffix)\n"
	      "  --syscalls MODE   how system calls reach kvmse: 'exit' (a VM exit each),\n"
	      "                    'exitless' (a shared page and a polling thread), or 'auto'\n"
	      "                    (exitless when a spare core exists; the default)\n"
	      "  -L PREFIX         look up absolute paths under PREFIX first (the dynamic\n"
	      "                    loader, libraries, every file the program names)\n"
	      "  -0 ARGV0          the program's argv[0] (default: PROGRAM)\n"
	      "  -E VAR=VALUE      set VAR in the program's environment\n"
	      "  -U VAR            remove VAR from the program's environment\n"
	      "  --quiet           no warnings about unsupported system calls\n"

	      "  --help            this text\n"
	      "  --version         kvmse's version\n", f);
}

/* -L: a directory, kept without a trailing slash ("/" itself means no prefix). */
static const char *parse_prefix(const char *s)
{
	struct stat st;
	if (stat(s, &st) < 0 || !S_ISDIR(st.st_mode))
		die_status(2, "-L %s: not a directory", s);
	char *abs = realpath(s, NULL);
	if (!abs)
		die_errno("-L %s", s);
	if (!strcmp(abs, "/")) {
		free(abs);
		return NULL;
	}
	return abs;
}

static uint64_t parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end || v < (16ULL << 20) || v > (1ULL << 40))
		die("--memory %s: give a size from 16M to 1024G", s);
	return v;
}

static enum transport parse_transport(const char *s)
{
	static const char *const names[] = { [TRANSPORT_AUTO] = "auto", [TRANSPORT_EXIT] = "exit",
					     [TRANSPORT_EXITLESS] = "exitless" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(s, names[i]))
			return (enum transport)i;
	die_status(2, "--syscalls %s: give exit, exitless or auto", s);
}

/* Exitless needs a core for the server beside the vCPU's, or both only spin in turn. */
static bool spare_core(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return false;
	return CPU_COUNT(&set) >= 2;
}

/* The environment for the guest: kvmse's, edited by -E and -U in order. */
struct env {
	char **v;
	size_t n;
};

static void env_unset(struct env *e, const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < e->n;) {
		if (!strncmp(e->v[i], name, len) && e->v[i][len] == '=') {
			memmove(&e->v[i], &e->v[i + 1], (e->n - i) * sizeof(char *));
			e->n--;
		} else {
			i++;
		}
	}
}

static void env_set(struct env *e, char *assign)
{
	char *eq = strchr(assign, '=');
	if (!eq || eq == assign)
		die("-E %s: expected VAR=VALUE", assign);
	*eq = 0;
	env_unset(e, assign);
	*eq = '=';
	e->v = xrealloc(e->v, (e->n + 2) * sizeof(char *));
	e->v[e->n++] = assign;
	e->v[e->n] = NULL;
}

static void env_init(struct env *e)
{
	e->n = 0;
	while (environ[e->n])
		e->n++;
	e->v = xmalloc((e->n + 1) * sizeof(char *));
	memcpy(e->v, environ, (e->n + 1) * sizeof(char *));
}

static int parse_args(int argc, char **argv, struct options *o, struct env *env)
{
	enum { OPT_STRACE = 256, OPT_STATS, OPT_MEMORY, OPT_SYSCALLS, OPT_QUIET, OPT_HELP, OPT_VERSION };
	static const struct option longopts[] = {
		{ "strace", no_argument, NULL, OPT_STRACE },
		{ "stats", required_argument, NULL, OPT_STATS },
		{ "memory", required_argument, NULL, OPT_MEMORY },
		{ "syscalls", required_argument, NULL, OPT_SYSCALLS },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	/* '+': options stop at PROGRAM; its own arguments are its business. */
	while ((c = getopt_long(argc, argv, "+:0:E:L:U:", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_STRACE: o->strace = true; break;
		case OPT_STATS: o->stats_file = optarg; break;
		case OPT_MEMORY: o->memory = parse_size(optarg); break;
		case OPT_SYSCALLS: o->syscalls = parse_transport(optarg); break;
		case OPT_QUIET: o->quiet = true; break;
		case '0': o->argv0 = optarg; break;
		case 'L': o->prefix = parse_prefix(optarg); break;
		case 'E': env_set(env, optarg); break;
		case 'U': env_unset(env, optarg); break;
		case OPT_HELP: usage(stdout); exit(0);
		case OPT_VERSION: printf("kvmse %s\n", KVMSE_VERSION); exit(0);
		case ':': die_status(2, "option %s needs an argument (see kvmse --help)", argv[optind - 1]);
		default: die_status(2, "unknown option %s (see kvmse --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		die_status(2, "no program to run (usage: kvmse [options] PROGRAM [ARGS...])");
	return optind;
}

/* Default guest memory: the host's RAM, at most 64 GiB, in whole GiB. */
static uint64_t default_memory(void)
{
	uint64_t ram = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	ram = MIN(ram, 64ULL << 30);
	return MAX(ram & ~((1ULL << 30) - 1), 1ULL << 30);
}

/* An entry of kvmse's own auxiliary vector as the kernel wrote it (glibc's getauxval
 * rewrites AT_HWCAP on x86). */
static uint64_t host_auxv(uint64_t type)
{
	uint64_t e[2], v = 0;
	FILE *f = fopen("/proc/self/auxv", "re");
	if (!f)
		return getauxval(type);
	while (fread(e, sizeof(e), 1, f) == 1 && e[0] != AT_NULL)
		if (e[0] == type)
			v = e[1];
	fclose(f);
	return v;
}

/* The program's memory limit 'res' becomes kvmse's to keep (mm.c enforces it), and the
 * host's soft limit goes up to the hard one: kvmse reserves far more than the program
 * uses. (Best effort: a hard limit too low for that fails the reservation itself.) */
static void take_limit(int res, struct rlimit *own)
{
	if (getrlimit(res, own) < 0)
		*own = (struct rlimit){ RLIM_INFINITY, RLIM_INFINITY };
	struct rlimit host = { own->rlim_max, own->rlim_max };
	setrlimit(res, &host);
}

int main(int argc, char **argv)
{
	uint64_t t0 = now_ns();
	report_crashes();
	fd_proc_init();
	struct options opt = { 0 };
	struct env env;
	env_init(&env);
	int first = parse_args(argc, argv, &opt, &env);
	const char *prog = argv[first];

	static struct process process;
	struct proc *p = xcalloc(1, sizeof(*p));
	p->ps = &process;
	p->mem = &process.mem;
	p->ps->start_ns = t0;
	pthread_mutex_init(&p->ps->lock, NULL);
	pthread_cond_init(&p->ps->changed, NULL);
	sig_init(p);
	p->opt = p->ps->opt = &opt;
	p->tid = (pid_t)syscall(SYS_gettid);
	uint64_t size = opt.memory ? PAGE_ALIGN_UP(opt.memory) : default_memory();
	/* The direct map uses 2 MiB pages: keep the size a multiple of them. */
	size = (size + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	take_limit(RLIMIT_AS, &p->ps->rlim_as);
	take_limit(RLIMIT_DATA, &p->ps->rlim_data);
	mem_init(p->mem, size, SHIM_SIZE);
	p->mem->miss = mm_miss;
	p->mem->miss_ctx = p->ps;
	struct rlimit rl;
	if (getrlimit(RLIMIT_STACK, &rl) < 0)
		die_errno("getrlimit");
	p->ps->rlim_stack = rl.rlim_cur == RLIM_INFINITY ? (8ULL << 20) : rl.rlim_cur;

	struct cpu_features *f = &p->ps->features;
	f->hwcap = host_auxv(AT_HWCAP);
	f->minsigstksz = host_auxv(AT_MINSIGSTKSZ);
	p->cpu = kvm_cpu_create(p->mem, f);
	p->sig.xsave_size = f->xsave_size;
	p->sig.xfeatures = f->xfeatures;
	p->ps->vfork_done = -1;
	p->ps->reaper_above = getpid() == 1;
	struct cpu_regs regs;
	static struct script script;
	char *path = argv[first], **gargv = argv + first;
	if (opt.argv0)
		gargv[0] = (char *)opt.argv0;
	if (loader_script(&path, &gargv, &script, false) < 0)
		die_status(126, "%s: too many levels of #! interpreters", prog);
	loader_exec(p, path, gargv, env.v, f, &regs);
	procfs_show(p->ps, prog, gargv, env.v);
	loader_script_free(&script);
	p->cpu->ops->set_regs(p->cpu, &regs);
	free(env.v);
	p->ps->exitless = p->cpu->ops->serve && (opt.syscalls == TRANSPORT_EXITLESS ||
						 (opt.syscalls == TRANSPORT_AUTO && spare_core()));
	/* auto: not before 32 calls (hello world makes 17); exitless: from the start */
	p->ps->serve_after = opt.syscalls == TRANSPORT_AUTO ? 32 : 0;
	thread_serve(p);
	thread_add(p);
	thread_run(p);
}
