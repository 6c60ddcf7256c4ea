/*
 * arch/percpu.h: per-CPU data on x86-64, reached through the GS base.
 *
 * Owns one struct percpu per CPU (PERCPU_MAX of them, statically in .bss)
 * and the GS-base discipline.  CPU ids are dense, 0..percpu_count()-1, in
 * the order the CPUs came up; the boot CPU is 0.
 *
 * GS discipline (the user-space entry code must follow it): while the CPU
 * runs kernel code, MSR_GS_BASE holds this CPU's struct percpu, so cpu_id()
 * and this_cpu() are one %gs-relative load each and need no interrupt or
 * preemption protection to be *correct* (the value read is the CPU the
 * instruction ran on; a strand that can migrate must still disable
 * preemption to keep using it).  Entry from ring 3 (syscall, interrupt,
 * exception) executes swapgs first and every return to ring 3 executes
 * swapgs last, so MSR_KERNEL_GS_BASE holds the user's GS base while the
 * kernel runs.  Nothing else may write MSR_GS_BASE.
 *
 * Fixed offsets (usable from assembly): PERCPU_KSTACK_TOP, the kernel stack
 * the syscall entry switches to (uspace_set_kernel_stack, <arch/uspace.h>, also sets this
 * CPU's TSS.rsp0 for interrupts from ring 3), PERCPU_SCRATCH, a word the
 * entry stub may use to park the user rsp, PERCPU_SELF, PERCPU_ID and
 * PERCPU_CURRENT (fault.S records the strand arming a fault catch).
 *
 * Who may call: anyone in the kernel after arch_cpu_init() (which runs
 * percpu_init_boot() before anything else touches per-CPU data).  Nothing
 * here fails or locks; percpu_online() is set once per CPU by the bring-up
 * (arch/x86_64/smp.c) and never cleared.
 */
#ifndef ARCH_PERCPU_H
#define ARCH_PERCPU_H

#define PERCPU_KSTACK_TOP 0
#define PERCPU_SCRATCH    8
#define PERCPU_SELF       16
#define PERCPU_ID         24
#define PERCPU_PREEMPT    28
#define PERCPU_CURRENT    48
#define PERCPU_RESCHED    72
#define PERCPU_MAX        16

#ifndef __ASSEMBLY__
#include <stdbool.h>
#include <stdint.h>

/* The 64-bit TSS (arch only). */
struct x86_tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct percpu {
	uint64_t kstack_top; /* PERCPU_KSTACK_TOP */
	uint64_t scratch;    /* PERCPU_SCRATCH */
	struct percpu *self; /* PERCPU_SELF */
	uint32_t id;         /* PERCPU_ID: dense CPU number */
	uint32_t preempt;    /* PERCPU_PREEMPT: scheduler's disable depth */
	uint32_t apic_id;
	volatile uint32_t online; /* 1 once the CPU runs the scheduler */
	void *sched;              /* kernel/sched.c's struct sched_cpu */
	void *current;            /* PERCPU_CURRENT: the strand running here (sched.c) */
	void *sync;               /* kernel/sync.c's lock-order state */
	void *translation;        /* kernel/translation.c: this CPU's loaded context */
	/* PERCPU_RESCHED: the scheduler's need_resched for this CPU, here so
	 * that leaving a preemption-disabled section tests it with one
	 * %gs-relative compare (the dispatcher's generated routines). */
	volatile uint8_t resched;
	uint64_t gdt[7] __attribute__((aligned(16)));
	struct x86_tss tss __attribute__((aligned(16)));
} __attribute__((aligned(64)));

_Static_assert(__builtin_offsetof(struct percpu, kstack_top) == PERCPU_KSTACK_TOP, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, scratch) == PERCPU_SCRATCH, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, self) == PERCPU_SELF, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, id) == PERCPU_ID, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, preempt) == PERCPU_PREEMPT, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, current) == PERCPU_CURRENT, "percpu");
_Static_assert(__builtin_offsetof(struct percpu, resched) == PERCPU_RESCHED, "percpu");

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;

	__asm__ volatile("movq %%gs:%c1, %0" : "=r"(p) : "i"(PERCPU_SELF));
	return p;
}

