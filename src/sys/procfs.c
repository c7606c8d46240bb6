/* procfs.c - the /proc files whose contents must be the guest's, not kvmse's: its
 * memory map, in maps, smaps and smaps_rollup (opening one gives a memfd filled with
 * what Linux would show), and its command line and environment (the host process is
 * told where they are). */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <linux/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <elf.h>
#include <unistd.h>

#define MAPS_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* PROCMAP_QUERY (Linux 6.11's linux/fs.h, newer than some headers). */
struct procmap_query {
	uint64_t size, query_flags, query_addr;
	uint64_t vma_start, vma_end, vma_flags, vma_page_size, vma_offset, inode;
	uint32_t dev_major, dev_minor, vma_name_size, build_id_size;
	uint64_t vma_name_addr, build_id_addr;
};
#define PQ_READABLE 1
#define PQ_WRITABLE 2
#define PQ_EXECUTABLE 4
#define PQ_SHARED 8
#define PQ_COVERING_OR_NEXT 0x10
#define PQ_FILE_BACKED 0x20
#define PQ_VALID 0x3f

/* Does 'path' name this process's /proc/.../<file>? */
static bool own_proc_file(const char *path, const char *file)
{
	char want[96];
	const char *rest = NULL;
	int pid = (int)getpid(), n = 0, a, b;
	if (!strncmp(path, "/proc/self/", 11))
		rest = path + 11;
	else if (!strncmp(path, "/proc/thread-self/", 18))
		rest = path + 18;
	else if (sscanf(path, "/proc/%d/%n", &a, &n) == 1 && n && a == pid)
		rest = path + n;
	if (rest && sscanf(rest, "task/%d/%n", &b, &n) == 1 && n)
		rest += n;
	snprintf(want, sizeof(want), "%s", file);
	return rest && !strcmp(rest, want);
}

/* The name /proc/<pid>/maps gives VMA v, or NULL. */
static const char *vma_name(struct proc *p, const struct vma *v)
{
	const struct mapped_file *file = mm_file_of(p, v);
	return file ? file->path : v->flags & VMA_HEAP ? "[heap]" :
	       v->end == p->ps->stack_top ? "[stack]" : NULL;
}

/* One line of /proc/<pid>/maps, as fs/proc/task_mmu.c prints it. */
static void maps_line(FILE *f, struct proc *p, const struct vma *v)
{
	const struct mapped_file *file = mm_file_of(p, v);
	const char *name = vma_name(p, v);
	unsigned long off = file ? (unsigned long)(v->pgoff * PAGE_SIZE) : 0;
	int len = fprintf(f, "%08llx-%08llx %c%c%c%c %08lx %02x:%02x %lu ",
			  (unsigned long long)v->start, (unsigned long long)v->end,
			  v->prot & PROT_READ ? 'r' : '-', v->prot & PROT_WRITE ? 'w' : '-',
			  v->prot & PROT_EXEC ? 'x' : '-', v->flags & VMA_SHARED ? 's' : 'p', off,
			  file ? major(file->dev) : 0, file ? minor(file->dev) : 0,
			  file ? (unsigned long)file->ino : 0);
	if (name)
		fprintf(f, "%*s%s", MAX(0, 73 - len), "", name);
	fputc('\n', f);
}

/* One of the vDSO's lines (in the upper half here: after every VMA, as Linux lists
 * [vsyscall]); area i, the code last. */
static void vdso_line(FILE *f, const struct cpu_features *cf, unsigned i)
{
	const struct cpu_vdso_area *a = &cf->vdso_areas[i];
	int len = fprintf(f, "%08llx-%08llx r-%cp 00000000 00:00 0 ", (unsigned long long)a->start,
			  (unsigned long long)a->end, i + 1 == cf->nvdso_areas ? 'x' : '-');
	fprintf(f, "%*s%s\n", MAX(0, 73 - len), "", a->name);
}

