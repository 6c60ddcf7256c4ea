/*
 * rt_env.c: the hooks the extension runtime (runtime/rt.h) needs, as the
 * kernel provides them.
 *
 * Ordinary runtime memory (programs, verifier state, diagnostics) comes from
 * the kernel heap.  Code memory is W^X and lives in its own virtual range,
 * the code area of <arch/mmu_prot.h>, next to the kernel text so the JIT can
 * call kernel procedures with `call rel32`:
 *
 *   rt_code_alloc  reserve a run of pages of the area (first fit in a page
 *                  bitmap, so freed ranges and their page tables are reused),
 *                  map a fresh pmm frame at each page read+write+NX, fill
 *                  with int3 (0xcc).
 *   rt_code_seal   remap the run read+execute (mmu_protect): the W and NX
 *                  bits go in the same PTE store, and the TLB entry is
 *                  invalidated, so the code is never writable and executable
 *                  at once, and never writable again.
 *   rt_code_free   look each page's frame up, unmap the run (TLB invalidated)
 *                  and free the frames.
 *
 * Locking: the scheduler preempts kernel strands, and the pmm and the page
 * tables have no lock of their own yet, so every operation on the area
 * (bitmaps, frames, PTEs, statistics) runs with interrupts disabled on this
 * CPU; only the int3 fill of a fresh run, which nobody else can reach, runs
 * with them on.  On SMP this becomes a spinlock plus a TLB shootdown.
 *
 * A run's first page is marked in a second bitmap (`head`), which is how a
 * seal or free is checked to name exactly one live allocation: anything else
 * is reported and refused, and nothing changes (a leak is better than
 * unmapping someone else's code).  Frames are allocated one at a time, so a
 * fragmented pmm does not fail code allocations that would fit.
 *
 * The frames stay reachable, writable and non-executable, through the
 * direct map (mapped with 2 MiB pages): the code area's own mappings are
 * W^X, the alias is not removed (see docs/runtime.md, known gaps).
 */
#include <arch/cpu.h>
#include <arch/mmu.h>
#include <arch/mmu_prot.h>
#include <arch/smp.h>

#include "kernel/heap.h"
#include "kernel/kprintf.h"
#include "kernel/pmm.h"
#include "kernel/rt_env.h"
#include "kernel/string.h"

#define RT_ENV_PAGES (MMU_CODE_AREA_SIZE / MMU_PAGE_SIZE)
#define RT_ENV_WORDS (RT_ENV_PAGES / 64)

static uint64_t rt_env_used[RT_ENV_WORDS]; /* page of the area is allocated */
static uint64_t rt_env_head[RT_ENV_WORDS]; /* page is the first of its allocation */
static struct rt_env_stats rt_env_stats;

/* ---- ordinary memory ---------------------------------------------------- */

void *rt_alloc(size_t size)
{
	/* kzalloc(0) may return NULL, which callers would read as exhaustion. */
	return kzalloc(size ? size : 1);
}

void rt_free(void *p)
{
	/* The heap reports a bad pointer itself and leaves the heap intact. */
	(void)kfree(p);
}

/* ---- the code-area bitmaps ---------------------------------------------- */

static bool rt_env_bit(const uint64_t *map, size_t i)
{
	return (map[i / 64] >> (i % 64)) & 1;
}

static void rt_env_set(uint64_t *map, size_t i, bool on)
{
	if (on)
		map[i / 64] |= 1ull << (i % 64);
	else
		map[i / 64] &= ~(1ull << (i % 64));
}

static bool rt_env_irq_save(void)
{
	bool on = arch_irq_enabled();

	arch_irq_disable();
	return on;
}

static void rt_env_irq_restore(bool on)
{
	if (on)
		arch_irq_enable();
}

/* Reserve npages consecutive pages (first fit); the first index or -1. */
static long rt_env_reserve(size_t npages)
{
	size_t run = 0;
	long found = -1;

	for (size_t i = 0; i < RT_ENV_PAGES; i++) {
		if (rt_env_used[i / 64] == ~0ull && i % 64 == 0) {
			run = 0;
			i += 63;
			continue;
		}
		run = rt_env_bit(rt_env_used, i) ? 0 : run + 1;
		if (run == npages) {
			found = (long)(i + 1 - npages);
			break;
		}
	}
	if (found >= 0) {
		for (size_t i = 0; i < npages; i++)
			rt_env_set(rt_env_used, (size_t)found + i, true);
		rt_env_set(rt_env_head, (size_t)found, true);
	}
	return found;
}

static void rt_env_release(size_t first, size_t npages)
{
	rt_env_set(rt_env_head, first, false);
	for (size_t i = 0; i < npages; i++)
		rt_env_set(rt_env_used, first + i, false);
}

static size_t rt_env_npages(size_t size)
{
	return (size + MMU_PAGE_SIZE - 1) / MMU_PAGE_SIZE;
}

/*
 * The first page index of the live allocation [p, p+size), or -1 if p and
 * size do not name exactly one (wrong address, not its start, wrong length).
 */
