/*
 * arch/switch.h: the context-switch contract the portable scheduler uses.
 *
 * Owns nothing; it is the machine half of kernel/sched.c.  A strand that is
 * off the processor is represented by one word, its saved stack pointer: the
 * callee-saved registers (rbx rbp r12-r15) and the return address sit on its
 * own stack below that pointer.  arch_switch() pushes them, stores rsp
 * through *save, loads next and pops the other strand's.  Everything
 * caller-saved is, by the C calling convention, already dead at the call.
 *
 * A fresh stack is made switchable by arch_context_init(): the first switch
 * to it "returns" into arch_strand_start (switch.S), which clears rbp (so
 * backtraces stop there) and calls fn(arg) on a 16-byte aligned stack.  fn
 * must never return (the strand layer's trampoline ends in strand_exit).
 *
 * Who calls it: kernel/sched.c only, with interrupts disabled and the run
 * queue lock held.  None of these fail.
 */
#ifndef ARCH_SWITCH_H
#define ARCH_SWITCH_H

#include <stdint.h>

#define ARCH_RFLAGS_IF (1ul << 9)

void arch_switch(uintptr_t *save, uintptr_t next);
void arch_strand_start(void);
/* Abandon the current stack: run fn(arg) with the stack pointer at sp
 * (rounded down to 16 bytes); fn must not return.  Used to resume a
 * strand's continuation (sched_handoff_cont) on the stack it keeps. */
__attribute__((noreturn)) void arch_call_on_stack(uintptr_t sp, void (*fn)(void *), void *arg);

/* Build the first frame on a new stack; returns the stack pointer to switch to. */
static inline uintptr_t arch_context_init(uintptr_t top, void (*fn)(void *), void *arg)
{
	uint64_t *sp = (uint64_t *)(top & ~15ul);

	/* ret slot at top-8, so rsp is 16-aligned in arch_strand_start. */
	*--sp = (uint64_t)(uintptr_t)arch_strand_start;
	*--sp = 0;                        /* rbp */
	*--sp = (uint64_t)(uintptr_t)arg; /* rbx: argument */
	*--sp = (uint64_t)(uintptr_t)fn;  /* r12: function */
	*--sp = 0;                        /* r13 */
	*--sp = 0;                        /* r14 */
	*--sp = 0;                        /* r15 */
	return (uintptr_t)sp;
}

/*
 * A strand blocked with a continuation keeps no frame on any stack: its
 * saved context is the 7-word `frame` (in the strand itself), which makes
 * the next switch to it move to `sp` (16-byte aligned) and call fn(arg)
 * there (arch_cont_start), as a new strand starts.  So whatever the stack
 * under sp is used for meanwhile cannot damage the blocked strand.
 * Returns the stack pointer to switch to.
 */
void arch_cont_start(void);
#define ARCH_CONT_FRAME_WORDS 7
static inline uintptr_t arch_cont_init(uintptr_t *frame, uintptr_t sp, void (*fn)(void *),
                                       void *arg)
{
	frame[0] = 0;                          /* r15 */
	frame[1] = 0;                          /* r14 */
	frame[2] = (uintptr_t)arg;             /* r13: argument */
	frame[3] = (uintptr_t)fn;              /* r12: function */
	frame[4] = sp & ~15ul;                 /* rbx: the stack */
	frame[5] = 0;                          /* rbp */
	frame[6] = (uintptr_t)arch_cont_start; /* return address */
	return (uintptr_t)frame;
}

/* Disable interrupts, returning the previous flags (for arch_irq_restore). */
static inline unsigned long arch_irq_save(void)
{
	unsigned long f;

	__asm__ volatile("pushfq; popq %0; cli" : "=r"(f) : : "memory");
	return f;
}

static inline void arch_irq_restore(unsigned long flags)
{
	if (flags & ARCH_RFLAGS_IF)
		__asm__ volatile("sti" : : : "memory");
}

/* Enable interrupts and halt in one step ("sti; hlt": the interrupt shadow
 * of sti means no interrupt can slip in between and be missed). */
static inline void arch_idle_halt(void)
{
	__asm__ volatile("sti; hlt" : : : "memory");
}

/* Atomic exchange (lock xchg is implied); the spinlock primitive. */
static inline uint32_t arch_xchg32(volatile uint32_t *p, uint32_t v)
{
	__asm__ volatile("xchgl %0, %1" : "+r"(v), "+m"(*p) : : "memory");
	return v;
}

#endif
