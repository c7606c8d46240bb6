/* util.h - error reporting and small helpers shared by every module. */
#ifndef KVMSE_UTIL_H
#define KVMSE_UTIL_H
#include <stddef.h>
#include <stdint.h>
#include <stdnoreturn.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PAGE_SIZE 4096ULL
#define PAGE_ALIGN_DOWN(x) ((x) & ~(PAGE_SIZE - 1))
#define PAGE_ALIGN_UP(x) (((x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Print "kvmse: <msg>" and exit with status 1 (or 'status' for die_status). */
noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void die_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* As die(), appending ": strerror(errno)". */
noreturn void die_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* kvmse's own faults (SIGSEGV, SIGBUS, SIGILL, SIGFPE) print one line before they kill it. */
void report_crashes(void);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);

#endif
