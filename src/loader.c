/* loader.c - load a static ELF64 x86-64 executable and build Linux's initial stack. */
#include "fd.h"
#include "proc.h"
#include "util.h"
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ELF_ET_DYN_BASE 0x555555554000ULL       /* Linux x86-64: brk of a static PIE */
#define STACK_TOP       0x7ffffffff000ULL       /* TASK_SIZE, no randomization */
#define MMAP_GAP        (128ULL << 20)          /* Linux's minimum gap below the stack */
#define STACK_INITIAL   (128 * 1024)

/* The exit statuses a shell gives: 126 cannot execute, 127 not found. */
#define EXIT_NOEXEC 126
#define EXIT_NOTFOUND 127

struct image {
	const char *path;
	int fd;
	uint64_t size;
	Elf64_Ehdr eh;
	Elf64_Phdr *ph;
	uint64_t lo, hi;                /* the page span of its PT_LOADs */
	uint64_t bias;                  /* where it went, less where it asked to go */
	gva_t phdr;                     /* its program headers, once loaded */
};

/* -L: an absolute path that exists under the prefix is taken from there (as qemu's -L). */
static const char *prefixed(const struct options *o, const char *path, char buf[PATH_MAX])
{
	struct stat st;
	if (!o->prefix || path[0] != '/' ||
	    snprintf(buf, PATH_MAX, "%s%s", o->prefix, path) >= PATH_MAX || lstat(buf, &st) < 0)
		return path;
	return buf;
}

static void bad(const struct image *im, const char *why)
{
	die_status(EXIT_NOEXEC, "%s: %s", im->path, why);
}

static const char *machine_name(unsigned m)
{
	switch (m) {
	case EM_386: return "i386";
	case EM_ARM: return "ARM";
	case EM_AARCH64: return "AArch64";
	case EM_RISCV: return "RISC-V";
	case EM_PPC64: return "PowerPC64";
	case EM_S390: return "s390";
	case EM_MIPS: return "MIPS";
	default: return "another architecture";
	}
}

static void read_headers(struct image *im)
{
	if (im->size < SELFMAG || pread(im->fd, &im->eh, MIN(sizeof(im->eh), im->size), 0) < SELFMAG ||
	    memcmp(im->eh.e_ident, ELFMAG, SELFMAG))
		bad(im, "not an ELF executable");
	if (im->size < sizeof(im->eh))
		bad(im, "truncated ELF file");
	if (im->eh.e_ident[EI_CLASS] != ELFCLASS64 || im->eh.e_ident[EI_DATA] != ELFDATA2LSB) {
		if (im->eh.e_machine == EM_386 || im->eh.e_ident[EI_CLASS] == ELFCLASS32)
			bad(im, "32-bit ELF: kvmse runs x86-64 programs only");
		bad(im, "not a 64-bit little-endian ELF");
	}
	if (im->eh.e_machine != EM_X86_64) {
		char msg[96];
		snprintf(msg, sizeof(msg), "ELF for %s: kvmse runs x86-64 programs only",
			 machine_name(im->eh.e_machine));
		bad(im, msg);
	}
	if (im->eh.e_type != ET_EXEC && im->eh.e_type != ET_DYN)
		bad(im, "not an executable ELF (object file or core dump)");
	if (im->eh.e_phentsize != sizeof(Elf64_Phdr) || im->eh.e_phnum == 0 || im->eh.e_phnum > 256)
		bad(im, "bad ELF program header table");
	uint64_t phsize = (uint64_t)im->eh.e_phnum * sizeof(Elf64_Phdr);
	if (im->eh.e_phoff > im->size || phsize > im->size - im->eh.e_phoff)
		bad(im, "truncated ELF file (program headers)");
	im->ph = xmalloc(phsize);
	if (pread(im->fd, im->ph, phsize, (off_t)im->eh.e_phoff) != (ssize_t)phsize)
		bad(im, "cannot read the ELF program headers");
}

