/*
 * vm_test.c: PhysAddr, VirtAddr, Translation and the policies above them.
 *
 * Each test makes its own contexts (the kernel half is shared, so switching
 * CR3 to a test context keeps the kernel running) and touches supervisor
 * pages in the lower half.  Bodies that switch contexts are separate
 * functions, so a failed assertion still returns to the switch-back.
 */
#include <stdint.h>

#include <arch/cpu.h>
#include <arch/fault.h>
#include <arch/mmu.h>
#include <arch/pagetable.h>
#include <arch/percpu.h>
#include <arch/trap.h>

#include "kernel/clock.h"
#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/extref.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/kext.h"
#include "kernel/ktest.h"
#include "kernel/pmm.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/string.h"
#include "kernel/translation.h"
#include "kernel/vm_policy.h"
#include "spindle_interfaces.h"

#define PG    TRANSLATION_PAGE
#define VBASE 0x40000000ul

static volatile char *vt_p(uintptr_t va)
{
	return (volatile char *)va;
}

/* A context with one range at VBASE of n pages, mapped (RW) to a fresh
 * object when map is set. */
struct vt_env {
	cap_t ctx, range, pages;
	struct translation_ctx *c;
};

static int vt_env_make(struct vt_env *e, uint32_t n, bool map)
{
	int err = translation_create("test", &e->ctx);

	e->range = e->pages = CAP_NULL;
	if (err)
		return err;
	e->c = translation_get(e->ctx, NULL);
	if ((err = virtaddr_alloc(&e->c->space, VBASE, n * PG, &e->range)))
		return err;
	if (!map)
		return 0;
	if ((err = physaddr_alloc(n * PG, NULL, &e->pages)))
		return err;
	return translation_add_mapping(e->ctx, e->range, 0, e->pages, 0, n, TRANSLATION_PROT_RW);
}

/* Handlers are installed through the dispatcher by this trusted module, so
 * the memory module's authorizer lets them filter for themselves. */
static const struct module vt_module = {"vm_test", MODULE_TRUSTED | MODULE_PRIVILEGED};

/* Install a native fault handler (closure first) with an optional guard. */
static int vt_install(unsigned event, const struct rt_sig *h, void *closure, const struct rt_sig *g,
                      void *gclosure, struct dispatch_binding **out)
{
	struct dispatch_guard guard = {
	    .proc = {.sig = g, .ext = &vt_module}, .closure = gclosure, .has_closure = true};
	struct dispatch_install_req req = {
	    .handler = {.sig = h, .ext = &vt_module},
	    .guard = g ? &guard : NULL,
	    .closure = closure,
	    .options = DISPATCH_CLOSURE,
	};
	struct dispatch_event *ev = translation_event(event);

	return ev ? dispatch_install(ev, &req, &vt_module, out) : -ENOENT;
}

static void vt_env_free(struct vt_env *e)
{
	if (translation_current() == e->c)
		translation_switch(translation_kernel_ctx());
	translation_destroy(e->ctx);
	if (e->pages)
		physaddr_free(e->pages);
}

/* ---- PhysAddr ---- */

KTEST(physaddr_alloc_free_and_stale_caps)
{
	cap_t c, v;
	uint32_t np = 0, nm = 1;
	unsigned fl;
	struct pmm_frame fr;
	uint64_t pa;

	KT_ASSERT_EQ(physaddr_alloc(3 * PG, NULL, &c), 0);
	KT_ASSERT_EQ(physaddr_info(c, &np, &nm, &fl), 0);
	KT_ASSERT_EQ(np, 3);
	KT_ASSERT_EQ(nm, 0);
	KT_ASSERT_EQ(physaddr_page(c, 2, &pa), 0);
	KT_ASSERT_EQ(physaddr_page(c, 3, &pa), -ERANGE);
	KT_ASSERT_EQ(pmm_frame_info(pa, &fr), 0);
	KT_ASSERT_EQ(fr.owner, PHYSADDR_PMM_OWNER);
	KT_ASSERT_EQ(physaddr_free(c), 0);
	KT_ASSERT_EQ(physaddr_free(c), -ESTALE); /* double free */
	KT_ASSERT_EQ(physaddr_info(c, &np, NULL, NULL), -ESTALE);
	KT_ASSERT_EQ(physaddr_free(CAP_NULL), -EBADF);
	KT_ASSERT_EQ(physaddr_alloc(0, NULL, &c), -EINVAL);
	/* A capability of another type is refused as one. */
	KT_ASSERT_EQ(virtaddr_alloc(&translation_kernel_ctx()->space, VBASE, PG, &v), 0);
	KT_ASSERT_EQ(physaddr_free(v), -ECAPTYPE);
	KT_ASSERT_EQ(virtaddr_free(v), 0);
	KT_ASSERT_EQ(pmm_check(), 0);
}

KTEST(physaddr_attributes_contig_align_colour)
{
	struct physaddr_attr a = {.flags = PHYSADDR_CONTIG, .align_pages = 8};
	cap_t c;
	struct physaddr *p;

	KT_ASSERT_EQ(physaddr_alloc(8 * PG, &a, &c), 0);
	p = physaddr_get(c, NULL);
	KT_ASSERT(p != NULL);
	KT_ASSERT_EQ(p->pa[0] & (8 * PG - 1), 0);
	for (int i = 1; i < 8; i++)
		KT_ASSERT_EQ(p->pa[i], p->pa[0] + (uint64_t)i * PG);
	KT_ASSERT_EQ(physaddr_free(c), 0);

	a = (struct physaddr_attr){.flags = PHYSADDR_COLOUR, .colour = 5};
	KT_ASSERT_EQ(physaddr_alloc(3 * PG, &a, &c), 0);
	p = physaddr_get(c, NULL);
	for (int i = 0; i < 3; i++)
		KT_ASSERT_EQ(physaddr_colour_of(p->pa[i]), 5 + i);
	KT_ASSERT_EQ(physaddr_free(c), 0);

	a = (struct physaddr_attr){.flags = PHYSADDR_COLOUR | PHYSADDR_CONTIG, .colour = 13};
	KT_ASSERT_EQ(physaddr_alloc(4 * PG, &a, &c), 0);
	p = physaddr_get(c, NULL);
	KT_ASSERT_EQ(physaddr_colour_of(p->pa[0]), 13);
	KT_ASSERT_EQ(p->pa[3], p->pa[0] + 3 * PG);
	KT_ASSERT_EQ(physaddr_free(c), 0);

	a = (struct physaddr_attr){.flags = PHYSADDR_CONTIG | PHYSADDR_BELOW_4G, .align_pages = 1};
	KT_ASSERT_EQ(physaddr_alloc(2 * PG, &a, &c), 0);
	KT_ASSERT(physaddr_get(c, NULL)->pa[1] < (1ull << 32));
	KT_ASSERT_EQ(physaddr_free(c), 0);

	/* Bad attributes: a clear error and nothing allocated. */
	a = (struct physaddr_attr){.flags = PHYSADDR_CONTIG, .align_pages = 3};
	KT_ASSERT_EQ(physaddr_alloc(PG, &a, &c), -EINVAL);
	a = (struct physaddr_attr){.flags = PHYSADDR_COLOUR, .colour = PHYSADDR_NCOLOURS};
	KT_ASSERT_EQ(physaddr_alloc(PG, &a, &c), -EINVAL);
	a = (struct physaddr_attr){.flags = 0, .align_pages = 4};
	KT_ASSERT_EQ(physaddr_alloc(PG, &a, &c), -EINVAL);
	a = (struct physaddr_attr){.flags = 0x100};
	KT_ASSERT_EQ(physaddr_alloc(PG, &a, &c), -EINVAL);
	KT_ASSERT_EQ(pmm_check(), 0);
}

/* ---- VirtAddr ---- */

