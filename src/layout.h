/* layout.h - guest addresses and ports shared by the C code and the shim's assembly. */
#ifndef KVMSE_LAYOUT_H
#define KVMSE_LAYOUT_H

/*
* Guest-virtual layout (upper half, all supervisor-only except each vCPU's slot):
 *
 *   (gpa 0: the entry page, mapped only in the slots below)
 *   SHIM_VA + 0x01000  shim text: exception stubs, flush  supervisor R-X
 *   SHIM_VA + 0x02000  IDT (shared by every vCPU)         supervisor RW, NX
 *   SLOT_VA(i)         vCPU i's entry page (gpa 0)        user R-X (kvm_pvm runs it in ring 3)
 *   SLOT_VA(i) + 4096  vCPU i's syscall channel page      user RW, NX
 *   VDSO_VA            the host's vDSO: time data, code   user R, NX; code user R-X
 *   PCPU_VA(i)         vCPU i's own area (below)          supervisor RW, NX
 *   DMAP_VA + gpa      all guest-physical memory (2 MiB pages), supervisor RW, NX
 *
 * The shim occupies guest-physical [0, SHIM_SIZE): gpa = va - SHIM_VA. Each vCPU's LSTAR
 * points into its own slot, so the entry code reaches its channel RIP-relatively, with
 * no register to spare: the same code page serves every vCPU. Likewise each vCPU's TSS
 * points at the IST stack in its own area, which is aligned to its size, so ring-0 code
 * finds its area (the edit queue) by masking RSP.
 */
#define SHIM_VA         0xffffffff80000000
#define SHIM_TEXT_OFF   0x1000
#define SHIM_IDT_OFF    0x2000
#define SHIM_SIZE       0x3000

#define SLOTS_OFF       0x100000
#define SLOT_SIZE       0x2000
#define SLOT_VA(i)      (SHIM_VA + SLOTS_OFF + (uint64_t)(i) * SLOT_SIZE)
#define SLOTS_MAX       1024            /* vCPUs */

/* A vCPU's area: GDT and TSS, the IST stack (16 KiB, grows down), the edit queue. */
#define PCPU_OFF        0x1000000
#define PCPU_SIZE       0x40000         /* a power of two: the area is RSP & -PCPU_SIZE */
#define PCPU_VA(i)      (SHIM_VA + PCPU_OFF + (uint64_t)(i) * PCPU_SIZE)
#define PCPU_GDT_OFF    0x0
#define PCPU_TSS_OFF    0x100
#define PCPU_IST_TOP    0x5000
#define PCPU_QHDR_OFF   0x5000
#define PCPU_QENT_OFF   0x6000
#define QUEUE_MAX       8192            /* entries of QENT_SIZE bytes */
#define QENT_SIZE       24              /* struct kvm_qent */
#define PCPU_PAGES      ((PCPU_QENT_OFF + QUEUE_MAX * QENT_SIZE) / 4096)

/* The host's vDSO (vdso.c): its time data pages, then a copy of its code. User R (X). */
#define VDSO_VA         (SHIM_VA + 0xc00000)

#define DMAP_VA         0xffff888000000000

/* The entry page (shim.S): where each exit is made from, and the data kvmse fills in. */
#define ENTRY_POSTED_OFF 0x80           /* a request is posted once RIP is here or past it */
#define ENTRY_RET3_OFF  0x100           /* ring-3 return: past here, RSP is in CH_RSP */
#define ENTRY_SLOW_OFF  0x200           /* OUT PORT_SYSCALL: the exit path */
#define ENTRY_WAIT_OFF  0x280           /* OUT PORT_WAIT: the answer is late, sleep in the host */
#define ENTRY_STOP_OFF  0x2c0           /* OUT PORT_STOP: answered, but kvmse asked for a stop */
#define ENTRY_MAP_OFF   0x800           /* bitmap: calls that may go through the channel */
#define ENTRY_MAP_BITS  512
#define ENTRY_SPIN_OFF  0x840           /* TSC ticks to spin for an answer before exiting */

/*
 * The syscall channel page (one per vCPU). The guest writes a request, the arguments and
 * then the request number; kvmse's server answers with the result, then the same number
 * in 'resp'. Request and answer sit in separate cache lines. Everything here is the
 * guest's to scribble on, so kvmse reads each field once and trusts none.
 */
#define CH_REQ          0x00            /* sequence number of the last request */
#define CH_NR           0x08
#define CH_ARGS         0x10            /* six arguments */
#define CH_RESP         0x40            /* sequence number of the last answer */
#define CH_RET          0x48
#define CH_AWAKE        0x80            /* nonzero while the server polls */
#define CH_STOP         0x88            /* nonzero: exit with the answer (a signal waits) */
#define CH_RIP          0xc0            /* the entry code's own: the user's RCX, R11, RSP */
#define CH_RFLAGS       0xc8
#define CH_RSP          0xd0
#define CH_STACK        0x100           /* top of an 8-byte stack for POPFQ in ring 3 */

/*
 * Queue header: one word, which the shim updates only with CMPXCHG, so that it notices
 * anything kvmse queued while it was paused halfway (kvmse changes the queue only while
 * the vCPU is out of KVM_RUN, but that may be in the middle of apply_queue). 'done'
 * counts the entries applied so far; the shim works on entry 'done'. Must match
 * apply_queue in shim.S.
 */
#define QHDR_COUNT_MASK 0xffffff        /* entries queued (also the mask of 'done') */
#define QHDR_RELOAD_BIT 24              /* reload CR3 instead of INVLPG per entry */
#define QHDR_DONE_SHIFT 32              /* entries applied */

/* Exit ports (OUT imm8). Only the entry page's three are open to ring 3 (TSS I/O bitmap). */
#define PORT_SYSCALL    0x10
#define PORT_WAIT       0x12            /* a channel request is taking long: wait in the host */
#define PORT_STOP       0x13            /* a channel request is answered; stop for kvmse */
#define PORT_FLUSHED    0x11            /* the synchronous flush is done */
#define PORT_EXC        0x20            /* + vector, 0..31 */
#define VEC_FLUSH       0x40            /* injected to apply the edit queue */
#define VEC_FLUSH_SYNC  0x41            /* the same in the middle of a system call, then exit */

/* Each exception stub is EXC_STUB_SIZE bytes, vector v at SHIM_TEXT_OFF + v * EXC_STUB_SIZE. */
#define EXC_STUB_SIZE   16
#define SHIM_FLUSH_OFF  (SHIM_TEXT_OFF + 0x200)
#define SHIM_FLUSH_SYNC_OFF (SHIM_TEXT_OFF + 0x210)
#define SHIM_RESUME_OFF (SHIM_TEXT_OFF + 0x220) /* back to user code: IRETQ from the IST frame */

/* Linux's x86-64 selectors (arch/x86/include/asm/segment.h), so user code sees the same CS/SS. */
#define SEL_KERNEL_CS   0x10
#define SEL_KERNEL_DS   0x18
#define SEL_USER32_CS   0x23
#define SEL_USER_DS     0x2b
#define SEL_USER_CS     0x33
#define SEL_TSS         0x40

#endif