/* Check every PT_LOAD as Linux's loader would, and find their page span. */
static void check_segments(struct image *im)
{
	im->lo = UINT64_MAX;
	im->hi = 0;
	uint64_t prev_end = 0;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		Elf64_Phdr *ph = &im->ph[i];
		if (ph->p_type != PT_LOAD)
			continue;
		if (ph->p_filesz > ph->p_memsz || ph->p_offset > im->size ||
		    ph->p_filesz > im->size - ph->p_offset)
			bad(im, "truncated ELF file (segment beyond the end of the file)");
		if ((ph->p_vaddr - ph->p_offset) % PAGE_SIZE)
			bad(im, "ELF segment misaligned with its file offset");
		if (ph->p_memsz > (1ULL << 46) || ph->p_vaddr > (1ULL << 46))
			bad(im, "ELF segment outside the user address space");
		if (ph->p_vaddr < prev_end)
			bad(im, "ELF segments overlap or are out of order");
		prev_end = ph->p_vaddr + ph->p_memsz;
		im->lo = MIN(im->lo, PAGE_ALIGN_DOWN(ph->p_vaddr));
		im->hi = MAX(im->hi, PAGE_ALIGN_UP(ph->p_vaddr + ph->p_memsz));
	}
	if (im->hi == 0)
		bad(im, "no loadable segment");
}

/* The PT_INTERP path (the dynamic loader), or NULL for a static program. */
static char *interp_path(const struct image *im)
{
	for (int i = 0; i < im->eh.e_phnum; i++) {
		const Elf64_Phdr *ph = &im->ph[i];
		if (ph->p_type != PT_INTERP)
			continue;
		if (ph->p_filesz < 2 || ph->p_filesz > PATH_MAX || ph->p_offset > im->size ||
		    ph->p_filesz > im->size - ph->p_offset)
			bad(im, "bad ELF interpreter path");
		char *path = xmalloc(ph->p_filesz);
		if (pread(im->fd, path, ph->p_filesz, (off_t)ph->p_offset) != (ssize_t)ph->p_filesz ||
		    path[ph->p_filesz - 1] || strlen(path) != ph->p_filesz - 1)
			bad(im, "bad ELF interpreter path");
		return path;
	}
	return NULL;
}

static int seg_prot(uint32_t f)
{
	return (f & PF_R ? PROT_READ : 0) | (f & PF_W ? PROT_WRITE : 0) | (f & PF_X ? PROT_EXEC : 0);
}

/* Copy 'len' bytes of the file from 'off' to guest address 'va'. */
static void copy_file(struct proc *p, struct image *im, uint64_t off, gva_t va, uint64_t len)
{
	uint8_t *buf = len ? xmalloc(1 << 20) : NULL;
	for (uint64_t done = 0; done < len;) {
		size_t n = (size_t)MIN(len - done, 1 << 20);
		if (pread(im->fd, buf, n, (off_t)(off + done)) != (ssize_t)n)
			bad(im, "cannot read an ELF segment");
		mm_poke(p, va + done, buf, n);
		done += n;
	}
	free(buf);
}

static void load_segment(struct proc *p, struct image *im, Elf64_Phdr *ph, unsigned file,
			 uint64_t *mapped_end)
{
	uint64_t bias = im->bias;
	gva_t start = PAGE_ALIGN_DOWN(ph->p_vaddr + bias);
	gva_t end = PAGE_ALIGN_UP(ph->p_vaddr + bias + ph->p_memsz);
	/* A first page shared with the previous segment stays (its bytes come below). */
	gva_t from = MAX(start, *mapped_end);
	/* The file's pages, then the bss beyond them, anonymous, as Linux maps them. */
	gva_t file_end = MAX(from, MIN(end, PAGE_ALIGN_UP(ph->p_vaddr + bias + ph->p_filesz)));
	uint64_t pgoff = (PAGE_ALIGN_DOWN(ph->p_offset) + (from - start)) / PAGE_SIZE;
	/* The file's own pages, copy-on-write (no copy made, the page cache shared), unless
	 * the host cannot map the file: then they are read in. */
	int rc = from < file_end ? mm_map_backed(p, from, file_end - from, PROT_READ | PROT_WRITE,
						 file, pgoff, im->fd) : 0;
	gva_t copied = from;
	if (rc == -ENODEV) {
		rc = mm_map_at(p, from, file_end - from, PROT_READ | PROT_WRITE, file, pgoff);
		copied = file_end;
	}
	if (rc < 0 || (file_end < end && mm_map(p, file_end, end - file_end, PROT_READ | PROT_WRITE, 0) < 0))
		die("%s: not enough guest memory to load it (--memory)", im->path);
	*mapped_end = MAX(*mapped_end, end);
	/* What is not mapped from the file is copied: a first page shared with the previous
	 * segment gets this segment's bytes, as MAP_FIXED of its file page would give. */
	gva_t va = ph->p_vaddr + bias;
	copy_file(p, im, ph->p_offset, va, copied > va ? MIN(ph->p_filesz, copied - va) : 0);
	/* With a bss, the rest of the last file page is zeroed, to the page's end (Linux's
	 * padzero: ld.so's first allocations use it as zeroed memory). */
	gva_t z = va + ph->p_filesz;
	static const uint8_t zeros[PAGE_SIZE];
	if (ph->p_memsz > ph->p_filesz)
		mm_poke(p, z, zeros, PAGE_ALIGN_UP(z) - z);
	mm_protect(p, start, end - start, seg_prot(ph->p_flags));
}

