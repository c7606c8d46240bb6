/* sysv_ipc.c - System V shared memory, message queues and semaphores, between processes. */
// run: shm
// run: shm-fork
// run: msg
// run: sem
#include "common.h"
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* shmat's outcome: 0, or -1 and the errno name. */
#define SHOW_AT(expr) show(#expr, (expr) == (void *)-1 ? -1L : 0L)

static long nattch(int id)
{
	struct shmid_ds ds;
	CHECK(shmctl(id, IPC_STAT, &ds) == 0);
	return (long)ds.shm_nattch;
}

/* The /proc/self/maps lines of SysV segments, without addresses and inode (the id). */
static void show_maps(void)
{
	char line[512];
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f);
	while (fgets(line, sizeof(line), f)) {
		char perms[8], name[256] = "";
		unsigned long a, b;
		if (sscanf(line, "%lx-%lx %7s %*s %*s %*s %255[^\n]", &a, &b, perms, name) >= 3 &&
		    strstr(name, "SYSV"))
			printf("maps: %lu pages %s %s\n", (b - a) / 4096, perms, name);
	}
	fclose(f);
}

/* Run fn in a child; print how it ended. */
static void in_child(const char *what, void (*fn)(void *), void *arg)
{
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		fn(arg);
		_exit(0);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	if (WIFSIGNALED(st))
		printf("%s: killed by %s\n", what, strsignal(WTERMSIG(st)));
	else
		printf("%s: exit %d\n", what, WEXITSTATUS(st));
}

static void write_byte(void *p)
{
	*(volatile char *)p = 'x';
}

static void shm(void)
{
	int id = shmget(IPC_PRIVATE, 3 * 4096 + 100, IPC_CREAT | 0600);
	CHECK(id >= 0);
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	strcpy(p + 3 * 4096 + 50, "end of the segment");
	char *q = shmat(id, NULL, SHM_RDONLY);
	CHECK(q != (void *)-1 && q != p);
	printf("second attach sees: %s\n", q + 3 * 4096 + 50);
	printf("nattch %ld\n", nattch(id));
	show_maps();
	in_child("write to the read-only attach", write_byte, q);
	SHOW(mprotect(q, 4096, PROT_READ | PROT_WRITE));
	SHOW(mprotect(p, 4096, PROT_READ));
	in_child("write after mprotect(PROT_READ)", write_byte, p);
	SHOW(mprotect(p, 4096, PROT_READ | PROT_WRITE));
	/* What munmap leaves of an attach still detaches by its address. */
	SHOW(munmap(p + 4096, 4096));
	show_maps();
	SHOW(shmdt(p + 4096));
	SHOW(shmdt(p));
	SHOW(shmdt(p));
	printf("nattch %ld\n", nattch(id));
	/* Addresses: a page-aligned one is taken, others need SHM_RND. */
	char *at = mmap(NULL, 8 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(at != MAP_FAILED);
	SHOW_AT(shmat(id, at + 1, 0));
	SHOW_AT(shmat(id, at, 0));   /* EINVAL: mapped already */
	printf("with SHM_REMAP: %s\n", shmat(id, at, SHM_REMAP) == at ? "at the address" : strerror(errno));
	printf("with SHM_RND: %s\n", shmat(id, at + 4 * 4096 + 7, SHM_RND | SHM_REMAP) == at + 4 * 4096 ?
				      "rounded down" : strerror(errno));
	printf("same memory: %s\n", !strcmp(at + 4 * 4096 + 3 * 4096 + 50, q + 3 * 4096 + 50) ? "yes" : "no");
	SHOW_AT(shmat(id, NULL, SHM_REMAP));
	SHOW_AT(shmat(-1, NULL, 0));
	SHOW_AT(shmat(id + 1000000, NULL, 0));
	printf("nattch %ld\n", nattch(id));
	struct shmid_ds ds;
	SHOW(shmctl(id, IPC_STAT, (struct shmid_ds *)1));
	SHOW(shmctl(id, IPC_STAT, &ds));
	printf("size %zu, mode %o\n", ds.shm_segsz, ds.shm_perm.mode & 0777);
	ds.shm_perm.mode = 0400;
	SHOW(shmctl(id, IPC_SET, &ds));
	SHOW(shmctl(id, 12345, &ds));
	SHOW(shmctl(id, IPC_RMID, NULL));
	/* Removed, the segment lives on while attached. */
	printf("still there: %s\n", q + 3 * 4096 + 50);
	SHOW(shmdt(q));
	SHOW(shmdt(at));
	SHOW(shmdt(at + 4 * 4096));
	SHOW(shmctl(id, IPC_STAT, &ds));
}

static void child_writes(void *p)
{
	strcpy(p, "written by the child");
}

static void shm_fork(void)
{
	int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
	CHECK(id >= 0);
	char *p = shmat(id, NULL, 0);
	CHECK(p != (void *)-1);
	in_child("child", child_writes, p);
	printf("parent reads: %s\n", p);
	/* A child's attach, inherited, is gone once the parent has waited for it. */
	printf("nattch after the child %ld\n", nattch(id));
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char *c = shmat(id, NULL, 0);
		strcpy(c + 100, "attached by the child");
		_exit(nattch(id) == 3 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child: exit %d; nattch after it %ld; it wrote: %s\n", WEXITSTATUS(st), nattch(id), p + 100);
	/* execve detaches too. */
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		char arg[16];
		snprintf(arg, sizeof(arg), "%d", id);
		execl("/proc/self/exe", "sysv_ipc", "nattch", arg, (char *)NULL);
		_exit(127);
	}
	CHECK(waitpid(pid, &st, 0) == pid);
	SHOW(shmdt(p));
	SHOW(shmctl(id, IPC_RMID, NULL));
}

struct msg {
	long type;
	char text[64];
};

static void on_alarm(int sig)
{
	(void)sig;
}

static void msg(void)
{
	int id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	CHECK(id >= 0);
	struct msg m;
	for (long t = 1; t <= 3; t++) {
		m.type = t;
		snprintf(m.text, sizeof(m.text), "message of type %ld", t);
		SHOW(msgsnd(id, &m, strlen(m.text) + 1, 0));
	}
	struct msqid_ds ds;
	SHOW(msgctl(id, IPC_STAT, &ds));
	printf("qnum %lu\n", (unsigned long)ds.msg_qnum);
	memset(&m, 0, sizeof(m));
	SHOW(msgrcv(id, &m, sizeof(m.text), 2, 0));
	printf("got type %ld: %s\n", m.type, m.text);
	SHOW(msgrcv(id, &m, 4, 0, 0));          /* E2BIG */
	SHOW(msgrcv(id, &m, 4, 0, MSG_NOERROR));
	printf("got type %ld: %.4s\n", m.type, m.text);
	SHOW(msgrcv(id, &m, sizeof(m.text), 0, 0));
	SHOW(msgrcv(id, &m, sizeof(m.text), 0, IPC_NOWAIT));
	SHOW(msgsnd(id, (void *)1, 8, 0));
	SHOW(msgsnd(id, &m, (size_t)-1, 0));
	m.type = 0;
	SHOW(msgsnd(id, &m, 8, 0));
	SHOW(msgrcv(id, (void *)1, 8, 0, IPC_NOWAIT));
	/* A child blocks until the parent sends. */
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct msg r;
		long n = msgrcv(id, &r, sizeof(r.text), 7, 0);
		printf("child got %ld bytes: %s\n", n, n > 0 ? r.text : strerror(errno));
		_exit(0);
	}
	usleep(20000);
	m.type = 7;
	strcpy(m.text, "hello child");
	long sent = msgsnd(id, &m, strlen(m.text) + 1, 0);
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	SHOW(sent);
	/* A handler ends a blocked msgrcv with EINTR, SA_RESTART or not. */
	struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
	CHECK(sigaction(SIGALRM, &sa, NULL) == 0);
	struct itimerval it = { .it_value = { 0, 20000 } };
	CHECK(setitimer(ITIMER_REAL, &it, NULL) == 0);
	SHOW(msgrcv(id, &m, sizeof(m.text), 0, 0));
	struct msginfo info;
	SHOW(msgctl(id, IPC_INFO, (struct msqid_ds *)&info) >= 0);
	SHOW(msgctl(id, IPC_RMID, NULL));
	SHOW(msgsnd(id, &m, 8, 0));
}

