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

/* Make o's strand (the current one) run process `to` from now on (o
 * itself: its own code again): FPU state saved and loaded, address space,
 * kernel stack for entries from ring 3, FS base.  Interrupts off, so that
 * a preemption sees one state or the other. */
static inline __attribute__((always_inline)) void process_switch_acting(struct process *o,
                                                                        struct process *to)
{
	uspace_fpu_save(o->acting->fpu);
	o->acting = to;
	((struct strand *)arch_percpu_current())->proc_acting = to;
	translation_switch_irqsoff(to->ctx);
	uspace_set_kernel_stack(to->kstack_top);
	uspace_set_fs_base(to->fs_base);
	uspace_fpu_restore(to->fpu);
}

#endif
