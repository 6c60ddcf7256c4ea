/*
 * vm_policy.c: demand zero, copy-on-write and pager regions (see the header).
 *
 * Each region installs its handlers through the dispatcher (dispatch_install
 * on Translation's events, as the trusted module "VMPolicy") with the region
 * as closure and a guard that compares the fault's context and range
 * capabilities with the region's, so the dispatch cost per region is one
 * guard; capabilities, not pointers, because they are never reissued.  The
 * handlers read the fault record (translation_fault_info) and use
 * Translation's core calls (pointers, no capability lookups on the hot path
 * except the one that names the page being mapped).
 */
#include "kernel/vm_policy.h"

#include "kernel/heap.h"
#include "kernel/interface.h"

static const struct module vm_module = {"VMPolicy", MODULE_TRUSTED};

enum vm_kind { VM_ANON, VM_COW, VM_PAGER };

struct vm_region {
	enum vm_kind kind;
	struct translation_ctx *ctx;
	struct virtaddr_range *range;
	cap_t ctx_cap, range_cap; /* what the guard compares */
	unsigned prot;
	struct dispatch_binding *b_notpresent, *b_protect; /* NULL if none */
	vm_pager_fn pager;
	void *pager_closure;
	uint64_t faults;
};

static struct vm_region *vm_region_new(enum vm_kind kind, struct translation_ctx *ctx, cap_t range,
                                       unsigned prot, int *err)
{
	struct virtaddr_range *r = virtaddr_get(range, err);
	struct vm_region *reg;

	if (!r)
		return NULL;
	if (r->space != &ctx->space) {
		*err = -EPERM;
		return NULL;
	}
	reg = kzalloc(sizeof(*reg));
	if (!reg) {
		*err = -ENOMEM;
		return NULL;
	}
	reg->kind = kind;
	reg->ctx = ctx;
	reg->range = r;
	reg->ctx_cap = ctx->cap;
	reg->range_cap = range;
	reg->prot = prot;
	return reg;
}

/* A fresh zeroed page mapped at va: demand zero. */
static bool vm_zero_fill(struct vm_region *reg, uintptr_t va)
{
	cap_t pc;
	struct physaddr *p;

	if (physaddr_alloc(TRANSLATION_PAGE, NULL, &pc) != 0)
		return false;
	p = physaddr_get(pc, NULL);
	memset(pagetable_phys_to_virt(p->pa[0]), 0, TRANSLATION_PAGE);
	if (translation_map_page(reg->ctx, va, pc, 0, reg->prot) != 0) {
		physaddr_free(pc);
		return false;
	}
	reg->faults++;
	return true;
}

/* Handlers: (region, context, va, access, pc) -> resolved. */
static uint64_t vm_anon_fault(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access,
                              uint64_t pc)
{
	(void)ctx, (void)access, (void)pc;
	return vm_zero_fill((struct vm_region *)(uintptr_t)closure, va & ~(TRANSLATION_PAGE - 1));
}

static uint64_t vm_pager_fault(uint64_t closure, uint64_t ctx, uint64_t fva, uint64_t access,
                               uint64_t pc)
{
	struct vm_region *reg = (struct vm_region *)(uintptr_t)closure;
	uintptr_t va = fva & ~(TRANSLATION_PAGE - 1);
	unsigned prot = TRANSLATION_PROT_RW;
	uint32_t page = 0;
	cap_t p = CAP_NULL;

	(void)ctx, (void)access, (void)pc;
	if (reg->pager(reg->pager_closure, reg->ctx, va, &p, &page, &prot) != 0)
		return false;
	if (translation_map_page(reg->ctx, va, p, page, prot) != 0)
		return false;
	reg->faults++;
	return true;
}

