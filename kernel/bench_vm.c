/*
 * bench_vm.c: the paper's Table 4 (VM operations), in the kernel.
 *
 * "bench=vm" runs these under -icount (mk/vm.mk).  As in SPIN, the
 * "application" is an extension: it calls Translation's capability-level
 * procedures (context, range and page capabilities are checked on every
 * call) and handles Translation.ProtectionFault for its own context.  Two
 * forms, one run:
 *
 *   vm_*_ext     the paper's configuration: a clang-built, verified,
 *                JIT-compiled extension (tests/kernel-ext/vm_bench_ext.c),
 *                granted this context (translation_grant) so the memory
 *                module's authorizer imposes the per-context guard on its
 *                handler, which then runs in the dispatcher's generated
 *                routine.  Prot/Unprot/Dirty are timed inside the extension
 *                (Bench_Mark before and after its Translation call; the
 *                empty pair is the correction); Trap is fault -> the
 *                handler's first Bench_Mark; Fault/Appel are timed around
 *                the faulting store here.
 *   vm_*_kernel  the same operations with a native C handler, installed
 *                unguarded by a trusted module, so the raise is a direct
 *                call: the floor the extension form is compared with.
 *
 * The pages are supervisor-only lower-half mappings of a private context,
 * loaded for the duration, so the faulting accesses are ordinary kernel
 * loads and stores.  Interrupts are off while measuring (no timer ticks in
 * the samples).  The Linux rows are user level (SIGSEGV + mprotect).
 */
#include <arch/cpu.h>

#include "kernel/bench.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/fmt.h"
#include "kernel/kext.h"
#include "kernel/kprintf.h"
#include "kernel/translation.h"
#include "kernel/vm_policy.h"
#include "spindle_interfaces.h"

#define BV_BASE  0x40000000ul
#define BV_PAGES 128u
#define BV_MAXN  1100

enum bv_mode { BV_TRAP, BV_FAULT, BV_APPEL1, BV_APPEL2 };

/* The extension's VMApp_Run operations and handler modes
 * (tests/kernel-ext/vm_bench_ext.c). */
enum { BVX_MODE, BVX_PROTECT, BVX_UNPROT, BVX_DIRTY, BVX_PAIR };
enum { BVX_FAULT, BVX_TRAP, BVX_APPEL1 };

