/*
 * usercopy.S: the only kernel code that touches user memory.
 *
 *   long uspace_copy(void *dst, const void *src, size_t n)     0 or -EFAULT
 *   long uspace_strncpy(char *dst, const char *src, size_t n)  length, n, or -EFAULT
 *
 * The C wrappers (arch/x86_64/uaccess.c) have already checked that the user
 * side of the range lies in the user half.  With SMAP on, user pages are
 * reachable only between stac and clac, which bracket exactly the copy.
 * A page fault at any instruction in [uspace_copy_begin, uspace_copy_end)
 * that Translation does not resolve is redirected by uspace_trap() to
 * uspace_copy_fault, which closes the window and returns -EFAULT: the
 * routines keep nothing on the stack, so returning from there is exact.
 */
#define EFAULT 14

	.text
	.balign 16
	.globl uspace_copy_begin
uspace_copy_begin:

	.globl uspace_copy
	.type uspace_copy, @function
uspace_copy:
	testb $1, uspace_smap(%rip)
	jz 1f
	stac
1:	movq %rdx, %rcx
	rep movsb
	xorl %eax, %eax
	jmp uspace_copy_out
	.size uspace_copy, . - uspace_copy

	.globl uspace_strncpy
	.type uspace_strncpy, @function
uspace_strncpy:
	testb $1, uspace_smap(%rip)
	jz 1f
	stac
1:	xorl %eax, %eax
2:	cmpq %rdx, %rax
	je uspace_copy_out                      /* no NUL within n: returns n */
	movb (%rsi,%rax), %cl
	movb %cl, (%rdi,%rax)
	testb %cl, %cl
	jz uspace_copy_out                      /* returns the length */
	incq %rax
	jmp 2b
	.size uspace_strncpy, . - uspace_strncpy

	.globl uspace_copy_fault
uspace_copy_fault:
	movq $-EFAULT, %rax
uspace_copy_out:
	testb $1, uspace_smap(%rip)
	jz 1f
	clac
1:	ret

	.globl uspace_copy_end
uspace_copy_end:
	.section .note.GNU-stack, "", @progbits
