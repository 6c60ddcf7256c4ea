/*
 * syscall.S: the system-call entry (LSTAR) and the return to ring 3.
 *
 * uspace_syscall_entry: the CPU arrives with rcx = user rip, r11 = user
 * rflags, interrupts, TF, DF, AC and NT cleared by FMASK, still on the user
 * stack.  swapgs loads this CPU's per-CPU area as the GS base (<arch/percpu.h>:
 * the kernel runs with it; the user's GS base waits in MSR_KERNEL_GS_BASE)
 * and the stub switches to the kernel stack recorded there.  The frame
 * built is struct trap_frame exactly
 * (ss rsp rflags cs rip, error 0, vector USPACE_SYSCALL_VECTOR, then the
 * general registers in trap_common's order), so the C side and the return
 * path are shared with uspace_enter.
 *
 * The stub calls the process layer's hook (uspace_syscall_handler, set by
 * uspace_init) directly; it answers the frame to return through - the
 * call's own, or another process's (a portal call switched the strand to
 * it), tagged USPACE_FRAME_LEFT when the hook uspace_left_handler must run
 * first, once the stack the call ran on is left - and the stub moves to it
 * and falls into the return.
 *
 * uspace_return (rdi = frame at the stack top): restores the registers and
 * returns with sysretq when rip < USER_TOP (canonical, and not the last
 * user page - Intel's sysret takes a #GP in ring 0 on a non-canonical
 * rcx), with r11 = the frame's rflags masked to what a user program may
 * have (IF set; never IOPL or NT); otherwise uspace_return_slow (C) forces
 * cs/ss, masks rflags and ends the process if rip is not canonical, and
 * the return is an iretq.  swapgs (back to the user's GS base) is the last
 * thing before either.
 */
#include <arch/percpu.h>
#include <arch/trap.h>

#define USER_CS 0x23
#define USER_DS 0x1b
#define SYSCALL_VECTOR 0x100
#define USPACE_FRAME_LEFT 1                     /* <arch/uspace.h> */
#define USER_TOP_HI 0x00007ffffffff000
#define RFLAGS_USER  0x2408d5                   /* CF PF AF ZF SF TF DF OF AC ID */
#define RFLAGS_FIXED 0x202                      /* bit 1, IF */

	.text
	.globl uspace_syscall_entry
	.type uspace_syscall_entry, @function
	.balign 16
uspace_syscall_entry:
	swapgs                                  /* GS base: this CPU's percpu */
	movq %rsp, %gs:PERCPU_SCRATCH           /* user rsp */
	movq %gs:PERCPU_KSTACK_TOP, %rsp        /* this strand's kernel stack */
	pushq $USER_DS                          /* ss */
	pushq %gs:PERCPU_SCRATCH                /* rsp */
	pushq %r11                              /* rflags */
	pushq $USER_CS                          /* cs */
	pushq %rcx                              /* rip */
	pushq $0                                /* error */
	pushq $SYSCALL_VECTOR                   /* vector */
	TRAP_PUSH_REGS
	xorl %ebp, %ebp                         /* backtraces stop here */
	movq %rsp, %rdi
	sti
	call *uspace_syscall_handler(%rip)      /* process_syscall(frame) */
	cli
	cmpq %rax, %rsp                         /* the frame to return through: */
	je 1f                                   /* this call's own (rsp is it) */
	movq %rax, %rsp                         /* another process's */
	testb $USPACE_FRAME_LEFT, %al
	jz 1f
	/* ... whose owner must learn that this strand has left the stack it
	 * ran on (kernel/portal.c: a lent server's stack): rsp = the untagged
	 * frame, the hook runs below it. */
	andq $-2, %rsp
	call *uspace_left_handler(%rip)
	jmp 1f
	.size uspace_syscall_entry, . - uspace_syscall_entry

	.globl uspace_return
	.type uspace_return, @function
uspace_return:
	cli
	movq %rdi, %rsp
1:	movq 17*8(%rsp), %rcx                   /* rip: stays in rcx for sysretq */
	movabsq $USER_TOP_HI, %rax
	cmpq %rax, %rcx
	jae 2f
	TRAP_POP_REGS keep_rcx=1
	addq $16, %rsp                          /* vector, error */
	movq 16(%rsp), %r11                     /* rflags, masked: */
	andl $RFLAGS_USER, %r11d
	orl $RFLAGS_FIXED, %r11d
	movq 24(%rsp), %rsp                     /* user rsp; interrupts stay off */
	swapgs                                  /* the user's GS base */
	sysretq
2:	movq %rsp, %rbx                         /* the frame */
	andq $-16, %rsp
	sti
	movq %rbx, %rdi
	call uspace_return_slow                 /* sanitise; kills on a wild rip */
	cli
	movq %rbx, %rsp
	TRAP_POP_REGS
	addq $16, %rsp
	swapgs
	iretq
	.size uspace_return, . - uspace_return
	.section .note.GNU-stack, "", @progbits
