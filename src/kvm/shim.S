/* shim.S - the guest's ring-0 shim: SYSCALL entry, exception stubs, edit-queue flush.
 * Assembled at build time into a flat binary loaded at SHIM_VA (layout.h). Every entry
 * leaves through an OUT to a port that names it; kvmse checks the RIP of each exit
 * against these fixed offsets, so an OUT elsewhere cannot pose as one. */
#include "../layout.h"

	.set qcount, SHIM_VA + SHIM_QHDR_OFF + QHDR_COUNT
	.set qflags, SHIM_VA + SHIM_QHDR_OFF + QHDR_FLAGS
	.set qent,   SHIM_VA + SHIM_QENT_OFF

	.text
	.code64
/* Entry page (user-executable): LSTAR points here. On kvm_pvm SYSCALL stays in ring 3
 * and kvmse resumes the program at RCX itself; on VMX/SVM we are in ring 0 and the
 * flush interrupt (if any) is taken here before SYSRET. */
syscall_entry:
	outb %al, $PORT_SYSCALL
	sysretq

	.org SHIM_TEXT_OFF
/* One stub per exception vector, EXC_STUB_SIZE bytes apart. The CPU pushes an error
 * code for some vectors; the others push 0 so the frame has one shape. */
.macro exc_stub vec, has_err
	.org SHIM_TEXT_OFF + \vec * EXC_STUB_SIZE
	.if \has_err == 0
	pushq $0
	.endif
	outb %al, $(PORT_EXC + \vec)
	jmp exc_common
.endm
	exc_stub 0,0;  exc_stub 1,0;  exc_stub 2,0;  exc_stub 3,0
	exc_stub 4,0;  exc_stub 5,0;  exc_stub 6,0;  exc_stub 7,0
	exc_stub 8,1;  exc_stub 9,0;  exc_stub 10,1; exc_stub 11,1
	exc_stub 12,1; exc_stub 13,1; exc_stub 14,1; exc_stub 15,0
	exc_stub 16,0; exc_stub 17,1; exc_stub 18,0; exc_stub 19,0
	exc_stub 20,0; exc_stub 21,1; exc_stub 22,0; exc_stub 23,0
	exc_stub 24,0; exc_stub 25,0; exc_stub 26,0; exc_stub 27,0
	exc_stub 28,0; exc_stub 29,1; exc_stub 30,1; exc_stub 31,0

	.org SHIM_FLUSH_OFF
/* VEC_FLUSH, injected by kvmse with KVM_INTERRUPT: apply queued page-table edits. */
flush_irq:
	call apply_queue
	iretq

	.org SHIM_FLUSH_SYNC_OFF
/* VEC_FLUSH_SYNC: the queue filled up in the middle of a system call. Apply it and exit;
 * kvmse then puts back the whole vCPU state it had before, so this never returns. */
flush_sync_irq:
	call apply_queue
	outb %al, $PORT_FLUSHED
	hlt

exc_common:
	call apply_queue
	addq $8, %rsp
	iretq

/* Re-write each queued run of page-table entries (struct kvm_qent: pte, va, count) with
 * the value it holds now, and INVLPG what it maps. On a shadow-paging host only writes
 * made by guest code are seen, so kvmse's own edits to present entries are redone here. */
apply_queue:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	movq qcount, %rcx
	testq %rcx, %rcx
	jz 5f
	movq $qent, %rsi
2:	movq (%rsi), %rdx
	movq 8(%rsi), %rdi
	movq 16(%rsi), %r8
3:	movq (%rdx), %rax
	movq %rax, (%rdx)
	testq $QFLAG_RELOAD, qflags
	jnz 4f
	invlpg (%rdi)
4:	addq $8, %rdx
	addq $4096, %rdi
	decq %r8
	jnz 3b
	addq $QENT_SIZE, %rsi
	decq %rcx
	jnz 2b
	movq $0, qcount
	testq $QFLAG_RELOAD, qflags
	jz 5f
	movq %cr3, %rax
	movq %rax, %cr3
5:	movq $0, qflags
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	ret
	.org SHIM_GDT_OFF
	.section .note.GNU-stack,"",@progbits
