/*
 * bench_vm.c: the paper's Table 4 (VM operations), in-kernel case.
 *
 * "bench=vm" runs these under -icount (mk/vm.mk).  As in SPIN, the
 * "application" is an in-kernel extension: it calls Translation's
 * capability-level procedures (context, range and page capabilities are
 * checked on every call) and handles Translation.ProtectionFault with a
 * handler installed for its own context.  The pages are supervisor-only
 * lower-half mappings of a private context, loaded for the duration, so the
 * faulting accesses are ordinary kernel loads and stores.  Interrupts are
 * off while measuring (no timer ticks in the samples).  Ids are the
 * *_kernel variants of bench/benchmarks.def; the Linux rows are user level.
 */
#include <arch/cpu.h>

#include "kernel/bench.h"
#include "kernel/kprintf.h"
#include "kernel/translation.h"
#include "kernel/vm_policy.h"

#define BV_BASE  0x40000000ul
#define BV_PAGES 128u
#define BV_MAXN  1100

enum bv_mode { BV_TRAP, BV_FAULT, BV_APPEL1, BV_APPEL2 };

static struct {
	cap_t ctx, range, pages;
	struct translation_ctx *c;
	enum bv_mode mode;
	volatile uint64_t t1;
	uintptr_t other;
} bv;

static uint64_t bv_samples[BV_MAXN];

static bool bv_handler(void *closure, const struct translation_fault *f)
{
	uint64_t t = arch_cycles();
	size_t off = (f->va & ~(TRANSLATION_PAGE - 1)) - BV_BASE;

	(void)closure;
	bv.t1 = t;
	translation_change_mapping(bv.ctx, bv.range, off, 1, TRANSLATION_PROT_RW);
	if (bv.mode == BV_APPEL1)
		translation_change_mapping(bv.ctx, bv.range, bv.other - BV_BASE, 1,
		                           TRANSLATION_PROT_R);
	return true;
}

static void bv_write(uintptr_t va, char v)
{
	*(volatile char *)va = v;
}

static void bv_prot(uintptr_t va, uint32_t n, unsigned prot)
{
	translation_change_mapping(bv.ctx, bv.range, va - BV_BASE, n, prot);
}

static int bv_n(const char *id, int *w)
{
	int n = bench_samples(id);

	if (n > BV_MAXN - 20)
		n = BV_MAXN - 20;
	*w = bench_warmup(n);
	return n;
}

static void bv_trap_or_fault(const char *id, bool trap, uint64_t pair)
{
	int w, n = bv_n(id, &w);
	uintptr_t p = BV_BASE;

	bv.mode = trap ? BV_TRAP : BV_FAULT;
	for (int i = -w; i < n; i++) {
		bv_prot(p, 1, TRANSLATION_PROT_R);
		uint64_t t0 = arch_cycles();
		bv_write(p, 2);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = (trap ? bv.t1 : t1) - t0;
	}
	bench_report(id, bv_samples, n, pair);
}

static void bv_prot_n(const char *id, uint32_t pages, bool increase, uint64_t pair)
{
	int w, n = bv_n(id, &w);
	uintptr_t p = BV_BASE + TRANSLATION_PAGE;

	for (int i = -w; i < n; i++) {
		if (increase) {
			bv_prot(p, pages, TRANSLATION_PROT_RW);
			for (uint32_t j = 0; j < pages; j++)
				bv_write(p + j * TRANSLATION_PAGE, 1);
		} else {
			bv_prot(p, pages, TRANSLATION_PROT_R);
		}
		uint64_t t0 = arch_cycles();
		bv_prot(p, pages, increase ? TRANSLATION_PROT_R : TRANSLATION_PROT_RW);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = t1 - t0;
	}
	bv_prot(p, pages, TRANSLATION_PROT_RW);
	bench_report(id, bv_samples, n, pair);
}

static void bv_appel1(uint64_t pair)
{
	int w, n = bv_n("vm_appel1_kernel", &w);
	uintptr_t pg[2] = {BV_BASE, BV_BASE + TRANSLATION_PAGE};

	bv_prot(BV_BASE, 2, TRANSLATION_PROT_RW);
	bv_write(pg[0], 1);
	bv_write(pg[1], 1);
	bv_prot(pg[0], 1, TRANSLATION_PROT_R);
	bv.mode = BV_APPEL1;
	for (int i = -w, k = 0; i < n; i++, k ^= 1) {
		bv.other = pg[k ^ 1];
		uint64_t t0 = arch_cycles();
		bv_write(pg[k], 3);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = t1 - t0;
	}
	bv_prot(BV_BASE, 2, TRANSLATION_PROT_RW);
	bench_report("vm_appel1_kernel", bv_samples, n, pair);
}