/* Every PT_LOAD of an image whose bias is chosen. */
static void load_image(struct proc *p, struct image *im)
{
	unsigned file = mm_file(p, im->fd);
	uint64_t mapped_end = 0;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		Elf64_Phdr *ph = &im->ph[i];
		if (ph->p_type == PT_LOAD) {
			load_segment(p, im, ph, file, &mapped_end);
			if (im->eh.e_phoff >= ph->p_offset && im->eh.e_phoff < ph->p_offset + ph->p_filesz)
				im->phdr = ph->p_vaddr + im->bias + (im->eh.e_phoff - ph->p_offset);
		} else if (ph->p_type == PT_PHDR) {
			im->phdr = ph->p_vaddr + im->bias;
		}
	}
}

/* Strings and pointers of the initial stack, laid out top-down as Linux's exec does. */
struct stack_builder {
	struct proc *p;
	gva_t sp;
};

static gva_t push_bytes(struct stack_builder *b, const void *data, size_t len)
{
	b->sp -= len;
	if (mem_write(b->p->mem, b->sp, data, len) < 0)
		die("arguments and environment too large for the initial stack");
	return b->sp;
}

static gva_t push_str(struct stack_builder *b, const char *s)
{
	return push_bytes(b, s, strlen(s) + 1);
}

static size_t count(char *const v[])
{
	size_t n = 0;
	while (v[n])
		n++;
	return n;
}

static void build_stack(struct proc *p, const char *execfn, char *const argv[], char *const envp[],
			uint64_t auxv[][2], size_t nauxv, struct cpu_regs *regs)
{
	struct stack_builder b = { p, p->ps->stack_top - sizeof(uint64_t) };
	size_t argc = count(argv), envc = count(envp);
	gva_t *argp = xmalloc((argc + 1) * sizeof(gva_t));
	gva_t *envpp = xmalloc((envc + 1) * sizeof(gva_t));
	gva_t fn = push_str(&b, execfn);
	for (size_t i = envc; i-- > 0;)
		envpp[i] = push_str(&b, envp[i]);
	for (size_t i = argc; i-- > 0;)
		argp[i] = push_str(&b, argv[i]);
	argp[argc] = envpp[envc] = 0;
	b.sp &= ~15ULL;
	gva_t platform = push_str(&b, "x86_64");
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		die_errno("getrandom");
	gva_t random = push_bytes(&b, rnd, sizeof(rnd));
	for (size_t i = 0; i < nauxv; i++) {
		if (auxv[i][0] == AT_RANDOM)
			auxv[i][1] = random;
		else if (auxv[i][0] == AT_PLATFORM)
			auxv[i][1] = platform;
		else if (auxv[i][0] == AT_EXECFN)
			auxv[i][1] = fn;
	}
	size_t words = 1 + (argc + 1) + (envc + 1) + nauxv * 2;
	b.sp = (b.sp - words * 8) & ~15ULL;
	gva_t sp = b.sp;
	uint64_t argc64 = argc;
	if (mem_write(p->mem, sp, &argc64, 8) < 0 ||
	    mem_write(p->mem, sp + 8, argp, (argc + 1) * 8) < 0 ||
	    mem_write(p->mem, sp + 8 + (argc + 1) * 8, envpp, (envc + 1) * 8) < 0 ||
	    mem_write(p->mem, sp + 8 + (argc + envc + 2) * 8, auxv, nauxv * 16) < 0)
		die("arguments and environment too large for the initial stack");
	free(argp);
	free(envpp);
	regs->rsp = sp;
}

/* Bytes the strings need on the stack, to size its first mapping. */
static uint64_t strings_size(char *const argv[], char *const envp[])
{
	uint64_t n = 0;
	for (size_t i = 0; argv[i]; i++)
		n += strlen(argv[i]) + 1 + 8;
	for (size_t i = 0; envp[i]; i++)
		n += strlen(envp[i]) + 1 + 8;
	return n;
}

