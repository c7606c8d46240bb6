/* shim.S - the guest's ring-0 shim: SYSCALL entry, exception stubs, edit-queue flush.
 * Assembled at build time into a flat binary loaded at SHIM_VA (layout.h). Every entry
 * leaves through an OUT to a port that names it; kvmse checks the RIP of each exit
 * against these fixed offsets, so an OUT elsewhere cannot pose as one. */
#include "../layout.h"

	/* the edit queue, relative to this vCPU's area (RSP & -PCPU_SIZE on the IST stack) */
	.set qhdr, PCPU_QHDR_OFF

	.text
	.code64
/*
 * Entry page (user-executable), mapped in every vCPU's slot with that vCPU's channel page
 * right after it; LSTAR points at the slot. On kvm_pvm SYSCALL stays in ring 3, on
 * VMX/SVM it enters ring 0; this code runs in either and touches no user memory (the
 * red zone included). RCX and R11 are the user's RIP and RFLAGS, as SYSCALL left them.
 */
	.set ch, next_page              /* in a slot, the page after this one is the channel */
	.set ch_args, ch + CH_ARGS
/*
 * Until the request is posted (RIP below ENTRY_POSTED_OFF, or at the exit path) RAX,
 * RCX, R11 and the arguments are as SYSCALL left them, so kvmse can stop the program
 * here as if before its SYSCALL. From ENTRY_POSTED_OFF on, kvmse rebuilds the state
 * the program will have once the answer is in, from the channel.
 */
syscall_entry:
	movq %rcx, ch + CH_RIP(%rip)
	movq %r11, ch + CH_RFLAGS(%rip)
	cmpq $ENTRY_MAP_BITS, %rax
	jae slow
	btq %rax, exitless_map(%rip)
	jnc slow                        /* the call needs the vCPU's state: exit */
	cmpq $0, ch + CH_AWAKE(%rip)
	je slow                         /* nobody polls: exit (which wakes the server) */
	movq %rax, ch + CH_NR(%rip)
	movq %rdi, ch_args(%rip)
	movq %rsi, ch_args + 8(%rip)
	movq %rdx, ch_args + 16(%rip)
	movq %r10, ch_args + 24(%rip)
	movq %r8, ch_args + 32(%rip)
	movq %r9, ch_args + 40(%rip)
	.org ENTRY_POSTED_OFF - 7, 0x90
	incq ch + CH_REQ(%rip)          /* published after the arguments: x86 keeps stores in order */
	.org ENTRY_POSTED_OFF           /* (fails to assemble if the store went past it) */
	movq ch + CH_REQ(%rip), %rcx
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	addq spin_ticks(%rip), %rax
	movq %rax, %r11                 /* when to stop spinning */
spin:	cmpq ch + CH_RESP(%rip), %rcx
	je answered
	pause
	rdtsc
	shlq $32, %rdx
	orq %rdx, %rax
	cmpq %r11, %rax
	jb spin
	jmp wait
answered:
	cmpq $0, ch + CH_STOP(%rip)
	jne stopped                     /* kvmse has a signal to deliver first */
	movq ch + CH_RET(%rip), %rax
	movq ch_args + 16(%rip), %rdx   /* RDTSC took it */
	movq %cs, %rcx
	testb $3, %cl
	jnz ret3
	movq ch + CH_RIP(%rip), %rcx
	movq ch + CH_RFLAGS(%rip), %r11
	/* SYSRET to a non-canonical RCX would fault in ring 0: make it canonical. */
	shlq $16, %rcx
	sarq $16, %rcx
	sysretq

	.org ENTRY_RET3_OFF, 0xcc
/* Ring 3: restore RFLAGS through POPFQ on the channel's own little stack. */
ret3:	movq %rsp, ch + CH_RSP(%rip)
	leaq ch + CH_STACK(%rip), %rsp
	pushq ch + CH_RFLAGS(%rip)
	popfq
	movq ch + CH_RSP(%rip), %rsp
	movq ch + CH_RIP(%rip), %rcx
	movq ch + CH_RFLAGS(%rip), %r11
	jmpq *%rcx

	.org ENTRY_SLOW_OFF, 0xcc
