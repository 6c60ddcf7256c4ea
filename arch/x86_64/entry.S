/*
 * entry.S: the 256 interrupt/exception entry stubs and the common path.
 *
 * Each stub pushes a zero where the CPU pushed no error code (so the frame
 * is uniform), then its vector number, and jumps to trap_common, which saves
 * the general registers as struct trap_frame (<arch/trap.h>), links a frame
 * record (interrupted rip, rbp) so backtraces continue into the interrupted
 * code, and calls trap_dispatch(frame).  On return it restores everything and
 * irets: handlers may edit the frame (the fault catch does).  An entry from
 * ring 3 swaps in the kernel's per-CPU GS base first and the return to ring 3
 * swaps the user's back last (<arch/percpu.h>).
 *
 * NMI, #DF and #MC (the IST vectors) go to trap_paranoid instead: they can
 * arrive anywhere, including the few kernel instructions between a return
 * path's swapgs and its sysretq/iretq, or between the syscall entry and its
 * swapgs, where CS says "kernel" but the GS base is still the user's.  So,
 * as the architecture allows and Linux's paranoid_entry does, they read
 * MSR_GS_BASE itself: a kernel-half (negative) value is this CPU's struct
 * percpu; anything else is the user's (a user GS base is always a user-half
 * address; here it is 0, ARCH_SET_GS being refused), so swapgs, and swap it
 * back on exit.  The decision rides in %rbx, which trap_dispatch preserves.
 * trap_stub_table lists the stubs for the IDT (cpu.c).
 */
#include <arch/msr.h>
#include <arch/trap.h>

/* trap_dispatch(frame), %rsp being the frame, under a frame record
 * (interrupted rip, rbp) so that backtraces continue into the interrupted
 * code.  trap_common and trap_paranoid differ only around it. */
.macro TRAP_CALL_DISPATCH
	movq %rsp, %rdi
	pushq 17*8(%rsp)                        /* interrupted rip ... */
	pushq %rbp                              /* ... and rbp: a frame record */
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
.endm

	.text
	.balign 16
trap_common:
	testb $3, 24(%rsp)                      /* from ring 3 (cs): the kernel's */
	jz 1f                                   /* per-CPU GS base (<arch/percpu.h>) */
	swapgs
1:	cld
	TRAP_PUSH_REGS
	TRAP_CALL_DISPATCH
	TRAP_POP_REGS
	addq $16, %rsp                          /* vector, error code */
	testb $3, 8(%rsp)                       /* back to ring 3: the user's GS base */
	jz 2f
	swapgs
2:	iretq

	.balign 16
trap_paranoid:
	cld
	TRAP_PUSH_REGS
	movl $MSR_GS_BASE, %ecx
	rdmsr                                   /* %edx: the GS base's high half */
	xorl %ebx, %ebx
	testl %edx, %edx
	js 1f                                   /* kernel-half: already the kernel's */
	swapgs
	movl $1, %ebx                           /* undo on exit */
1:	TRAP_CALL_DISPATCH
	testl %ebx, %ebx
	jz 2f
	swapgs                                  /* the interrupted code's GS base */
2:	TRAP_POP_REGS
	addq $16, %rsp                          /* vector, error code */
	iretq

/* Vectors where the CPU pushes an error code: 8 10-14 17 21 29 30. */
.macro STUB n
	.balign 16
trap_stub_\n:
	.if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	.if (\n == 2 || \n == 8 || \n == 18)
	jmp trap_paranoid                       /* NMI, #DF, #MC: on IST stacks */
	.else
	jmp trap_common
	.endif
.endm

.altmacro
.set i, 0
.rept 256
	STUB %i
	.set i, i + 1
.endr

.macro STUBADDR n
	.quad trap_stub_\n
.endm
	.section .rodata
	.balign 8
	.globl trap_stub_table
trap_stub_table:
.set i, 0
.rept 256
	STUBADDR %i
	.set i, i + 1
.endr
	.section .note.GNU-stack, "", @progbits
