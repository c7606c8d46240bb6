/* Terminal ioctls on whatever standard input and output are: a pipe, a file or a tty. */
#include "common.h"
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int main(void)
{
	printf("isatty: %d %d\n", isatty(0), isatty(1));
	struct termios t;
	int rc = tcgetattr(1, &t);
	printf("tcgetattr: %d\n", rc);
	if (rc == 0) {
		printf("echo: %d icanon: %d\n", !!(t.c_lflag & ECHO), !!(t.c_lflag & ICANON));
		t.c_lflag &= ~(tcflag_t)ECHO;
		printf("tcsetattr: %d\n", tcsetattr(1, TCSANOW, &t));
		struct termios u;
		tcgetattr(1, &u);
		printf("echo now: %d\n", !!(u.c_lflag & ECHO));
		t.c_lflag |= ECHO;
		tcsetattr(1, TCSADRAIN, &t);
	}
	struct winsize ws;
	rc = ioctl(1, TIOCGWINSZ, &ws);
	printf("TIOCGWINSZ: %d\n", rc);
	if (rc == 0)
		printf("rows>0: %d\n", ws.ws_row > 0 || ws.ws_col == 0);
	int avail = -1;
	printf("FIONREAD: %d\n", ioctl(0, FIONREAD, &avail));
	return 0;
}
