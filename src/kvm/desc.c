/* desc.c - the shim's memory: code and IDT; each vCPU's GDT, TSS (with I/O bitmap), IST
 * stack and edit queue; and their mappings. */
#include "kvm.h"
#include "../layout.h"
#include "../util.h"
#include <string.h>

extern const uint8_t kvm_shim_blob[], kvm_shim_blob_end[];

/* Flat 64-bit code and data descriptors as Linux's GDT holds them (SDM Vol. 3A, 3.4.5). */
static const uint64_t gdt_entries[] = {
	[SEL_KERNEL_CS >> 3] = 0x00af9b000000ffffULL,
	[SEL_KERNEL_DS >> 3] = 0x00cf93000000ffffULL,
	[SEL_USER32_CS >> 3] = 0x00cffb000000ffffULL,
	[SEL_USER_DS >> 3]   = 0x00cff3000000ffffULL,
	[SEL_USER_CS >> 3]   = 0x00affb000000ffffULL,
};

#define TSS_IOMAP_BASE 104
#define TSS_LIMIT (TSS_IOMAP_BASE + 32)         /* ports 0-255, then the 0xff terminator */

static void setup_tss(uint8_t *tss, uint64_t *gdt, uint64_t area)
{
	uint64_t base = area + PCPU_TSS_OFF;
	uint64_t ist = area + PCPU_IST_TOP;
	memcpy(tss + 4, &ist, 8);               /* RSP0 */
	memcpy(tss + 36, &ist, 8);              /* IST1 */
	uint16_t iomap = TSS_IOMAP_BASE;
	memcpy(tss + 102, &iomap, 2);
	/* Deny every port to ring 3 but the entry page's three (SDM Vol. 1, 19.5.2). */
	memset(tss + TSS_IOMAP_BASE, 0xff, 33);
	static const unsigned open_ports[] = { PORT_SYSCALL, PORT_WAIT, PORT_STOP };
	for (size_t i = 0; i < ARRAY_SIZE(open_ports); i++)
		tss[TSS_IOMAP_BASE + open_ports[i] / 8] &= (uint8_t)~(1u << (open_ports[i] % 8));
	/* 16-byte available 64-bit TSS descriptor (type 9). */
	gdt[SEL_TSS >> 3] = (TSS_LIMIT & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
			    ((base >> 24 & 0xff) << 56);
	gdt[(SEL_TSS >> 3) + 1] = base >> 32;
}

/* A 64-bit interrupt gate. From ring 3 both IST1 and RSP0 lead to the top of the vCPU's
 * own stack; without IST, an entry from ring 0 pushes below the frame it interrupts. */
static void set_gate(uint8_t *idt, int vec, uint64_t handler, int dpl, int ist)
{
	uint64_t *e = (uint64_t *)(idt + vec * 16);
	e[0] = (handler & 0xffff) | ((uint64_t)SEL_KERNEL_CS << 16) | ((uint64_t)ist << 32) |
	       ((uint64_t)(0x8e | dpl << 5) << 40) | ((handler >> 16 & 0xffff) << 48);
	e[1] = handler >> 32;
}

static void setup_idt(uint8_t *idt)
{
	for (int v = 0; v < 32; v++) {
		/* #BP and #OF come from INT3/INTO in ring 3, so their gates allow DPL 3 as Linux's do. */
		int dpl = (v == 3 || v == 4) ? 3 : 0;
		set_gate(idt, v, SHIM_VA + SHIM_TEXT_OFF + v * EXC_STUB_SIZE, dpl, 1);
	}
	/* No IST for the flushes: kvm_pvm has been seen to deliver one pending flush at the
	 * IRETQ of another, in ring 0 with IF clear; on an IST stack it would overwrite
	 * the frame that IRETQ was about to take. */
	set_gate(idt, VEC_FLUSH, SHIM_VA + SHIM_FLUSH_OFF, 0, 0);
	set_gate(idt, VEC_FLUSH_SYNC, SHIM_VA + SHIM_FLUSH_SYNC_OFF, 0, 0);
}

void kvm_shim_setup(struct kvm_vm *vm)
{
	struct mem *m = vm->mem;
	size_t len = (size_t)(kvm_shim_blob_end - kvm_shim_blob);
	if (len > SHIM_IDT_OFF)
		die("shim code is %zu bytes, more than its two pages", len);
	vm->shim = mem_hva(m, 0);
	memcpy(vm->shim, kvm_shim_blob, len);
	setup_idt(vm->shim + SHIM_IDT_OFF);
	mem_set_pte(m, SHIM_VA + SHIM_TEXT_OFF, SHIM_TEXT_OFF | PTE_P | PTE_A);
	mem_set_pte(m, SHIM_VA + SHIM_IDT_OFF, SHIM_IDT_OFF | PTE_P | PTE_W | PTE_NX | PTE_A | PTE_D);
}

static void pcpu_setup(struct kvm_cpu *k)
{
	struct mem *m = k->vm->mem;
	gpa_t gpa;
	/* One run, so kvmse reaches the queue as an array. */
	uint64_t got = mem_alloc(m, PCPU_PAGES, &gpa);
	if (got < PCPU_PAGES)
		die("no room in guest memory for a vCPU's %u pages", (unsigned)PCPU_PAGES);
	uint64_t area = PCPU_VA(k->slot);
	for (uint64_t i = 0; i < PCPU_PAGES; i++)
		mem_set_pte(m, area + i * PAGE_SIZE, (gpa + i * PAGE_SIZE) | PTE_P | PTE_W | PTE_NX | PTE_A | PTE_D);
	k->pcpu = mem_hva(m, gpa);
	uint64_t *gdt = (uint64_t *)(k->pcpu + PCPU_GDT_OFF);
	memcpy(gdt, gdt_entries, sizeof(gdt_entries));
	setup_tss(k->pcpu + PCPU_TSS_OFF, gdt, area);
	k->qhdr = (uint64_t *)(k->pcpu + PCPU_QHDR_OFF);
	k->qent = (struct kvm_qent *)(k->pcpu + PCPU_QENT_OFF);
}

void kvm_slot_setup(struct kvm_cpu *k, unsigned slot)
{
	struct mem *m = k->vm->mem;
	if (slot >= SLOTS_MAX)
		die("no entry slot left for vCPU %u (at most %d)", slot, SLOTS_MAX);
	gpa_t chan = mem_alloc_page(m);
	/* User-executable, since SYSCALL on kvm_pvm arrives there in ring 3; and so the
	 * channel is user-writable too. */
	mem_set_pte(m, SLOT_VA(slot), 0 /* the entry page */ | PTE_P | PTE_U | PTE_A);
	mem_set_pte(m, SLOT_VA(slot) + PAGE_SIZE, chan | PTE_P | PTE_U | PTE_W | PTE_NX | PTE_A | PTE_D);
	k->slot = slot;
	k->chan = mem_hva(m, chan);
	pcpu_setup(k);
}

void kvm_map_direct(struct kvm_vm *vm, uint64_t from, uint64_t to)
{
	/* New entries where none were present: seen by the guest even once it runs. */
	for (uint64_t gpa = from; gpa < to; gpa += 2ULL << 20)
		mem_map_large(vm->mem, DMAP_VA + gpa, gpa, PTE_W | PTE_NX);
}

uint64_t *kvm_ist_frame(struct kvm_cpu *k)
{
	/* error code, RIP, CS, RFLAGS, RSP, SS (SDM Vol. 3A, 6.14.2) */
	return (uint64_t *)(k->pcpu + PCPU_IST_TOP) - 6;
}
