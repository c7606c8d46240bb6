/* procfs.c - the /proc files whose contents must be the guest's, not kvmse's: its
 * memory map. Opening one gives a memfd filled with what Linux would show. */
#include "sys.h"
#include "../util.h"
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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