/* Write to a shared read-only page: copy it, or take it back if alone. */
static uint64_t vm_cow_fault(uint64_t closure, uint64_t ctx, uint64_t fva, uint64_t access,
                             uint64_t pc)
{
	struct vm_region *reg = (struct vm_region *)(uintptr_t)closure;
	uintptr_t va = fva & ~(TRANSLATION_PAGE - 1);
	struct physaddr *old, *np;
	uint32_t page;
	cap_t nc;

	(void)ctx, (void)pc;
	if (!(access & TRANSLATION_ACCESS_WRITE) || !(reg->prot & TRANSLATION_PROT_W))
		return false;
	if (translation_lookup(reg->ctx, va, &old, &page, NULL) != 0)
		return false;
	if (old->maps.count == 1) {
		translation_protect(reg->ctx, va, 1, reg->prot);
		reg->faults++;
		return true;
	}
	if (physaddr_alloc(TRANSLATION_PAGE, NULL, &nc) != 0)
		return false;
	np = physaddr_get(nc, NULL);
	/* old may have been reclaimed by that allocation: look again. */
	if (translation_lookup(reg->ctx, va, &old, &page, NULL) != 0) {
		physaddr_free(nc);
		return false;
	}
	memcpy(pagetable_phys_to_virt(np->pa[0]), pagetable_phys_to_virt(old->pa[page]),
	       TRANSLATION_PAGE);
	translation_unmap_page(reg->ctx, va, NULL, NULL);
	if (translation_map_page(reg->ctx, va, nc, 0, reg->prot) != 0) {
		physaddr_free(nc);
		return false; /* the old page is gone from here: the fault stays */
	}
	reg->faults++;
	return true;
}

/* The region's guard: the fault is in its context and its range. */
static uint64_t vm_guard(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	const struct vm_region *reg = (const struct vm_region *)(uintptr_t)closure;
	const struct translation_fault *f = translation_fault_info();

	(void)va, (void)access, (void)pc;
	return ctx == reg->ctx_cap && f && f->range && f->range->cap == reg->range_cap;
}

enum { VM_SIG_ANON, VM_SIG_PAGER, VM_SIG_COW, VM_SIG_GUARD, VM_NSIGS };
static struct rt_sig vm_sigs[VM_NSIGS];

static const struct rt_sig *vm_sig(unsigned which)
{
	static void *const fns[VM_NSIGS] = {(void *)vm_anon_fault, (void *)vm_pager_fault,
	                                    (void *)vm_cow_fault, (void *)vm_guard};

	if (!vm_sigs[which].fn)
		translation_native_sig(fns[which], true, which == VM_SIG_GUARD, &vm_sigs[which]);
	return &vm_sigs[which];
}

static int vm_install(struct vm_region *reg, unsigned event, unsigned sig,
                      struct dispatch_binding **out)
{
	struct dispatch_event *ev = translation_event(event);
	struct dispatch_guard g = {{vm_sig(VM_SIG_GUARD), NULL, &vm_module}, reg, true};
	struct dispatch_install_req req = {
	    .handler = {vm_sig(sig), NULL, &vm_module},
	    .guard = &g,
	    .closure = reg,
	    .options = DISPATCH_CLOSURE,
	};

	if (!ev)
		return -ENOENT; /* the memory module has not declared its events */
	return dispatch_install(ev, &req, &vm_module, out);
}

static void vm_uninstall(struct dispatch_binding **b)
{
	if (*b)
		dispatch_uninstall(*b, &vm_module);
	*b = NULL;
}

int vm_anon_attach(struct translation_ctx *ctx, cap_t range, unsigned prot, struct vm_region **out)
{
	int err;
	struct vm_region *reg = vm_region_new(VM_ANON, ctx, range, prot, &err);

	if (!reg)
		return err;
	err = vm_install(reg, TRANSLATION_PAGE_NOT_PRESENT, VM_SIG_ANON, &reg->b_notpresent);
	if (err) {
		kfree(reg);
		return err;
	}
	*out = reg;
	return 0;
}

int vm_pager_attach(struct translation_ctx *ctx, cap_t range, vm_pager_fn fn, void *closure,
                    struct vm_region **out)
{
	int err;
	struct vm_region *reg;

