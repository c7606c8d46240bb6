/* util.c - error reporting and allocation wrappers. */
#include "util.h"
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

static void vreport(const char *fmt, va_list ap, int err)
{
	fputs("kvmse: ", stderr);
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void die_status(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
	exit(status);
}

void die_errno(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, err);
	va_end(ap);
	exit(1);
}

void pr_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fmt, ap, 0);
	va_end(ap);
}

/* (AddressSanitizer's own handler reports better) */
#ifndef __SANITIZE_ADDRESS__
/* "0x" and 'v' in hex at 'out' (async-signal-safe); returns the end. */
static char *hex(char *out, uint64_t v)
{
	char tmp[16];
	int n = 0;
	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while (v >>= 4);
	*out++ = '0';
	*out++ = 'x';
	while (n)
		*out++ = tmp[--n];
	return out;
}

static char *put(char *out, const char *s)
{
	while (*s)
		*out++ = *s++;
	return out;
}

/* A fault in kvmse itself says so in one line, then takes its default action (the
 * handler is reset on entry, and the instruction faults again). One sent by kill is
 * left to that action with no word. */
static void on_crash(int sig, siginfo_t *si, void *ctx)
{
	if (si->si_code <= 0) {
		raise(sig);
		return;
	}
	char line[160], *e = line;
	e = put(e, "kvmse: internal error: ");
	e = put(e, sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" : sig == SIGILL ? "SIGILL" : "SIGFPE");
	e = put(e, " at address ");
	e = hex(e, (uint64_t)(uintptr_t)si->si_addr);
	e = put(e, ", ip ");
	e = hex(e, (uint64_t)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RIP]);
	*e++ = '\n';
	(void)!write(2, line, (size_t)(e - line));
}

void report_crashes(void)
{
	struct sigaction sa = { .sa_sigaction = on_crash, .sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER };
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		if (sigaction(sigs[i], &sa, NULL) < 0)
			die_errno("sigaction");
}
#else
void report_crashes(void)
{
}
#endif

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		die("out of memory");
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die("out of memory");
	return p;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}
