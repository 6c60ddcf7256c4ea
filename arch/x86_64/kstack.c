/*
 * kstack.c: allocating and freeing guarded strand stacks (<arch/kstack.h>).
 *
 * A slot bitmap with a rotating hint hands out slots; mmu_map() maps the
 * stack's frames (4 KiB pages: a 16 KiB run is never 2 MiB aligned and
 * long).  mmu.c has no unmap operation, so kstack_unmap() walks the live
 * page tables itself and clears the leaf entries of the stack - only inside
 * the strand range, which only this file maps, so it cannot disturb anything
 * else.  The entry format used here (present bit, address mask, large-page
 * bit) is the x86-64 one that mmu.c also uses.
 */
#include <spindle/errno.h>

#include <arch/kstack.h>
#include <arch/mmu.h>
#include <arch/x86.h>

#include "kernel/pmm.h"
#include "kernel/sync.h"

#define KS_PTE_P    (1ull << 0)
#define KS_PTE_PS   (1ull << 7)
#define KS_PTE_ADDR 0x000ffffffffff000ull
#define KS_PAGES    (KSTACK_SIZE / MMU_PAGE_SIZE)

static uint64_t kstack_bitmap[(KSTACK_SLOTS + 63) / 64];
static uint32_t kstack_hint;
static size_t kstack_live;
static struct spinlock kstack_lock = SPINLOCK_INIT("kstack", SYNC_RANK_KSTACK);

static uintptr_t kstack_slot_base(uint32_t slot)
{
	return KSTACK_STRAND_BASE + (uintptr_t)slot * KSTACK_SLOT_SIZE;
}

static long kstack_slot_get(void)
{
	for (uint32_t n = 0; n < KSTACK_SLOTS; n++) {
		uint32_t s = (kstack_hint + n) % KSTACK_SLOTS;

		if (!(kstack_bitmap[s / 64] & (1ull << (s % 64)))) {
			kstack_bitmap[s / 64] |= 1ull << (s % 64);
			kstack_hint = s + 1;
			return s;
		}
	}
	return -1;
}

static void kstack_slot_put(uint32_t s)
{
	kstack_bitmap[s / 64] &= ~(1ull << (s % 64));
	if (s < kstack_hint)
		kstack_hint = s; /* reuse low slots first: keeps page tables few */
}

/* The leaf entry for va, or NULL when some level is absent. */
static uint64_t *kstack_pte(uintptr_t va)
{
	uint64_t *t = phys_to_virt(read_cr3() & KS_PTE_ADDR);

	for (int level = 3; level > 0; level--) {
		uint64_t e = t[(va >> (12 + 9 * level)) & 511];

		if (!(e & KS_PTE_P) || (e & KS_PTE_PS))
			return NULL;
		t = phys_to_virt(e & KS_PTE_ADDR);
	}
	return &t[(va >> 12) & 511];
}

/* Unmap [va, va + size) and free the frames that were mapped there. */
static void kstack_unmap(uintptr_t va, size_t size)
{
	for (uintptr_t p = va; p < va + size; p += MMU_PAGE_SIZE) {
		uint64_t *e = kstack_pte(p);
		uint64_t pa;

		if (!e || !(*e & KS_PTE_P))
			continue;
		pa = *e & KS_PTE_ADDR;
		*e = 0;
		invlpg(p);
		pmm_free(pa, 1);
	}
}

int kstack_alloc(struct kstack *out)
{
	unsigned long f;
	uintptr_t bottom;
	uint64_t pa;
	long slot;
	int err;

	if (!out)
		return -EINVAL;
	f = spin_lock_irqsave(&kstack_lock);
	slot = kstack_slot_get();
	if (slot < 0) {
		err = -ENOSPC;
		goto out_unlock;
	}
	bottom = kstack_slot_base((uint32_t)slot) + KSTACK_GUARD_SIZE;
	/* Page by page: a stack need not be physically contiguous. */
	for (unsigned i = 0; i < KS_PAGES; i++) {
		if (pmm_alloc(1, 1, 0, &pa) != 0) {
			err = -ENOMEM;
			goto err_unmap;
		}
		err = mmu_map(bottom + i * MMU_PAGE_SIZE, pa, MMU_PAGE_SIZE, MMU_W);
		if (err) {
			pmm_free(pa, 1);
			goto err_unmap;
		}
	}
	out->bottom = bottom;
	out->top = bottom + KSTACK_SIZE;
	out->slot = (uint32_t)slot;
	kstack_live++;
	spin_unlock_irqrestore(&kstack_lock, f);
	return 0;

err_unmap:
	kstack_unmap(bottom, KSTACK_SIZE);
	kstack_slot_put((uint32_t)slot);
out_unlock:
	spin_unlock_irqrestore(&kstack_lock, f);
	return err;
}

int kstack_free(struct kstack *ks)
{
	unsigned long f;

	if (!ks || ks->slot >= KSTACK_SLOTS ||
	    ks->bottom != kstack_slot_base(ks->slot) + KSTACK_GUARD_SIZE)
		return -EINVAL;
	f = spin_lock_irqsave(&kstack_lock);
	if (!(kstack_bitmap[ks->slot / 64] & (1ull << (ks->slot % 64)))) {
		spin_unlock_irqrestore(&kstack_lock, f);
		return -EINVAL;
	}
	kstack_unmap(ks->bottom, KSTACK_SIZE);
	kstack_slot_put(ks->slot);
	kstack_live--;
	spin_unlock_irqrestore(&kstack_lock, f);
	ks->bottom = ks->top = 0;
	return 0;
}

bool kstack_in_guard(const struct kstack *ks, uintptr_t addr)
{
	return ks && addr >= ks->bottom - KSTACK_GUARD_SIZE && addr < ks->bottom;
}

long kstack_guard_slot(uintptr_t addr)
{
	uintptr_t off;

	if (addr < KSTACK_STRAND_BASE || addr >= KSTACK_AREA_BASE + KSTACK_AREA_SIZE)
		return -1;
	off = addr - KSTACK_STRAND_BASE;
	if (off % KSTACK_SLOT_SIZE >= KSTACK_GUARD_SIZE)
		return -1;
	return (long)(off / KSTACK_SLOT_SIZE);
}

size_t kstack_count(void)
{
	return kstack_live;
}
