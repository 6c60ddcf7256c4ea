/*
 * vm_policy.c: demand zero, copy-on-write and pager regions (see the header).
 *
 * Each region installs its handlers with a context and range filter, so the
 * dispatch cost is the filter compare; the handlers use Translation's core
 * calls (pointers, no capability lookups on the hot path except the one
 * that names the page being mapped).
 */
#include "kernel/vm_policy.h"

#include "kernel/heap.h"
#include "kernel/interface.h"

enum vm_kind { VM_ANON, VM_COW, VM_PAGER };

struct vm_region {
	enum vm_kind kind;
	struct translation_ctx *ctx;
	struct virtaddr_range *range;
	unsigned prot;
	int h_notpresent, h_protect; /* binding handles, 0 if none */
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

static bool vm_anon_fault(void *closure, const struct translation_fault *f)
{
	return vm_zero_fill(closure, f->va & ~(TRANSLATION_PAGE - 1));
}

static bool vm_pager_fault(void *closure, const struct translation_fault *f)
{
	struct vm_region *reg = closure;
	uintptr_t va = f->va & ~(TRANSLATION_PAGE - 1);
	unsigned prot = TRANSLATION_PROT_RW;
	uint32_t page = 0;
	cap_t pc = CAP_NULL;

	if (reg->pager(reg->pager_closure, f->ctx, va, &pc, &page, &prot) != 0)
		return false;
	if (translation_map_page(reg->ctx, va, pc, page, prot) != 0)
		return false;
	reg->faults++;
	return true;
}

/* Write to a shared read-only page: copy it, or take it back if alone. */
static bool vm_cow_fault(void *closure, const struct translation_fault *f)
{
	struct vm_region *reg = closure;
	uintptr_t va = f->va & ~(TRANSLATION_PAGE - 1);
	struct physaddr *old, *np;
	uint32_t page;
	cap_t nc;

	if (!(f->access & TRANSLATION_ACCESS_WRITE) || !(reg->prot & TRANSLATION_PROT_W))
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

static int vm_install(struct vm_region *reg, unsigned event, translation_fault_fn fn, int *h)
{
	struct translation_binding b = {
	    .handler = fn, .closure = reg, .ctx = reg->ctx, .range = reg->range};

	return translation_install(event, &b, h);
}

int vm_anon_attach(struct translation_ctx *ctx, cap_t range, unsigned prot, struct vm_region **out)
{
	int err;
	struct vm_region *reg = vm_region_new(VM_ANON, ctx, range, prot, &err);

	if (!reg)
		return err;
	err = vm_install(reg, TRANSLATION_PAGE_NOT_PRESENT, vm_anon_fault, &reg->h_notpresent);
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
	err = vm_install(reg, TRANSLATION_PAGE_NOT_PRESENT, vm_pager_fault, &reg->h_notpresent);
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
	if ((err = vm_install(sreg, TRANSLATION_PROTECTION_FAULT, vm_cow_fault, &sreg->h_protect)))
		goto err_free_dreg;
	if ((err = vm_install(dreg, TRANSLATION_PROTECTION_FAULT, vm_cow_fault, &dreg->h_protect)))
		goto err_uninstall_src;
	if ((err = vm_install(dreg, TRANSLATION_PAGE_NOT_PRESENT, vm_anon_fault,
	                      &dreg->h_notpresent)))
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
	translation_uninstall(dreg->h_notpresent);
err_uninstall_dst:
	translation_uninstall(dreg->h_protect);
err_uninstall_src:
	translation_uninstall(sreg->h_protect);
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
	if (r->h_notpresent)
		translation_uninstall(r->h_notpresent);
	if (r->h_protect)
		translation_uninstall(r->h_protect);
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