static void open_image(struct image *im, const char *path)
{
	im->path = path;
	im->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (im->fd < 0) {
		int e = errno;
		die_status(e == ENOENT || e == ENOTDIR ? EXIT_NOTFOUND : EXIT_NOEXEC, "%s: %s", path,
			   strerror(e));
	}
	struct stat st;
	if (fstat(im->fd, &st) < 0)
		die_errno("%s", path);
	if (S_ISDIR(st.st_mode))
		die_status(EXIT_NOEXEC, "%s: Is a directory", path);
	if (!S_ISREG(st.st_mode))
		bad(im, "not a regular file");
	if (access(path, X_OK) < 0)
		die_status(EXIT_NOEXEC, "%s: Permission denied", path);
	im->size = (uint64_t)st.st_size;
}

/* Linux aligns a PIE to its largest segment alignment (maximum_alignment()). */
static uint64_t max_align(const struct image *im)
{
	uint64_t align = PAGE_SIZE;
	for (int i = 0; i < im->eh.e_phnum; i++) {
		uint64_t al = im->ph[i].p_align;
		if (im->ph[i].p_type == PT_LOAD && al > align && !(al & (al - 1)) && al <= (1ULL << 30))
			align = al;
	}
	return align;
}

/* The dynamic loader goes top-down in the mmap area, as Linux's load_elf_interp puts it. */
static void load_interp(struct proc *p, struct image *in, const char *path, const char *prog)
{
	if (access(path, F_OK) < 0)
		die_status(EXIT_NOTFOUND, "%s: its dynamic loader %s: %s", prog, path, strerror(errno));
	open_image(in, path);
	read_headers(in);
	if (in->eh.e_type != ET_DYN && in->eh.e_type != ET_EXEC)
		bad(in, "bad ELF interpreter");
	check_segments(in);
	in->bias = 0;
	if (in->eh.e_type == ET_DYN) {
		gva_t at = mm_find_free(p, in->hi - in->lo);
		if (!at)
			die("%s: not enough guest memory to load it (--memory)", path);
		in->bias = at - in->lo;
	}
	load_image(p, in);
}

/* The running program and its interpreter stay open, each with a read lock (a POSIX
 * one: the process's own, which its exit lets go before its parent hears of it; not an
 * open file description's, which the file's mappings would keep past the exit) on its
 * last possible byte, as long as they run. fs.c refuses a write open of a file so
 * locked (ETXTBSY), in any process of kvmse's, and takes the locks again after each
 * close the program makes (a close of any descriptor of the file lets them go). No new
 * open is made for it (fanotify would see one). */
static int running[2] = { -1, -1 };

void loader_hold(void)
{
	struct flock lk = { .l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = LOADER_BUSY_BYTE,
			    .l_len = 1 };
	for (int i = 0; i < 2; i++)
		if (running[i] >= 0)
			(void)fcntl(running[i], F_SETLK, &lk);
}

static void close_image(struct image *im, int slot)
{
	free(im->ph);
	running[slot] = im->fd;
	fd_hide(&running[slot]);
}

/* A new program runs: the old one's hold goes. */
static void release_running(void)
{
	for (int i = 0; i < 2; i++) {
		if (running[i] < 0)
			continue;
		fd_close(&running[i]);
	}
}

