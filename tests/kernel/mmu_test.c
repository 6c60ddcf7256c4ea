/*
 * mmu_test.c: the kernel page tables enforce W^X, keep guard pages under
 * every stack unmapped, give each image section its rights, and map the
 * direct map non-executable.  The walks read the tables the CPU is using
 * (CR3), not the builder's idea of them.
 */
#include <stdint.h>

#include <arch/cpu.h>
#include <arch/fault.h>
#include <arch/layout.h>
#include <arch/mmu.h>
#include <arch/trap.h>

#include "kernel/ktest.h"
#include "kernel/mem.h"

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __data_end[];
void kmain(uint32_t, uint32_t);

struct mmu_test_walk {
	uint64_t mappings, wx, user;
	uintptr_t first_bad;
	uint64_t bytes;
};

static void mmu_test_visit(uintptr_t va, uint64_t pa, uint64_t size, unsigned flags, void *arg)
{
	struct mmu_test_walk *w = arg;

	(void)pa;
	w->mappings++;
	w->bytes += size;
	if ((flags & MMU_W) && (flags & MMU_X)) {
		if (!w->wx++)
			w->first_bad = va;
	}
	if (flags & MMU_USER) {
		if (!w->user++ && !w->first_bad)
			w->first_bad = va;
	}
}

KTEST(mmu_no_wx_mapping)
{
	struct mmu_test_walk w = {0};

	mmu_walk(mmu_test_visit, &w);
	KT_ASSERT(w.mappings > 100);
	if (w.wx)
		KT_FAIL("%lu writable+executable mappings, first at %lx", (unsigned long)w.wx,
		        (unsigned long)w.first_bad);
	if (w.user)
		KT_FAIL("%lu user-accessible mappings, first at %lx", (unsigned long)w.user,
		        (unsigned long)w.first_bad);
}

static int mmu_test_rights(uintptr_t va, unsigned *flags)
{
	return mmu_query(va, NULL, flags) ? 0 : -1;
}

KTEST(mmu_section_rights)
{
	unsigned f;

	KT_ASSERT(arch_cpu_features() & ARCH_FEAT_NX);
	KT_ASSERT_EQ(mmu_test_rights((uintptr_t)kmain, &f), 0);
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_X); /* text: RX */
	KT_ASSERT_EQ(mmu_test_rights((uintptr_t)__text_end - 1, &f), 0);
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_X);
	KT_ASSERT_EQ(mmu_test_rights((uintptr_t)__rodata_start, &f), 0);
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), 0); /* rodata: R */
	KT_ASSERT_EQ(mmu_test_rights((uintptr_t)__data_start, &f), 0);
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_W); /* data: RW NX */
	KT_ASSERT_EQ(mmu_test_rights((uintptr_t)__data_end - 1, &f), 0);
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_W);
}

KTEST(mmu_guard_pages_unmapped)
{
	const struct mmu_stack *s;
	size_t n = mmu_stacks(&s);
	unsigned f;

	KT_ASSERT(n >= 4); /* boot + #DF, NMI, #MC IST stacks */
	for (size_t i = 0; i < n; i++) {
		if (mmu_query(s[i].bottom - MMU_PAGE_SIZE, NULL, NULL))
			KT_FAIL("guard page under stack %s (%lx) is mapped", s[i].name,
			        (unsigned long)s[i].bottom);
		if (!mmu_query(s[i].bottom, NULL, &f) || (f & (MMU_W | MMU_X)) != MMU_W)
			KT_FAIL("stack %s bottom is not mapped RW+NX", s[i].name);
		if (!mmu_query(s[i].top - 1, NULL, &f) || (f & (MMU_W | MMU_X)) != MMU_W)
			KT_FAIL("stack %s top is not mapped RW+NX", s[i].name);
	}
}

KTEST(mmu_guard_page_faults)
{
	const struct mmu_stack *s;
	size_t n = mmu_stacks(&s);
	struct fault_catch fc = {.vector = TRAP_PF};
	uintptr_t guard;

	KT_ASSERT(n >= 2);
	guard = s[1].bottom - 8; /* an IST stack: not the one in use */
	if (fault_catch_arm(&fc) == 0) {
		(void)*(volatile uint64_t *)guard;
		fault_catch_disarm(&fc);
		KT_FAIL("reading the guard page of %s did not fault", s[1].name);
	}
	KT_ASSERT_EQ(fc.addr, guard);
	KT_ASSERT_EQ(fc.error & 1, 0); /* not present */
}

KTEST(mmu_text_write_faults)
{
	struct fault_catch fc = {.vector = TRAP_PF};
	volatile uint8_t *text = (volatile uint8_t *)kmain;

	if (fault_catch_arm(&fc) == 0) {
		text[0] = text[0];
		fault_catch_disarm(&fc);
		KT_FAIL("writing kernel text did not fault (CR0.WP?)");
	}
	KT_ASSERT_EQ(fc.addr, (uintptr_t)kmain);
	KT_ASSERT_EQ(fc.error & 3, 3); /* protection violation, write */
}

static uint8_t mmu_test_code[16] __attribute__((aligned(16))) = {0xc3}; /* ret */

KTEST(mmu_data_exec_faults)
{
	struct fault_catch fc = {.vector = TRAP_PF};

	if (fault_catch_arm(&fc) == 0) {
		((void (*)(void))(uintptr_t)mmu_test_code)();
		fault_catch_disarm(&fc);
		KT_FAIL("executing .data did not fault (NX?)");
	}
	KT_ASSERT_EQ(fc.addr, (uintptr_t)mmu_test_code);
	KT_ASSERT(fc.error & 0x10); /* instruction fetch */
}

KTEST(mmu_null_unmapped)
{
	KT_ASSERT(!mmu_query(0, NULL, NULL));
	KT_ASSERT(!mmu_query(0x100000, NULL, NULL)); /* no identity map left */
}

KTEST(mmu_direct_map_nx)
{
	void *p = mem_page_alloc(1);
	uint64_t pa;
	unsigned f;

	KT_ASSERT(p != NULL);
	KT_ASSERT((uintptr_t)p >= DIRECT_MAP_BASE);
	KT_ASSERT(mmu_query((uintptr_t)p, &pa, &f));
	KT_ASSERT_EQ(pa, virt_to_phys(p));
	KT_ASSERT_EQ(f & (MMU_W | MMU_X), MMU_W);
	KT_ASSERT_EQ(((volatile uint64_t *)p)[7], 0); /* handed out zeroed */
	mem_page_free(p, 1);
}

KTEST(mmu_map_refuses_wx)
{
	KT_ASSERT(mmu_map(KSTACK_AREA_BASE + KSTACK_AREA_SIZE - MMU_PAGE_SIZE, 0x100000,
	                  MMU_PAGE_SIZE, MMU_W | MMU_X) < 0);
}
