/* ipc.c - System V IPC: message queues and semaphores are the host's (its ids, keys and
 * limits, shared with every program on it), on translated buffers; shared memory
 * segments are the host's too, attached by kvmse into guest memory (mm.c). */
#include "sys.h"
#include "../util.h"
#include <grp.h>
#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/fsuid.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define HOST(...) sys_ret(syscall(__VA_ARGS__))

#ifndef SHM_STAT_ANY
#define SHM_STAT_ANY 15
#endif
#ifndef MSG_STAT_ANY
#define MSG_STAT_ANY 13
#endif
#ifndef SEM_STAT_ANY
#define SEM_STAT_ANY 20
#endif

long sys_shmget(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return HOST(SYS_shmget, (key_t)a[0], (size_t)a[1], (int)a[2]);
}

/* The buffer each *ctl command reads or writes: its length, and MEM_WRITE if written. */
static void *ctl_buf(struct proc *p, uint64_t va, size_t in, size_t out)
{
	return in ? user_in(p, va, in) : out ? user_out(p, va, out) : NULL;
}

long sys_shmctl(struct proc *p, const uint64_t a[6])
{
	int cmd = (int)a[1];
	size_t in = 0, out = 0;
	switch (cmd) {
	case IPC_STAT: case SHM_STAT: case SHM_STAT_ANY: out = sizeof(struct shmid_ds); break;
	case IPC_SET: in = sizeof(struct shmid_ds); break;
	case IPC_INFO: out = sizeof(struct shminfo); break;
	case SHM_INFO: out = sizeof(struct shm_info); break;
	}
	return HOST(SYS_shmctl, (int)a[0], cmd, ctl_buf(p, a[2], in, out));
}

static bool in_group(gid_t g)
{
	if (g == (gid_t)setfsgid(-1))
		return true;
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);
	for (int i = 0; i < n; i++)
		if (groups[i] == g)
			return true;
	return false;
}

/* Linux's ipcperms: may the caller have access 'want' (4 read, 2 write, 1 execute)? */
static bool ipc_allowed(const struct ipc_perm *perm, int want)
{
	uid_t e = geteuid();
	unsigned granted = perm->mode;
	if (e == perm->cuid || e == perm->uid)
		granted >>= 6;
	else if (in_group(perm->cgid) || in_group(perm->gid))
		granted >>= 3;
	return !(want & ~granted & 7) || sys_has_cap(CAP_IPC_OWNER);
}

/* shmat, as Linux's do_shmat checks it: the address, the segment and the caller's access,
 * then the room for it. The segment is attached in guest memory, not kvmse's. */
long sys_shmat(struct proc *p, const uint64_t a[6])
{
	int id = (int)a[0], flg = (int)a[2];
	gva_t addr = a[1];
	if (id < 0)
		return -EINVAL;
	if (addr & (SHMLBA - 1)) {
		if (!(flg & SHM_RND))
			return -EINVAL;
		addr &= ~(uint64_t)(SHMLBA - 1);
		if (!addr && (flg & SHM_REMAP))
			return -EINVAL;
	} else if (!addr && (flg & SHM_REMAP)) {
		return -EINVAL;
	}
	struct shmid_ds ds;
	if (shmctl(id, IPC_STAT, &ds) < 0)
		return -errno;
	int prot = PROT_READ | ((flg & SHM_RDONLY) ? 0 : PROT_WRITE) | ((flg & SHM_EXEC) ? PROT_EXEC : 0);
	if (!ipc_allowed(&ds.shm_perm, 4 | ((flg & SHM_RDONLY) ? 0 : 2) | ((flg & SHM_EXEC) ? 1 : 0)))
		return -EACCES;
	uint64_t size = ds.shm_segsz, len = PAGE_ALIGN_UP(size);
	if (addr && !(flg & SHM_REMAP) && (addr + size < addr || !mm_range_free(p, addr, len)))
		return -EINVAL;
	if (!addr && !(addr = mm_find_free(p, len)))
		return -ENOMEM;
	if (addr > TASK_SIZE - len)
		return -ENOMEM;
	long rc = mm_map_shm(p, addr, len, prot, id, flg, ds.shm_perm.__key);
	return rc < 0 ? rc : (long)addr;
}

