/* Every way out: return, exit, _exit, abort, a signal to itself. */
// run: return
// run: exit
// run: _exit
// run: abort
// run: raise-term
// run: raise-ignored
// run: atexit
#include "common.h"
#include <signal.h>
#include <unistd.h>

static void bye(void) { puts("atexit handler ran"); }

int main(int argc, char **argv)
{
	CHECK(argc == 2);
	const char *m = argv[1];
	printf("mode %s\n", m);
	if (!strcmp(m, "return"))
		return 17;
	if (!strcmp(m, "exit"))
		exit(42);
	if (!strcmp(m, "_exit")) {
		fflush(stdout);
		_exit(255);
	}
	if (!strcmp(m, "abort")) {
		fflush(stdout);
		abort();
	}
	if (!strcmp(m, "raise-term")) {
		fflush(stdout);
		raise(SIGTERM);
	}
	if (!strcmp(m, "raise-ignored")) {
		signal(SIGUSR1, SIG_IGN);
		raise(SIGUSR1);
		raise(SIGCHLD);
		puts("still here");
		return 0;
	}
	if (!strcmp(m, "atexit")) {
		atexit(bye);
		return 1;
	}
	return 0;
}
