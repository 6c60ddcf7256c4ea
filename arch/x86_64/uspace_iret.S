/*
 * uspace_iret.S: uspace_return_iret(frame), the return to ring 3 that gives
 * back every register of a frame, rcx and r11 included.
 *
 * The system-call return (syscall.S) leaves with sysretq, which loads rip
 * from rcx and rflags from r11: exact for the frame a system call built
 * (the CPU had put exactly those values there on entry), but not for a
 * frame whose registers came from elsewhere - rt_sigreturn of a signal
 * frame built at a fault, whose rcx and r11 are the faulting code's.  Such
 * a return goes here instead: the same checks as the slow path of
 * uspace_return (uspace_return_slow: cs/ss forced, a non-canonical rip
 * kills the process), then iretq.  rflags keep what a program may set and
 * iretq restores exactly: CF PF AF ZF SF TF DF OF AC ID and RF (Linux's
 * FIX_EFLAGS, plus ID) - the system-call return's mask also drops TF, DF
 * and RF, which a fault's frame must get back - never IOPL, NT or VM;
 * IF is always set.  The system-call path itself is not touched: a caller
 * reaches this from work done after the raise (process_defer), abandoning
 * its call chain as the continuation returns (uspace_return) do.
 *
 * frame (rdi) must be the frame at the top of the current kernel stack.
 * swapgs (back to the user's GS base) is the last thing before iretq, as on
 * every return to ring 3 (<arch/percpu.h>); an NMI in between finds the
 * GS base it needs by reading MSR_GS_BASE (entry.S, trap_paranoid).
 */
#include <arch/trap.h>

#define RFLAGS_IRET_USER 0x250dd5               /* CF PF AF ZF SF TF DF OF RF AC ID */
#define RFLAGS_FIXED     0x202                  /* bit 1, IF */
#define FRAME_RFLAGS     19*8                   /* struct trap_frame */

	.text
	.globl uspace_return_iret
	.type uspace_return_iret, @function
uspace_return_iret:
	cli
	movq %rdi, %rsp                         /* the frame: the call chain is left */
	movq %rsp, %rbx
	movq FRAME_RFLAGS(%rbx), %r12           /* before the slow path masks it */
	andq $-16, %rsp
	sti
	movq %rbx, %rdi
	call uspace_return_slow                 /* cs, ss forced; kills on a wild rip */
	cli
	andl $RFLAGS_IRET_USER, %r12d
	orl $RFLAGS_FIXED, %r12d
	movq %r12, FRAME_RFLAGS(%rbx)
	movq %rbx, %rsp
	TRAP_POP_REGS                           /* every register, rcx and r11 too */
	addq $16, %rsp                          /* vector, error */
	swapgs                                  /* the user's GS base */
	iretq
	.size uspace_return_iret, . - uspace_return_iret
	.section .note.GNU-stack, "", @progbits