KTEST(virtaddr_ranges_and_bad_input)
{
	struct vt_env e;
	cap_t a, b, c, d;
	uintptr_t start;
	size_t len;
	void *ctx;

	KT_ASSERT_EQ(vt_env_make(&e, 4, false), 0);
	struct virtaddr_space *s = &e.c->space;

	KT_ASSERT_EQ(virtaddr_alloc(s, VBASE + 2 * PG, PG, &a), -EEXIST);  /* overlap */
	KT_ASSERT_EQ(virtaddr_alloc(s, VBASE - PG, 2 * PG, &a), -EEXIST);  /* overlap below */
	KT_ASSERT_EQ(virtaddr_alloc(s, VBASE + 1, PG, &a), -EINVAL);       /* unaligned */
	KT_ASSERT_EQ(virtaddr_alloc(s, VBASE + 4 * PG, 100, &a), -EINVAL); /* unaligned size */
	KT_ASSERT_EQ(virtaddr_alloc(s, VBASE + 4 * PG, 0, &a), -EINVAL);
	KT_ASSERT_EQ(virtaddr_alloc(s, PAGETABLE_USER_TOP, PG, &a), -ERANGE); /* kernel half */
	KT_ASSERT_EQ(virtaddr_alloc(s, PAGETABLE_USER_TOP - PG, 2 * PG, &a), -ERANGE);
	KT_ASSERT_EQ(virtaddr_alloc(s, VBASE + 4 * PG, PG, &a), 0); /* adjacent is fine */
	KT_ASSERT_EQ(virtaddr_alloc(s, 0, 2 * PG, &b), 0);          /* anywhere: first fit */
	KT_ASSERT_EQ(virtaddr_info(b, &start, &len, &ctx), 0);
	KT_ASSERT_EQ(start, PG);
	KT_ASSERT_EQ(len, 2 * PG);
	KT_ASSERT(ctx == e.c);
	KT_ASSERT_EQ(virtaddr_alloc(s, 0, PG, &c), 0);
	KT_ASSERT_EQ(virtaddr_info(c, &start, NULL, NULL), 0);
	KT_ASSERT_EQ(start, 3 * PG);
	KT_ASSERT(virtaddr_find(s, VBASE + 4 * PG + 10) == virtaddr_get(a, NULL));
	KT_ASSERT(virtaddr_find(s, VBASE + 5 * PG) == NULL);
	KT_ASSERT_EQ(virtaddr_free(b), 0);
	KT_ASSERT_EQ(virtaddr_free(b), -ESTALE);
	KT_ASSERT_EQ(virtaddr_alloc(s, 0, PG, &d), 0); /* the hole is reused */
	KT_ASSERT_EQ(virtaddr_info(d, &start, NULL, NULL), 0);
	KT_ASSERT_EQ(start, PG);
	vt_env_free(&e);
	/* Destroying the context revoked every range it had. */
	KT_ASSERT_EQ(virtaddr_free(a), -ESTALE);
	KT_ASSERT_EQ(virtaddr_free(d), -ESTALE);
}

/* ---- Translation: mappings ---- */

static void vt_map_body(struct ktest_ctx *kt, struct vt_env *e, cap_t other_range)
{
	unsigned prot;
	cap_t pc;
	uint32_t page;
	cap_t extra;
	struct physaddr *p = physaddr_get(e->pages, NULL);

	KT_ASSERT_EQ(translation_examine_mapping(e->ctx, VBASE + PG, &prot, &pc, &page), 0);
	KT_ASSERT_EQ(prot, TRANSLATION_PROT_RW);
	KT_ASSERT_EQ(pc, e->pages);
	KT_ASSERT_EQ(page, 1);
	/* Through the mapping and through the direct map: the same frame. */
	translation_switch(e->c);
	*vt_p(VBASE + PG + 7) = 0x5a;
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(((volatile char *)pagetable_phys_to_virt(p->pa[1]))[7], 0x5a);

	/* Bad input: clear errors, no change. */
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, e->range, 0, e->pages, 0, 1, TRANSLATION_PROT_RW),
	    -EEXIST);
	KT_ASSERT_EQ(translation_add_mapping(e->ctx, e->range, 0, e->pages, 0, 1,
	                                     TRANSLATION_PROT_W | TRANSLATION_PROT_X),
	             -EINVAL);
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, e->range, 5, e->pages, 0, 1, TRANSLATION_PROT_R),
	    -EINVAL);
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, e->range, 4 * PG, e->pages, 0, 1, TRANSLATION_PROT_R),
	    -ERANGE);
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, other_range, 0, e->pages, 0, 1, TRANSLATION_PROT_R),
	    -EPERM); /* a range of another context */
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &extra), 0);
	KT_ASSERT_EQ(translation_remove_mapping(e->ctx, e->range, 3 * PG, 1), 1);
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, e->range, 3 * PG, extra, 1, 1, TRANSLATION_PROT_R),
	    -ERANGE); /* page 1 of a 1-page object */
	KT_ASSERT_EQ(physaddr_free(extra), 0);
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, e->range, 3 * PG, extra, 0, 1, TRANSLATION_PROT_R),
	    -ESTALE); /* a page one does not own (any more) */
	KT_ASSERT_EQ(translation_examine_mapping(e->ctx, VBASE + 3 * PG, &prot, NULL, NULL),
	             -ENOENT);
	/* A mapped object cannot be freed, a range with mappings neither. */
	KT_ASSERT_EQ(physaddr_free(e->pages), -EBUSY);
	KT_ASSERT_EQ(virtaddr_free(e->range), -EBUSY);
	KT_ASSERT_EQ(translation_remove_mapping(e->ctx, e->range, 0, 4), 3);
	KT_ASSERT_EQ(translation_remove_mapping(e->ctx, e->range, 0, 4), 0);
	KT_ASSERT_EQ(physaddr_info(e->pages, NULL, &page, NULL), 0);
	KT_ASSERT_EQ(page, 0); /* the reverse map is empty */
	KT_ASSERT_EQ(virtaddr_free(e->range), 0);
	KT_ASSERT_EQ(translation_destroy(translation_kernel_ctx()->cap), -EPERM);
}

KTEST(translation_add_examine_remove_and_errors)
{
	struct vt_env e, o;

	KT_ASSERT_EQ(vt_env_make(&e, 4, true), 0);
	KT_ASSERT_EQ(vt_env_make(&o, 1, false), 0);
	vt_map_body(kt, &e, o.range);
	translation_switch(translation_kernel_ctx());
	vt_env_free(&o);
	vt_env_free(&e);
	KT_ASSERT_EQ(pmm_check(), 0);
	KT_ASSERT_EQ(heap_check(), 0);
}

KTEST(translation_destroy_rules)
{
	struct vt_env e;
	cap_t ctx;

	KT_ASSERT_EQ(vt_env_make(&e, 2, true), 0);
	ctx = e.ctx;
	translation_switch(e.c);
	KT_ASSERT_EQ(translation_destroy(ctx), -EBUSY); /* loaded */
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(translation_destroy(ctx), 0); /* mappings and ranges go with it */
	KT_ASSERT_EQ(translation_destroy(ctx), -ESTALE);
	KT_ASSERT_EQ(virtaddr_free(e.range), -ESTALE);
	KT_ASSERT_EQ(physaddr_free(e.pages), 0); /* unmapped by the destroy */
}

/* ---- fault events ---- */

struct vt_rec {
	int calls;
	struct translation_fault last;
	bool args_ok;   /* the event's arguments agreed with the fault record */
	cap_t map_with; /* PageNotPresent: map this page */
	bool resolve;
};

