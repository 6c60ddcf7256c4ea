/*
 * arch/kstack.h: kernel stacks for strands, each above an unmapped guard.
 *
 * Owns the strand part of the kernel stack area: the virtual range
 * [KSTACK_STRAND_BASE, KSTACK_AREA_BASE + KSTACK_AREA_SIZE).  The low
 * KSTACK_STRAND_BASE - KSTACK_AREA_BASE bytes stay with mmu_stack_alloc()
 * (boot-time IST stacks, a bump allocator that never frees).  The strand
 * range is cut into KSTACK_SLOTS slots of KSTACK_SLOT_SIZE bytes; a slot's
 * low KSTACK_GUARD_SIZE bytes are never mapped (the guard) and the
 * KSTACK_SIZE bytes above are mapped read/write, no-execute, to frames from
 * the pmm.  A strand running off the bottom of its stack therefore takes a
 * page fault on the guard; the fault's own frame cannot be pushed there
 * either, so the CPU raises #DF, which runs on its IST stack and reports.
 *
 * Unlike mmu_stack_alloc() these stacks are freed: kstack_free() unmaps the
 * pages (with invlpg) and returns the frames; the slot can be reused.  Page
 * tables created for a slot are kept (at most one per 2 MiB of the range).
 *
 * Invariants: a slot is either free (nothing mapped in it) or owned by one
 * struct kstack.  Stack contents are not zeroed (kernel memory only).
 *
 * Who calls it: the strand layer (kernel/strand.c).  Locking: an irq-saving
 * spinlock inside (rank SYNC_RANK_KSTACK); callable from any strand, not
 * from interrupt handlers.  Errors: -ENOMEM (no frames or page table),
 * -ENOSPC (all slots in use), -EINVAL (freeing a stack that is not one).
 */
#ifndef ARCH_KSTACK_H
#define ARCH_KSTACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/layout.h>

#define KSTACK_SIZE        (16 * 1024)
#define KSTACK_GUARD_SIZE  (16 * 1024)
#define KSTACK_SLOT_SIZE   (KSTACK_SIZE + KSTACK_GUARD_SIZE)
#define KSTACK_STRAND_BASE (KSTACK_AREA_BASE + (16ull << 20))
#define KSTACK_SLOTS       ((KSTACK_AREA_BASE + KSTACK_AREA_SIZE - KSTACK_STRAND_BASE) / KSTACK_SLOT_SIZE)

struct kstack {
	uintptr_t bottom; /* lowest mapped byte; the guard is just below */
	uintptr_t top;    /* one past the highest byte: initial stack pointer */
	uint32_t slot;
};

int kstack_alloc(struct kstack *out);
int kstack_free(struct kstack *ks);
/* True if addr lies in the guard below ks. */
bool kstack_in_guard(const struct kstack *ks, uintptr_t addr);
/* If addr is in the guard of any strand stack slot, its slot number; else -1. */
long kstack_guard_slot(uintptr_t addr);
/* Stacks currently allocated. */
size_t kstack_count(void);

#endif