/* The kB fields of smaps, in Linux's order. The counts are of pages in memory: private
 * anonymous ones are taken as dirty, those of files as clean; none is shared with
 * another process. */
enum { RSS, PRIVATE_CLEAN, PRIVATE_DIRTY, ANONYMOUS, LOCKED, FIELDS };

static void vma_counts(struct proc *p, const struct vma *v, uint64_t kb[FIELDS])
{
	uint64_t rss = mm_resident(p, v) * (PAGE_SIZE / 1024);
	bool file = mm_file_of(p, v) != NULL;
	kb[RSS] += rss;
	kb[file ? PRIVATE_CLEAN : PRIVATE_DIRTY] += rss;
	kb[ANONYMOUS] += file ? 0 : rss;
	kb[LOCKED] += v->flags & VMA_LOCKED ? rss : 0;
}

/* One "Name:    123 kB" line, as Linux pads it. */
static void kb_line(FILE *f, const char *name, uint64_t kb)
{
	fprintf(f, "%s:%*s%8llu kB\n", name, (int)(15 - strlen(name)), "", (unsigned long long)kb);
}

/* A mapping's size and its page sizes (always 4 KiB pages). */
static void size_lines(FILE *f, uint64_t bytes)
{
	kb_line(f, "Size", bytes / 1024);
	kb_line(f, "KernelPageSize", PAGE_SIZE / 1024);
	kb_line(f, "MMUPageSize", PAGE_SIZE / 1024);
}

static void smaps_fields(FILE *f, const uint64_t kb[FIELDS], bool rollup)
{
	kb_line(f, "Rss", kb[RSS]);
	kb_line(f, "Pss", kb[RSS]);
	kb_line(f, "Pss_Dirty", kb[PRIVATE_DIRTY]);
	if (rollup) {
		kb_line(f, "Pss_Anon", kb[ANONYMOUS]);
		kb_line(f, "Pss_File", kb[RSS] - kb[ANONYMOUS]);
		kb_line(f, "Pss_Shmem", 0);
	}
	kb_line(f, "Shared_Clean", 0);
	kb_line(f, "Shared_Dirty", 0);
	kb_line(f, "Private_Clean", kb[PRIVATE_CLEAN]);
	kb_line(f, "Private_Dirty", kb[PRIVATE_DIRTY]);
	kb_line(f, "Referenced", kb[RSS]);
	kb_line(f, "Anonymous", kb[ANONYMOUS]);
	static const char *const zero[] = { "KSM", "LazyFree", "AnonHugePages", "ShmemPmdMapped",
					    "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap",
					    "SwapPss" };
	for (size_t i = 0; i < ARRAY_SIZE(zero); i++)
		kb_line(f, zero[i], 0);
	kb_line(f, "Locked", kb[LOCKED]);
}

/* One VMA's record in /proc/<pid>/smaps: its maps line, sizes, counts and flags. */
static void smaps_entry(FILE *f, struct proc *p, const struct vma *v)
{
	maps_line(f, p, v);
	size_lines(f, v->end - v->start);
	uint64_t kb[FIELDS] = { 0 };
	vma_counts(p, v, kb);
	smaps_fields(f, kb, false);
	bool shared = v->flags & VMA_SHARED;
	/* (Linux's mnemonics, in its order; "ac": private writable memory is charged to
	 * overcommit, "nr": MAP_NORESERVE's is not) */
	bool noreserve = v->flags & VMA_NORESERVE;
	fprintf(f, "THPeligible:           0\nVmFlags:%s%s%s%s mr%s me%s%s%s%s%s \n",
		v->prot & PROT_READ ? " rd" : "", v->prot & PROT_WRITE ? " wr" : "",
		v->prot & PROT_EXEC ? " ex" : "", shared ? " sh" : "",
		v->flags & VMA_NOWRITE ? "" : " mw", shared ? " ms" : "",
		v->flags & VMA_GROWSDOWN ? " gd" : "", v->flags & VMA_LOCKED ? " lo" : "",
		!shared && !noreserve && (v->prot & PROT_WRITE) ? " ac" : "", noreserve ? " nr" : "");
}