static uint64_t vt_record(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	struct vt_rec *r = (struct vt_rec *)(uintptr_t)closure;
	const struct translation_fault *f = translation_fault_info();

	r->calls++;
	r->args_ok = f && ctx == f->ctx->cap && va == f->va && access == f->access && pc == f->pc;
	if (!f)
		return 0;
	r->last = *f;
	if (!r->resolve)
		return 0;
	if (f->event == TRANSLATION_PAGE_NOT_PRESENT)
		return translation_map_page(f->ctx, f->va & ~(PG - 1), r->map_with, 0,
		                            TRANSLATION_PROT_RW) == 0;
	if (f->event == TRANSLATION_PROTECTION_FAULT)
		return translation_protect(f->ctx, f->va & ~(PG - 1), 1, TRANSLATION_PROT_RW) == 0;
	return 0;
}

static uint64_t vt_never(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	(void)closure, (void)ctx, (void)va, (void)access, (void)pc;
	return 0;
}

/* A guard: the fault is in the context whose capability is the closure. */
static uint64_t vt_in_ctx(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	(void)va, (void)access, (void)pc;
	return ctx == closure;
}

static struct rt_sig vt_sig_record, vt_sig_never, vt_sig_in_ctx;

static void vt_sigs(void)
{
	translation_native_sig((void *)vt_record, true, false, &vt_sig_record);
	translation_native_sig((void *)vt_never, true, true, &vt_sig_never);
	translation_native_sig((void *)vt_in_ctx, true, true, &vt_sig_in_ctx);
}

static void vt_events_body(struct ktest_ctx *kt, struct vt_env *e, struct vt_rec *np,
                           struct vt_rec *pf, struct vt_rec *bad, struct vt_rec *skipped)
{
	struct fault_catch fc = {.vector = TRAP_PF};

	translation_switch(e->c);
	/* PageNotPresent: the handler maps a page and the read restarts. */
	KT_ASSERT_EQ(*vt_p(VBASE + 2 * PG + 1), 0x11);
	KT_ASSERT_EQ(np->calls, 1);
	KT_ASSERT(np->args_ok);
	KT_ASSERT(np->last.ctx == e->c);
	KT_ASSERT_EQ(np->last.va, VBASE + 2 * PG + 1);
	KT_ASSERT_EQ(np->last.access & 0xf, TRANSLATION_ACCESS_READ);
	KT_ASSERT(np->last.range == virtaddr_get(e->range, NULL));
	KT_ASSERT_EQ(skipped->calls, 0); /* guard said no */

	/* ProtectionFault: write to a read-only page. */
	KT_ASSERT_EQ(translation_change_mapping(e->ctx, e->range, 0, 1, TRANSLATION_PROT_R), 0);
	*vt_p(VBASE + 3) = 1;
	KT_ASSERT_EQ(pf->calls, 1);
	KT_ASSERT(pf->args_ok);
	KT_ASSERT_EQ(pf->last.access & TRANSLATION_ACCESS_WRITE, TRANSLATION_ACCESS_WRITE);
	KT_ASSERT(pf->last.access & TRANSLATION_ACCESS_PRESENT);
	KT_ASSERT_EQ(*vt_p(VBASE + 3), 1);

	/* No access at all (prot 0): a protection fault too, even on a read. */
	KT_ASSERT_EQ(translation_change_mapping(e->ctx, e->range, PG, 1, 0), 0);
	(void)*vt_p(VBASE + PG);
	KT_ASSERT_EQ(pf->calls, 2);
	KT_ASSERT_EQ(pf->last.va, VBASE + PG);

	/* BadAddress, unhandled: back to the trap path (here, the catch). */
	if (fault_catch_arm(&fc) == 0) {
		*vt_p(0x7000000000ul) = 1;
		fault_catch_disarm(&fc);
		KT_FAIL("no fault");
	}
	KT_ASSERT_EQ(fc.caught_vector, TRAP_PF);
	KT_ASSERT_EQ(fc.addr, 0x7000000000ul);
	KT_ASSERT_EQ(bad->calls, 1);
	KT_ASSERT(bad->args_ok);
	KT_ASSERT(bad->last.range == NULL);
	KT_ASSERT_EQ(bad->last.event, TRANSLATION_BAD_ADDRESS);
}

KTEST(translation_fault_events)
{
	struct vt_env e;
	struct vt_rec np = {.resolve = true}, pf = {.resolve = true}, bad = {0}, skipped = {0};
	struct dispatch_binding *h[4] = {0};
	uint32_t n0[TRANSLATION_NEVENTS];
	cap_t page;
	struct translation_stats before, after;
	void *ectx;

	KT_ASSERT_EQ(vt_env_make(&e, 4, true), 0);
	ectx = (void *)(uintptr_t)e.ctx;
	KT_ASSERT_EQ(translation_remove_mapping(e.ctx, e.range, 2 * PG, 1), 1);
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &page), 0);
	((volatile char *)pagetable_phys_to_virt(physaddr_get(page, NULL)->pa[0]))[1] = 0x11;
	np.map_with = page;
	vt_sigs();
	for (unsigned i = 0; i < TRANSLATION_NEVENTS; i++)
		n0[i] = dispatch_handler_count(translation_event(i));
	KT_ASSERT_EQ(vt_install(TRANSLATION_PAGE_NOT_PRESENT, &vt_sig_record, &skipped,
	                        &vt_sig_never, NULL, &h[0]),
	             0);
	KT_ASSERT_EQ(vt_install(TRANSLATION_PAGE_NOT_PRESENT, &vt_sig_record, &np, &vt_sig_in_ctx,
	                        ectx, &h[1]),
	             0);
	KT_ASSERT_EQ(vt_install(TRANSLATION_PROTECTION_FAULT, &vt_sig_record, &pf, &vt_sig_in_ctx,
	                        ectx, &h[2]),
	             0);
	KT_ASSERT_EQ(
	    vt_install(TRANSLATION_BAD_ADDRESS, &vt_sig_record, &bad, &vt_sig_in_ctx, ectx, &h[3]),
	    0);
	KT_ASSERT(translation_event(99) == NULL);
	/* A guard not declared side-effect free is refused by the dispatcher. */
	struct dispatch_binding *impure = NULL;
	KT_ASSERT_EQ(vt_install(TRANSLATION_BAD_ADDRESS, &vt_sig_record, &bad, &vt_sig_record, ectx,
	                        &impure),
	             -EIMPURE);
	KT_ASSERT(impure == NULL);
	translation_get_stats(&before);

	vt_events_body(kt, &e, &np, &pf, &bad, &skipped);
	translation_switch(translation_kernel_ctx());

	translation_get_stats(&after);
	for (int i = 0; i < 4; i++)
		KT_ASSERT_EQ(dispatch_uninstall(h[i], &vt_module), 0);
	for (unsigned i = 0; i < TRANSLATION_NEVENTS; i++)
		KT_ASSERT_EQ(dispatch_handler_count(translation_event(i)), n0[i]);
	KT_ASSERT(after.faults[TRANSLATION_PAGE_NOT_PRESENT] >
	          before.faults[TRANSLATION_PAGE_NOT_PRESENT]);
	KT_ASSERT(after.unhandled > before.unhandled);
	KT_ASSERT_EQ(translation_remove_mapping(e.ctx, e.range, 2 * PG, 1), 1);
	KT_ASSERT_EQ(physaddr_free(page), 0);
	vt_env_free(&e);
}

/* A context's policy gets what no handler resolved. */
static bool vt_policy(void *closure, const struct translation_fault *f)
{
	struct vt_rec *r = closure;

	r->calls++;
	r->last = *f;
	return translation_protect(f->ctx, f->va & ~(PG - 1), 1, TRANSLATION_PROT_RW) == 0;
}

static void vt_policy_body(struct ktest_ctx *kt, struct vt_env *e, struct vt_rec *r)
{
	translation_switch(e->c);
	*vt_p(VBASE) = 9;
	KT_ASSERT_EQ(r->calls, 1);
	KT_ASSERT_EQ(r->last.event, TRANSLATION_PROTECTION_FAULT);
}

