/*
 * arch/mmu.h: the kernel's address space (page-table format is x86-64's).
 *
 * Owns the kernel page tables.  Layout (<arch/layout.h>): the kernel image at
 * KERNEL_VMA+1 MiB with text RX, rodata R, data/bss RW+NX; every RAM range of
 * the memory map in the direct map at DIRECT_MAP_BASE (RW+NX); kernel stacks
 * in the stack area, each above an unmapped guard page (the boot stack's
 * guard is inside .bss and is left unmapped too).  Invariant: no mapping is
 * both writable and executable, and none is user-accessible.
 *
 * Who calls it: kmain (mmu_init, once, after pmm_init), drivers mapping MMIO
 * (mmu_map), tests (mmu_query, mmu_walk).  Single CPU, no locking yet.
 * Errors: 0 or -EINVAL (bad alignment/flags, W+X requested), -ENOMEM (no
 * frame for a page table), -EEXIST (something already mapped there).
 */
#ifndef ARCH_MMU_H
#define ARCH_MMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/layout.h>

#include "kernel/memmap.h"

#define MMU_PAGE_SIZE 4096ul

/* Mapping attributes (readable is implied). */
#define MMU_W       0x1u /* writable */
#define MMU_X       0x2u /* executable */
#define MMU_NOCACHE 0x4u /* uncached (MMIO) */
#define MMU_USER    0x8u /* reported by query/walk only; never mapped by the kernel */

static inline void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}
/* Physical address of a direct-map or kernel-image address. */
uint64_t virt_to_phys(const void *va);

/* Build the final kernel page tables from a normalised map and switch to them. */
int mmu_init(const struct memmap *map);
/* Map [va, va+size) to [pa, pa+size); page aligned; W and X are exclusive. */
int mmu_map(uintptr_t va, uint64_t pa, size_t size, unsigned flags);
/* Translate va: true, with the physical address and effective flags, if mapped. */
bool mmu_query(uintptr_t va, uint64_t *pa, unsigned *flags);
/* True if [va, va+len) is mapped in the page tables in use (boot ones too). */
bool mmu_readable(uintptr_t va, size_t len);
/* Call fn for every leaf mapping (2 MiB/1 GiB pages reported whole). */
typedef void (*mmu_walk_fn)(uintptr_t va, uint64_t pa, uint64_t size, unsigned flags, void *arg);
void mmu_walk(mmu_walk_fn fn, void *arg);

/* A kernel stack: [bottom, top), with the page below bottom unmapped. */
struct mmu_stack {
	const char *name;
	uintptr_t bottom;
	uintptr_t top;
};
/* Allocate and map a stack of size bytes (multiple of a page) in the stack area. */
int mmu_stack_alloc(const char *name, size_t size, struct mmu_stack *out);
/* Every kernel stack so far (boot stack first); returns the count. */
size_t mmu_stacks(const struct mmu_stack **list);

#endif