long sys_shmdt(struct proc *p, const uint64_t a[6])
{
	if (a[0] & (PAGE_SIZE - 1))
		return -EINVAL;
	return mm_shm_detach(p, a[0]);
}

long sys_msgget(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return HOST(SYS_msgget, (key_t)a[0], (int)a[1]);
}

/* A message is its type (a long) and its text. */
long sys_msgsnd(struct proc *p, const uint64_t a[6])
{
	if (a[2] > INT_MAX)             /* (past any msgmax) */
		return -EINVAL;
	return HOST(SYS_msgsnd, (int)a[0], user_in(p, a[1], sizeof(long) + a[2]), (size_t)a[2], (int)a[3]);
}

long sys_msgrcv(struct proc *p, const uint64_t a[6])
{
	/* The kernel writes at most the longest message there may be. */
	struct msginfo info;
	size_t most = a[2];
	if (msgctl(0, IPC_INFO, (struct msqid_ds *)&info) >= 0 && most > (size_t)info.msgmax)
		most = (size_t)info.msgmax;
	if ((long)most < 0)
		most = 0;
	return HOST(SYS_msgrcv, (int)a[0], user_out(p, a[1], sizeof(long) + most), (size_t)a[2],
		    (long)a[3], (int)a[4]);
}

long sys_msgctl(struct proc *p, const uint64_t a[6])
{
	int cmd = (int)a[1];
	size_t in = 0, out = 0;
	switch (cmd) {
	case IPC_STAT: case MSG_STAT: case MSG_STAT_ANY: out = sizeof(struct msqid_ds); break;
	case IPC_SET: in = sizeof(struct msqid_ds); break;
	case IPC_INFO: case MSG_INFO: out = sizeof(struct msginfo); break;
	}
	return HOST(SYS_msgctl, (int)a[0], cmd, ctl_buf(p, a[2], in, out));
}

long sys_semget(struct proc *p, const uint64_t a[6])
{
	(void)p;
	return HOST(SYS_semget, (key_t)a[0], (int)a[1], (int)a[2]);
}

/* An array of struct sembuf (6 bytes each); past SEMOPM_LIMIT entries the kernel refuses
 * the call (E2BIG) before it reads any. */
#define SEMOPM_LIMIT 65536
static void *sembufs(struct proc *p, uint64_t va, uint64_t n)
{
	return user_in(p, va, MIN(n, SEMOPM_LIMIT) * sizeof(struct sembuf));
}

long sys_semop(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_semop, (int)a[0], sembufs(p, a[1], a[2]), (size_t)a[2]);
}

long sys_semtimedop(struct proc *p, const uint64_t a[6])
{
	return HOST(SYS_semtimedop, (int)a[0], sembufs(p, a[1], a[2]), (size_t)a[2],
		    user_in(p, a[3], sizeof(struct timespec)));
}

/* semctl's fourth argument is a union: a value, or a pointer the command reads or writes. */
long sys_semctl(struct proc *p, const uint64_t a[6])
{
	int id = (int)a[0], cmd = (int)a[2];
	size_t in = 0, out = 0;
	struct semid_ds ds;
	switch (cmd) {
	case IPC_STAT: case SEM_STAT: case SEM_STAT_ANY: out = sizeof(struct semid_ds); break;
	case IPC_SET: in = sizeof(struct semid_ds); break;
	case IPC_INFO: case SEM_INFO: out = sizeof(struct seminfo); break;
	case GETALL: case SETALL:
		/* One unsigned short per semaphore of the set (all there may be if the set
		 * cannot be read: the host then refuses the call as it should). */
		out = (semctl(id, 0, IPC_STAT, &ds) == 0 ? ds.sem_nsems : USHRT_MAX) * sizeof(unsigned short);
		if (cmd == SETALL) {
			in = out;
			out = 0;
		}
		break;
	default:                        /* a value, or nothing */
		return HOST(SYS_semctl, id, (int)a[1], cmd, a[3]);
	}
	return HOST(SYS_semctl, id, (int)a[1], cmd, ctl_buf(p, a[3], in, out));
}
