/* mqueue.c - POSIX message queues: priorities, attributes, timeouts, a notification by
 * signal, and bad arguments. */
#include "common.h"
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t note_code, note_value;
static void on_note(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	note_code = si->si_code;
	note_value = si->si_value.sival_int;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	char name[64];
	snprintf(name, sizeof(name), "/kvmse-test-%d", getpid());
	struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 32 };
	mqd_t q = mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
	CHECK(q != (mqd_t)-1);
	SHOW(mq_open(name, O_CREAT | O_EXCL | O_RDWR, 0600, &attr));
	struct mq_attr got;
	SHOW(mq_getattr(q, &got));
	printf("maxmsg %ld, msgsize %ld, curmsgs %ld\n", got.mq_maxmsg, got.mq_msgsize, got.mq_curmsgs);

	struct sigaction sa = { .sa_sigaction = on_note, .sa_flags = SA_SIGINFO };
	CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
	struct sigevent ev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1,
			       .sigev_value.sival_int = 42 };
	SHOW(mq_notify(q, &ev));
	SHOW(mq_notify(q, &ev));        /* EBUSY: one registration at a time */
	SHOW(mq_send(q, "low", 3, 1));
	printf("notified: code %s, value %d\n", note_code == SI_MESGQ ? "SI_MESGQ" : "other",
	       (int)note_value);
	SHOW(mq_send(q, "high", 4, 9));
	SHOW(mq_send(q, "mid", 3, 5));
	SHOW(mq_send(q, "x", 40, 1));   /* EMSGSIZE */
	char buf[64];
	unsigned prio;
	for (int i = 0; i < 3; i++) {
		ssize_t n = mq_receive(q, buf, sizeof(buf), &prio);
		CHECK(n >= 0);
		printf("received %.*s, priority %u\n", (int)n, buf, prio);
	}
	SHOW(mq_receive(q, buf, 8, &prio));     /* EMSGSIZE: smaller than msgsize */
	struct timespec past = { 0, 0 };
	SHOW(mq_timedreceive(q, buf, sizeof(buf), NULL, &past));
	attr.mq_flags = O_NONBLOCK;
	SHOW(mq_setattr(q, &attr, NULL));
	SHOW(mq_receive(q, buf, sizeof(buf), NULL));
	SHOW(syscall(SYS_mq_timedsend, q, (void *)8, 3, 0, NULL));
	SHOW(syscall(SYS_mq_getsetattr, q, (void *)8, NULL));
	SHOW(syscall(SYS_mq_notify, q, (void *)8));
	SHOW(syscall(SYS_mq_timedreceive, -1, buf, sizeof(buf), NULL, NULL));
	SHOW(mq_close(q));
	SHOW(mq_unlink(name));
	SHOW(mq_unlink(name));
	SHOW(mq_open(name, O_RDONLY));
	return 0;
}