	if (!fn)
		return -EINVAL;
	reg = vm_region_new(VM_PAGER, ctx, range, TRANSLATION_PROT_RW, &err);
	if (!reg)
		return err;
	reg->pager = fn;
	reg->pager_closure = closure;
	err = vm_install(reg, TRANSLATION_PAGE_NOT_PRESENT, VM_SIG_PAGER, &reg->b_notpresent);
	if (err) {
		kfree(reg);
		return err;
	}
	*out = reg;
	return 0;
}

int vm_cow_duplicate(struct translation_ctx *src, cap_t src_range, struct translation_ctx *dst,
                     unsigned prot, cap_t *dst_range, struct vm_region **src_out,
                     struct vm_region **dst_out)
{
	struct vm_region *sreg, *dreg;
	struct virtaddr_range *sr;
	cap_t dcap;
	int err;

	if (src == dst || !dst_range || !src_out || !dst_out)
		return -EINVAL;
	sreg = vm_region_new(VM_COW, src, src_range, prot, &err);
	if (!sreg)
		return err;
	sr = sreg->range;
	err = virtaddr_alloc(&dst->space, sr->start, sr->end - sr->start, &dcap);
	if (err)
		goto err_free_sreg;
	dreg = vm_region_new(VM_COW, dst, dcap, prot, &err);
	if (!dreg)
		goto err_free_range;
	if ((err = vm_install(sreg, TRANSLATION_PROTECTION_FAULT, VM_SIG_COW, &sreg->b_protect)))
		goto err_free_dreg;
	if ((err = vm_install(dreg, TRANSLATION_PROTECTION_FAULT, VM_SIG_COW, &dreg->b_protect)))
		goto err_uninstall_src;
	if ((err =
	         vm_install(dreg, TRANSLATION_PAGE_NOT_PRESENT, VM_SIG_ANON, &dreg->b_notpresent)))
		goto err_uninstall_dst;

	/* Share every mapped page read-only on both sides. */
	for (uintptr_t va = sr->start; va < sr->end; va += TRANSLATION_PAGE) {
		struct physaddr *p;
		uint32_t page;
		unsigned pp;

		if (translation_lookup(src, va, &p, &page, &pp) != 0)
			continue;
		err = translation_map_page(dst, va, p->cap, page, pp & ~TRANSLATION_PROT_W);
		if (err)
			goto err_unmap_dst;
		translation_protect(src, va, 1, pp & ~TRANSLATION_PROT_W);
	}
	*dst_range = dcap;
	*src_out = sreg;
	*dst_out = dreg;
	return 0;

err_unmap_dst:
	/* Pages already shared stay read-only in src: the cow handler there
	 * would make them writable again on the next write, so remove it only
	 * after restoring write access. */
	for (uintptr_t va = sr->start; va < sr->end; va += TRANSLATION_PAGE)
		if (translation_unmap_page(dst, va, NULL, NULL) == 0)
			translation_protect(src, va, 1, prot);
	vm_uninstall(&dreg->b_notpresent);
err_uninstall_dst:
	vm_uninstall(&dreg->b_protect);
err_uninstall_src:
	vm_uninstall(&sreg->b_protect);
err_free_dreg:
	kfree(dreg);
err_free_range:
	virtaddr_free(dcap);
err_free_sreg:
	kfree(sreg);
	return err;
}

int vm_region_detach(struct vm_region *r)
{
	if (!r)
		return -EINVAL;
	vm_uninstall(&r->b_notpresent);
	vm_uninstall(&r->b_protect);
	for (uintptr_t va = r->range->start; va < r->range->end && r->range->nmapped;
	     va += TRANSLATION_PAGE) {
		struct physaddr *p;

		if (translation_unmap_page(r->ctx, va, &p, NULL) != 0)
			continue;
		if (r->kind != VM_PAGER && p->maps.count == 0)
			physaddr_free(p->cap);
	}
	kfree(r);
	return 0;
}

uint64_t vm_region_faults(const struct vm_region *r)
{
	return r->faults;
}
