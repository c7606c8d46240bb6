/* layout.h - guest addresses and ports shared by the C code and the shim's assembly. */
#ifndef KVMSE_LAYOUT_H
#define KVMSE_LAYOUT_H

/*
 * Guest-virtual layout (upper half, all supervisor-only except the entry page):
 *
 *   SHIM_VA + 0x00000  entry page: LSTAR entry            user R-X (kvm_pvm runs it in ring 3)
 *   SHIM_VA + 0x01000  shim text: exception stubs, flush  supervisor R-X
 *   SHIM_VA + 0x02000  GDT (0x000), TSS + I/O bitmap (0x100)  supervisor RW, NX
 *   SHIM_VA + 0x03000  IDT                                supervisor RW, NX
 *   SHIM_VA + 0x04000  IST stack (16 KiB, grows down)     supervisor RW, NX
 *   SHIM_VA + 0x08000  edit queue header                  supervisor RW, NX
 *   SHIM_VA + 0x09000  edit queue entries                 supervisor RW, NX
 *   DMAP_VA + gpa      all guest-physical memory (2 MiB pages), supervisor RW, NX
 *
 * The shim occupies guest-physical [0, SHIM_SIZE): gpa = va - SHIM_VA.
 */
#define SHIM_VA         0xffffffff80000000
#define SHIM_ENTRY_OFF  0x0000
#define SHIM_TEXT_OFF   0x1000
#define SHIM_GDT_OFF    0x2000
#define SHIM_TSS_OFF    0x2100
#define SHIM_IDT_OFF    0x3000
#define SHIM_IST_OFF    0x4000
#define SHIM_IST_TOP    0x8000
#define SHIM_QHDR_OFF   0x8000
#define SHIM_QENT_OFF   0x9000
#define QUEUE_MAX       8192            /* entries of QENT_SIZE bytes */
#define QENT_SIZE       24              /* struct kvm_qent */
#define SHIM_SIZE       (SHIM_QENT_OFF + QUEUE_MAX * QENT_SIZE)

#define DMAP_VA         0xffff888000000000

/* Queue header: count of entries, then flags. Must match apply_queue in shim.S. */
#define QHDR_COUNT      0
#define QHDR_FLAGS      8
#define QFLAG_RELOAD    2               /* reload CR3 instead of INVLPG per entry */

/* Exit ports (OUT imm8). Only PORT_SYSCALL is open to ring 3 (TSS I/O bitmap). */
#define PORT_SYSCALL    0x10
#define PORT_FLUSHED    0x11            /* the synchronous flush is done */
#define PORT_EXC        0x20            /* + vector, 0..31 */
#define VEC_FLUSH       0x40            /* injected to apply the edit queue */
#define VEC_FLUSH_SYNC  0x41            /* the same in the middle of a system call, then exit */

/* Each exception stub is EXC_STUB_SIZE bytes, vector v at SHIM_TEXT_OFF + v * EXC_STUB_SIZE. */
#define EXC_STUB_SIZE   16
#define SHIM_FLUSH_OFF  (SHIM_TEXT_OFF + 0x200)
#define SHIM_FLUSH_SYNC_OFF (SHIM_TEXT_OFF + 0x210)

/* Linux's x86-64 selectors (arch/x86/include/asm/segment.h), so user code sees the same CS/SS. */
#define SEL_KERNEL_CS   0x10
#define SEL_KERNEL_DS   0x18
#define SEL_USER32_CS   0x23
#define SEL_USER_DS     0x2b
#define SEL_USER_CS     0x33
#define SEL_TSS         0x40

#endif