int loader_exec(struct proc *p, const char *path, char *const argv[], char *const envp[],
		const struct cpu_features *f, struct cpu_regs *regs)
{
	struct image im = { 0 }, in = { 0 };
	open_image(&im, path);
	read_headers(&im);
	check_segments(&im);
	char *interp = interp_path(&im);

	p->ps->stack_top = STACK_TOP;
	p->ps->mmap_base = STACK_TOP - MMAP_GAP;
	int stack_prot = PROT_READ | PROT_WRITE | PROT_EXEC;    /* no PT_GNU_STACK: executable */
	for (int i = 0; i < im.eh.e_phnum; i++)
		if (im.ph[i].p_type == PT_GNU_STACK)
			stack_prot = seg_prot(im.ph[i].p_flags) | PROT_READ | PROT_WRITE;
	/* Where Linux puts a PIE without ASLR: with a loader at ELF_ET_DYN_BASE; alone (a
	 * static PIE) top-down in the mmap area. */
	if (im.eh.e_type == ET_DYN && interp)
		im.bias = ((ELF_ET_DYN_BASE - im.lo) & ~(max_align(&im) - 1));
	else if (im.eh.e_type == ET_DYN)
		im.bias = mm_find_free(p, im.hi - im.lo) - im.lo;
	load_image(p, &im);
	char under[PATH_MAX];
	if (interp)
		load_interp(p, &in, prefixed(p->opt, interp, under), path);
	p->ps->brk_start = p->ps->brk_end = im.eh.e_type == ET_DYN && !interp ? ELF_ET_DYN_BASE :
					    im.hi + im.bias;

	uint64_t stack_len = PAGE_ALIGN_UP(STACK_INITIAL + strings_size(argv, envp));
	if (mm_map(p, STACK_TOP - stack_len, stack_len, stack_prot, VMA_GROWSDOWN) < 0)
		die("not enough guest memory for the stack (--memory)");

	char *abs = realpath(path, NULL);
	p->ps->exe = abs ? abs : xstrdup(path);
	uint64_t auxv[][2] = {
		{ AT_SYSINFO_EHDR, f->vdso },           /* (left out if there is none) */
		{ AT_MINSIGSTKSZ, f->minsigstksz },
		{ AT_HWCAP, f->hwcap },
		{ AT_PAGESZ, PAGE_SIZE },
		{ AT_CLKTCK, (uint64_t)sysconf(_SC_CLK_TCK) },
		{ AT_PHDR, im.phdr },
		{ AT_PHENT, sizeof(Elf64_Phdr) },
		{ AT_PHNUM, im.eh.e_phnum },
		{ AT_BASE, interp ? in.lo + in.bias : 0 },
		{ AT_FLAGS, 0 },
		{ AT_ENTRY, im.eh.e_entry + im.bias },
		{ AT_UID, getuid() },
		{ AT_EUID, geteuid() },
		{ AT_GID, getgid() },
		{ AT_EGID, getegid() },
		{ AT_SECURE, 0 },
		{ AT_RANDOM, 0 },
		{ AT_HWCAP2, f->hwcap2 },
		{ AT_EXECFN, 0 },
		{ AT_PLATFORM, 0 },
		{ AT_NULL, 0 },
	};
	memset(regs, 0, sizeof(*regs));
	build_stack(p, path, argv, envp, auxv + !f->vdso, ARRAY_SIZE(auxv) - !f->vdso, regs);
	_Static_assert(sizeof(auxv) <= sizeof(p->ps->auxv), "room for the auxiliary vector");
	p->ps->nauxv = ARRAY_SIZE(auxv) - !f->vdso;
	memcpy(p->ps->auxv, auxv + !f->vdso, p->ps->nauxv * sizeof(auxv[0]));
	regs->rip = interp ? in.eh.e_entry + in.bias : im.eh.e_entry + im.bias;
	regs->rflags = 0x202;
	release_running();
	close_image(&im, 0);
	if (interp)
		close_image(&in, 1);
	loader_hold();
	free(interp);
	return 0;
}

/* The "#!" line of a script: the interpreter and its one optional argument, as Linux
 * splits it (fs/binfmt_script.c). False if 'buf' is no script. */
static bool script_line(char *buf, size_t len, char **interp, char **arg)
{
	if (len < 2 || buf[0] != '#' || buf[1] != '!')
		return false;
	char *end = memchr(buf, '\n', len);
	if (!end)
		end = buf + len;
	*end = 0;
	char *s = buf + 2;
	while (*s == ' ' || *s == '\t')
		s++;
	*interp = s;
	while (*s && *s != ' ' && *s != '\t')
		s++;
	if (*s)
		*s++ = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	*arg = *s ? s : NULL;
	return **interp != 0;
}

#ifndef AT_EXECVE_CHECK
#define AT_EXECVE_CHECK 0x10000
#endif

/* Linux runs no file that is open for writing (ETXTBSY). No read lease can be taken on
 * such a file, so one taken (and given back by the close) tells; a lease break in
 * between sends kvmse's kick, not SIGIO. (No answer where leases are not allowed.) */
static bool open_for_writing(int fd)
{
	return fcntl(fd, F_SETSIG, SIG_KICK) == 0 && fcntl(fd, F_SETLEASE, F_RDLCK) < 0 &&
	       errno == EAGAIN;
}

/* The host's own verdict on running the file, where it gives one (Linux 6.14's
 * AT_EXECVE_CHECK, which executes nothing): the right to execute in a Landlock domain,
 * a noexec mount, other security modules, a writer (ETXTBSY, unless fanotify's
 * pre-content events watch the file, which must be writable while it runs). Older
 * kernels give none (EINVAL): then only a writer is looked for. */