static void bv_appel2(uint64_t pair)
{
	int w, n = bv_n("vm_appel2_kernel", &w);

	bv.mode = BV_APPEL2;
	for (int i = -w; i < n; i++) {
		uint64_t t0 = arch_cycles();
		bv_prot(BV_BASE, 100, TRANSLATION_PROT_R);
		for (int j = 0; j < 100; j++)
			bv_write(BV_BASE + (uintptr_t)j * TRANSLATION_PAGE, 4);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = (t1 - t0) / 100;
	}
	/* The pair's correction is per sample, not per page. */
	bench_report("vm_appel2_kernel", bv_samples, n, pair / 100);
}

static void bv_dirty(uint64_t pair)
{
	int w, n = bv_n("vm_dirty_kernel", &w);
	unsigned state;

	for (int i = -w; i < n; i++) {
		uint64_t t0 = arch_cycles();
		translation_dirty(bv.ctx, BV_BASE, &state);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = t1 - t0;
	}
	bench_report("vm_dirty_kernel", bv_samples, n, pair);
}

/* Demand zero: every sample touches a page never touched before. */
static void bv_anon(uint64_t pair)
{
	int w, n = bv_n("vm_anon_fault_kernel", &w);
	uintptr_t base = 0x80000000ul;
	struct vm_region *reg;
	cap_t range;

	if (virtaddr_alloc(&bv.c->space, base, (size_t)(n + w) * TRANSLATION_PAGE, &range) ||
	    vm_anon_attach(bv.c, range, TRANSLATION_PROT_RW, &reg)) {
		kprintf("bench-vm: cannot set up the demand-zero region\n");
		return;
	}
	for (int i = -w; i < n; i++) {
		uint64_t t0 = arch_cycles();
		bv_write(base + (uintptr_t)(i + w) * TRANSLATION_PAGE, 5);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = t1 - t0;
	}
	vm_region_detach(reg);
	virtaddr_free(range);
	bench_report("vm_anon_fault_kernel", bv_samples, n, pair);
}

void bench_vm_run(uint64_t pair)
{
	struct translation_binding b = {.handler = bv_handler};
	struct translation_ctx *prev;
	int handle, err;
	bool irq = arch_irq_enabled();

	err = translation_create("bench-vm", &bv.ctx);
	if (!err)
		err = virtaddr_alloc(&translation_get(bv.ctx, NULL)->space, BV_BASE,
		                     BV_PAGES * TRANSLATION_PAGE, &bv.range);
	if (!err)
		err = physaddr_alloc(BV_PAGES * TRANSLATION_PAGE, NULL, &bv.pages);
	if (!err)
		err = translation_add_mapping(bv.ctx, bv.range, 0, bv.pages, 0, BV_PAGES,
		                              TRANSLATION_PROT_RW);
	if (err) {
		kprintf("bench-vm: setup failed (%d)\n", err);
		return;
	}
	bv.c = translation_get(bv.ctx, NULL);
	b.ctx = bv.c;
	if (translation_install(TRANSLATION_PROTECTION_FAULT, &b, &handle)) {
		kprintf("bench-vm: cannot install the handler\n");
		return;
	}
	arch_irq_disable();
	prev = translation_switch(bv.c);
	for (uint32_t j = 0; j < BV_PAGES; j++)
		bv_write(BV_BASE + j * TRANSLATION_PAGE, 1);

	bv_dirty(pair);
	bv_trap_or_fault("vm_trap_kernel", true, pair);
	bv_trap_or_fault("vm_fault_kernel", false, pair);
	bv_prot_n("vm_prot1_kernel", 1, true, pair);
	bv_prot_n("vm_prot100_kernel", 100, true, pair);
	bv_prot_n("vm_unprot100_kernel", 100, false, pair);
	bv_appel1(pair);
	bv_appel2(pair);
	bv_anon(pair);

	translation_switch(prev);
	if (irq)
		arch_irq_enable();
	translation_uninstall(handle);
	translation_remove_mapping(bv.ctx, bv.range, 0, BV_PAGES);
	physaddr_free(bv.pages);
	translation_destroy(bv.ctx);
}
