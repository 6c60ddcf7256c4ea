/*
 * translation.c: contexts, mappings, TLB discipline and the fault events.
 *
 * The portable half of Translation; the page-table format and the TLB
 * instructions are in arch/x86_64/pagetable.c.  Every mapping is one rmap
 * node, linked into the context's table (find the mapping at va) and the
 * PhysAddr object's list (find every mapping of a page: reclaim).
 *
 * Order of work in a mapping call: check the plain arguments, allocate the
 * rmap nodes and page-table pages (which may run the pmm's reclaim and so
 * change which capabilities are live), then check the capabilities and
 * that nothing is mapped there, then act in a phase that cannot fail.
 *
 * The fault path: pagetable.c decodes the fault and calls translation_fault
 * (va, access, pc); it finds the covering VirtAddr range by binary search,
 * picks the event and walks that event's bindings.  No allocation, no lock.
 */
#include "kernel/translation.h"

#include "kernel/heap.h"
#include "kernel/interface.h"

static struct translation_ctx translation_kctx;
static struct translation_ctx *tl_current;
static struct translation_binding tl_bind[TRANSLATION_NEVENTS][TRANSLATION_MAX_BINDINGS];
static int tl_bind_id[TRANSLATION_NEVENTS][TRANSLATION_MAX_BINDINGS]; /* 0: free */
static unsigned tl_nbind[TRANSLATION_NEVENTS];
static int tl_next_id = 1;
static int tl_depth; /* fault nesting */
static struct translation_stats tl_st;

#define TL_MASK (TRANSLATION_PAGE - 1)

/* ---- TLB ---- */

/* Invalidate npages from va in ctx: now if loaded, else at its next load.
 * (SMP: send the same request to every other CPU that has ctx loaded.) */
static void tl_flush(struct translation_ctx *ctx, uintptr_t va, size_t npages)
{
	if (ctx != tl_current) {
		ctx->pt.stale = true;
		tl_st.deferred++;
		return;
	}
	if (npages > PAGETABLE_FLUSH_THRESHOLD) {
		pagetable_flush_all();
		tl_st.flush_all++;
	} else {
		pagetable_flush_range(va, npages);
		tl_st.flush_pages += npages;
	}
}

/* ---- contexts ---- */

static int tl_ctx_init(struct translation_ctx *ctx, const char *name)
{
	int err = virtaddr_space_init(&ctx->space, TRANSLATION_PAGE, PAGETABLE_USER_TOP, ctx);

	if (err)
		return err;
	rmap_table_init(&ctx->maps);
	ctx->name = name;
	return cap_create(cap_kernel, TRANSLATION_CAP_TYPE, ctx, &ctx->cap);
}

static void tl_invalidate_obj(struct physaddr *p);

int translation_init(void)
{
	int err = physaddr_init();

	if (err)
		return err;
	/* The fault hook is live from here; it ignores faults until tl_current
	 * is set below. */
	pagetable_init(translation_fault);
	pagetable_kernel(&translation_kctx.pt);
	err = tl_ctx_init(&translation_kctx, "kernel");
	if (err)
		return err;
	physaddr_set_invalidate(tl_invalidate_obj);
	tl_current = &translation_kctx;
	return 0;
}

