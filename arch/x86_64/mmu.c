/*
 * mmu.c: the kernel's own x86-64 page tables.
 *
 * boot.S runs the kernel on temporary tables (2 MiB identity and direct map
 * of 0-4 GiB, and the kernel window), all writable and executable.  mmu_init
 * replaces them with tables built from the normalised memory map, where each
 * byte gets exactly the rights it needs:
 *
 *   kernel text            RX           4 KiB pages
 *   kernel rodata, notes   R  + NX
 *   kernel data, bss       RW + NX      except the boot stack's guard page
 *   direct map of RAM      RW + NX      2 MiB pages where aligned
 *   stack area             RW + NX      one unmapped guard page below each stack
 *
 * Nothing is user-accessible and nothing is W+X (mmu_map refuses it).  The
 * identity map is gone afterwards, so a NULL dereference faults.  Page-table
 * pages come from the pmm and are written through the direct map; until the
 * switch only the boot tables' first 4 GiB of direct map exist, so those
 * pages are allocated below 4 GiB.
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/x86.h>

#include "kernel/kprintf.h"
#include "kernel/pmm.h"
#include "kernel/string.h"

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define SZ_2M (2ull << 20)

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[], __kernel_start[], __kernel_end[];
extern char boot_stack_guard[], boot_stack_bottom[], boot_stack_top[];

static uint64_t *mmu_pml4; /* direct-map address of the live PML4 */
static uint64_t mmu_nx;    /* PTE_NX when EFER.NXE is on, else 0 */
static bool mmu_switched;  /* full direct map is live */
static uintptr_t mmu_stack_next = KSTACK_AREA_BASE;

#define MMU_MAX_STACKS 16
static struct mmu_stack mmu_stack_list[MMU_MAX_STACKS];
static size_t mmu_nstacks;

uint64_t virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;

	if (v >= KERNEL_VMA)
		return v - KERNEL_VMA;
	return v - DIRECT_MAP_BASE;
}

static uint64_t *mmu_alloc_table(void)
{
	uint64_t pa;

	if (pmm_alloc(1, 1, mmu_switched ? 0 : PMM_BELOW_4G, &pa) != 0)
		return NULL;
	memset(phys_to_virt(pa), 0, MMU_PAGE_SIZE);
	return phys_to_virt(pa);
}

static unsigned mmu_index(uintptr_t va, int level)
{
	return (va >> (12 + 9 * level)) & 511;
}

/* The table at level-1 under entry *e, created if absent. */
static uint64_t *mmu_next(uint64_t *e)
{
	uint64_t *t;

	if (*e & PTE_P) {
		if (*e & PTE_PS)
			return NULL;
		return phys_to_virt(*e & PTE_ADDR);
	}
	t = mmu_alloc_table();
	if (!t)
		return NULL;
	/* Intermediate levels grant everything; leaves restrict. */
	*e = virt_to_phys(t) | PTE_P | PTE_W;
	return t;
}

static uint64_t mmu_leaf_bits(unsigned flags)
{
	uint64_t b = PTE_P | PTE_G;

	if (flags & MMU_W)
		b |= PTE_W;
	if (!(flags & MMU_X))
		b |= mmu_nx;
	if (flags & MMU_NOCACHE)
		b |= PTE_PCD | PTE_PWT;
	return b;
}

