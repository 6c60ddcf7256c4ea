/*
 * arch/cpu.h: the processor contract portable kernel code relies on.
 *
 * Owns: interrupt enable state, halting, the cycle counter, ending the machine
 * (isa-debug-exit under QEMU), and CPU feature setup.  Called by kernel/ code;
 * implemented in arch/x86_64/cpu.c.  None of these fail.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdbool.h>
#include <stdint.h>

static inline void arch_irq_enable(void)
{
	__asm__ volatile("sti" ::: "memory");
}
static inline void arch_irq_disable(void)
{
	__asm__ volatile("cli" ::: "memory");
}
static inline bool arch_irq_enabled(void)
{
	uint64_t f;
	__asm__ volatile("pushfq; popq %0" : "=r"(f));
	return f & (1u << 9);
}
/* Wait for the next interrupt (interrupts must be enabled to wake up). */
static inline void arch_wait_for_interrupt(void)
{
	__asm__ volatile("hlt" ::: "memory");
}
static inline void arch_cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Free-running cycle counter (the TSC); instructions under -icount. */
static inline uint64_t arch_cycles(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* Early CPU setup: GDT, TSS, IDT (without IST stacks yet). */
void arch_cpu_init(void);
/* Give #DF, NMI and #MC their own stacks once memory is available.
 * Returns 0 or -ENOMEM. */
int arch_cpu_init_ist(void);
/* Enable NX/SMEP/SMAP/UMIP/WP as reported by CPUID; returns a bit mask of
 * ARCH_FEAT_* that are now on. */
#define ARCH_FEAT_NX   (1u << 0)
#define ARCH_FEAT_SMEP (1u << 1)
#define ARCH_FEAT_SMAP (1u << 2)
#define ARCH_FEAT_UMIP (1u << 3)
#define ARCH_FEAT_WP   (1u << 4)
unsigned arch_cpu_protect(void);
unsigned arch_cpu_features(void);

/* Stop the machine with an EXIT_CODE_* from <arch/layout.h>. */
__attribute__((noreturn)) void arch_exit(unsigned code);
/* Interrupts off, halt forever. */
__attribute__((noreturn)) void arch_halt(void);

/* The frame pointer of the caller, for backtraces. */
static inline uintptr_t arch_frame_pointer(void)
{
	return (uintptr_t)__builtin_frame_address(0);
}

#endif
