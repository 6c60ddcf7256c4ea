/*
 * arch/mmu_prot.h: changing and removing kernel mappings, and the kernel
 * code area.
 *
 * arch/mmu.h builds the page tables and adds mappings; this contract adds
 * the two operations run-time generated code needs (arch/x86_64/mmu_prot.c):
 * change the rights of mapped 4 KiB pages and unmap them, each followed by
 * a TLB invalidation of every page touched.  Both work on the page tables
 * the CPU is using (CR3), which after mmu_init are the kernel's only ones.
 *
 * The code area [MMU_CODE_AREA_BASE, +MMU_CODE_AREA_SIZE) is the virtual
 * range reserved for code the kernel writes at run time (the eBPF JIT, see
 * kernel/rt_env.c).  It lies in the top 2 GiB with the kernel image, so that
 * calls between JIT code and kernel text are `call rel32`.  Nothing else maps
 * into it.  (It belongs beside the other ranges in <arch/layout.h>; it is
 * here until that file's owner moves it.)
 *
 * Invariants kept: nothing is ever writable and executable at once (W|X is
 * refused with -EINVAL); nothing becomes user-accessible.
 *
 * Who calls it: core only (kernel/rt_env.c).  Single CPU, no locking: the
 * caller serialises calls on the same range; on SMP a TLB shootdown will be
 * needed here.  Errors: 0 or -EINVAL (misaligned, empty, wrapping, W|X
 * requested, a page not mapped or inside a 2 MiB/1 GiB page); nothing is
 * changed when an error is returned.
 */
#ifndef ARCH_MMU_PROT_H
#define ARCH_MMU_PROT_H

#include <stddef.h>
#include <stdint.h>

#define MMU_CODE_AREA_BASE 0xffffffffc0000000ul
#define MMU_CODE_AREA_SIZE (128ul << 20)

/* Give every 4 KiB page of [va, va+size) the rights flags (MMU_W, MMU_X,
 * MMU_NOCACHE of <arch/mmu.h>; readable is implied); invalidates the TLB. */
int mmu_protect(uintptr_t va, size_t size, unsigned flags);
/* Remove the 4 KiB mappings of [va, va+size); invalidates the TLB.  The
 * frames are not freed (the caller owns them; mmu_query them first).  The
 * page-table pages stay, for the next mapping of the range. */
int mmu_unmap(uintptr_t va, size_t size);

#endif
