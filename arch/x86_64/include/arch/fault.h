/*
 * arch/fault.h: expected-fault catching, for tests and probes.
 *
 * A test arms a catch for one exception vector (or FAULT_ANY) and gets a
 * resume point, setjmp-style:
 *
 *     struct fault_catch fc = { .vector = TRAP_PF };
 *     if (fault_catch_arm(&fc) == 0) {
 *             *(volatile int *)0 = 1;        // faults
 *             fault_catch_disarm(&fc);       // not reached
 *     } else {
 *             // fc.caught_vector == TRAP_PF, fc.addr == 0
 *     }
 *
 * When the armed vector is raised, trap.c records vector, error code, faulting
 * pc and (for #PF) CR2 in the catch, disarms it, and resumes at the arm call,
 * which then returns 1 with the callee-saved registers and stack pointer it
 * had when armed.  A different vector while armed is still fatal.  One catch
 * at a time; the arming function must not have returned before the fault.
 * Kernel mode only; not for interrupt handlers.  The catch is the arming
 * strand's: the same vector raised by another strand (another CPU, or this
 * one after a switch) is not caught, since resuming would run the arming
 * strand's code on the wrong stack.  The arming strand may migrate.
 */
#ifndef ARCH_FAULT_H
#define ARCH_FAULT_H

#include <stdint.h>

#define FAULT_ANY (-1)

struct fault_catch {
	uint64_t ctx[8];   /* private: rbx rbp r12 r13 r14 r15 rsp rip */
	int vector;        /* armed vector or FAULT_ANY */
	int caught_vector; /* -1 until caught */
	uint64_t error;    /* the exception's error code (0 if none) */
	uint64_t addr;     /* CR2 for a page fault */
	uint64_t pc;       /* where the fault happened */
	void *owner;       /* private: the strand that armed it (NULL at boot) */
};

/* fault.S stores at these offsets. */
_Static_assert(__builtin_offsetof(struct fault_catch, caught_vector) == 68, "fault.S");
_Static_assert(__builtin_offsetof(struct fault_catch, owner) == 96, "fault.S");

/* 0 when armed; 1 when resumed after the fault.  Sets caught_vector = -1. */
__attribute__((returns_twice)) int fault_catch_arm(struct fault_catch *fc);
void fault_catch_disarm(struct fault_catch *fc);
/* Disarm whatever catch is armed (the test runner, between tests). */
void fault_catch_reset(void);

#endif
