/*
 * kernel/rt_env.h: the extension runtime's environment inside the kernel.
 *
 * Owns: the kernel's implementation of the hooks in runtime/rt.h
 * (kernel/rt_env.c) and the code area they hand out.
 *   - rt_alloc/rt_free: the kernel heap (kzalloc/kfree).
 *   - rt_code_alloc: whole pages from the pmm, mapped one 4 KiB page at a time
 *     into the code area (<arch/mmu_prot.h>) read+write and NOT executable,
 *     filled with int3.
 *   - rt_code_seal: the same pages become read+execute and never writable
 *     again (one PTE store per page, TLB invalidated).
 *   - rt_code_free: unmap, invalidate, and give the frames back to the pmm.
 * Invariants: no page of the code area is ever writable and executable at
 * once; every allocation is a run of pages whose first page is marked as a
 * head, so a free or seal of anything but exactly one live allocation is
 * refused (reported on the console, counted in `refused`, nothing changed).
 *
 * Fuel: the kernel never runs an extension without a budget (runtime/exec.h);
 * RT_ENV_FUEL_DEFAULT is the budget of one invocation when the caller has no
 * better figure.
 *
 * Who calls it: the runtime (through rt.h), tests and benchmarks (stats).
 * Locking: every code-area operation (bitmaps, pmm frames, PTEs, stats) runs
 * with interrupts disabled, which serialises it against preempting strands
 * on one CPU; SMP will need a spinlock.  rt_code_seal and rt_code_free shoot
 * the run's TLB entries down on every CPU (smp_tlb_flush_all) when called
 * with interrupts enabled (from a strand); with interrupts off only this
 * CPU's entries are dropped.  Callable from
 * strands, not from interrupt handlers (the heap is not irq-safe).
 * Errors: as runtime/rt.h says (NULL / -RT_ENOMEM); rt_code_seal also returns
 * -RT_EINVAL for a pointer that is not a live code allocation.
 */
#ifndef KERNEL_RT_ENV_H
#define KERNEL_RT_ENV_H

#include <stdint.h>

#include "runtime/rt.h"

/* One unit per backward jump or call: about a million loop iterations. */
#define RT_ENV_FUEL_DEFAULT (1ull << 20)

struct rt_env_stats {
	uint64_t code_pages;  /* pages of the code area mapped now */
	uint64_t code_blocks; /* live rt_code_alloc blocks */
	uint64_t allocs, seals, frees;
	uint64_t alloc_failures;
	uint64_t refused; /* seals/frees of something that is not a live block */
};

void rt_env_get_stats(struct rt_env_stats *out);

#endif