/* The exit path: kvmse runs the call and resumes the program itself (kvm_pvm: directly;
 * VMX/SVM: by IRETQ from the shim, so every register can be restored). */
slow:	outb %al, $PORT_SYSCALL
	ud2

	.org ENTRY_WAIT_OFF, 0xcc
/* The answer is late (a blocking call): kvmse sleeps until it is there, then we look again. */
wait:	outb %al, $PORT_WAIT
	jmp spin

	.org ENTRY_STOP_OFF, 0xcc
/* Answered, and kvmse wants the program stopped (a signal to deliver): it rebuilds the
 * state from the channel and never resumes here. */
stopped:
	outb %al, $PORT_STOP
	ud2

	.org ENTRY_MAP_OFF
exitless_map:                   /* filled in by kvmse */
	.org ENTRY_SPIN_OFF
spin_ticks:
	.quad 0

	.org SHIM_TEXT_OFF
next_page:
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

	.org SHIM_RESUME_OFF
/* Every stop in ring 0 resumes here, with RSP at the IST frame kvmse wrote: the
 * exception stubs, and on VMX/SVM the entry page, so IRETQ restores all user state. */
exc_common:
	call apply_queue
	addq $8, %rsp
	iretq

/*
 * Re-write each queued run of page-table entries (struct kvm_qent: pte, va, count) with
 * the value it holds now, and INVLPG what it maps. On a shadow-paging host only writes
 * made by guest code are seen, so kvmse's own edits to present entries are redone here.
 * The re-write is a CMPXCHG: kvmse may fill an empty entry meanwhile (that needs no
 * replay, so this vCPU is not stopped for it), and a plain load and store would undo it.
 * The queue is this vCPU's: the code runs on its own stack, in its own area. It may be
 * paused anywhere (a host signal) while kvmse adds to the queue or compacts it, so the
 * header (layout.h) is read again after each run and changed only by CMPXCHG; applying
 * a run twice is harmless. Reentrant: the flush gates use no IST.
 */
apply_queue:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	movq %rsp, %r9
	andq $-PCPU_SIZE, %r9
0:	movq qhdr(%r9), %r10
	movq %r10, %rcx
	shrq $QHDR_DONE_SHIFT, %rcx
	andl $QHDR_COUNT_MASK, %ecx     /* done */
	movl %r10d, %eax
	andl $QHDR_COUNT_MASK, %eax     /* count */
	cmpl %eax, %ecx
	jae 4f
	imulq $QENT_SIZE, %rcx, %rsi
	leaq PCPU_QENT_OFF(%r9, %rsi), %rsi
	movq (%rsi), %rdx
	movq 8(%rsi), %rdi
	movq 16(%rsi), %r8
2:	movq (%rdx), %rax
	lock cmpxchgq %rax, (%rdx)
	jnz 2b
	btq $QHDR_RELOAD_BIT, %r10
	jc 3f
	invlpg (%rdi)
3:	addq $8, %rdx
	addq $4096, %rdi
	decq %r8
	jnz 2b
	movq %r10, %rax
6:	movq %rax, %rdx                 /* one more done, if the run is still number 'done' */
	shrq $QHDR_DONE_SHIFT, %rdx
	andl $QHDR_COUNT_MASK, %edx
	cmpl %ecx, %edx
	jne 0b
	movabsq $(1 << QHDR_DONE_SHIFT), %rdx
	addq %rax, %rdx
	lock cmpxchgq %rdx, qhdr(%r9)
	jnz 6b
	jmp 0b
4:	btq $QHDR_RELOAD_BIT, %r10
	jnc 5f
	movq %cr3, %rax
	movq %rax, %cr3
5:	movq %r10, %rax
	xorl %edx, %edx
	lock cmpxchgq %rdx, qhdr(%r9)
	jnz 0b
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	ret
	.org SHIM_IDT_OFF
	.section .note.GNU-stack,"",@progbits
