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
 * trap_stub_table lists the stubs for the IDT (cpu.c).
 */
#include <arch/trap.h>

	.text
	.balign 16
trap_common:
	testb $3, 24(%rsp)                      /* from ring 3 (cs): the kernel's */
	jz 1f                                   /* per-CPU GS base (<arch/percpu.h>) */
	swapgs
1:	cld
	TRAP_PUSH_REGS
	movq %rsp, %rdi
	pushq 17*8(%rsp)                        /* interrupted rip ... */
	pushq %rbp                              /* ... and rbp: a frame record */
	movq %rsp, %rbp
	call trap_dispatch
	addq $16, %rsp
	TRAP_POP_REGS
	addq $16, %rsp                          /* vector, error code */
	testb $3, 8(%rsp)                       /* back to ring 3: the user's GS base */
	jz 2f
	swapgs
2:	iretq

/* Vectors where the CPU pushes an error code: 8 10-14 17 21 29 30. */
.macro STUB n
	.balign 16
trap_stub_\n:
	.if (\n == 8 || (\n >= 10 && \n <= 14) || \n == 17 || \n == 21 || \n == 29 || \n == 30)
	.else
	pushq $0
	.endif
	pushq $\n
	jmp trap_common
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
