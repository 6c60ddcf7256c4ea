/*
 * switch.S: the strand context switch and the first entry into a strand.
 * See <arch/switch.h> for the contract.
 *
 * arch_switch(save = rdi, next = rsi): push the callee-saved registers on
 * the current stack, store rsp through save, load next, pop the other
 * strand's registers and return on its stack.  The push order defines the
 * frame arch_context_init() builds: from the saved rsp upwards
 * r15 r14 r13 r12 rbx rbp <return address>.
 */
	.text
	.globl arch_switch
	.type arch_switch, @function
	.balign 16
arch_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq %rsi, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret
	.size arch_switch, . - arch_switch

/* First switch into a new strand: call r12(rbx) with a terminated frame chain. */
	.globl arch_strand_start
	.type arch_strand_start, @function
	.balign 16
arch_strand_start:
	xorl %ebp, %ebp
	movq %rbx, %rdi
	call *%r12
	ud2                                     /* fn never returns */
	.size arch_strand_start, . - arch_strand_start

/* A continuation's first switch (arch_cont_init): the frame popped by
 * arch_switch lives outside any stack, so move to the stack kept for the
 * strand (rbx) before anything is pushed, then call r12(r13). */
	.globl arch_cont_start
	.type arch_cont_start, @function
	.balign 16
arch_cont_start:
	movq %rbx, %rsp
	xorl %ebp, %ebp
	movq %r13, %rdi
	call *%r12
	ud2                                     /* fn never returns */
	.size arch_cont_start, . - arch_cont_start

/* arch_call_on_stack(sp = rdi, fn = rsi, arg = rdx): give up the current
 * stack, call fn(arg) with rsp = sp (16-byte aligned) and a terminated
 * frame chain.  fn never returns. */
	.globl arch_call_on_stack
	.type arch_call_on_stack, @function
	.balign 16
arch_call_on_stack:
	andq $-16, %rdi
	movq %rdi, %rsp
	xorl %ebp, %ebp
	movq %rdx, %rdi
	call *%rsi
	ud2                                     /* fn never returns */
	.size arch_call_on_stack, . - arch_call_on_stack
	.section .note.GNU-stack, "", @progbits
