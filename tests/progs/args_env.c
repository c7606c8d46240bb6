/* argv, envp and the auxiliary vector as a program sees them at start. */
// run: one "two words" ''
// run:
#include "common.h"
#include <elf.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
	printf("argc=%d\n", argc);
	for (int i = 1; i < argc; i++)
		printf("argv[%d]=[%s]\n", i, argv[i]);
	CHECK(argv[argc] == NULL);
	CHECK(((uintptr_t)&argv[-1] & 15) == 0);        /* argc sits 16-byte aligned */
	int n = 0;
	for (char **e = environ; *e; e++)
		n++;
	printf("envc=%d PATH=%s\n", n, getenv("PATH") ? getenv("PATH") : "(none)");
	CHECK(getauxval(AT_PAGESZ) == 4096);
	printf("AT_PHENT=%lu\n", getauxval(AT_PHENT));
	printf("AT_FLAGS=%lu AT_SECURE=%lu\n", getauxval(AT_FLAGS), getauxval(AT_SECURE));
	printf("AT_UID=%d AT_EUID=%d AT_GID=%d AT_EGID=%d\n", getauxval(AT_UID) == getuid(),
	       getauxval(AT_EUID) == geteuid(), getauxval(AT_GID) == getgid(),
	       getauxval(AT_EGID) == getegid());
	printf("AT_CLKTCK=%lu\n", getauxval(AT_CLKTCK));
	printf("AT_HWCAP=%#lx AT_HWCAP2=%#lx\n", getauxval(AT_HWCAP), getauxval(AT_HWCAP2));
	printf("AT_MINSIGSTKSZ=%lu\n", getauxval(AT_MINSIGSTKSZ));
	printf("AT_PLATFORM=%s\n", (char *)getauxval(AT_PLATFORM));
	const char *fn = (const char *)getauxval(AT_EXECFN);
	printf("AT_EXECFN matches argv[0]: %d\n", fn && !strcmp(fn, argv[0]));
	const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
	CHECK(rnd != NULL);
	Elf64_Phdr *ph = (Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	int loads = 0;
	for (unsigned long i = 0; i < phnum; i++)
		loads += ph[i].p_type == PT_LOAD;
	printf("AT_PHDR has %d PT_LOAD of %lu\n", loads > 0, phnum > 0);
	/* AT_BASE: 0 for a static program, else the dynamic loader's ELF header. */
	const unsigned char *base = (const unsigned char *)getauxval(AT_BASE);
	printf("AT_BASE: %s\n", !base ? "none" : memcmp(base, ELFMAG, SELFMAG) ? "not ELF" : "ELF");
	unsigned long entry = getauxval(AT_ENTRY);
	extern char _start[];
	printf("AT_ENTRY is _start: %d\n", entry == (unsigned long)_start);
	return 0;
}