/* The vDSO's records in smaps: sizes, no page of the program's own, Linux's flags (the
 * time data a kernel mapping of pages, the code a special mapping). */
static void vdso_smaps(FILE *f, const struct cpu_features *cf, unsigned i)
{
	const struct cpu_vdso_area *a = &cf->vdso_areas[i];
	vdso_line(f, cf, i);
	size_lines(f, a->end - a->start);
	uint64_t kb[FIELDS] = { 0 };
	smaps_fields(f, kb, false);
	fprintf(f, "THPeligible:           0\nVmFlags: %s \n",
		i + 1 == cf->nvdso_areas ? "rd ex mr mw me de" : "rd mr pf io de dd");
}

/* /proc/<pid>/smaps_rollup: the sums, under a line that spans the mappings. */
static void smaps_rollup(FILE *f, struct proc *p)
{
	const struct process *ps = p->ps;
	uint64_t kb[FIELDS] = { 0 };
	for (size_t i = 0; i < ps->nvma; i++)
		vma_counts(p, &ps->vmas[i], kb);
	int len = fprintf(f, "%08llx-%08llx ---p 00000000 00:00 0 ",
			  ps->nvma ? (unsigned long long)ps->vmas[0].start : 0ULL,
			  ps->nvma ? (unsigned long long)ps->vmas[ps->nvma - 1].end : 0ULL);
	fprintf(f, "%*s[rollup]\n", MAX(0, 73 - len), "");
	smaps_fields(f, kb, true);
}

/* /proc/self/pagemap: a sparse memfd of one entry per page of the address space, the
 * host's entry for the page behind each of the program's (bits 55-63: present, swapped,
 * file or shared, exclusive, soft-dirty...; the frame number if kvmse may see it). */
