/* Ignored signals: inherited ones stay ignored, and one the program ignores, sent from
 * outside (tests/badinput.sh sends SIGTERM), does nothing. */
// run: query
#include "common.h"
#include <signal.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	if (!strcmp(argv[1], "query")) {
		for (int sig = 1; sig < 32; sig++) {
			struct sigaction sa;
			CHECK(sigaction(sig, NULL, &sa) == 0);
			if (sa.sa_handler == SIG_IGN)
				printf("signal %d ignored\n", sig);
		}
		return 0;
	}
	if (!strcmp(argv[1], "ignore-term")) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGTERM, SIG_IGN);
	}
	printf("ready\n");
	fflush(stdout);
	for (int i = 0; i < 20; i++) {
		struct timespec ts = { 0, 50 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	printf("survived\n");
	return 0;
}