static int mmu_map_in(uint64_t *pml4, uintptr_t va, uint64_t pa, size_t size, unsigned flags)
{
	uint64_t bits;

	if ((va | pa | size) & (MMU_PAGE_SIZE - 1) ||
	    (flags & (MMU_W | MMU_X)) == (MMU_W | MMU_X) || (flags & MMU_USER))
		return -EINVAL;
	bits = mmu_leaf_bits(flags);
	while (size) {
		uint64_t *pdpt, *pd, *pt, *e;

		pdpt = mmu_next(&pml4[mmu_index(va, 3)]);
		pd = pdpt ? mmu_next(&pdpt[mmu_index(va, 2)]) : NULL;
		if (!pd)
			return pdpt ? -EEXIST : -ENOMEM;
		e = &pd[mmu_index(va, 1)];
		if (!((va | pa) & (SZ_2M - 1)) && size >= SZ_2M && !(*e & PTE_P)) {
			*e = pa | bits | PTE_PS;
			va += SZ_2M, pa += SZ_2M, size -= SZ_2M;
			continue;
		}
		if ((*e & PTE_P) && (*e & PTE_PS))
			return -EEXIST;
		pt = mmu_next(e);
		if (!pt)
			return -ENOMEM;
		e = &pt[mmu_index(va, 0)];
		if (*e & PTE_P)
			return -EEXIST;
		*e = pa | bits;
		if (mmu_switched)
			invlpg(va);
		va += MMU_PAGE_SIZE, pa += MMU_PAGE_SIZE, size -= MMU_PAGE_SIZE;
	}
	return 0;
}

int mmu_map(uintptr_t va, uint64_t pa, size_t size, unsigned flags)
{
	if (!mmu_pml4)
		return -EINVAL;
	return mmu_map_in(mmu_pml4, va, pa, size, flags);
}

static int mmu_map_image(uint64_t *pml4, char *start, char *end, unsigned flags)
{
	return mmu_map_in(pml4, (uintptr_t)start, virt_to_phys(start), (size_t)(end - start),
	                  flags);
}

static void mmu_add_stack(const char *name, uintptr_t bottom, uintptr_t top)
{
	if (mmu_nstacks < MMU_MAX_STACKS)
		mmu_stack_list[mmu_nstacks++] = (struct mmu_stack){name, bottom, top};
}

/* Walk to the leaf for va; returns the entry and its size, or NULL. */
static uint64_t mmu_lookup(uint64_t *pml4, uintptr_t va, uint64_t *size, unsigned *flags)
{
	uint64_t *t = pml4;
	unsigned w = MMU_W, u = MMU_USER, x = MMU_X;

	for (int level = 3; level >= 0; level--) {
		uint64_t e = t[mmu_index(va, level)];

		if (!(e & PTE_P))
			return 0;
		if (!(e & PTE_W))
			w = 0;
		if (!(e & PTE_U))
			u = 0;
		if (e & PTE_NX & mmu_nx)
			x = 0;
		if (level == 0 || (e & PTE_PS)) {
			*size = 1ull << (12 + 9 * level);
			*flags = w | u | x | ((e & PTE_PCD) ? MMU_NOCACHE : 0);
			return e;
		}
		t = phys_to_virt(e & PTE_ADDR);
	}
	return 0;
}

static bool mmu_query_in(uint64_t *pml4, uintptr_t va)
{
	uint64_t size;
	unsigned flags;

	return mmu_lookup(pml4, va, &size, &flags) != 0;
}

bool mmu_query(uintptr_t va, uint64_t *pa, unsigned *flags)
{
	uint64_t size, e;
	unsigned f;

	if (!mmu_pml4)
		return false;
	e = mmu_lookup(mmu_pml4, va, &size, &f);
	if (!e)
		return false;
	if (pa)
		*pa = (e & PTE_ADDR & ~(size - 1)) + (va & (size - 1));
	if (flags)
		*flags = f;
	return true;
}

bool mmu_readable(uintptr_t va, size_t len)
{
	uint64_t *pml4 = phys_to_virt(read_cr3() & PTE_ADDR);
	uintptr_t end = va + len;

	if (end < va)
		return false;
	for (va &= ~(MMU_PAGE_SIZE - 1); va < end; va += MMU_PAGE_SIZE)
		if (!mmu_query_in(pml4, va))
			return false;
	return true;
}

static uintptr_t mmu_canonical(uint64_t va)
{
	return (va & (1ull << 47)) ? (va | 0xffff000000000000ull) : va;
}