static long pagemap(struct proc *p, int flags)
{
	int host = fd_proc_open("self/pagemap", O_RDONLY);
	if (host < 0)
		return -errno;
	int fd = memfd_create("pagemap", MFD_ALLOW_SEALING | ((flags & O_CLOEXEC) ? MFD_CLOEXEC : 0));
	if (fd < 0 || ftruncate(fd, (off_t)(TASK_SIZE / PAGE_SIZE * 8)) < 0) {
		long rc = -errno;
		close(host);
		if (fd >= 0)
			close(fd);
		return rc;
	}
	mem_lock(p->mem);
	for (size_t i = 0; i < p->ps->nvma; i++)
		mm_pagemap(p, &p->ps->vmas[i], host, fd);
	mem_unlock(p->mem);
	close(host);
	if (fcntl(fd, F_ADD_SEALS, MAPS_SEALS) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* The memfd opened again read-only, as the file was opened (a write or a splice into
 * it is then EBADF, as on Linux). */
static long read_only(long fd, int flags)
{
	if (fd < 0 || (flags & O_ACCMODE) != O_RDONLY)
		return fd;
	char name[32];
	snprintf(name, sizeof(name), "self/fd/%ld", fd);
	int ro = fd_proc_open(name, O_RDONLY | (flags & O_CLOEXEC));
	long rc = ro < 0 ? -errno : ro;
	close((int)fd);
	return rc;
}

static long open_kind(struct proc *p, int kind, int flags);

long procfs_open(struct proc *p, const char *path, int flags)
{
	int kind = own_proc_file(path, "maps") ? 0 : own_proc_file(path, "smaps") ? 1 :
		   own_proc_file(path, "smaps_rollup") ? 2 : own_proc_file(path, "pagemap") ? 3 : -1;
	return kind < 0 ? -ENOENT : read_only(open_kind(p, kind, flags), flags);
}

static long open_kind(struct proc *p, int kind, int flags)
{
	if (kind == 3)
		return pagemap(p, flags);
	static const char *const names[] = { "maps", "smaps", "smaps_rollup" };
	int fd = memfd_create(names[kind], MFD_ALLOW_SEALING | ((flags & O_CLOEXEC) ? MFD_CLOEXEC : 0));
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(dup(fd), "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	mem_lock(p->mem);
	if (kind == 2)
		smaps_rollup(f, p);
	for (size_t i = 0; kind < 2 && i < p->ps->nvma; i++)
		(kind ? smaps_entry : maps_line)(f, p, &p->ps->vmas[i]);
	mem_unlock(p->mem);
	for (unsigned i = 0; kind < 2 && i < p->ps->features.nvdso_areas; i++)
		(kind ? vdso_smaps : vdso_line)(f, &p->ps->features, i);
	if (fclose(f) != 0 || lseek(fd, 0, SEEK_SET) < 0 || fcntl(fd, F_ADD_SEALS, MAPS_SEALS) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* Is 'pid' a process of kvmse's (this one or another: its executable is ours)? */
static bool of_kvmse(int pid)
{
	char mine[PATH_MAX], its[PATH_MAX], link[32];
	snprintf(link, sizeof(link), "%d/exe", pid);
	ssize_t n = fd_proc_readlink("self/exe", mine, sizeof(mine) - 1);
	ssize_t m = fd_proc_readlink(link, its, sizeof(its) - 1);
	return pid == getpid() || (n > 0 && m == n && !memcmp(mine, its, (size_t)n));
}

long procfs_opened(long fd, const char *path)
{
	if (fd < 0)
		return fd;      /* (and 'path' may be user_path's unreadable stand-in) */
	const char *last = strrchr(path, '/');
	char target[64];
	int pid, n = 0;
	if (strcmp(last ? last + 1 : path, "mem") || fd_target((int)fd, target, sizeof(target)) < 0)
		return fd;
	if (sscanf(target, "/proc/%d/%n", &pid, &n) != 1 || !n || !of_kvmse(pid))
		return fd;
	close((int)fd);
	return -EACCES;
}

/* Is host descriptor fd one procfs_open made as 'name'? (A memfd named so and sealed so.) */
static bool is_own(int fd, const char *name)
{
	char target[64], want[64];
	snprintf(want, sizeof(want), "/memfd:%s (deleted)", name);
	return fd_target(fd, target, sizeof(target)) > 0 && !strcmp(target, want) &&
	       fcntl(fd, F_GET_SEALS) == MAPS_SEALS;
}

static bool is_maps(int fd)
{
	return is_own(fd, "maps");
}

bool procfs_is(int fd)
{
	return is_own(fd, "maps") || is_own(fd, "smaps") || is_own(fd, "smaps_rollup") ||
	       is_own(fd, "pagemap");
}

/* The GNU build ID of the ELF file at 'path' into id (20 bytes at most, as Linux's
 * BUILD_ID_SIZE_MAX): its size, or 0 if it has none. */
static uint32_t build_id(const char *path, uint8_t id[20])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf64_Ehdr eh;
	uint32_t size = 0;
	if (fd < 0)
		return 0;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr))
		eh.e_phnum = 0;
	for (int i = 0; i < eh.e_phnum && !size; i++) {
		Elf64_Phdr ph;
		uint8_t notes[4096];
		if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * sizeof(ph))) != sizeof(ph) ||
		    ph.p_type != PT_NOTE)
			continue;
		ssize_t n = pread(fd, notes, MIN(ph.p_filesz, sizeof(notes)), (off_t)ph.p_offset);
		for (size_t at = 0; n > 0 && at + sizeof(Elf64_Nhdr) <= (size_t)n;) {
			const Elf64_Nhdr *nh = (const Elf64_Nhdr *)(notes + at);
			size_t name = at + sizeof(*nh), desc = name + ((nh->n_namesz + 3) & ~3u);
			if (desc + nh->n_descsz > (size_t)n)
				break;
			if (nh->n_type == NT_GNU_BUILD_ID && nh->n_namesz == 4 &&
			    !memcmp(notes + name, "GNU", 4) && nh->n_descsz && nh->n_descsz <= 20) {
				size = nh->n_descsz;
				memcpy(id, notes + desc, size);
				break;
			}
			at = desc + ((nh->n_descsz + 3) & ~3u);
		}
	}
	close(fd);
	return size;
}

