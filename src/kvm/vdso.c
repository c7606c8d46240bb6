/*
 * vdso.c - the host's vDSO in the guest, so that clock_gettime, gettimeofday and time run
 * there without a system call, as they do natively.
 *
 * The host kernel's vDSO code reads its time data ([vvar], [vvar_vclock]) at a fixed
 * offset before itself, and the TSC. So the guest gets, at VDSO_VA, the host's vvar pages
 * themselves (a read-only memory slot of kvmse's own mapping of them: the kernel keeps
 * them current) followed by a copy of the vDSO's code; and each vCPU's TSC is the host's
 * (offset 0). Where the TSC cannot be made the host's, the program gets no vDSO and its
 * clock calls are system calls, as before.
 *
 * getcpu is hidden in the copy: its RDPID (or LSL of a GDT entry) would read the vCPU's
 * state, not the host CPU's, so glibc and musl fall back to the system call.
 */
#include "kvm.h"
#include "../layout.h"
#include "../util.h"
#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* The host's areas, as /proc/self/maps lists them: [vvar], [vvar_vclock], [vdso]. */
static struct cpu_vdso_area host[VDSO_AREAS];
static unsigned nhost;

/* Find them once (a forked kvmse has them at the same addresses): true if they are one
 * run of pages ending with the code. */
static bool find_host(void)
{
	static int found = -1;
	if (found >= 0)
		return found;
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long long s, e;
		char name[16];
		if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %15s", &s, &e, name) != 3 ||
		    (strncmp(name, "[vvar", 5) && strcmp(name, "[vdso]")))
			continue;
		if (nhost == VDSO_AREAS || (nhost && host[nhost - 1].end != s))
			break;
		host[nhost] = (struct cpu_vdso_area){ .start = s, .end = e };
		memcpy(host[nhost].name, name, sizeof(name));
		if (!strcmp(name, "[vdso]")) {
			found = nhost++ > 0;
			break;
		}
		nhost++;
	}
	if (f)
		fclose(f);
	if (found < 0)
		found = 0;
	return found;
}

/* The guest-physical address of the time data: just past guest RAM. */
static gpa_t data_gpa(struct kvm_vm *vm)
{
	return vm->mem->size;
}

/* The time data's memory slot, in a new VM (and a forked child's): false if KVM refuses. */
bool kvm_vdso_slot(struct kvm_vm *vm)
{
	int slots = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_MEMSLOTS);
	uint64_t len = host[nhost - 1].start - host[0].start;
	if (slots <= 1 || data_gpa(vm) + len > 1ULL << vm->phys_bits)
		return false;
	struct kvm_userspace_memory_region region = {
		.slot = (uint32_t)slots - 1,
		.flags = KVM_MEM_READONLY,
		.guest_phys_addr = data_gpa(vm),
		.memory_size = len,
		.userspace_addr = host[0].start,
	};
	return ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) == 0;
}

/* Hide the copy's getcpu symbols (undefined: the C libraries skip them). */
static void hide_getcpu(uint8_t *img, size_t len)
{
	Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
	if (len < sizeof(*eh) || memcmp(eh->e_ident, ELFMAG, SELFMAG) ||
	    eh->e_shoff > len || eh->e_shnum > (len - eh->e_shoff) / sizeof(Elf64_Shdr))
		return;
	Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff);
	for (unsigned i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum ||
		    sh[i].sh_offset > len || sh[i].sh_size > len - sh[i].sh_offset)
			continue;
		const Elf64_Shdr *str = &sh[sh[i].sh_link];
		if (str->sh_offset > len || str->sh_size > len - str->sh_offset)
			continue;
		Elf64_Sym *sym = (Elf64_Sym *)(img + sh[i].sh_offset);
		for (size_t j = 0; j < sh[i].sh_size / sizeof(*sym); j++) {
			if (sym[j].st_name >= str->sh_size)
				continue;
			const char *name = (const char *)img + str->sh_offset + sym[j].st_name;
			if (memchr(name, 0, str->sh_size - sym[j].st_name) && strstr(name, "getcpu"))
				sym[j].st_shndx = SHN_UNDEF;
		}
	}
}

/* Make k's TSC the host's: true if it is. */
bool kvm_vdso_tsc(struct kvm_cpu *k)
{
	uint64_t zero = 0;
	struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
				     .addr = (uint64_t)(uintptr_t)&zero };
	/* kvm_pvm runs user mode on the host's TSC (seen: it reads the host's values) */
	return ioctl(k->vcpu_fd, KVM_SET_DEVICE_ATTR, &a) == 0 || k->vm->pvm;
}

void kvm_vdso_setup(struct kvm_cpu *k, struct cpu_features *f)
{
	struct kvm_vm *vm = k->vm;
	struct mem *m = vm->mem;
	if (!find_host() || !kvm_vdso_tsc(k) || !kvm_vdso_slot(vm))
		return;
	vm->vdso = true;
	const struct cpu_vdso_area *code = &host[nhost - 1];
	for (uint64_t va = host[0].start; va < code->start; va += PAGE_SIZE)
		mem_set_pte(m, VDSO_VA + va - host[0].start,
			    (data_gpa(vm) + va - host[0].start) | PTE_P | PTE_U | PTE_NX | PTE_A);
	size_t len = code->end - code->start;
	uint8_t *img = xmalloc(len);
	memcpy(img, (const void *)(uintptr_t)code->start, len);
	hide_getcpu(img, len);
	uint64_t text = VDSO_VA + code->start - host[0].start;
	for (uint64_t off = 0; off < len; off += PAGE_SIZE) {
		gpa_t gpa = mem_alloc_page(m);
		memcpy(mem_hva(m, gpa), img + off, PAGE_SIZE);
		mem_set_pte(m, text + off, gpa | PTE_P | PTE_U | PTE_A);
	}
	free(img);
	f->vdso = text;
	for (unsigned i = 0; i < nhost; i++) {
		f->vdso_areas[i] = host[i];
		f->vdso_areas[i].start += VDSO_VA - host[0].start;
		f->vdso_areas[i].end += VDSO_VA - host[0].start;
	}
	f->nvdso_areas = nhost;
	m->ro_start = VDSO_VA;
	m->ro_end = f->vdso_areas[nhost - 1].end;
	m->ro_host = (const uint8_t *)(uintptr_t)host[0].start;
	m->ro_len = code->start - host[0].start;
}