static void mmu_walk_level(uint64_t *t, int level, uint64_t va, unsigned inh, mmu_walk_fn fn,
                           void *arg)
{
	for (unsigned i = 0; i < 512; i++) {
		uint64_t e = t[i];
		uint64_t v = va | ((uint64_t)i << (12 + 9 * level));
		unsigned f = inh;

		if (!(e & PTE_P))
			continue;
		if (!(e & PTE_W))
			f &= ~MMU_W;
		if (!(e & PTE_U))
			f &= ~MMU_USER;
		if (e & PTE_NX & mmu_nx)
			f &= ~MMU_X;
		if (level == 0 || (e & PTE_PS)) {
			uint64_t size = 1ull << (12 + 9 * level);

			fn(mmu_canonical(v), e & PTE_ADDR & ~(size - 1), size,
			   f | ((e & PTE_PCD) ? MMU_NOCACHE : 0), arg);
			continue;
		}
		mmu_walk_level(phys_to_virt(e & PTE_ADDR), level - 1, v, f, fn, arg);
	}
}

void mmu_walk(mmu_walk_fn fn, void *arg)
{
	/* Walk what the CPU uses, not what we believe it uses. */
	mmu_walk_level(phys_to_virt(read_cr3() & PTE_ADDR), 3, 0, MMU_W | MMU_X | MMU_USER, fn,
	               arg);
}

int mmu_stack_alloc(const char *name, size_t size, struct mmu_stack *out)
{
	uintptr_t bottom;
	uint64_t pa;
	int err;

	if (!size || size % MMU_PAGE_SIZE || !mmu_switched)
		return -EINVAL;
	bottom = mmu_stack_next + MMU_PAGE_SIZE; /* the guard page stays unmapped */
	if (bottom + size > KSTACK_AREA_BASE + KSTACK_AREA_SIZE)
		return -ENOMEM;
	if (pmm_alloc(size / MMU_PAGE_SIZE, 1, 0, &pa) != 0)
		return -ENOMEM;
	err = mmu_map(bottom, pa, size, MMU_W);
	if (err) {
		pmm_free(pa, size / MMU_PAGE_SIZE);
		return err;
	}
	memset((void *)bottom, 0, size);
	mmu_stack_next = bottom + size;
	out->name = name;
	out->bottom = bottom;
	out->top = bottom + size;
	mmu_add_stack(name, out->bottom, out->top);
	return 0;
}

size_t mmu_stacks(const struct mmu_stack **list)
{
	*list = mmu_stack_list;
	return mmu_nstacks;
}

int mmu_init(const struct memmap *map)
{
	uint64_t *pml4;
	int err;

	mmu_nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
	pml4 = mmu_alloc_table();
	if (!pml4)
		return -ENOMEM;

	/* The kernel image, by section. */
	err = mmu_map_image(pml4, __text_start, __text_end, MMU_X);
	if (!err)
		err = mmu_map_image(pml4, __rodata_start, __rodata_end, 0);
	if (!err)
		err = mmu_map_image(pml4, __data_start, boot_stack_guard, MMU_W);
	if (!err)
		err = mmu_map_image(pml4, boot_stack_bottom, __data_end, MMU_W);
	if (err)
		return err;

	/* The direct map: every range that is RAM (the kernel's own included). */
	for (uint32_t i = 0; i < map->count; i++) {
		const struct memmap_entry *e = &map->entries[i];
		uint64_t lo, hi;

		if (e->type == MEMMAP_RESERVED || e->type == MEMMAP_BAD)
			continue;
		lo = e->base & ~(MMU_PAGE_SIZE - 1);
		hi = (e->base + e->length + MMU_PAGE_SIZE - 1) & ~(MMU_PAGE_SIZE - 1);
		if (hi > DIRECT_MAP_MAX)
			hi = DIRECT_MAP_MAX;
		/* Neighbouring entries can share a page after rounding. */
		while (lo < hi && mmu_query_in(pml4, DIRECT_MAP_BASE + lo))
			lo += MMU_PAGE_SIZE;
		if (lo < hi && (err = mmu_map_in(pml4, DIRECT_MAP_BASE + lo, lo, hi - lo, MMU_W)))
			return err;
	}

	write_cr3(virt_to_phys(pml4));
	mmu_pml4 = pml4;
	mmu_switched = true;
	mmu_add_stack("boot", (uintptr_t)boot_stack_bottom, (uintptr_t)boot_stack_top);
	return 0;
}