/* Linux's query_matching_vma: the VMA at 'addr' (or the next, if asked) with the rights
 * and kind asked for. */
static const struct vma *query_vma(struct proc *p, gva_t addr, uint64_t flags)
{
	for (;;) {
		const struct vma *v = mm_next(p, addr);
		if (!v)
			return NULL;
		bool ok = !((flags & PQ_FILE_BACKED) && !mm_file_of(p, v)) &&
			  !((flags & PQ_READABLE) && !(v->prot & PROT_READ)) &&
			  !((flags & PQ_WRITABLE) && !(v->prot & PROT_WRITE)) &&
			  !((flags & PQ_EXECUTABLE) && !(v->prot & PROT_EXEC)) &&
			  !((flags & PQ_SHARED) && !(v->flags & VMA_SHARED));
		if (ok && ((flags & PQ_COVERING_OR_NEXT) || v->start <= addr))
			return v;
		if (!(flags & PQ_COVERING_OR_NEXT))
			return NULL;
		addr = v->end;
	}
}

/* Fill q (the caller's copy) for 'v': -errno, or 0 with the name and ID to copy out. */
static long query_fill(struct proc *p, const struct vma *v, struct procmap_query *q,
		       char *name, uint8_t id[20])
{
	const struct mapped_file *file = mm_file_of(p, v);
	q->vma_start = v->start;
	q->vma_end = v->end;
	q->vma_flags = (v->prot & PROT_READ ? PQ_READABLE : 0) |
		       (v->prot & PROT_WRITE ? PQ_WRITABLE : 0) |
		       (v->prot & PROT_EXEC ? PQ_EXECUTABLE : 0) |
		       (v->flags & VMA_SHARED ? PQ_SHARED : 0);
	q->vma_page_size = PAGE_SIZE;
	q->vma_offset = file ? v->pgoff * PAGE_SIZE : 0;
	q->inode = file ? file->ino : 0;
	q->dev_major = file ? major(file->dev) : 0;
	q->dev_minor = file ? minor(file->dev) : 0;
	if (q->build_id_size) {
		uint32_t n = file ? build_id(file->path, id) : 0;
		if (n && q->build_id_size < n)
			return -ENAMETOOLONG;
		q->build_id_size = n;
	}
	if (q->vma_name_size) {
		const char *s = vma_name(p, v);
		size_t n = s ? strlen(s) + 1 : 0;
		if (n > MIN(q->vma_name_size, PATH_MAX))
			return -ENAMETOOLONG;
		if (s)
			memcpy(name, s, n);
		q->vma_name_size = (uint32_t)n;
	}
	return 0;
}