int translation_create(const char *name, cap_t *out)
{
	struct translation_ctx *ctx;
	int err;

	if (!out)
		return -EINVAL;
	ctx = kzalloc(sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	err = pagetable_create(&ctx->pt);
	if (err)
		goto err_free_ctx;
	err = tl_ctx_init(ctx, name ? name : "context");
	if (err)
		goto err_destroy_pt;
	*out = ctx->cap;
	return 0;

err_destroy_pt:
	pagetable_destroy(&ctx->pt);
err_free_ctx:
	kfree(ctx);
	return err;
}

struct translation_ctx *translation_get(cap_t c, int *err)
{
	void *obj = NULL;
	int e = cap_check(cap_kernel, c, TRANSLATION_CAP_TYPE, &obj);

	if (err)
		*err = e;
	return e ? NULL : obj;
}

struct translation_ctx *translation_kernel_ctx(void)
{
	return &translation_kctx;
}

struct translation_ctx *translation_current(void)
{
	return tl_current;
}

struct translation_ctx *translation_switch(struct translation_ctx *ctx)
{
	struct translation_ctx *prev = tl_current;

	if (ctx != prev || ctx->pt.stale) {
		pagetable_activate(&ctx->pt);
		tl_current = ctx;
	}
	return prev;
}

void translation_set_policy(struct translation_ctx *ctx, translation_fault_fn fn, void *closure)
{
	ctx->policy = fn;
	ctx->policy_closure = closure;
}

/* Remove one mapping (node n of ctx); flush as the rules say. */
static void tl_unmap_node(struct translation_ctx *ctx, struct rmap_node *n)
{
	struct physaddr *p = n->obj;
	struct virtaddr_range *r = n->range;
	bool cached = false;

	pagetable_unmap(&ctx->pt, n->va, NULL, &cached);
	if (cached)
		tl_flush(ctx, n->va, 1);
	r->nmapped--;
	rmap_remove(&ctx->maps, &p->maps, n);
	tl_st.unmaps++;
	kfree(n);
}

/* Reclaim: every mapping of p, in whichever context. */
static void tl_invalidate_obj(struct physaddr *p)
{
	while (p->maps.head) {
		struct rmap_node *n = p->maps.head;

		tl_unmap_node(n->ctx, n);
	}
}

int translation_destroy(cap_t c)
{
	int err;
	struct translation_ctx *ctx = translation_get(c, &err);
	struct rmap_node *n;

	if (!ctx)
		return err;
	if (ctx == &translation_kctx)
		return -EPERM;
	if (ctx == tl_current)
		return -EBUSY;
	while ((n = rmap_table_any(&ctx->maps)) != NULL)
		tl_unmap_node(ctx, n);
	/* Bindings that filter on this context die with it. */
	for (unsigned ev = 0; ev < TRANSLATION_NEVENTS; ev++)
		for (unsigned i = 0; i < tl_nbind[ev]; i++)
			if (tl_bind_id[ev][i] && tl_bind[ev][i].ctx == ctx)
				tl_bind_id[ev][i] = 0;
	virtaddr_space_fini(&ctx->space);
	cap_revoke(cap_kernel, c, TRANSLATION_CAP_TYPE, NULL);
	pagetable_destroy(&ctx->pt);
	kfree(ctx);
	return 0;
}

/* ---- mappings ---- */

static bool tl_prot_ok(unsigned prot)
{
	return !(prot & ~PAGETABLE_PROT_MASK) &&
	       (prot & (TRANSLATION_PROT_W | TRANSLATION_PROT_X)) !=
	           (TRANSLATION_PROT_W | TRANSLATION_PROT_X);
}

static unsigned tl_prot_norm(unsigned prot)
{
	return (prot & (TRANSLATION_PROT_W | TRANSLATION_PROT_X)) ? prot | TRANSLATION_PROT_R
	                                                          : prot;
}

static void tl_free_nodes(struct rmap_node **nodes, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		kfree(nodes[i]);
}

/*
 * The common mapping step.  Allocates first, then validates caps (the
 * allocations may have reclaimed something), then acts.  vcap may be
 * CAP_NULL for core callers: the range is then the one covering va.
 */
static int tl_map(struct translation_ctx *ctx, cap_t vcap, uintptr_t va, cap_t pcap, uint32_t page,
                  uint32_t npages, unsigned prot, bool check_ctx_cap, cap_t ccap)
{
	struct rmap_node *one, **nodes = &one;
	struct virtaddr_range *r;
	struct physaddr *p;
	uint32_t got = 0;
	int err;

	if (!npages || !tl_prot_ok(prot) || (va & TL_MASK) || va >= PAGETABLE_USER_TOP)
		return -EINVAL;
	if (npages > 1 && !(nodes = kmalloc(npages * sizeof(*nodes))))
		return -ENOMEM;
	for (; got < npages; got++) {
		nodes[got] = kmalloc(sizeof(struct rmap_node));
		if (!nodes[got]) {
			err = -ENOMEM;
			goto err_free_nodes;
		}
	}
	for (uint32_t i = 0; i < npages; i += 512) {
		if ((err = pagetable_prepare(&ctx->pt, va + (uintptr_t)i * TRANSLATION_PAGE)) != 0)
			goto err_free_nodes;
		if ((err = pagetable_prepare(&ctx->pt,
		                             va + (uintptr_t)(npages - 1) * TRANSLATION_PAGE)) != 0)
			goto err_free_nodes;
	}

	/* Validate, now that nothing else can change under us. */
	if (check_ctx_cap && translation_get(ccap, &err) != ctx) {
		err = err ? err : -ESTALE;
		goto err_free_nodes;
	}
	if (!(p = physaddr_get(pcap, &err)))
		goto err_free_nodes;
	if (vcap != CAP_NULL) {
		if (!(r = virtaddr_get(vcap, &err)))
			goto err_free_nodes;
		err = -EPERM;
		if (r->space != &ctx->space)
			goto err_free_nodes;
	} else {
		err = -ERANGE;
		if (!(r = virtaddr_find(&ctx->space, va)))
			goto err_free_nodes;
	}
	err = -ERANGE;
	if (va < r->start || (uint64_t)npages > (r->end - va) / TRANSLATION_PAGE ||
	    page >= p->npages || npages > p->npages - page)
		goto err_free_nodes;
	err = -EEXIST;
	for (uint32_t i = 0; i < npages; i++)
		if (rmap_lookup(&ctx->maps, va + (uintptr_t)i * TRANSLATION_PAGE))
			goto err_free_nodes;

	/* Act: tables exist and nothing is mapped, so this cannot fail. */
	prot = tl_prot_norm(prot);
	for (uint32_t i = 0; i < npages; i++) {
		struct rmap_node *n = nodes[i];
		uintptr_t a = va + (uintptr_t)i * TRANSLATION_PAGE;

		pagetable_map(&ctx->pt, a, p->pa[page + i], prot);
		n->ctx = ctx;
		n->obj = p;
		n->range = r;
		n->va = a;
		n->page = page + i;
		rmap_insert(&ctx->maps, &p->maps, n);
	}
	r->nmapped += npages;
	tl_st.maps += npages;
	if (nodes != &one)
		kfree(nodes);
	return 0;

err_free_nodes:
	tl_free_nodes(nodes, got);
	if (nodes != &one)
		kfree(nodes);
	return err;
}

int translation_map_page(struct translation_ctx *ctx, uintptr_t va, cap_t p, uint32_t page,
                         unsigned prot)
{
	return tl_map(ctx, CAP_NULL, va, p, page, 1, prot, false, CAP_NULL);
}

/* The context and range a cap-level call names, and the address voff in it. */
static int tl_resolve(cap_t c, cap_t v, size_t voff, uint32_t npages, struct translation_ctx **ctxp,
                      struct virtaddr_range **rp, uintptr_t *va)
{
	int err;
	struct translation_ctx *ctx = translation_get(c, &err);
	struct virtaddr_range *r;

	if (!ctx)
		return err;
	if (!(r = virtaddr_get(v, &err)))
		return err;
	if (r->space != &ctx->space)
		return -EPERM;
	if ((voff & TL_MASK) || !npages)
		return -EINVAL;
	if (voff >= r->end - r->start || npages > (r->end - r->start - voff) / TRANSLATION_PAGE)
		return -ERANGE;
	*ctxp = ctx;
	if (rp)
		*rp = r;
	*va = r->start + voff;
	return 0;
}

int translation_add_mapping(cap_t c, cap_t v, size_t voff, cap_t p, uint32_t page, uint32_t npages,
                            unsigned prot)
{
	struct translation_ctx *ctx;
	uintptr_t va;
	int err = tl_resolve(c, v, voff, npages, &ctx, NULL, &va);

	if (err)
		return err;
	return tl_map(ctx, v, va, p, page, npages, prot, true, c);
}

int translation_unmap_page(struct translation_ctx *ctx, uintptr_t va, struct physaddr **p,
                           uint32_t *page)
{
	struct rmap_node *n;

	if (va & TL_MASK)
		return -EINVAL;
	n = rmap_lookup(&ctx->maps, va);
	if (!n)
		return -ENOENT;
	if (p)
		*p = n->obj;
	if (page)
		*page = n->page;
	tl_unmap_node(ctx, n);
	return 0;
}

int translation_remove_mapping(cap_t c, cap_t v, size_t voff, uint32_t npages)
{
	struct translation_ctx *ctx;
	uintptr_t va;
	int err = tl_resolve(c, v, voff, npages, &ctx, NULL, &va), removed = 0;

	if (err)
		return err;
	for (uint32_t i = 0; i < npages; i++)
		if (translation_unmap_page(ctx, va + (uintptr_t)i * TRANSLATION_PAGE, NULL, NULL) ==
		    0)
			removed++;
	return removed;
}

int translation_lookup(struct translation_ctx *ctx, uintptr_t va, struct physaddr **p,
                       uint32_t *page, unsigned *prot)
{
	struct rmap_node *n = rmap_lookup(&ctx->maps, va & ~TL_MASK);

	if (!n)
		return -ENOENT;
	if (p)
		*p = n->obj;
	if (page)
		*page = n->page;
	if (prot)
		return pagetable_query(&ctx->pt, va & ~TL_MASK, NULL, prot, NULL);
	return 0;
}

int translation_examine_mapping(cap_t c, uintptr_t va, unsigned *prot, cap_t *pc, uint32_t *page)
{
	int err;
	struct translation_ctx *ctx = translation_get(c, &err);
	struct physaddr *p;

	if (!ctx)
		return err;
	if (va >= PAGETABLE_USER_TOP)
		return -EINVAL;
	if ((err = translation_lookup(ctx, va, &p, page, prot)) != 0)
		return err;
	if (pc)
		*pc = p->cap;
	return 0;
}

int translation_protect(struct translation_ctx *ctx, uintptr_t va, size_t npages, unsigned prot)
{
	if (!tl_prot_ok(prot) || (va & TL_MASK) || va >= PAGETABLE_USER_TOP ||
	    npages > (PAGETABLE_USER_TOP - va) / TRANSLATION_PAGE)
		return -EINVAL;
	if (pagetable_protect(&ctx->pt, va, npages, tl_prot_norm(prot), NULL))
		tl_flush(ctx, va, npages);
	tl_st.protects++;
	return 0;
}

int translation_change_mapping(cap_t c, cap_t v, size_t voff, uint32_t npages, unsigned prot)
{
	struct translation_ctx *ctx;
	uintptr_t va;
	int err = tl_resolve(c, v, voff, npages, &ctx, NULL, &va);

	if (err)
		return err;
	return translation_protect(ctx, va, npages, prot);
}

int translation_page_state(struct translation_ctx *ctx, uintptr_t va, unsigned *state)
{
	return pagetable_query(&ctx->pt, va & ~TL_MASK, NULL, NULL, state);
}

int translation_dirty(cap_t c, uintptr_t va, unsigned *state)
{
	int err;
	struct translation_ctx *ctx = translation_get(c, &err);

	if (!ctx)
		return err;
	if (!state)
		return -EINVAL;
	return translation_page_state(ctx, va, state);
}

int translation_clear_state(cap_t c, uintptr_t va, unsigned bits)
{
	int err;
	struct translation_ctx *ctx = translation_get(c, &err);

	if (!ctx)
		return err;
	if ((va & TL_MASK) || (bits & ~(TRANSLATION_DIRTY | TRANSLATION_ACCESSED)))
		return -EINVAL;
	err = pagetable_clear_state(&ctx->pt, va, bits);
	if (!err)
		tl_flush(ctx, va, 1); /* the TLB caches "dirty already set" */
	return err;
}

/* ---- events ---- */

int translation_install(unsigned event, const struct translation_binding *b, int *handle)
{
	unsigned n;

	if (event >= TRANSLATION_NEVENTS || !b || !b->handler || !handle)
		return -EINVAL;
	n = tl_nbind[event];
	/* Compact freed slots (never while a raise walks the array). */
	if (tl_depth == 0) {
		unsigned k = 0;

		for (unsigned i = 0; i < n; i++) {
			if (!tl_bind_id[event][i])
				continue;
			tl_bind[event][k] = tl_bind[event][i];
			tl_bind_id[event][k++] = tl_bind_id[event][i];
		}
		for (unsigned i = k; i < n; i++)
			tl_bind_id[event][i] = 0;
		n = tl_nbind[event] = k;
	}
	if (n == TRANSLATION_MAX_BINDINGS)
		return -ENOSPC;
	tl_bind[event][n] = *b;
	tl_bind_id[event][n] = tl_next_id;
	tl_nbind[event] = n + 1;
	*handle = (int)(event << 24) | tl_next_id;
	tl_next_id = (tl_next_id + 1) & 0xffffff;
	if (!tl_next_id)
		tl_next_id = 1;
	return 0;
}

int translation_uninstall(int handle)
{
	unsigned event = (unsigned)handle >> 24;
	int id = handle & 0xffffff;

	if (handle <= 0 || event >= TRANSLATION_NEVENTS)
		return -ENOENT;
	for (unsigned i = 0; i < tl_nbind[event]; i++) {
		if (tl_bind_id[event][i] == id) {
			tl_bind_id[event][i] = 0;
			return 0;
		}
	}
	return -ENOENT;
}

static bool tl_raise(const struct translation_fault *f)
{
	unsigned ev = f->event, n = tl_nbind[ev];

	for (unsigned i = 0; i < n; i++) {
		const struct translation_binding *b = &tl_bind[ev][i];

		if (!tl_bind_id[ev][i] || (b->ctx && b->ctx != f->ctx) ||
		    (b->range && b->range != f->range))
			continue;
		if (b->guard && !b->guard(b->closure, f))
			continue;
		if (b->handler(b->closure, f))
			return true;
	}
	return false;
}

bool translation_fault(uintptr_t va, unsigned access, uintptr_t pc)
{
	struct translation_ctx *ctx = tl_current;
	struct translation_fault f;
	bool ok;

	if (!ctx || tl_depth >= 2)
		return false;
	f.ctx = ctx;
	f.va = va;
	f.pc = pc;
	f.access = access;
	f.range =
	    (va >= ctx->space.lo && va < ctx->space.hi) ? virtaddr_find(&ctx->space, va) : NULL;
	f.event = !f.range                                ? TRANSLATION_BAD_ADDRESS
	          : (access & TRANSLATION_ACCESS_PRESENT) ? TRANSLATION_PROTECTION_FAULT
	                                                  : TRANSLATION_PAGE_NOT_PRESENT;
	tl_depth++;
	ok = tl_raise(&f);
	if (!ok && ctx->policy) {
		ok = ctx->policy(ctx->policy_closure, &f);
		tl_st.by_policy += ok;
	}
	tl_depth--;
	tl_st.faults[f.event]++;
	if (ok)
		tl_st.resolved++;
	else
		tl_st.unhandled++;
	return ok;
}

void translation_get_stats(struct translation_stats *out)
{
	*out = tl_st;
}
