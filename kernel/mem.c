/*
 * mem.c: memory bring-up, in the order the pieces depend on each other.
 *
 *  1. memmap_normalise() validates the loader's map, excluding the kernel
 *     image and the loader's own structures; repairs are printed, and a map
 *     it rejects (or one with too little memory) stops the boot cleanly.
 *  2. The pmm takes over the usable memory.  Its metadata is placed by
 *     pmm_metadata_place() (lowest fitting range) and reached through the
 *     boot page tables' direct map of the first 4 GiB.
 *  3. mmu_init() builds the final W^X page tables from pmm pages.
 *  4. The heap gets the pmm + direct map as its page source.
 *
 * Both allocators get their spinlocks here, before anything else can share
 * them: strands (once the scheduler preempts), interrupt handlers and the
 * other CPUs all allocate.
 */
#include <arch/cpu.h>
#include <arch/mmu.h>

#include "kernel/heap.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/string.h"
#include "kernel/sync.h"

extern char __kernel_start[], __kernel_end[];

static struct memmap mem_boot_map; /* ~16 KiB: keep it off the stack */
static struct spinlock mem_pmm_lock = SPINLOCK_INIT("pmm", SYNC_RANK_PMM);
static struct spinlock mem_heap_lock = SPINLOCK_INIT("heap", SYNC_RANK_HEAP);

const struct memmap *mem_map(void)
{
	return &mem_boot_map;
}

void *mem_page_alloc(size_t npages)
{
	uint64_t pa;
	void *va;

	if (pmm_alloc(npages, 1, 0, &pa) != 0)
		return NULL;
	va = phys_to_virt(pa);
	memset(va, 0, npages * MMU_PAGE_SIZE);
	return va;
}

void mem_page_free(void *va, size_t npages)
{
	int err = pmm_free(virt_to_phys(va), npages);

	if (err)
		kprintf("mem: freeing %zu pages at %p: %s\n", npages, va, pmm_strerror(err));
}

static void *mem_heap_page_alloc(size_t npages, void *arg)
{
	(void)arg;
	return mem_page_alloc(npages);
}

static void mem_heap_page_free(void *va, size_t npages, void *arg)
{
	(void)arg;
	mem_page_free(va, npages);
}

static void mem_heap_report(int code, const void *ptr, const char *msg, void *arg)
{
	(void)arg;
	kprintf("heap: %s (%s, %p)\n", msg, heap_strerror(code), ptr);
}

static void mem_print_map(const struct memmap *m)
{
	for (uint32_t i = 0; i < m->count; i++) {
		const struct memmap_entry *e = &m->entries[i];

		kprintf("  [%012lx-%012lx) %s\n", (unsigned long)e->base,
		        (unsigned long)(e->base + e->length), memmap_type_name(e->type));
	}
}

void mem_init(const struct boot_info *bi, bool strict)
{
	struct memmap_range excl[BOOT_RESERVED_MAX + 1];
	struct memmap *m = &mem_boot_map;
	char line[160];
	size_t nexcl = 0, meta_bytes;
	uint64_t usable, meta_phys;
	int err;

	excl[nexcl].base = virt_to_phys(__kernel_start);
	excl[nexcl].length = (uint64_t)(__kernel_end - __kernel_start);
	nexcl++;
	for (size_t i = 0; i < bi->nreserved; i++)
		excl[nexcl++] = bi->reserved[i];

	err = memmap_normalise(m, bi->mem, bi->nmem, excl, nexcl, strict ? MEMMAP_STRICT : 0);
	for (uint32_t i = 0; i < m->nnotes && i < MEMMAP_MAX_NOTES; i++) {
		memmap_diag_format(&m->notes[i], line, sizeof(line));
		kprintf("memmap: repaired: %s\n", line);
	}
	if (err) {
		memmap_diag_format(&m->error, line, sizeof(line));
		boot_fail("memory map from %s rejected: %s (%s)", bi->protocol, line,
		          memmap_strerror(err));
	}
	/* memmap accepts any 64-bit range; the kernel can only map so much. */
	for (uint32_t i = 0; i < m->count; i++)
		if (m->entries[i].type == MEMMAP_USABLE &&
		    m->entries[i].base + m->entries[i].length > MEM_MAX_PHYS)
			boot_fail(
			    "memory map from %s is malformed: usable RAM claimed up to %#lx, beyond"
			    " the %lu GiB of physical memory the kernel can map",
			    bi->protocol,
			    (unsigned long)(m->entries[i].base + m->entries[i].length),
			    (unsigned long)(MEM_MAX_PHYS >> 30));
	usable = memmap_usable_bytes(m);
	kprintf("memory: %lu KiB usable (%u map entries from %s)\n", (unsigned long)(usable >> 10),
	        m->count, bi->protocol);
	if (usable < MEM_MIN_USABLE) {
		mem_print_map(m);
		boot_fail(
		    "not enough memory: %lu KiB usable above 1 MiB, Spindle needs at least %lu KiB"
		    " (give QEMU more with -m)",
		    (unsigned long)(usable >> 10), (unsigned long)(MEM_MIN_USABLE >> 10));
	}

	meta_bytes = pmm_metadata_size(m);
	err = pmm_metadata_place(m, meta_bytes, &meta_phys);
	if (err || meta_phys + meta_bytes > (1ull << 32))
		boot_fail("no room below 4 GiB for %zu bytes of frame metadata", meta_bytes);
	err = pmm_init(m, phys_to_virt(meta_phys), meta_bytes, meta_phys);
	if (err)
		boot_fail("frame allocator refused the memory map: %s", pmm_strerror(err));
	pmm_set_lock(spin_lock_hook, spin_unlock_hook, &mem_pmm_lock);

	err = mmu_init(m);
	if (err)
		panic("building the kernel page tables failed (%d)", err);

	struct heap_ops ops = {
	    .page_alloc = mem_heap_page_alloc,
	    .page_free = mem_heap_page_free,
	    .report = mem_heap_report,
	    .lock = spin_lock_hook,
	    .unlock = spin_unlock_hook,
	    .arg = &mem_heap_lock,
	};
	err = heap_init(&ops);
	if (err)
		panic("heap_init: %s", heap_strerror(err));
}