long procfs_query(struct proc *p, int fd, gva_t arg)
{
	if (!is_maps(fd))
		return -ENOTTY;
	uint64_t size;
	if (mem_read(p->mem, &size, arg, sizeof(size)) < 0)
		return -EFAULT;
	if (size > PAGE_SIZE)
		return -E2BIG;
	if (size < offsetof(struct procmap_query, vma_start))
		return -EINVAL;
	struct procmap_query q = { 0 };
	uint8_t tail[PAGE_SIZE];
	if (mem_read(p->mem, &q, arg, MIN(size, sizeof(q))) < 0 ||
	    (size > sizeof(q) && mem_read(p->mem, tail, arg + sizeof(q), size - sizeof(q)) < 0))
		return -EFAULT;
	for (uint64_t i = sizeof(q); i < size; i++)     /* (copy_struct_from_user) */
		if (tail[i - sizeof(q)])
			return -E2BIG;
	if ((q.query_flags & ~PQ_VALID) || !q.vma_name_size != !q.vma_name_addr ||
	    !q.build_id_size != !q.build_id_addr)
		return -EINVAL;
	char name[PATH_MAX];
	uint8_t id[20];
	mem_lock(p->mem);
	const struct vma *v = query_vma(p, q.query_addr, q.query_flags);
	long rc = v ? query_fill(p, v, &q, name, id) : -ENOENT;
	mem_unlock(p->mem);
	if (rc < 0)
		return rc;
	if ((q.vma_name_size && mem_write(p->mem, q.vma_name_addr, name, q.vma_name_size) < 0) ||
	    (q.build_id_size && mem_write(p->mem, q.build_id_addr, id, q.build_id_size) < 0) ||
	    mem_write(p->mem, arg, &q, MIN(size, sizeof(q))) < 0)
		return -EFAULT;
	return 0;
}

/* The host's memory-map fields as /proc/self/stat has them (fields 26-28 and 45-51),
 * with 'args' (len bytes: the arguments, then 'env' on) as the new command line. */
static bool title_map(struct prctl_mm_map *m, const struct process *ps, char *args, size_t env,
		      size_t len)
{
	char stat[1024];
	fd_proc_read("self/stat", stat, sizeof(stat));
	char *s = strrchr(stat, ')');
	if (!s || strlen(s) < 4)
		return false;
	s += 3;         /* (past the state, field 3) */
	unsigned long long f[52] = { 0 };
	for (int i = 4; i < 52; i++)
		f[i] = strtoull(s, &s, 10);
	*m = (struct prctl_mm_map){ .start_code = f[26], .end_code = f[27], .start_stack = f[28],
				    .start_data = f[45], .end_data = f[46], .start_brk = f[47],
				    .brk = (uint64_t)syscall(SYS_brk, 0),
				    .arg_start = (uintptr_t)args, .arg_end = (uintptr_t)args + env,
				    .env_start = (uintptr_t)args + env, .env_end = (uintptr_t)args + len,
				    .exe_fd = (uint32_t)-1, .auxv = (__u64 *)ps->auxv,
				    .auxv_size = ps->nauxv * sizeof(ps->auxv[0]) };
	return f[51] != 0;
}

/*
 * What other processes read in /proc/<pid>/comm, cmdline and environ of this one (ps,
 * pidof, pgrep, psutil) is the guest's name, argv and envp, the last two as the kernel
 * lays them out, in a copy kvmse keeps; and in auxv (gdb: where the vDSO is; the program
 * itself too) the guest's auxiliary vector. PR_SET_MM_MAP moves them with no privilege
 * (the single-field PR_SET_MM calls need CAP_SYS_RESOURCE) but sets every field, so the
 * others are given as they are. The kernel reads them only from anonymous memory, which malloc's is. Where it
 * fails (no CONFIG_CHECKPOINT_RESTORE) kvmse's own command line stays.
 */
void procfs_show(const struct process *ps, const char *file, char *const argv[], char *const envp[])
{
	const char *base = strrchr(file, '/');
	prctl(PR_SET_NAME, base ? base + 1 : file);
	static char *title;
	size_t env = 0, len = 0;
	for (size_t i = 0; argv[i]; i++)
		env += strlen(argv[i]) + 1;
	len = env;
	for (size_t i = 0; envp[i]; i++)
		len += strlen(envp[i]) + 1;
	char *t = xmalloc(len + 1), *at = t;
	for (size_t i = 0; argv[i]; i++)
		at = stpcpy(at, argv[i]) + 1;
	for (size_t i = 0; envp[i]; i++)
		at = stpcpy(at, envp[i]) + 1;
	struct prctl_mm_map m;
	if (!title_map(&m, ps, t, env, len) || prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof(m), 0) < 0) {
		free(t);
		return;
	}
	free(title);
	title = t;
}