KTEST(translation_unhandled_goes_to_context_policy)
{
	struct vt_env e;
	struct vt_rec r = {0};

	KT_ASSERT_EQ(vt_env_make(&e, 1, true), 0);
	translation_set_policy(e.c, vt_policy, &r);
	KT_ASSERT_EQ(translation_change_mapping(e.ctx, e.range, 0, 1, TRANSLATION_PROT_R), 0);
	vt_policy_body(kt, &e, &r);
	translation_switch(translation_kernel_ctx());
	vt_env_free(&e);
}

/* The kernel's own context: a NULL dereference is a BadAddress nobody
 * handles, so the trap path still gets it (caught here, fatal otherwise). */
KTEST(translation_kernel_fault_still_reaches_trap_path)
{
	struct fault_catch fc = {.vector = TRAP_PF};
	struct translation_stats a, b;
	static volatile uintptr_t null_ptr = 8;

	translation_get_stats(&a);
	if (fault_catch_arm(&fc) == 0) {
		(void)*(volatile int *)null_ptr;
		fault_catch_disarm(&fc);
		KT_FAIL("no fault");
	}
	translation_get_stats(&b);
	KT_ASSERT_EQ(fc.addr, 8);
	KT_ASSERT_EQ(b.faults[TRANSLATION_BAD_ADDRESS], a.faults[TRANSLATION_BAD_ADDRESS] + 1);
}

/* ---- TLB discipline ---- */

static int vt_tlb_faults;
static uint64_t vt_tlb_handler(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access,
                               uint64_t pc)
{
	const struct translation_fault *f = translation_fault_info();

	(void)closure, (void)ctx, (void)va, (void)access, (void)pc;
	vt_tlb_faults++;
	return translation_protect(f->ctx, f->va & ~(PG - 1), 1, TRANSLATION_PROT_RW) == 0;
}

static void vt_tlb_body(struct ktest_ctx *kt, struct vt_env *e, uint32_t n)
{
	translation_switch(e->c);
	/* Fill the TLB with writable entries, then take write away. */
	for (uint32_t i = 0; i < n; i++)
		*vt_p(VBASE + i * PG) = 1;
	vt_tlb_faults = 0;
	KT_ASSERT_EQ(translation_change_mapping(e->ctx, e->range, 0, n, TRANSLATION_PROT_R), 0);
	for (uint32_t i = 0; i < n; i++)
		*vt_p(VBASE + i * PG) = 2;
	KT_ASSERT_EQ(vt_tlb_faults, n); /* no stale writable entry survived */
	/* Unmapping too. */
	KT_ASSERT_EQ(translation_remove_mapping(e->ctx, e->range, 0, 1), 1);
	KT_ASSERT(!mmu_readable(VBASE, 1));
}

KTEST(translation_tlb_page_and_range_invalidation)
{
	/* 8 pages: an invlpg each; 48 (> PAGETABLE_FLUSH_THRESHOLD): a full flush. */
	uint32_t sizes[2] = {8, 48};

	static struct rt_sig hs;

	vt_sigs();
	translation_native_sig((void *)vt_tlb_handler, true, false, &hs);
	for (int k = 0; k < 2; k++) {
		struct vt_env e;
		struct dispatch_binding *h;

		KT_ASSERT_EQ(vt_env_make(&e, sizes[k], true), 0);
		KT_ASSERT_EQ(vt_install(TRANSLATION_PROTECTION_FAULT, &hs, NULL, &vt_sig_in_ctx,
		                        (void *)(uintptr_t)e.ctx, &h),
		             0);
		vt_tlb_body(kt, &e, sizes[k]);
		translation_switch(translation_kernel_ctx());
		dispatch_uninstall(h, &vt_module);
		vt_env_free(&e);
		if (kt->failed)
			return;
	}
}

/* Changes to a context that is not loaded are deferred to its next load,
 * and its faults are raised with it as the context. */
static void vt_notcur_body(struct ktest_ctx *kt, struct vt_env *a, struct vt_env *b,
                           struct vt_rec *r)
{
	translation_switch(a->c);
	*vt_p(VBASE) = 1; /* a's entry is in the TLB */
	translation_switch(b->c);
	*vt_p(VBASE) = 2; /* b's own page at the same address */
	KT_ASSERT_EQ(translation_change_mapping(a->ctx, a->range, 0, 1, TRANSLATION_PROT_R), 0);
	KT_ASSERT(a->c->pt.stale);
	*vt_p(VBASE) = 3; /* b is unaffected */
	KT_ASSERT_EQ(r->calls, 0);
	translation_switch(a->c);
	KT_ASSERT_EQ(*vt_p(VBASE), 1);
	*vt_p(VBASE) = 4; /* faults in a */
	KT_ASSERT_EQ(r->calls, 1);
	KT_ASSERT(r->last.ctx == a->c);
	translation_switch(b->c);
	KT_ASSERT_EQ(*vt_p(VBASE), 3);
}

KTEST(translation_faults_in_context_not_current)
{
	struct vt_env a, b;
	struct vt_rec r = {.resolve = true};
	struct dispatch_binding *h;

	KT_ASSERT_EQ(vt_env_make(&a, 1, true), 0);
	KT_ASSERT_EQ(vt_env_make(&b, 1, true), 0);
	vt_sigs();
	KT_ASSERT_EQ(vt_install(TRANSLATION_PROTECTION_FAULT, &vt_sig_record, &r, NULL, NULL, &h),
	             0);
	vt_notcur_body(kt, &a, &b, &r);
	translation_switch(translation_kernel_ctx());
	dispatch_uninstall(h, &vt_module);
	vt_env_free(&a);
	vt_env_free(&b);
}

/* ---- Dirty ---- */

static void vt_dirty_body(struct ktest_ctx *kt, struct vt_env *e)
{
	unsigned st;

	translation_switch(e->c);
	KT_ASSERT_EQ(
	    translation_clear_state(e->ctx, VBASE, TRANSLATION_DIRTY | TRANSLATION_ACCESSED), 0);
	KT_ASSERT_EQ(translation_dirty(e->ctx, VBASE, &st), 0);
	KT_ASSERT_EQ(st, 0);
	(void)*vt_p(VBASE);
	KT_ASSERT_EQ(translation_dirty(e->ctx, VBASE, &st), 0);
	KT_ASSERT_EQ(st, TRANSLATION_ACCESSED);
	*vt_p(VBASE) = 1;
	KT_ASSERT_EQ(translation_dirty(e->ctx, VBASE, &st), 0);
	KT_ASSERT_EQ(st, TRANSLATION_ACCESSED | TRANSLATION_DIRTY);
	KT_ASSERT_EQ(translation_dirty(e->ctx, VBASE + PG, &st), -ENOENT);
	KT_ASSERT_EQ(translation_clear_state(e->ctx, VBASE + 1, TRANSLATION_DIRTY), -EINVAL);
}

KTEST(translation_dirty_and_accessed)
{
	struct vt_env e;

	KT_ASSERT_EQ(vt_env_make(&e, 2, true), 0);
	KT_ASSERT_EQ(translation_remove_mapping(e.ctx, e.range, PG, 1), 1);
	vt_dirty_body(kt, &e);
	translation_switch(translation_kernel_ctx());
	vt_env_free(&e);
}

/* ---- user pages and SMAP ---- */

static void vt_user_body(struct ktest_ctx *kt, struct vt_env *e)
{
	struct fault_catch fc = {.vector = TRAP_PF};

	translation_switch(e->c);
	pagetable_user_access_begin();
	*vt_p(VBASE) = 7;
	pagetable_user_access_end();
	if (!(arch_cpu_features() & ARCH_FEAT_SMAP))
		return;
	/* Without stac, a supervisor access to a user page is refused. */
	if (fault_catch_arm(&fc) == 0) {
		(void)*vt_p(VBASE);
		fault_catch_disarm(&fc);
		KT_FAIL("SMAP did not stop the access");
	}
	KT_ASSERT_EQ(fc.error & 1, 1); /* a protection fault on a present page */
}

