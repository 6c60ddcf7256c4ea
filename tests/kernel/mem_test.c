/*
 * mem_test.c: smoke tests of the boot memory map, the frame allocator and
 * the heap as the running kernel uses them (their host unit tests cover
 * the algorithms; these cover the wiring).
 */
#include <arch/mmu.h>

#include "kernel/heap.h"
#include "kernel/ktest.h"
#include "kernel/mem.h"
#include "kernel/pmm.h"
#include "kernel/string.h"

extern char __kernel_start[], __kernel_end[];

KTEST(memmap_boot_map_sane)
{
	const struct memmap *m = mem_map();
	uint64_t kbase = virt_to_phys(__kernel_start), kend = virt_to_phys(__kernel_end);

	KT_ASSERT(m->count > 0);
	KT_ASSERT(memmap_usable_bytes(m) >= MEM_MIN_USABLE);
	for (uint32_t i = 0; i < m->count; i++) {
		const struct memmap_entry *e = &m->entries[i];

		if (i && e->base < m->entries[i - 1].base + m->entries[i - 1].length)
			KT_FAIL("entries %u and %u overlap or are unsorted", i - 1, i);
		if (e->type == MEMMAP_USABLE && e->base < kend && kbase < e->base + e->length)
			KT_FAIL("the kernel image is inside usable entry %u", i);
		if (e->type == MEMMAP_USABLE && e->base < 0x100000)
			KT_FAIL("usable entry %u below 1 MiB", i);
	}
}

KTEST(pmm_smoke)
{
	struct pmm_stats before, after;
	uint64_t one, run;
	struct pmm_frame fr;

	pmm_get_stats(&before);
	KT_ASSERT(before.free_pages > 1000);
	KT_ASSERT_EQ(pmm_alloc(1, 1, 0, &one), 0);
	KT_ASSERT_EQ(one & (PMM_PAGE_SIZE - 1), 0);
	KT_ASSERT_EQ(pmm_alloc(16, 16, 0, &run), 0);
	KT_ASSERT_EQ(run & (16 * PMM_PAGE_SIZE - 1), 0);
	KT_ASSERT(run + 16 * PMM_PAGE_SIZE <= one || one + PMM_PAGE_SIZE <= run);
	KT_ASSERT_EQ(pmm_frame_info(run + 3 * PMM_PAGE_SIZE, &fr), 0);
	KT_ASSERT_EQ(fr.state, PMM_FRAME_ALLOCATED);
	memset(phys_to_virt(run), 0x5a, 16 * PMM_PAGE_SIZE); /* the frames are real memory */
	KT_ASSERT_EQ(pmm_free(one, 1), 0);
	KT_ASSERT_EQ(pmm_free(one, 1), PMM_E_DOUBLE_FREE);
	KT_ASSERT_EQ(pmm_free(run, 16), 0);
	pmm_get_stats(&after);
	KT_ASSERT_EQ(after.free_pages, before.free_pages);
	KT_ASSERT_EQ(pmm_check(), 0);
}

KTEST(heap_smoke)
{
	static const size_t sizes[] = {1, 16, 17, 100, 2048, 2049, 5000, 70000};
	void *p[8];
	struct heap_stats st;

	for (unsigned i = 0; i < 8; i++) {
		p[i] = kmalloc(sizes[i]);
		if (!p[i])
			KT_FAIL("kmalloc(%lu) failed", (unsigned long)sizes[i]);
		KT_ASSERT_EQ((uintptr_t)p[i] % 16, 0);
		memset(p[i], (int)i, sizes[i]);
	}
	for (unsigned i = 0; i < 8; i++)
		KT_ASSERT_EQ(((uint8_t *)p[i])[sizes[i] - 1], i);
	for (unsigned i = 0; i < 8; i++)
		KT_ASSERT_EQ(kfree(p[i]), 0);
	KT_ASSERT_EQ(kfree(p[3]), HEAP_E_DOUBLE_FREE);
	KT_ASSERT_EQ(heap_check(), 0);
	heap_get_stats(&st);
	KT_ASSERT(st.errors_detected >= 1);
}

KTEST(heap_zeroed_and_realloc)
{
	uint8_t *z = kzalloc(300);
	uint8_t *r;

	KT_ASSERT(z != NULL);
	for (int i = 0; i < 300; i++)
		KT_ASSERT_EQ(z[i], 0);
	z[0] = 42;
	r = krealloc(z, 9000);
	KT_ASSERT(r != NULL);
	KT_ASSERT_EQ(r[0], 42);
	KT_ASSERT_EQ(kfree(r), 0);
}
