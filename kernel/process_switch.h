/*
 * kernel/process_switch.h: a strand changes the process it runs
 * (kernel/process.h, "acting"), in line: the portal fast path
 * (kernel/portal.c) does it twice per round trip.
 */
#ifndef KERNEL_PROCESS_SWITCH_H
#define KERNEL_PROCESS_SWITCH_H

#include <arch/uspace.h>

#include "kernel/process.h"
#include "kernel/translation.h"

/* Make the current strand cur, running process `from`, run process `to`
 * from now on (its owner: its own code again): FPU state saved and loaded,
 * address space, kernel stack for entries from ring 3, FS base.
 * Interrupts off, so that a preemption sees one state or the other. */
static inline __attribute__((always_inline)) void
process_switch_acting(struct strand *cur, struct process *from, struct process *to)
{
	uspace_fpu_save(from->fpu);
	cur->proc_acting = to;
	translation_switch_irqsoff(to->ctx);
	uspace_set_kernel_stack(to->kstack_top);
	uspace_set_fs_base(to->fs_base);
	uspace_fpu_restore(to->fpu);
}

#endif