static inline unsigned cpu_id(void)
{
	unsigned v;

	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(v) : "i"(PERCPU_ID));
	return v;
}

/* The portable names (kernel code uses these through <arch/percpu.h>). */
#define cpu_self() this_cpu()
static inline unsigned arch_cpu_id(void)
{
	return cpu_id();
}

/* The scheduler's per-CPU pointers, one load each. */
static inline void *arch_percpu_sched(void)
{
	void *p;

	__asm__ volatile("movq %%gs:%c1, %0"
	                 : "=r"(p)
	                 : "i"(__builtin_offsetof(struct percpu, sched)));
	return p;
}
static inline void *arch_percpu_sync(void)
{
	void *p;

	__asm__ volatile("movq %%gs:%c1, %0"
	                 : "=r"(p)
	                 : "i"(__builtin_offsetof(struct percpu, sync)));
	return p;
}

/* Translation's per-CPU state (the context loaded here): one load, so the
 * fault path and translation_current() cost what a global did. */
static inline void *arch_percpu_translation(void)
{
	void *p;

	__asm__ volatile("movq %%gs:%c1, %0"
	                 : "=r"(p)
	                 : "i"(__builtin_offsetof(struct percpu, translation)));
	return p;
}

/* The running strand: one load, so it is right even if the caller is
 * preempted and migrated right after (it is still the current strand). */
static inline void *arch_percpu_current(void)
{
	void *p;

	__asm__ volatile("movq %%gs:%c1, %0"
	                 : "=r"(p)
	                 : "i"(__builtin_offsetof(struct percpu, current)));
	return p;
}
static inline void arch_percpu_set_current(void *s)
{
	__asm__ volatile("movq %0, %%gs:%c1"
	                 :
	                 : "r"(s), "i"(__builtin_offsetof(struct percpu, current))
	                 : "memory");
}

/* Preemption depth of this CPU: one instruction, so an interrupt can never
 * split the read-modify-write (and the strand cannot migrate in between). */
static inline void arch_preempt_inc(void)
{
	__asm__ volatile("incl %%gs:%c0" : : "i"(PERCPU_PREEMPT) : "memory");
}
static inline void arch_preempt_dec(void)
{
	__asm__ volatile("decl %%gs:%c0" : : "i"(PERCPU_PREEMPT) : "memory");
}
/* Lower the depth; true when it reached 0 with a reschedule asked for
 * meanwhile (the caller then lets the scheduler act: sched_preempt_check).
 * The common case is two instructions and no call. */
static inline bool arch_preempt_dec_resched(void)
{
	__asm__ goto("decl %%gs:%c0\n\t"
	             "jnz %l[no]\n\t"
	             "cmpb $0, %%gs:%c1\n\t"
	             "je %l[no]"
	             :
	             : "i"(PERCPU_PREEMPT), "i"(PERCPU_RESCHED)
	             : "memory", "cc"
	             : no);
	return true;
no:
	return false;
}
static inline unsigned arch_preempt_count(void)
{
	unsigned v;

	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(v) : "i"(PERCPU_PREEMPT) : "memory");
	return v;
}

/* CPU 0's area, GS base set: called first thing by arch_cpu_init(). */
void percpu_init_boot(void);
/* Area of CPU id (0..PERCPU_MAX-1), online or not. */
struct percpu *percpu_of(unsigned id);
/* CPUs that have come up (ids 0..count-1 are online). */
unsigned percpu_count(void);
static inline bool percpu_online(unsigned id)
{
	return id < PERCPU_MAX && percpu_of(id)->online;
}
/* Point GS base at p on the calling CPU (bring-up only). */
void percpu_load(struct percpu *p);
/* Claim the next dense id for a CPU being brought up; NULL when full. */
struct percpu *percpu_claim(uint32_t apic_id);
/* Mark p online (its CPU runs the scheduler); ids must come online in order. */
void percpu_set_online(struct percpu *p);

#endif /* __ASSEMBLY__ */
#endif