typedef struct rt_jit_ret (*bv_export_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static const struct module bv_module = {"BenchVM", MODULE_TRUSTED | MODULE_PRIVILEGED};
static const struct module bv_bench_module = {"Bench", MODULE_TRUSTED};

static struct {
	cap_t ctx, range, pages;
	struct translation_ctx *c;
	enum bv_mode mode;
	volatile uint64_t t1;
	uintptr_t other;
	bv_export_fn run;
	const char *sfx; /* "kernel" or "ext" */
} bv;

static uint64_t bv_samples[BV_MAXN];

/* The Bench interface (interfaces/bench.idl): the extension's timestamp. */
uint64_t Bench_Mark(void)
{
	uint64_t t = arch_cycles();

	bv.t1 = t;
	return t;
}

/* The native handler: (context, va, access, pc) -> resolved. */
static uint64_t bv_handler(uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	uint64_t t = arch_cycles();
	size_t off = (va & ~(TRANSLATION_PAGE - 1)) - BV_BASE;

	(void)access, (void)pc;
	bv.t1 = t;
	if (ctx != bv.ctx)
		return 0; /* installed unguarded: not ours */
	translation_change_mapping(bv.ctx, bv.range, off, 1, TRANSLATION_PROT_RW);
	if (bv.mode == BV_APPEL1)
		translation_change_mapping(bv.ctx, bv.range, bv.other - BV_BASE, 1,
		                           TRANSLATION_PROT_R);
	return 1;
}

/* Call the extension's VMApp_Run (its cross-domain adapter). */
static int64_t bv_run(uint64_t op, uint64_t x, uint64_t y)
{
	struct rt_jit_ret r = bv.run(op, x, y, 0, 0);

	return r.status ? -EINVAL : (int64_t)r.r0;
}

static void bv_id(char *buf, size_t n, const char *op)
{
	fmt_snprintf(buf, n, "vm_%s_%s", op, bv.sfx);
}

static void bv_write(uintptr_t va, char v)
{
	*(volatile char *)va = v;
}

static void bv_prot(uintptr_t va, uint32_t n, unsigned prot)
{
	translation_change_mapping(bv.ctx, bv.range, va - BV_BASE, n, prot);
}

/* Tell whichever handler runs which mode it is in. */
static void bv_mode_set(enum bv_mode m, uintptr_t other)
{
	static const uint64_t ext_mode[] = {[BV_TRAP] = BVX_TRAP,
	                                    [BV_FAULT] = BVX_FAULT,
	                                    [BV_APPEL1] = BVX_APPEL1,
	                                    [BV_APPEL2] = BVX_FAULT};

	bv.mode = m;
	bv.other = other;
	if (bv.run)
		bv_run(BVX_MODE, ext_mode[m], other - BV_BASE);
}

static int bv_n(const char *id, int *w)
{
	int n = bench_samples(id);

	if (n > BV_MAXN - 20)
		n = BV_MAXN - 20;
	*w = bench_warmup(n);
	return n;
}

static void bv_trap_or_fault(const char *op, bool trap, uint64_t pair)
{
	char id[40];
	int w, n;
	uintptr_t p = BV_BASE;

	bv_id(id, sizeof(id), op);
	n = bv_n(id, &w);
	bv_mode_set(trap ? BV_TRAP : BV_FAULT, BV_BASE);
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

/* The median of the extension's empty Bench_Mark pair: its correction. */
static uint64_t bv_ext_pair(void)
{
	int n = 101;

	for (int i = -10; i < n; i++) {
		int64_t r = bv_run(BVX_PAIR, 0, 0);

		if (i >= 0)
			bv_samples[i] = r > 0 ? (uint64_t)r : 0;
	}
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && bv_samples[j - 1] > bv_samples[j]; j--) {
			uint64_t t = bv_samples[j];
			bv_samples[j] = bv_samples[j - 1];
			bv_samples[j - 1] = t;
		}
	return bv_samples[n / 2];
}

/* Change the protection of pages from va: the sample is the time the
 * change took (here around the call, or inside the extension). */
static uint64_t bv_timed_prot(uintptr_t va, uint32_t pages, unsigned prot)
{
	if (bv.run) {
		int64_t r = bv_run(prot == TRANSLATION_PROT_R ? BVX_PROTECT : BVX_UNPROT,
		                   va - BV_BASE, pages);
		return r > 0 ? (uint64_t)r : 0;
	}
	uint64_t t0 = arch_cycles();
	bv_prot(va, pages, prot);
	return arch_cycles() - t0;
}

static void bv_prot_n(const char *op, uint32_t pages, bool increase, uint64_t pair)
{
	char id[40];
	int w, n;
	uintptr_t p = BV_BASE + TRANSLATION_PAGE;

	bv_id(id, sizeof(id), op);
	n = bv_n(id, &w);
	for (int i = -w; i < n; i++) {
		if (increase) {
			bv_prot(p, pages, TRANSLATION_PROT_RW);
			for (uint32_t j = 0; j < pages; j++)
				bv_write(p + j * TRANSLATION_PAGE, 1);
		} else {
			bv_prot(p, pages, TRANSLATION_PROT_R);
		}
		uint64_t t =
		    bv_timed_prot(p, pages, increase ? TRANSLATION_PROT_R : TRANSLATION_PROT_RW);
		if (i >= 0)
			bv_samples[i] = t;
	}
	bv_prot(p, pages, TRANSLATION_PROT_RW);
	bench_report(id, bv_samples, n, pair);
}

static void bv_appel1(uint64_t pair)
{
	char id[40];
	int w, n;
	uintptr_t pg[2] = {BV_BASE, BV_BASE + TRANSLATION_PAGE};

	bv_id(id, sizeof(id), "appel1");
	n = bv_n(id, &w);
	bv_prot(BV_BASE, 2, TRANSLATION_PROT_RW);
	bv_write(pg[0], 1);
	bv_write(pg[1], 1);
	bv_prot(pg[0], 1, TRANSLATION_PROT_R);
	for (int i = -w, k = 0; i < n; i++, k ^= 1) {
		bv_mode_set(BV_APPEL1, pg[k ^ 1]);
		uint64_t t0 = arch_cycles();
		bv_write(pg[k], 3);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = t1 - t0;
	}
	bv_prot(BV_BASE, 2, TRANSLATION_PROT_RW);
	bench_report(id, bv_samples, n, pair);
}

static void bv_appel2(uint64_t pair)
{
	char id[40];
	int w, n;

	bv_id(id, sizeof(id), "appel2");
	n = bv_n(id, &w);
	bv_mode_set(BV_APPEL2, BV_BASE);
	for (int i = -w; i < n; i++) {
		uint64_t t0 = arch_cycles();
		if (bv.run)
			bv_run(BVX_PROTECT, 0, 100);
		else
			bv_prot(BV_BASE, 100, TRANSLATION_PROT_R);
		for (int j = 0; j < 100; j++)
			bv_write(BV_BASE + (uintptr_t)j * TRANSLATION_PAGE, 4);
		uint64_t t1 = arch_cycles();
		if (i >= 0)
			bv_samples[i] = (t1 - t0) / 100;
	}
	/* The pair's correction is per sample, not per page. */
	bench_report(id, bv_samples, n, pair / 100);
}

static void bv_dirty(uint64_t pair)
{
	char id[40];
	int w, n;
	unsigned state;

	bv_id(id, sizeof(id), "dirty");
	n = bv_n(id, &w);
	for (int i = -w; i < n; i++) {
		uint64_t t;

		if (bv.run) {
			int64_t r = bv_run(BVX_DIRTY, 0, 0);
			t = r > 0 ? (uint64_t)r : 0;
		} else {
			uint64_t t0 = arch_cycles();
			translation_dirty(bv.ctx, BV_BASE, &state);
			t = arch_cycles() - t0;
		}
		if (i >= 0)
			bv_samples[i] = t;
	}
	bench_report(id, bv_samples, n, pair);
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

/* Table 4 with whichever handler is installed.  inner: the correction of
 * the figures timed inside the extension (its empty mark pair), or the
 * timestamp pair for the native ones. */
static void bv_table4(uint64_t pair, uint64_t inner)
{
	bv_dirty(inner);
	bv_trap_or_fault("trap", true, pair);
	bv_trap_or_fault("fault", false, pair);
	bv_prot_n("prot1", 1, true, inner);
	bv_prot_n("prot100", 100, true, inner);
	bv_prot_n("unprot100", 100, false, inner);
	bv_appel1(pair);
	bv_appel2(pair);
}

/* Load vm_bench_ext against SpinPublic and the Bench domain, granted the
 * benchmark's context; NULL (and a message) if that fails. */
static struct ext *bv_load_ext(struct domain **bench_dom)
{
	const struct kext_image *im = kext_find("vm_bench_ext");
	struct domain *doms[2] = {domain_spin_public, NULL};
	const struct domain_sym *s;
	struct ext *x = NULL;
	uint64_t hctx = 0, hrange = 0;
	char err[160] = "";
	int rc;

	if (!im || !domain_spin_public) {
		kprintf("bench-vm: no vm_bench_ext image or no extension model\n");
		return NULL;
	}
	if ((rc = domain_create_from_interface(&iface_Bench, &bv_bench_module, bench_dom))) {
		kprintf("bench-vm: cannot make the Bench domain (%d)\n", rc);
		return NULL;
	}
	doms[1] = *bench_dom;
	if ((rc = translation_grant(bv.ctx, "vm_bench_ext")) ||
	    (rc = ext_load(im->data, (size_t)im->size, "vm_bench_ext", &bv_module, doms, 2, &x, err,
	                   sizeof(err)))) {
		kprintf("bench-vm: loading vm_bench_ext failed (%d): %s\n", rc, err);
		return NULL;
	}
	s = domain_lookup(ext_domain(x), "VMApp_Run");
	bv.run = s && s->sig ? (bv_export_fn)s->sig->fn : NULL;
	s = domain_lookup(ext_domain(x), "VMApp_Setup");
	/* It names the context and range by handles in its own capability
	 * space (docs/capabilities.md), never by the kernel's values. */
	if (!bv.run || !s || !s->sig || !s->sig->fn || ext_cap_give(x, bv.ctx, &hctx) ||
	    ext_cap_give(x, bv.range, &hrange) ||
	    ((bv_export_fn)s->sig->fn)(hctx, hrange, BV_BASE, 0, 0).status) {
		kprintf("bench-vm: vm_bench_ext exports no usable VMApp\n");
		bv.run = NULL;
		ext_unload(x, NULL, 0);
		return NULL;
	}
	return x;
}

void bench_vm_run(uint64_t pair)
{
	static struct rt_sig hsig; /* the binding points at it */
	struct dispatch_install_req req = {0};
	struct dispatch_binding *b = NULL;
	struct domain *bench_dom = NULL;
	struct translation_ctx *prev;
	struct ext *x;
	int err;
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
	/* Native: one unguarded handler of a trusted module, a direct call. */
	translation_native_sig((void *)bv_handler, false, false, &hsig);
	req.handler = (struct dispatch_proc){&hsig, NULL, &bv_module};
	if (!translation_event(TRANSLATION_PROTECTION_FAULT) ||
	    dispatch_install(translation_event(TRANSLATION_PROTECTION_FAULT), &req, &bv_module,
	                     &b)) {
		kprintf("bench-vm: cannot install the handler\n");
		return;
	}
	if (!dispatch_is_direct(translation_event(TRANSLATION_PROTECTION_FAULT)))
		kprintf("bench-vm: note: the native handler is not a direct call\n");
	arch_irq_disable();
	prev = translation_switch(bv.c);
	for (uint32_t j = 0; j < BV_PAGES; j++)
		bv_write(BV_BASE + j * TRANSLATION_PAGE, 1);

	bv.sfx = "kernel";
	bv_table4(pair, pair);
	bv_anon(pair);
	translation_switch(prev);
	if (irq)
		arch_irq_enable();
	dispatch_uninstall(b, &bv_module);

	/* The extension: its handler is guarded to this context. */
	x = bv_load_ext(&bench_dom);
	if (x) {
		arch_irq_disable();
		prev = translation_switch(bv.c);
		bv.sfx = "ext";
		bv_table4(pair, bv_ext_pair());
		translation_switch(prev);
		if (irq)
			arch_irq_enable();
		bv.run = NULL;
		ext_unload(x, NULL, 0);
	}
	if (bench_dom)
		domain_release(bench_dom);
	translation_revoke_grant(bv.ctx, "vm_bench_ext");
	translation_remove_mapping(bv.ctx, bv.range, 0, BV_PAGES);
	physaddr_free(bv.pages);
	translation_destroy(bv.ctx);
}