static long rt_env_lookup(const void *p, size_t size)
{
	uintptr_t va = (uintptr_t)p;
	size_t first, n, want = rt_env_npages(size);

	if (va < MMU_CODE_AREA_BASE || va - MMU_CODE_AREA_BASE >= MMU_CODE_AREA_SIZE ||
	    va % MMU_PAGE_SIZE || size == 0)
		return -1;
	first = (va - MMU_CODE_AREA_BASE) / MMU_PAGE_SIZE;
	if (!rt_env_bit(rt_env_head, first) || !rt_env_bit(rt_env_used, first))
		return -1;
	for (n = 1; first + n < RT_ENV_PAGES && rt_env_bit(rt_env_used, first + n) &&
	            !rt_env_bit(rt_env_head, first + n);
	     n++)
		;
	return n == want ? (long)first : -1;
}

static void rt_env_refuse(const char *what, const void *p, size_t size)
{
	rt_env_stats.refused++;
	kprintf("rt_env: %s(%p, %zu) refused: not a live code allocation\n", what, p, size);
}

/* ---- code memory ---------------------------------------------------------- */

/* Unmap the first `mapped` pages of a run and free their frames. */
static void rt_env_unmap_pages(uintptr_t va, size_t mapped)
{
	for (size_t i = 0; i < mapped; i++) {
		uintptr_t page = va + i * MMU_PAGE_SIZE;
		uint64_t pa;
		int err;

		if (!mmu_query(page, &pa, NULL)) {
			kprintf("rt_env: code page %lx lost its mapping\n", (unsigned long)page);
			continue;
		}
		err = mmu_unmap(page, MMU_PAGE_SIZE);
		if (!err)
			err = pmm_free(pa, 1);
		if (err)
			kprintf("rt_env: releasing code page %lx: error %d\n", (unsigned long)page,
			        err);
	}
}

void *rt_code_alloc(size_t size)
{
	size_t npages = rt_env_npages(size), i;
	uintptr_t va;
	long first;
	bool irq;

	if (size == 0 || size > MMU_CODE_AREA_SIZE) {
		rt_env_stats.alloc_failures++;
		return NULL;
	}
	irq = rt_env_irq_save();
	first = rt_env_reserve(npages);
	if (first < 0)
		goto err;
	va = MMU_CODE_AREA_BASE + (uintptr_t)first * MMU_PAGE_SIZE;
	for (i = 0; i < npages; i++) {
		uint64_t pa;

		if (pmm_alloc(1, 1, 0, &pa) != 0)
			goto err_unmap;
		/* One page per call: mmu_map would use a 2 MiB page for an aligned
		 * 2 MiB run, and mmu_protect changes only 4 KiB pages. */
		if (mmu_map(va + i * MMU_PAGE_SIZE, pa, MMU_PAGE_SIZE, MMU_W) != 0) {
			pmm_free(pa, 1);
			goto err_unmap;
		}
	}
	rt_env_stats.code_pages += npages;
	rt_env_stats.code_blocks++;
	rt_env_stats.allocs++;
	rt_env_irq_restore(irq);
	memset((void *)va, 0xcc, npages * MMU_PAGE_SIZE); /* int3; the run is ours now */
	return (void *)va;

err_unmap:
	rt_env_unmap_pages(va, i);
	rt_env_release((size_t)first, npages);
err:
	rt_env_stats.alloc_failures++;
	rt_env_irq_restore(irq);
	return NULL;
}

int rt_code_seal(void *p, size_t size)
{
	bool irq = rt_env_irq_save();
	long first = rt_env_lookup(p, size);
	int ret = 0;

	if (first < 0) {
		rt_env_irq_restore(irq);
		rt_env_refuse("rt_code_seal", p, size);
		return -RT_EINVAL;
	}
	if (mmu_protect((uintptr_t)p, rt_env_npages(size) * MMU_PAGE_SIZE, MMU_X) != 0)
		ret = -RT_ENOMEM;
	else
		rt_env_stats.seals++;
	rt_env_irq_restore(irq);
	/* No CPU may keep a writable entry for code (W^X on every CPU). */
	if (!ret && irq)
		smp_tlb_flush_all((uintptr_t)p, rt_env_npages(size) * MMU_PAGE_SIZE);
	return ret;
}

void rt_code_free(void *p, size_t size)
{
	size_t npages = rt_env_npages(size);
	long first;

	bool irq;

	if (!p)
		return;
	irq = rt_env_irq_save();
	first = rt_env_lookup(p, size);
	if (first < 0) {
		rt_env_irq_restore(irq);
		rt_env_refuse("rt_code_free", p, size);
		return;
	}
	rt_env_unmap_pages((uintptr_t)p, npages);
	if (irq) {
		/* Other CPUs may still hold TLB entries for the run (they ran
		 * it): drop them before the pages can be handed out again. */
		rt_env_irq_restore(irq);
		smp_tlb_flush_all((uintptr_t)p, npages * MMU_PAGE_SIZE);
		irq = rt_env_irq_save();
	}
	rt_env_release((size_t)first, npages);
	rt_env_stats.code_pages -= npages;
	rt_env_stats.code_blocks--;
	rt_env_stats.frees++;
	rt_env_irq_restore(irq);
}

void rt_env_get_stats(struct rt_env_stats *out)
{
	bool irq = rt_env_irq_save();

	*out = rt_env_stats;
	rt_env_irq_restore(irq);
}