KTEST(translation_user_pages_respect_smap)
{
	struct vt_env e;
	unsigned prot;

	KT_ASSERT_EQ(vt_env_make(&e, 1, false), 0);
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &e.pages), 0);
	KT_ASSERT_EQ(translation_add_mapping(e.ctx, e.range, 0, e.pages, 0, 1,
	                                     TRANSLATION_PROT_RW | TRANSLATION_PROT_U),
	             0);
	KT_ASSERT_EQ(translation_examine_mapping(e.ctx, VBASE, &prot, NULL, NULL), 0);
	KT_ASSERT_EQ(prot, TRANSLATION_PROT_RW | TRANSLATION_PROT_U);
	vt_user_body(kt, &e);
	translation_switch(translation_kernel_ctx());
	vt_env_free(&e);
}

/* ---- Reclaim under pressure ---- */

#define VT_MAXCAPS 8192
/* 64 KiB: from the heap for the test's duration, not static in .bss (the
 * kernel image would carry it on every boot). */
static cap_t *vt_hog;
static cap_t vt_rec_caps[32];
static int vt_reclaim_calls;
static cap_t vt_nominee;

static uint64_t vt_reclaim_handler(uint64_t candidate)
{
	cap_t n = vt_nominee;

	vt_reclaim_calls++;
	vt_nominee = CAP_NULL; /* nominate once, then agree */
	return n ? n : candidate;
}

/* Take every page there is in non-reclaimable objects (big contiguous
 * runs first, then scattered frames); returns how many objects. */
static int vt_hog_all(int from)
{
	static const size_t sizes[] = {1024 * PG, 256 * PG, 16 * PG, PG};
	int n = from;

	for (unsigned s = 0; s < 4; s++) {
		struct physaddr_attr a = {.flags = s == 0 ? PHYSADDR_CONTIG : 0};

		while (n < VT_MAXCAPS && physaddr_alloc(sizes[s], &a, &vt_hog[n]) == 0)
			n++;
	}
	return n;
}

static void vt_reclaim_body(struct ktest_ctx *kt, struct vt_env *e, int *nhog)
{
	struct physaddr_stats st0, st1;
	struct pmm_stats ps;
	cap_t c;
	unsigned prot;
	int n;

	/* Exhausted, and nothing reclaimable: a clean -ENOMEM, no panic. */
	n = vt_hog_all(0);
	*nhog = n;
	if (!(n > 0 && n < VT_MAXCAPS))
		KT_FAIL("hogging memory took %d objects", n);
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &c), -ENOMEM);
	pmm_get_stats(&ps);
	KT_ASSERT(ps.free_pages < 64);

	/* Give back one big chunk; 32 reclaimable pages go there, two mapped. */
	KT_ASSERT_EQ(physaddr_free(vt_hog[0]), 0);
	vt_hog[0] = vt_hog[--n];
	*nhog = n;
	for (int i = 0; i < 32; i++)
		KT_ASSERT_EQ(physaddr_alloc(PG,
		                            &(struct physaddr_attr){.flags = PHYSADDR_RECLAIMABLE},
		                            &vt_rec_caps[i]),
		             0);
	KT_ASSERT_EQ(
	    translation_add_mapping(e->ctx, e->range, 0, vt_rec_caps[0], 0, 1, TRANSLATION_PROT_RW),
	    0);
	KT_ASSERT_EQ(translation_add_mapping(e->ctx, e->range, PG, vt_rec_caps[31], 0, 1,
	                                     TRANSLATION_PROT_RW),
	             0);
	translation_switch(e->c);
	*vt_p(VBASE) = 1; /* cached in the TLB */
	*vt_p(VBASE + PG) = 1;

	/* Pressure: the first victim is nominated (31, the newest, mapped),
	 * the rest are the FIFO's candidates (0 first, also mapped). */
	physaddr_get_stats(&st0);
	vt_nominee = vt_rec_caps[31];
	n = vt_hog_all(n);
	*nhog = n;
	physaddr_get_stats(&st1);
	KT_ASSERT(vt_reclaim_calls >= 2);
	KT_ASSERT_EQ(st1.nominated, st0.nominated + 1);
	KT_ASSERT_EQ(st1.reclaimable, 0);
	KT_ASSERT_EQ(physaddr_free(vt_rec_caps[31]), -ESTALE);
	KT_ASSERT_EQ(physaddr_free(vt_rec_caps[0]), -ESTALE);
	/* Their mappings were invalidated, TLB included. */
	KT_ASSERT_EQ(translation_examine_mapping(e->ctx, VBASE, &prot, NULL, NULL), -ENOENT);
	KT_ASSERT_EQ(translation_examine_mapping(e->ctx, VBASE + PG, &prot, NULL, NULL), -ENOENT);
	KT_ASSERT(!mmu_readable(VBASE, 1));
	KT_ASSERT_EQ(virtaddr_get(e->range, NULL)->nmapped, 0);
}

KTEST(physaddr_reclaim_under_pressure_nominates_and_invalidates)
{
	struct vt_env e;
	static struct rt_sig hs;
	struct dispatch_install_req req = {.handler = {.sig = &hs, .ext = &vt_module}};
	struct dispatch_binding *h;
	int n = 0;
	bool irq = arch_irq_enabled();

	KT_ASSERT_EQ(vt_env_make(&e, 2, false), 0);
	hs = PhysAddr_Reclaim_sig;
	hs.fn = (void *)vt_reclaim_handler;
	KT_ASSERT(PhysAddr_Reclaim_event != NULL);
	KT_ASSERT_EQ(dispatch_install(PhysAddr_Reclaim_event, &req, &vt_module, &h), 0);
	KT_ASSERT(dispatch_is_direct(PhysAddr_Reclaim_event)); /* one native handler */
	vt_reclaim_calls = 0;
	vt_hog = kmalloc(VT_MAXCAPS * sizeof(*vt_hog)); /* before memory runs out */
	if (vt_hog) {
		/* Nothing else should allocate while memory is gone. */
		arch_irq_disable();
		vt_reclaim_body(kt, &e, &n);
		translation_switch(translation_kernel_ctx());
		for (int i = 0; i < n; i++)
			physaddr_free(vt_hog[i]);
		for (int i = 0; i < 32; i++)
			physaddr_free(vt_rec_caps[i]); /* the survivors, if the test failed early */
		if (irq)
			arch_irq_enable();
		kfree(vt_hog);
		vt_hog = NULL;
	} else {
		/* Recorded without returning: the cleanup below still runs. */
		ktest_fail(kt, __FILE__, __LINE__, "no heap for %d capabilities", VT_MAXCAPS);
	}
	dispatch_uninstall(h, &vt_module);
	vt_env_free(&e);
	KT_ASSERT_EQ(pmm_check(), 0);
	KT_ASSERT_EQ(heap_check(), 0);
}

/* ---- policies ---- */

static void vt_anon_body(struct ktest_ctx *kt, struct vt_env *e, struct vm_region *r)
{
	translation_switch(e->c);
	for (int i = 0; i < 8; i++)
		KT_ASSERT_EQ(*vt_p(VBASE + (uintptr_t)i * PG + 100), 0); /* zero filled */
	*vt_p(VBASE + 5) = 42;
	KT_ASSERT_EQ(*vt_p(VBASE + 5), 42);
	KT_ASSERT_EQ(vm_region_faults(r), 8);
}

KTEST(vm_policy_demand_zero)
{
	struct vt_env e;
	struct vm_region *r;
	struct physaddr_stats a, b;

	KT_ASSERT_EQ(vt_env_make(&e, 8, false), 0);
	KT_ASSERT_EQ(vm_anon_attach(e.c, e.range, TRANSLATION_PROT_RW, &r), 0);
	physaddr_get_stats(&a);
	vt_anon_body(kt, &e, r);
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(vm_region_detach(r), 0);
	physaddr_get_stats(&b);
	KT_ASSERT_EQ(b.objects, a.objects); /* every zero page freed */
	vt_env_free(&e);
}