static void sem(void)
{
	int id = semget(IPC_PRIVATE, 3, IPC_CREAT | 0600);
	CHECK(id >= 0);
	unsigned short vals[3] = { 1, 5, 0 }, got[3];
	SHOW(semctl(id, 0, SETALL, vals));
	SHOW(semctl(id, 0, GETALL, got));
	printf("values %u %u %u\n", got[0], got[1], got[2]);
	struct sembuf op = { 1, -2, 0 };
	SHOW(semop(id, &op, 1));
	SHOW(semctl(id, 1, GETVAL));
	struct sembuf take = { 0, -1, IPC_NOWAIT };
	SHOW(semop(id, &take, 1));
	SHOW(semop(id, &take, 1));              /* EAGAIN */
	struct timespec ts = { 0, 10000000 };
	take.sem_flg = 0;
	SHOW(semtimedop(id, &take, 1, &ts));    /* EAGAIN after the timeout */
	SHOW(semop(id, (struct sembuf *)1, 1));
	SHOW(semop(id, &op, 100000));           /* E2BIG */
	SHOW(semop(id, &op, 0));
	/* SEM_UNDO: what an ending process took comes back. */
	fflush(stdout);
	pid_t pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct sembuf u = { 1, -3, SEM_UNDO };
		_exit(semop(id, &u, 1) == 0 && semctl(id, 1, GETVAL) == 0 ? 0 : 1);
	}
	int st;
	CHECK(waitpid(pid, &st, 0) == pid);
	printf("child: exit %d; value after it %d\n", WEXITSTATUS(st), semctl(id, 1, GETVAL));
	/* A child blocks on semaphore 2 until it is removed. */
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct sembuf w = { 2, -1, 0 };
		int rc = semop(id, &w, 1);
		printf("blocked child: %d (%s)\n", rc, rc ? strerror(errno) : "ok");
		_exit(0);
	}
	while (semctl(id, 2, GETNCNT) != 1)
		usleep(1000);
	SHOW(semctl(id, 2, GETNCNT));
	long removed = semctl(id, 0, IPC_RMID);
	CHECK(waitpid(pid, &st, 0) == pid);
	SHOW(removed);
	SHOW(semctl(id, 0, GETVAL));
}

int main(int argc, char **argv)
{
	CHECK(argc >= 2);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "shm"))
		shm();
	else if (!strcmp(argv[1], "shm-fork"))
		shm_fork();
	else if (!strcmp(argv[1], "nattch") && argc == 3)
		printf("nattch after execve %ld\n", nattch(atoi(argv[2])));
	else if (!strcmp(argv[1], "msg"))
		msg();
	else if (!strcmp(argv[1], "sem"))
		sem();
	else
		CHECK(0);
	return 0;
}
