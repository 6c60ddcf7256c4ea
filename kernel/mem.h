/*
 * kernel/mem.h: bringing up memory management at boot.
 *
 * Owns the boot-time sequence raw memory map -> memmap_normalise() -> pmm ->
 * kernel page tables (arch mmu) -> kernel heap, and the validated map itself
 * (mem_map()).  Called once by kmain.  On unusable input (malformed map,
 * nothing usable above 1 MiB, less than MEM_MIN_USABLE) mem_init() does not
 * return: it prints why and stops the machine through boot_fail().  Later
 * failures (no frame for a page table) panic: they mean the minimum is wrong.
 *
 * Page-sized allocations for the core: mem_page_alloc()/mem_page_free() hand
 * out zeroed direct-mapped pages from the pmm (NULL / error when exhausted).
 */
#ifndef KERNEL_MEM_H
#define KERNEL_MEM_H

#include <stdbool.h>
#include <stddef.h>

#include <arch/layout.h>

#include "kernel/bootinfo.h"
#include "kernel/memmap.h"

/* Below this much usable RAM above 1 MiB the kernel refuses to boot. */
#define MEM_MIN_USABLE (8ull << 20)

/* Usable RAM must lie below this (the size of the direct map). */
#define MEM_MAX_PHYS DIRECT_MAP_MAX

/* strict: reject a map that needed repairs (command line "memmap=strict"). */
void mem_init(const struct boot_info *bi, bool strict);
const struct memmap *mem_map(void);
void *mem_page_alloc(size_t npages);
void mem_page_free(void *va, size_t npages);

#endif