static void vt_cow_body(struct ktest_ctx *kt, struct vt_env *a, struct translation_ctx *bc,
                        struct vm_region *sa, struct vm_region *db)
{
	/* The copy sees the original's data. */
	translation_switch(bc);
	KT_ASSERT_EQ(*vt_p(VBASE + 10), 'A');
	KT_ASSERT_EQ(*vt_p(VBASE + PG + 10), 'B');
	/* A write in the copy copies the page; the original keeps its data. */
	*vt_p(VBASE + 10) = 'x';
	KT_ASSERT_EQ(vm_region_faults(db), 1);
	translation_switch(a->c);
	KT_ASSERT_EQ(*vt_p(VBASE + 10), 'A');
	/* The original's page 0 is now alone: write access comes back, no copy. */
	*vt_p(VBASE + 10) = 'y';
	KT_ASSERT_EQ(vm_region_faults(sa), 1);
	/* Page 1 is still shared: the original's write copies it. */
	*vt_p(VBASE + PG + 10) = 'z';
	KT_ASSERT_EQ(vm_region_faults(sa), 2);
	translation_switch(bc);
	KT_ASSERT_EQ(*vt_p(VBASE + 10), 'x');
	KT_ASSERT_EQ(*vt_p(VBASE + PG + 10), 'B');
	KT_ASSERT_EQ(*vt_p(VBASE + 2 * PG + 10), 0); /* never mapped: demand zero */
}

KTEST(vm_policy_copy_on_write)
{
	struct vt_env a;
	struct vm_region *ra, *sa, *db;
	cap_t bctx, brange;
	struct translation_ctx *bc;
	struct physaddr_stats s0, s1;

	physaddr_get_stats(&s0);
	KT_ASSERT_EQ(vt_env_make(&a, 3, false), 0);
	KT_ASSERT_EQ(vm_anon_attach(a.c, a.range, TRANSLATION_PROT_RW, &ra), 0);
	translation_switch(a.c);
	*vt_p(VBASE + 10) = 'A';
	*vt_p(VBASE + PG + 10) = 'B';
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(translation_create("cow", &bctx), 0);
	bc = translation_get(bctx, NULL);
	KT_ASSERT_EQ(vm_cow_duplicate(a.c, a.range, bc, TRANSLATION_PROT_RW, &brange, &sa, &db), 0);
	vt_cow_body(kt, &a, bc, sa, db);
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(vm_region_detach(db), 0);
	KT_ASSERT_EQ(vm_region_detach(sa), 0);
	KT_ASSERT_EQ(vm_region_detach(ra), 0);
	KT_ASSERT_EQ(translation_destroy(bctx), 0);
	vt_env_free(&a);
	physaddr_get_stats(&s1);
	KT_ASSERT_EQ(s1.objects, s0.objects); /* every copied and original page freed */
}

static cap_t vt_pager_pages;
static int vt_pager_calls;

static int vt_pager(void *closure, struct translation_ctx *ctx, uintptr_t va, cap_t *p,
                    uint32_t *page, unsigned *prot)
{
	(void)closure;
	(void)ctx;
	vt_pager_calls++;
	*p = vt_pager_pages;
	*page = (uint32_t)((va - VBASE) / PG);
	*prot = TRANSLATION_PROT_R;
	return 0;
}

static void vt_pager_body(struct ktest_ctx *kt, struct vt_env *e)
{
	translation_switch(e->c);
	KT_ASSERT_EQ(*vt_p(VBASE + 3 * PG), 'p' + 3);
	KT_ASSERT_EQ(*vt_p(VBASE), 'p');
	KT_ASSERT_EQ(*vt_p(VBASE + 4), 'p');
	KT_ASSERT_EQ(vt_pager_calls, 2);
}

KTEST(vm_policy_pager_supplies_pages)
{
	struct vt_env e;
	struct vm_region *r;
	struct physaddr *p;

	KT_ASSERT_EQ(vt_env_make(&e, 4, false), 0);
	KT_ASSERT_EQ(physaddr_alloc(4 * PG, NULL, &vt_pager_pages), 0);
	p = physaddr_get(vt_pager_pages, NULL);
	for (int i = 0; i < 4; i++)
		((volatile char *)pagetable_phys_to_virt(p->pa[i]))[(i == 0) ? 4 : 0] =
		    (char)('p' + i);
	((volatile char *)pagetable_phys_to_virt(p->pa[0]))[0] = 'p';
	vt_pager_calls = 0;
	KT_ASSERT_EQ(vm_pager_attach(e.c, e.range, vt_pager, NULL, &r), 0);
	vt_pager_body(kt, &e);
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(vm_region_detach(r), 0);
	KT_ASSERT_EQ(physaddr_free(vt_pager_pages), 0); /* the pager still owns it */
	vt_env_free(&e);
}

/* ---- extension handlers through the dispatcher ---- */

typedef struct rt_jit_ret (*vt_export_fn)(uint64_t, uint64_t, uint64_t, uint64_t, uint64_t);

static int64_t vt_call(struct ext *x, const char *sym, uint64_t a, uint64_t b, uint64_t c)
{
	const struct domain_sym *s = x ? domain_lookup(ext_domain(x), sym) : NULL;
	struct rt_jit_ret r;

	if (!s || !s->sig || !s->sig->fn)
		return -ENOENT;
	r = ((vt_export_fn)s->sig->fn)(a, b, c, 0, 0);
	return r.status ? -EINVAL : (int64_t)r.r0;
}

static bool vt_has(const char *s, const char *sub)
{
	size_t n = strlen(sub);

	for (; s && *s; s++)
		if (strncmp(s, sub, n) == 0)
			return true;
	return false;
}

static const struct module vt_bench_module = {"Bench", MODULE_TRUSTED};

/* Load packed image `image` as `name` against SpinPublic and the Bench
 * domain (vm_bench_ext marks its handler's entry with Bench_Mark). */
static int vt_load(const char *image, const char *name, struct domain *bench, struct ext **x,
                   char *err, size_t n)
{
	const struct kext_image *im = kext_find(image);
	struct domain *doms[2] = {domain_spin_public, bench};

	*x = NULL;
	if (!im)
		return -ENOENT;
	return ext_load(im->data, (size_t)im->size, name, &vt_module, doms, bench ? 2 : 1, x, err,
	                n);
}

static bool vt_policy_fix(void *closure, const struct translation_fault *f)
{
	int *calls = closure;

	(*calls)++;
	return translation_protect(f->ctx, f->va & ~(PG - 1), 1, TRANSLATION_PROT_RW) == 0;
}

static void vt_ext_body(struct ktest_ctx *kt, struct vt_env *a, struct vt_env *b, struct ext *x,
                        int *bcalls)
{
	/* A's fault goes to the extension, which makes the page writable. */
	KT_ASSERT_EQ(translation_change_mapping(a->ctx, a->range, PG, 1, TRANSLATION_PROT_R), 0);
	translation_switch(a->c);
	*vt_p(VBASE + PG + 8) = 7;
	KT_ASSERT_EQ(*vt_p(VBASE + PG + 8), 7);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Run", 0, 0, 0), 1); /* its fault count */
	KT_ASSERT_EQ(translation_examine_mapping(a->ctx, VBASE + PG, &(unsigned){0}, NULL, NULL),
	             0);
	/* B's fault: its guard keeps the extension out; B's policy resolves it. */
	KT_ASSERT_EQ(translation_change_mapping(b->ctx, b->range, 0, 1, TRANSLATION_PROT_R), 0);
	translation_switch(b->c);
	*vt_p(VBASE + 8) = 9;
	KT_ASSERT_EQ(*bcalls, 1);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Run", 0, 0, 0), 1);
	/* The extension's own calls are checked: Dirty through the capability
	 * it was given (timed between two marks, so a count >= 0). */
	KT_ASSERT(vt_call(x, "VMApp_Run", 3, PG, 0) >= 0);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Run", 3, 64 * PG, 0), -ENOENT); /* not mapped */
}

