/* procfs.c - the /proc files whose contents must be the guest's, not kvmse's: its
 * memory map (opening it gives a memfd filled with what Linux would show), and its
 * command line and environment (the host process is told where they are). */
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
#include <unistd.h>

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

/* One line of /proc/<pid>/maps, as fs/proc/task_mmu.c prints it. */
static void maps_line(FILE *f, struct proc *p, const struct vma *v)
{
	const struct mapped_file *file = mm_file_of(p, v);
	const char *name = NULL;
	unsigned long off = 0;
	if (file) {
		name = file->path;
		off = (unsigned long)(v->pgoff * PAGE_SIZE);
	} else if (v->flags & VMA_HEAP) {
		name = "[heap]";
	} else if (v->end == p->ps->stack_top) {
		name = "[stack]";
	}
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

long procfs_open(struct proc *p, const char *path, int flags)
{
	if (!own_proc_file(path, "maps"))
		return -ENOENT;
	int fd = memfd_create("maps", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
	if (fd < 0)
		return -errno;
	FILE *f = fdopen(dup(fd), "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	mem_lock(p->mem);
	for (size_t i = 0; i < p->ps->nvma; i++)
		maps_line(f, p, &p->ps->vmas[i]);
	mem_unlock(p->mem);
	if (fclose(f) != 0 || lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		return -EIO;
	}
	return fd;
}

/* The host's memory-map fields as /proc/self/stat has them (fields 26-28 and 45-51),
 * with 'args' (len bytes: the arguments, then 'env' on) as the new command line. */
static bool title_map(struct prctl_mm_map *m, char *args, size_t env, size_t len)
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
				    .exe_fd = (uint32_t)-1 };
	return f[51] != 0;
}

/*
 * What other processes read in /proc/<pid>/comm, cmdline and environ of this one (ps,
 * pidof, pgrep, psutil) is the guest's name, argv and envp, the last two as the kernel
 * lays them out, in a copy kvmse keeps. PR_SET_MM_MAP moves them with no privilege
 * (the single-field PR_SET_MM calls need CAP_SYS_RESOURCE) but sets every field, so the
 * others are given as they are. The kernel reads them only from anonymous memory, which malloc's is. Where it
 * fails (no CONFIG_CHECKPOINT_RESTORE) kvmse's own command line stays.
 */
void procfs_show(const char *file, char *const argv[], char *const envp[])
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
	if (!title_map(&m, t, env, len) || prctl(PR_SET_MM, PR_SET_MM_MAP, &m, sizeof(m), 0) < 0) {
		free(t);
		return;
	}
	free(title);
	title = t;
}
