/*
 * mmu_prot.c: change the rights of kernel 4 KiB mappings, and remove them.
 *
 * mmu.c keeps its page-table pointer and PTE helpers private, so this file
 * walks the live tables from CR3 itself, through the direct map, the way the
 * CPU does.  The PTE bits below are the architectural x86-64 ones (the same
 * values mmu.c uses).  Each operation validates the whole range first (every
 * page present, mapped by a 4 KiB leaf) and only then rewrites the leaves, so
 * a failure changes nothing.  A rights change is a single store per PTE:
 * going from RW+NX to R+X clears W and NX in one write, so no instant exists
 * at which a page is both writable and executable.  Every rewritten page is
 * invalidated with invlpg (global pages included: invlpg drops them too).
 */
#include <spindle/errno.h>

#include <arch/mmu.h>
#include <arch/mmu_prot.h>
#include <arch/x86.h>

#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_PS   (1ull << 7)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

/* The level-0 entry mapping va with a 4 KiB page, or NULL. */
static uint64_t *mmu_prot_pte(uintptr_t va)
{
	uint64_t *t = phys_to_virt(read_cr3() & PTE_ADDR);

	for (int level = 3; level > 0; level--) {
		uint64_t e = t[(va >> (12 + 9 * level)) & 511];

		if (!(e & PTE_P) || (e & PTE_PS))
			return NULL;
		t = phys_to_virt(e & PTE_ADDR);
	}
	t = &t[(va >> 12) & 511];
	return (*t & PTE_P) ? t : NULL;
}

static int mmu_prot_check(uintptr_t va, size_t size)
{
	if (!size || (va | size) & (MMU_PAGE_SIZE - 1) || va + size < va)
		return -EINVAL;
	for (uintptr_t p = va; p < va + size; p += MMU_PAGE_SIZE)
		if (!mmu_prot_pte(p))
			return -EINVAL;
	return 0;
}

int mmu_protect(uintptr_t va, size_t size, unsigned flags)
{
	uint64_t nx = (rdmsr(MSR_EFER) & EFER_NXE) ? PTE_NX : 0;
	int err;

	if ((flags & (MMU_W | MMU_X)) == (MMU_W | MMU_X) || (flags & MMU_USER))
		return -EINVAL;
	err = mmu_prot_check(va, size);
	if (err)
		return err;
	for (uintptr_t p = va; p < va + size; p += MMU_PAGE_SIZE) {
		uint64_t *pte = mmu_prot_pte(p);
		uint64_t e = *pte & ~(PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_NX);

		if (flags & MMU_W)
			e |= PTE_W;
		if (!(flags & MMU_X))
			e |= nx;
		if (flags & MMU_NOCACHE)
			e |= PTE_PCD | PTE_PWT;
		*(volatile uint64_t *)pte = e;
		invlpg(p);
	}
	return 0;
}

int mmu_unmap(uintptr_t va, size_t size)
{
	int err = mmu_prot_check(va, size);

	if (err)
		return err;
	for (uintptr_t p = va; p < va + size; p += MMU_PAGE_SIZE) {
		*(volatile uint64_t *)mmu_prot_pte(p) = 0;
		invlpg(p);
	}
	return 0;
}