KTEST(translation_extension_handler_is_guarded_to_its_context)
{
	struct vt_env a, b;
	struct domain *bench = NULL;
	struct ext *x = NULL, *y = NULL;
	char err[160] = "";
	int bcalls = 0, rc;
	uint64_t hctx = 0, hrange = 0;
	struct dispatch_event *ev = translation_event(TRANSLATION_PROTECTION_FAULT);
	uint32_t n0;

	KT_ASSERT(ev != NULL);
	n0 = dispatch_handler_count(ev);
	KT_ASSERT_EQ(vt_env_make(&a, 2, true), 0);
	KT_ASSERT_EQ(vt_env_make(&b, 1, true), 0);
	translation_set_policy(b.c, vt_policy_fix, &bcalls);
	KT_ASSERT_EQ(domain_create_from_interface(&iface_Bench, &vt_bench_module, &bench), 0);

	/* Without a grant the memory module refuses the install, so the load fails. */
	rc = vt_load("vm_bench_ext", "vm_nogrant", bench, &y, err, sizeof(err));
	KT_ASSERT(rc != 0 && y == NULL);
	KT_ASSERT(vt_has(translation_refusal(), "vm_nogrant"));
	KT_ASSERT_EQ(dispatch_handler_count(ev), n0);
	/* Granted A: installed, with an imposed guard (not a direct call). */
	KT_ASSERT_EQ(translation_grant(a.ctx, "vm_ext_a"), 0);
	KT_ASSERT_EQ(translation_grant(CAP_NULL, "vm_ext_a"), -EBADF);
	rc = vt_load("vm_bench_ext", "vm_ext_a", bench, &x, err, sizeof(err));
	if (rc)
		KT_FAIL("load: %d %s", rc, err);
	KT_ASSERT_EQ(dispatch_handler_count(ev), n0 + 1);
	KT_ASSERT(!dispatch_is_direct(ev));
	/* The kernel's capability values are no use to the extension: its
	 * calls resolve what it passes in its own capability space. */
	KT_ASSERT_EQ(vt_call(x, "VMApp_Setup", a.ctx, a.range, VBASE), 0);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Run", 3, PG, 0), -EBADF);
	/* The grant put the context in its space; the range it is given. */
	KT_ASSERT_EQ(ext_cap_give(x, a.ctx, &hctx), 0);
	KT_ASSERT_EQ(ext_cap_give(x, a.range, &hrange), 0);
	KT_ASSERT(hctx != a.ctx && hrange != a.range && hctx != hrange);
	KT_ASSERT_EQ(extref_count(ext_module_caps(ext_module(x))), 2);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Setup", hctx, hrange, VBASE), 0);
	if (!kt->failed)
		vt_ext_body(kt, &a, &b, x, &bcalls);
	translation_switch(translation_kernel_ctx());
	KT_ASSERT_EQ(ext_unload(x, NULL, 0), 0);
	KT_ASSERT_EQ(dispatch_handler_count(ev), n0);
	KT_ASSERT_EQ(translation_revoke_grant(a.ctx, "vm_ext_a"), 0);
	KT_ASSERT_EQ(translation_revoke_grant(a.ctx, "vm_ext_a"), -ENOENT);
	domain_release(bench);
	vt_env_free(&a);
	vt_env_free(&b);
}

/* PhysAddr.Reclaim handled by an extension, which volunteers another victim. */
KTEST(physaddr_reclaim_extension_nominates)
{
	struct physaddr_attr ra = {.flags = PHYSADDR_RECLAIMABLE};
	struct physaddr_stats s0, s1;
	cap_t old, vol, dead, seen = CAP_NULL;
	uint64_t hvol = 0, hdead = 0;
	struct ext *x = NULL;
	char err[160] = "";
	int rc;

	KT_ASSERT_EQ(physaddr_alloc(PG, &ra, &old), 0); /* the FIFO's candidate */
	KT_ASSERT_EQ(physaddr_alloc(2 * PG, &ra, &vol), 0);
	rc = vt_load("vm_reclaim_ext", "vm_reclaim_ext", NULL, &x, err, sizeof(err));
	if (rc)
		KT_FAIL("load: %d %s", rc, err);
	KT_ASSERT(!dispatch_is_direct(PhysAddr_Reclaim_event)); /* an extension handler */
	/* It nominates by a handle in its own capability space. */
	KT_ASSERT_EQ(ext_cap_give(x, vol, &hvol), 0);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Setup", hvol, 0, 0), 0);
	physaddr_get_stats(&s0);
	KT_ASSERT_EQ(physaddr_reclaim(1), 2); /* the volunteer's two pages */
	physaddr_get_stats(&s1);
	KT_ASSERT_EQ(s1.nominated, s0.nominated + 1);
	KT_ASSERT_EQ(physaddr_info(vol, NULL, NULL, NULL), -ESTALE);
	KT_ASSERT_EQ(physaddr_info(old, NULL, NULL, NULL), 0);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Run", 0, 0, 0), 1);
	/* The candidate it saw was old, as a handle of its own. */
	KT_ASSERT_EQ(ext_cap_resolve(x, (uint64_t)vt_call(x, "VMApp_Run", 1, 0, 0), &seen), 0);
	KT_ASSERT_EQ(seen, old);
	KT_ASSERT((cap_t)vt_call(x, "VMApp_Run", 1, 0, 0) != old);
	/* A stale nominee is ignored: the candidate goes. */
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &dead), 0);
	KT_ASSERT_EQ(ext_cap_give(x, dead, &hdead), 0);
	KT_ASSERT_EQ(physaddr_free(dead), 0);
	KT_ASSERT_EQ(vt_call(x, "VMApp_Setup", hdead, 0, 0), 0);
	KT_ASSERT_EQ(physaddr_reclaim(1), 1);
	KT_ASSERT_EQ(physaddr_info(old, NULL, NULL, NULL), -ESTALE);
	physaddr_get_stats(&s0);
	KT_ASSERT_EQ(s0.nominated, s1.nominated);
	KT_ASSERT_EQ(ext_unload(x, NULL, 0), 0);
	physaddr_free(old); /* if the test failed early */
	physaddr_free(vol);
	KT_ASSERT_EQ(pmm_check(), 0);
}

/* ---- SMP: shootdowns ---- */

/*
 * A strand pinned to CPU 1 loads a context and reads VBASE in a loop while
 * CPU 0 takes the page away (no access over a 40-page range: a whole-context
 * flush; an unmap: one page; no access over 2 pages: a range), writes a
 * "reused" pattern into each frame it took away and maps another page
 * there.  The reader samples the phase before each read, so a read that
 * started after a change returned must fault or see the page mapped since;
 * an old page's pattern, or the reuse pattern at any time, is a stale TLB
 * entry reaching a frame the kernel considered free.
 */
#define VT_SD_PAGES  40 /* > PAGETABLE_FLUSH_THRESHOLD: the first change flushes all */
#define VT_SD_PA     0xaaaaaaaa00000001ull
#define VT_SD_PB     0xbbbbbbbb00000002ull
#define VT_SD_PD     0xdddddddd00000004ull
#define VT_SD_REUSE  0xcccccccc00000003ull
#define VT_SD_FAULT  1ull /* "the read faulted", never a pattern */
#define VT_SD_PHASES 6

struct vt_sd {
	struct translation_ctx *c;
	volatile unsigned phase, stop, loaded;
	volatile uint64_t seen[VT_SD_PHASES]; /* reads that began in each phase */
	volatile uint64_t faults[VT_SD_PHASES];
	volatile uint64_t bad, bad_value, bad_phase;
	uint64_t deadline;
};

/* What a read that began in phase ph may return: that phase's state, or
 * the next one's (CPU 0 changes the mapping before it announces the next
 * phase), never an earlier one's and never the reuse pattern. */
