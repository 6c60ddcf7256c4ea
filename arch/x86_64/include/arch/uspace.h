/*
 * arch/uspace.h: the machine half of user space (x86-64): entering ring 3,
 * the syscall/sysret path, the kernel stack used on entry from user mode,
 * the user FS base and the FPU/SSE state of user programs.
 *
 * Model.  A user program runs on a strand; when it enters the kernel (the
 * syscall instruction, an interrupt or an exception) the CPU switches to
 * that strand's kernel stack (uspace_set_kernel_stack, called when the
 * strand is put on the CPU) and the entry code saves the user registers
 * there as a struct trap_frame (<arch/trap.h>; for a system call vector is
 * USPACE_SYSCALL_VECTOR).  The system-call handler (uspace_set_handlers)
 * gets that frame, may edit it (rax is the result), and the return path
 * goes back with sysretq, or with iretq when the return address is not one
 * sysret can take (at or above USER_TOP).  A frame whose rip is
 * non-canonical is never returned to: the fault handler is called instead.
 *
 * GS discipline (<arch/percpu.h>): the kernel runs with this CPU's per-CPU
 * area as GS base; every entry from ring 3 (syscall here, interrupts and
 * exceptions in entry.S) does swapgs first and every return to ring 3
 * swapgs last, so MSR_KERNEL_GS_BASE holds the user's GS base (always 0:
 * the personality refuses ARCH_SET_GS) while the kernel runs.
 *
 * Faults: an exception from ring 3, and a page fault in the kernel's user-
 * copy routines (usercopy.S) that Translation did not resolve, come to
 * uspace_trap (installed as trap_user_hook in the trap path): the copy is
 * made to return -EFAULT; a user exception goes to the fault handler, which
 * ends the process and does not return.
 *
 * FPU: CR0.EM clear, CR0.MP and CR4.OSFXSR/OSXMMEXCPT set; the kernel is
 * built with -mgeneral-regs-only and never touches x87/SSE state, so a
 * program's state only needs saving when another program is put on the CPU
 * (uspace_fpu_save / uspace_fpu_restore on a 512-byte, 16-aligned area).
 *
 * Who calls it: kernel/process.c.  Single CPU today (one per-CPU area);
 * nothing here fails.
 */
#ifndef ARCH_USPACE_H
#define ARCH_USPACE_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/percpu.h>
#include <arch/trap.h>
#include <arch/x86.h>

#define USPACE_SYSCALL_VECTOR 0x100 /* frame->vector of a system call */
#define USPACE_USER_CS        0x23
#define USPACE_USER_DS        0x1b
#define USPACE_FPU_AREA       512

/* Handlers for the portable layer.  syscall: handle f (result in f->rax)
 * and answer the frame to return to ring 3 through: f, or the frame of
 * another process the strand now runs (at the top of that process's
 * kernel stack), tagged USPACE_FRAME_LEFT when `left` must be called on
 * that frame's stack first - the call's own stack is then no longer in use.
 * fault: a ring-3 exception (or an impossible return); must not return.
 * left: called with interrupts off; returns normally. */
#define USPACE_FRAME_LEFT 1ul
typedef uintptr_t (*uspace_syscall_fn)(struct trap_frame *f);
typedef void (*uspace_fault_fn)(struct trap_frame *f);
typedef void (*uspace_left_fn)(void);
/* intr: an interrupt is about to return to ring 3 through f (trap.c, after
 * the scheduler's turn, interrupts off): it may act for the interrupted
 * program - deliver a signal into f, or end the program (it does not
 * return then).  Never on the system-call path. */
typedef void (*uspace_intr_fn)(struct trap_frame *f);

void uspace_init(uspace_syscall_fn syscall, uspace_fault_fn fault, uspace_left_fn left,
                 uspace_intr_fn intr);
/* The stack the CPU switches to on entry from ring 3 (TSS.rsp0 and the
 * syscall per-CPU area). */
static inline void uspace_set_kernel_stack(uint64_t top)
{
	/* Two %gs-relative stores (no load of this_cpu()): the syscall
	 * stub's stack, and the TSS's rsp0 for traps and interrupts from
	 * ring 3.  Half of every process switch on the portal path. */
	__asm__ volatile("movq %0, %%gs:%c1\n\tmovq %0, %%gs:%c2"
	                 :
	                 : "r"(top), "i"(__builtin_offsetof(struct percpu, kstack_top)),
	                   "i"(__builtin_offsetof(struct percpu, tss) +
	                       __builtin_offsetof(struct x86_tss, rsp[0]))
	                 : "memory");
}
static inline void uspace_set_fs_base(uint64_t base)
{
	wrmsr(MSR_FS_BASE, base);
}
/* Enter ring 3 with the registers in *f (a fresh program: rip, rsp, rflags
 * are taken from it, cs/ss forced to the user selectors).  f must be on the
 * current kernel stack's top frame; never returns. */
__attribute__((noreturn)) void uspace_enter(struct trap_frame *f);
/* Return to ring 3 from the system-call or trap frame f at the top of the
 * current kernel stack (the stub's own return path: sysretq when the rip
 * allows, else the sanitising iretq).  For a strand resumed by a
 * continuation (sched_handoff_cont) whose call chain is gone. */
__attribute__((noreturn)) void uspace_return(struct trap_frame *f);
/* The same, always through iretq (arch/x86_64/uspace_iret.S): every
 * register of f comes back, rcx and r11 included, which sysretq would load
 * with rip and rflags.  For a frame whose registers were not saved by the
 * system call itself: rt_sigreturn of a signal frame built at a fault. */
__attribute__((noreturn)) void uspace_return_iret(struct trap_frame *f);
/* A clean FPU/SSE state (FCW 0x37f, MXCSR 0x1f80) in area. */
void uspace_fpu_init(void *area);
static inline void uspace_fpu_save(void *area)
{
	__asm__ volatile("fxsave64 (%0)" : : "r"(area) : "memory");
}
static inline void uspace_fpu_restore(const void *area)
{
	__asm__ volatile("fxrstor64 (%0)" : : "r"(area) : "memory");
}

/* Used by the trap path (trap.c): see above.  True if handled. */
bool uspace_trap(struct trap_frame *f);
/* The trap path's call of uspace_init's intr hook (see above). */
void uspace_interrupted(struct trap_frame *f);

#endif