static long exec_denied(int fd)
{
	static char *const none[] = { NULL };
	if (syscall(SYS_execveat, fd, "", none, none, AT_EMPTY_PATH | AT_EXECVE_CHECK) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	return open_for_writing(fd) ? -ETXTBSY : 0;
}

/* The first bytes of 'path' (NUL-terminated in buf[n]); -errno as execve would give,
 * unless it has been asked already ('checked': the tests cost an exec's worth of work in
 * the host, 0.1 ms here). */
static long head(const char *path, char *buf, size_t size, bool checked)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	long n = checked ? 0 : fstat(fd, &st) < 0 ? -errno :
		 !S_ISREG(st.st_mode) || access(path, X_OK) < 0 ? -EACCES : exec_denied(fd);
	if (n == 0)
		n = pread(fd, buf, size - 1, 0);
	if (n == -1)
		n = -errno;
	close(fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static void *own(struct script *s, void *ptr)
{
	s->owned[s->n++] = ptr;
	return ptr;
}

int loader_script(char **path, char ***argv, struct script *s, bool probed)
{
	s->n = 0;
	for (int depth = 0; depth < 4; depth++) {
		char buf[256], *interp, *arg;
		long n = head(*path, buf, sizeof(buf), probed && depth == 0);
		if (n < 0 || !script_line(buf, (size_t)n, &interp, &arg))
			return 0;
		size_t argc = count(*argv);
		char **v = own(s, xmalloc((argc + 3) * sizeof(char *)));
		size_t k = 0;
		v[k++] = own(s, xstrdup(interp));
		if (arg)
			v[k++] = own(s, xstrdup(arg));
		v[k++] = *path;
		for (size_t i = 1; i < argc; i++)
			v[k++] = (*argv)[i];
		v[k] = NULL;
		*path = v[0];
		*argv = v;
	}
	return -ELOOP;
}

void loader_script_free(struct script *s)
{
	while (s->n)
		free(s->owned[--s->n]);
}

static bool elf_ok(const char *buf, long n)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	return (size_t)n >= sizeof(*eh) && !memcmp(eh->e_ident, ELFMAG, SELFMAG) &&
	       eh->e_ident[EI_CLASS] == ELFCLASS64 && eh->e_machine == EM_X86_64 &&
	       (eh->e_type == ET_EXEC || eh->e_type == ET_DYN) && eh->e_phentsize == sizeof(Elf64_Phdr);
}

/* The PT_INTERP path of the ELF file 'path' whose first n bytes are in buf: 1 if there
 * is one, 0 if not, -errno. */
static long probe_interp(const char *path, const char *buf, long n, char *interp)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)buf;
	for (unsigned i = 0; i < eh->e_phnum; i++) {
		uint64_t off = eh->e_phoff + (uint64_t)i * sizeof(Elf64_Phdr);
		if (off + sizeof(Elf64_Phdr) > (uint64_t)n)
			break;
		const Elf64_Phdr *ph = (const Elf64_Phdr *)(buf + off);
		if (ph->p_type != PT_INTERP)
			continue;
		if (ph->p_filesz < 2 || ph->p_filesz > PATH_MAX)
			return -ENOEXEC;
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		ssize_t got = pread(fd, interp, ph->p_filesz, (off_t)ph->p_offset);
		close(fd);
		if (got != (ssize_t)ph->p_filesz || interp[got - 1])
			return -ENOEXEC;
		return 1;
	}
	return 0;
}

long loader_probe(const struct options *o, const char *path)
{
	char buf[4096], ipath[PATH_MAX], under[PATH_MAX];
	long n = head(path, buf, sizeof(buf), false);
	char *interp, *arg;
	if (n < 0)
		return n;
	if (script_line(buf, (size_t)n, &interp, &arg))
		return 0;       /* its interpreter is looked at when it runs */
	if (!elf_ok(buf, n))
		return -ENOEXEC;
	long rc = probe_interp(path, buf, n, ipath);
	if (rc <= 0)
		return rc;
	/* As Linux: a missing loader is the program's ENOENT, a loader too short for an ELF
	 * header EIO, one not ELF ELIBBAD. */
	n = head(prefixed(o, ipath, under), buf, sizeof(buf), false);
	if (n < 0)
		return n;
	if ((size_t)n < sizeof(Elf64_Ehdr))
		return -EIO;
	return elf_ok(buf, n) ? 0 : -ELIBBAD;
}