static bool vt_sd_allowed(unsigned ph, uint64_t v)
{
	static const uint64_t ok[VT_SD_PHASES + 1] = {
	    VT_SD_PA, VT_SD_FAULT, VT_SD_PB, VT_SD_FAULT, VT_SD_PD, VT_SD_FAULT, VT_SD_FAULT};

	return v == ok[ph] || v == ok[ph + 1];
}

static void vt_sd_reader(void *arg)
{
	struct vt_sd *s = arg;

	/* Pinned to CPU 1, so this CPU keeps the context loaded (kernel
	 * strands that run here in between do not switch contexts). */
	translation_switch(s->c);
	__atomic_store_n(&s->loaded, 1, __ATOMIC_RELEASE);
	while (!s->stop && clock_ns() < s->deadline) {
		struct fault_catch fc = {.vector = TRAP_PF};
		unsigned ph = __atomic_load_n(&s->phase, __ATOMIC_ACQUIRE);
		volatile uint64_t v = VT_SD_FAULT; /* survives the fault's longjmp */

		if (fault_catch_arm(&fc) == 0) {
			v = *(volatile uint64_t *)VBASE;
			fault_catch_disarm(&fc);
		} else {
			s->faults[ph]++;
		}
		if (!vt_sd_allowed(ph, v) && !s->bad++) {
			s->bad_value = v;
			s->bad_phase = ph;
		}
		s->seen[ph]++;
	}
	/* Left loaded on purpose, as an exited process leaves its context on
	 * its last CPU: translation_destroy must evict it. */
}

static void vt_sd_fill(cap_t p, uint32_t page, uint64_t v)
{
	uint64_t pa;

	if (physaddr_page(p, page, &pa) == 0)
		*(volatile uint64_t *)pagetable_phys_to_virt(pa) = v;
}

/* Enter phase ph and wait until the reader has read in it n times. */
static bool vt_sd_phase(struct vt_sd *s, unsigned ph, uint64_t n)
{
	__atomic_store_n(&s->phase, ph, __ATOMIC_RELEASE);
	while (s->seen[ph] < n && clock_ns() < s->deadline)
		arch_cpu_relax();
	return s->seen[ph] >= n;
}

/* A stale read is the failure this test is about: report it first. */
#define VT_SD_CLEAN(s)                                                                             \
	do {                                                                                       \
		if ((s)->bad)                                                                      \
			KT_FAIL("CPU 1 read %#lx in phase %lu (%lu stale reads)",                  \
			        (unsigned long)(s)->bad_value, (unsigned long)(s)->bad_phase,      \
			        (unsigned long)(s)->bad);                                          \
	} while (0)

static void vt_sd_body(struct ktest_ctx *kt, struct vt_env *e, struct vt_sd *s, cap_t pb, cap_t pd)
{
	struct translation_stats t0, t1;

	while (!s->loaded && clock_ns() < s->deadline)
		arch_cpu_relax();
	KT_ASSERT(vt_sd_phase(s, 0, 200)); /* CPU 1 caches the translation of A */
	KT_ASSERT(e->c->pt.cpus & 2);
	translation_get_stats(&t0);

	/* Whole context: no access over 40 pages, then reuse A's frame. */
	KT_ASSERT_EQ(translation_change_mapping(e->ctx, e->range, 0, VT_SD_PAGES, 0), 0);
	vt_sd_fill(e->pages, 0, VT_SD_REUSE);
	KT_ASSERT(vt_sd_phase(s, 1, 50));
	VT_SD_CLEAN(s);
	KT_ASSERT(s->faults[1] > 0);
	KT_ASSERT_EQ(translation_remove_mapping(e->ctx, e->range, 0, 1), 1);
	KT_ASSERT_EQ(translation_add_mapping(e->ctx, e->range, 0, pb, 0, 1, TRANSLATION_PROT_RW),
	             0);
	KT_ASSERT(vt_sd_phase(s, 2, 200));

	/* One page: unmap B while readable, reuse its frame, map D. */
	KT_ASSERT_EQ(translation_remove_mapping(e->ctx, e->range, 0, 1), 1);
	vt_sd_fill(pb, 0, VT_SD_REUSE);
	KT_ASSERT(vt_sd_phase(s, 3, 50));
	VT_SD_CLEAN(s);
	KT_ASSERT(s->faults[3] > 0);
	KT_ASSERT_EQ(translation_add_mapping(e->ctx, e->range, 0, pd, 0, 1, TRANSLATION_PROT_RW),
	             0);
	KT_ASSERT(vt_sd_phase(s, 4, 200));

	/* A range: no access over 2 pages. */
	KT_ASSERT_EQ(translation_change_mapping(e->ctx, e->range, 0, 2, 0), 0);
	KT_ASSERT(vt_sd_phase(s, 5, 50));
	VT_SD_CLEAN(s);
	KT_ASSERT(s->faults[5] > 0);

	translation_get_stats(&t1);
	/* Three changes had to interrupt CPU 1, which flushed for each. */
	KT_ASSERT(t1.shootdowns >= t0.shootdowns + 3);
	KT_ASSERT(t1.shootdown_flushes >= t0.shootdown_flushes + 3);
}

KTEST(translation_smp_shootdown_stale_tlb)
{
	struct vt_env e;
	struct vt_sd s = {0};
	struct strand_attr a = {.name = "vm-sd-reader", .prio = SCHED_PRIO_DEFAULT};
	struct translation_stats t0, t1;
	cap_t pb = CAP_NULL, pd = CAP_NULL;
	strand_t h;

	KT_ASSERT_EQ(vt_env_make(&e, VT_SD_PAGES, false), 0);
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &e.pages), 0);
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &pb), 0);
	KT_ASSERT_EQ(physaddr_alloc(PG, NULL, &pd), 0);
	vt_sd_fill(e.pages, 0, VT_SD_PA);
	vt_sd_fill(pb, 0, VT_SD_PB);
	vt_sd_fill(pd, 0, VT_SD_PD);
	KT_ASSERT_EQ(translation_add_mapping(e.ctx, e.range, 0, e.pages, 0, 1, TRANSLATION_PROT_RW),
	             0);
	if (percpu_count() < 2) {
		/* One CPU: a change to the loaded context stays local. */
		translation_get_stats(&t0);
		translation_switch(e.c);
		KT_ASSERT_EQ(*(volatile uint64_t *)VBASE, VT_SD_PA);
		KT_ASSERT_EQ(translation_change_mapping(e.ctx, e.range, 0, 1, TRANSLATION_PROT_R),
		             0);
		translation_switch(translation_kernel_ctx());
		translation_get_stats(&t1);
		KT_ASSERT_EQ(t1.shootdowns, t0.shootdowns);
		KT_ASSERT_EQ(t1.flush_pages, t0.flush_pages + 1);
		vt_env_free(&e);
		physaddr_free(pb);
		physaddr_free(pd);
		return;
	}
	/* The changes come from CPU 0, the reads from CPU 1. */
	KT_ASSERT_EQ(sched_pin_current(0), 0);
	s.c = e.c;
	s.deadline = clock_ns() + 10000 * 1000000ull;
	KT_ASSERT_EQ(strand_create_pinned(&a, 1, vt_sd_reader, &s, &h), 0);
	vt_sd_body(kt, &e, &s, pb, pd);
	s.stop = 1;
	strand_join(h, NULL);
	sched_pin_current(-1);
	/* The reader left the context loaded on CPU 1: the destroy evicts it. */
	if (!kt->failed)
		KT_ASSERT(e.c->pt.cpus & 2);
	KT_ASSERT_EQ(translation_destroy(e.ctx), 0);
	KT_ASSERT_EQ(physaddr_free(e.pages), 0);
	KT_ASSERT_EQ(physaddr_free(pb), 0);
	KT_ASSERT_EQ(physaddr_free(pd), 0);
	KT_ASSERT_EQ(pmm_check(), 0);
}
