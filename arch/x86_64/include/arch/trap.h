/*
 * arch/trap.h: the register frame saved on every exception and interrupt.
 *
 * entry.S pushes it; trap.c decides what happens: an armed fault catch
 * (<arch/fault.h>) resumes, another exception below 32 is fatal (report with
 * registers and backtrace, then failure exit), a vector of 32 or more goes to
 * irq_dispatch() (kernel/irq.h).  The layout matches entry.S exactly.
 *
 * For assembly, TRAP_PUSH_REGS / TRAP_POP_REGS push and pop the general
 * registers in struct trap_frame's order; entry.S and syscall.S (whose
 * syscall frame is a struct trap_frame too) share them.  With keep_rcx=1,
 * TRAP_POP_REGS skips rcx: the sysret path has loaded it with the rip.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#ifdef __ASSEMBLY__
/* clang-format off */
.macro TRAP_PUSH_REGS
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
.endm

.macro TRAP_POP_REGS keep_rcx=0
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	.if \keep_rcx
	addq $8, %rsp
	.else
	popq %rcx
	.endif
	popq %rbx
	popq %rax
.endm
/* clang-format on */
#else

#include <stdbool.h>
#include <stdint.h>

struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

#define TRAP_DE  0
#define TRAP_DB  1
#define TRAP_NMI 2
#define TRAP_BP  3
#define TRAP_UD  6
#define TRAP_DF  8
#define TRAP_GP  13
#define TRAP_PF  14
#define TRAP_MC  18

/* Called from entry.S with interrupts off. */
void trap_dispatch(struct trap_frame *f);
/* Page-fault hook (installed by arch/pagetable.c for Translation): consulted
 * first for #PF; true means the fault was resolved and the access restarts,
 * false lets the fault catch or the fatal report have it. */
extern bool (*trap_pf_hook)(struct trap_frame *f);
/* Test probe (tests/kernel/nmi_test.c): while set, an NMI that is not a
 * halt request is counted, records the struct percpu its GS base pointed at,
 * and returns.  The test that sets it sends the NMI itself. */
struct trap_nmi_probe {
	volatile uint32_t count;
	void *volatile percpu;
};
extern struct trap_nmi_probe *volatile trap_nmi_probe;
/* "page fault", ... for a vector below 32; "interrupt" otherwise. */
const char *trap_name(unsigned vector);
/* Short mnemonic: "#PF". */
const char *trap_mnemonic(unsigned vector);

#endif /* __ASSEMBLY__ */
#endif
