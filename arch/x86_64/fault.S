/*
 * fault.S: fault_catch_arm(), the setjmp half of <arch/fault.h>.  It saves
 * the callee-saved registers, the caller's stack pointer and return address
 * in the catch and makes it current; trap.c's fault_catch_take() is the
 * longjmp half, rewriting the trap frame so iretq "returns" 1 from here.
 */
#include <arch/percpu.h>

	.text
	.globl fault_catch_arm
	.type fault_catch_arm, @function
fault_catch_arm:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)                     /* the stack pointer after ret */
	movq (%rsp), %rax
	movq %rax, 56(%rdi)                     /* the return address */
	movl $-1, 68(%rdi)                      /* caught_vector */
	movq %gs:PERCPU_CURRENT, %rax
	movq %rax, 96(%rdi)                     /* owner: the running strand */
	movq %rdi, fault_catch_current(%rip)
	xorl %eax, %eax
	ret
	.size fault_catch_arm, . - fault_catch_arm
	.section .note.GNU-stack, "", @progbits
