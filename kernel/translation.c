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
 * picks the event and raises it through the dispatcher's call site (one
 * load and an indirect call: with a single unguarded native handler that
 * is the handler itself).  No allocation, no lock.
 *
 * SMP: each CPU has its own loaded context (struct tl_cpu, reached through
 * the CPU's percpu area in one load).  Each context's pt.cpus has the bit
 * of every CPU that has it loaded, set with a locked OR before that CPU's
 * CR3 can walk the tables and cleared after CR3 moved on.  A change that
 * may leave cached entries (tl_flush) fences, reads pt.cpus and flushes
 * this CPU if its bit is there and every other CPU there by a shootdown
 * IPI (smp_call_mask) that it waits for, so when an unmap returns no CPU
 * can still reach the old frame and the caller may free it.  The fence
 * pairs with the locked OR: a CPU whose bit the flush did not see had not
 * yet loaded CR3, and its walks see the new PTEs.  Without PCID a CR3 load
 * drops every entry, so only CPUs with the context loaded can hold stale
 * ones.  With PCID a CPU that switched away keeps entries tagged with the
 * context's PCID: tl_flush then marks the context stale on every CPU
 * (pt.stale, before reading pt.cpus, so a CPU loading it concurrently
 * either is shot down or sees the bit) and each CPU's next load of it
 * flushes.  A context loaded nowhere is only marked stale, as before.
 *
 * The memory module: translation_init declares the events of PhysAddr and
 * Translation by building the three interfaces' domains (the module is
 * their authority), installs the authorizer and the result handlers, and
 * publishes the domains in SpinPublic.  The extension-facing procedures
 * (Translation_*, VirtAddr_Allocate/Deallocate) are at the end: they
 * unpack their arguments and call the capability-level functions, which
 * validate everything.
 */
#include "kernel/translation.h"

#include <arch/percpu.h>
#include <arch/smp.h>
#include <arch/switch.h>

#include "kernel/domain.h"
#include "kernel/extension.h"
#include "kernel/extref.h"
#include "kernel/fmt.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/kprintf.h"
#include "kernel/nameserver.h"
#include "kernel/pmm.h"
#include "kernel/string.h"
#include "kernel/sync.h"
#include "spindle_interfaces.h"

struct tl_grant {
	cap_t ctx; /* CAP_NULL: free */
	char holder[TRANSLATION_HOLDER_MAX];
};

static const struct module tl_memory_module = {"Memory", MODULE_TRUSTED};
static struct translation_ctx translation_kctx;
static struct dispatch_event **const tl_events[TRANSLATION_NEVENTS] = {
    [TRANSLATION_PAGE_NOT_PRESENT] = &Translation_PageNotPresent_event,
    [TRANSLATION_BAD_ADDRESS] = &Translation_BadAddress_event,
    [TRANSLATION_PROTECTION_FAULT] = &Translation_ProtectionFault_event,
};
static struct tl_grant tl_grants[TRANSLATION_MAX_GRANTS];
static struct rt_sig tl_guard_sig;
static char tl_why[160];
static struct translation_stats tl_st;
/* Changes of PhysAddr objects' reverse-map lists that another context may
 * be changing at the same time: mappings of copy-on-write contexts (see
 * translation_cow_share).  A leaf lock: nothing is allocated, no other lock
 * taken and no TLB shootdown sent while it is held. */
static struct spinlock tl_share_lock = SPINLOCK_INIT("translation shares", SYNC_RANK_PMM + 10);

static struct tl_cpu tl_cpus[PERCPU_MAX];
/* One CPU and no PCID: cleared for good when an AP comes up (before it can
 * load a context or touch the lower half, so a flush that still read true
 * cannot miss an entry the AP holds). */
static bool tl_local_only;
_Static_assert(PERCPU_MAX <= 64, "pt.cpus and pt.stale are 64-bit masks");

static inline struct tl_cpu *tl_this_cpu(void)
{
	return arch_percpu_translation();
}

/* A shootdown: the same invalidation on every CPU that has ctx loaded. */
struct tl_shootdown {
	struct translation_ctx *ctx;
	uintptr_t va;
	size_t npages;
};

#define TL_MASK (TRANSLATION_PAGE - 1)

/* ---- TLB ---- */

/* Invalidate npages from va on this CPU (its loaded context). */
static void tl_flush_here(uintptr_t va, size_t npages)
{
	if (npages > PAGETABLE_FLUSH_THRESHOLD) {
		pagetable_flush_all();
		tl_st.flush_all++;
	} else {
		pagetable_flush_range(va, npages);
		tl_st.flush_pages += npages;
	}
}

/* A shootdown on a CPU it reached (interrupts off).  If ctx was switched
 * away from here since the sender read pt.cpus, the CR3 load dropped its
 * entries (or, with PCID, its stale bit makes the next load flush). */
static void tl_shootdown_here(void *arg)
{
	const struct tl_shootdown *r = arg;
	struct tl_cpu *me = tl_this_cpu();

	if (me->ctx != r->ctx)
		return;
	if (r->npages > PAGETABLE_FLUSH_THRESHOLD)
		pagetable_flush_all();
	else
		pagetable_flush_range(r->va, r->npages);
	__atomic_add_fetch(&tl_st.shootdown_flushes, 1, __ATOMIC_RELAXED);
}

/*
 * tl_flush's general case: invalidate npages from va in ctx now on each CPU
 * that has ctx loaded (this one directly, the others by an IPI this waits
 * for), at the next load elsewhere.  Interrupts are off throughout so that
 * "this CPU" stays this CPU.
 */
static __attribute__((noinline)) void tl_flush_cpus(struct translation_ctx *ctx, uintptr_t va,
                                                    size_t npages)
{
	unsigned long f = arch_irq_save();
	uint64_t self = tl_this_cpu()->bit, loaded;
	struct tl_shootdown r;

	/* Order the caller's PTE stores before the read of pt.cpus (pairs with
	 * the locked OR in translation_switch).  With PCID the locked OR of
	 * the stale bits is that fence. */
	if (pagetable_has_pcid())
		__atomic_or_fetch(&ctx->pt.stale, ~0ull, __ATOMIC_SEQ_CST);
	else
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	loaded = __atomic_load_n(&ctx->pt.cpus, __ATOMIC_RELAXED);
	if (loaded == self) {
		tl_flush_here(va, npages);
		goto out;
	}
	if (!loaded) {
		__atomic_or_fetch(&ctx->pt.stale, ~0ull, __ATOMIC_RELAXED);
		tl_st.deferred++;
		goto out;
	}
	if (loaded & self)
		tl_flush_here(va, npages);
	r = (struct tl_shootdown){ctx, va, npages};
	smp_call_mask(loaded & ~self, tl_shootdown_here, &r);
	__atomic_add_fetch(&tl_st.shootdowns, 1, __ATOMIC_RELAXED);
out:
	arch_irq_restore(f);
}

/*
 * Invalidate npages from va in ctx wherever they may be cached; on return
 * no TLB can reach the old translations, so the caller may free or reuse
 * the frames.  One CPU without PCID (every -smp 1 boot under TCG) keeps the
 * old rule inline: no other TLB exists, and a preemption between the test
 * and the flush can only load another context, whose CR3 load drops ctx's
 * entries anyway.  That costs this path one load and a branch.
 */
static inline void tl_flush(struct translation_ctx *ctx, uintptr_t va, size_t npages)
{
	if (__builtin_expect(!tl_local_only, 0)) {
		tl_flush_cpus(ctx, va, npages);
	} else if (tl_this_cpu()->ctx == ctx) {
		tl_flush_here(va, npages);
	} else {
		ctx->pt.stale = ~0ull;
		tl_st.deferred++;
	}
}

/* ---- reverse-map nodes ----
 *
 * Every mapping is one rmap node, and a fork maps (and an exit unmaps)
 * every page of a process, so nodes come from pages of their own rather
 * than kmalloc (whose debug checks cost more than the rest of a COW share
 * of a page).  A node page is a header and TL_NODES_PER_PAGE nodes; pages
 * with free nodes are listed; an empty page goes back to the pmm at once,
 * so memory accounting stays exact.  The frame is allocated and freed
 * outside the lock (the pmm's lock ranks below it).
 */
struct tl_npage {
	struct tl_npage *next, **pprev; /* on tl_npages while it has free nodes */
	struct rmap_node *free;         /* its free nodes (linked through hash_next) */
	uint64_t pa;
	uint32_t used;
};
#define TL_NODES_PER_PAGE ((TRANSLATION_PAGE - sizeof(struct tl_npage)) / sizeof(struct rmap_node))

static struct tl_npage *tl_npages;
static struct spinlock tl_node_lock = SPINLOCK_INIT("rmap nodes", SYNC_RANK_PMM + 5);

static struct tl_npage *tl_npage_of(const struct rmap_node *n)
{
	return (struct tl_npage *)((uintptr_t)n & ~(uintptr_t)(TRANSLATION_PAGE - 1));
}

static void tl_npage_unlist(struct tl_npage *pg)
{
	*pg->pprev = pg->next;
	if (pg->next)
		pg->next->pprev = pg->pprev;
	pg->next = NULL;
	pg->pprev = NULL;
}

static void tl_npage_list(struct tl_npage *pg)
{
	pg->next = tl_npages;
	pg->pprev = &tl_npages;
	if (tl_npages)
		tl_npages->pprev = &pg->next;
	tl_npages = pg;
}

static struct rmap_node *tl_node_alloc(void)
{
	struct rmap_node *n = NULL;
	struct tl_npage *pg;
	unsigned long fl;
	uint64_t pa;

	for (;;) {
		fl = spin_lock_irqsave(&tl_node_lock);
		if ((pg = tl_npages) != NULL) {
			n = pg->free;
			pg->free = n->hash_next;
			if (++pg->used == TL_NODES_PER_PAGE)
				tl_npage_unlist(pg);
		}
		spin_unlock_irqrestore(&tl_node_lock, fl);
		if (n)
			return n;
		/* No free node anywhere: a new page (may run Reclaim). */
		if (pmm_alloc(1, 1, 0, &pa))
			return NULL;
		pg = pagetable_phys_to_virt(pa);
		pg->pa = pa;
		pg->used = 0;
		pg->free = NULL;
		for (size_t i = TL_NODES_PER_PAGE; i-- > 0;) {
			struct rmap_node *f = (struct rmap_node *)(pg + 1) + i;

			f->hash_next = pg->free;
			pg->free = f;
		}
		fl = spin_lock_irqsave(&tl_node_lock);
		tl_npage_list(pg);
		spin_unlock_irqrestore(&tl_node_lock, fl);
	}
}

static void tl_node_free(struct rmap_node *n)
{
	struct tl_npage *pg = tl_npage_of(n);
	uint64_t pa = 0;
	unsigned long fl = spin_lock_irqsave(&tl_node_lock);

	if (pg->used-- == TL_NODES_PER_PAGE)
		tl_npage_list(pg); /* was full: has a free node again */
	n->hash_next = pg->free;
	pg->free = n;
	if (pg->used == 0) {
		tl_npage_unlist(pg);
		pa = pg->pa;
	}
	spin_unlock_irqrestore(&tl_node_lock, fl);
	if (pa)
		pmm_free(pa, 1);
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
static int tl_module_init(void);

/* This CPU has the kernel's context loaded (the boot CPU from
 * translation_init, each AP from its bring-up hook). */
static void tl_cpu_attach(void)
{
	struct tl_cpu *me = tl_this_cpu();

	me->ctx = &translation_kctx;
	__atomic_or_fetch(&translation_kctx.pt.cpus, me->bit, __ATOMIC_SEQ_CST);
}

static void tl_ap_init(void)
{
	__atomic_store_n(&tl_local_only, false, __ATOMIC_SEQ_CST);
	/* The AP came up on the CR3 the boot CPU had; make it the kernel's. */
	tl_cpu_attach();
	pagetable_activate(&translation_kctx.pt, true);
}

int translation_init(void)
{
	int err = physaddr_init();

	if (err)
		return err;
	/* Every CPU's pointer is set before the fault hook goes live, so the
	 * hot paths never test it; faults are ignored while ctx is NULL. */
	for (unsigned id = 0; id < PERCPU_MAX; id++) {
		tl_cpus[id].bit = 1ull << id;
		percpu_of(id)->translation = &tl_cpus[id];
	}
	pagetable_init(translation_fault);
	pagetable_kernel(&translation_kctx.pt);
	err = tl_ctx_init(&translation_kctx, "kernel");
	if (err)
		return err;
	physaddr_set_invalidate(tl_invalidate_obj);
	tl_local_only = !pagetable_has_pcid();
	tl_cpu_attach();
	if ((err = smp_register_ap_init(tl_ap_init)) != 0)
		return err;
	return tl_module_init();
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
	return tl_this_cpu()->ctx;
}

struct translation_ctx *translation_switch(struct translation_ctx *ctx)
{
	unsigned long f = arch_irq_save();
	struct translation_ctx *prev = translation_switch_irqsoff(ctx);

	arch_irq_restore(f);
	return prev;
}

/* A destroy's request on a CPU that still has the context loaded (left by
 * a strand that ran there: only process strands switch contexts). */
static void tl_evict_here(void *arg)
{
	if (tl_this_cpu()->ctx == arg)
		translation_switch(&translation_kctx);
}

void translation_set_policy(struct translation_ctx *ctx, translation_fault_fn fn, void *closure)
{
	ctx->policy = fn;
	ctx->policy_closure = closure;
}

/* Remove one mapping (node n of ctx).  Returns whether the TLB may still
 * hold it (the caller then flushes, before the frame can be freed). */
static bool tl_unmap_node_noflush(struct translation_ctx *ctx, struct rmap_node *n)
{
	struct physaddr *p = n->obj;
	struct virtaddr_range *r = n->range;
	bool cached = false;

	pagetable_unmap(&ctx->pt, n->va, NULL, &cached);
	r->nmapped--;
	if (ctx->pt.cow) { /* p's list may be shared with other contexts */
		unsigned long fl = spin_lock_irqsave(&tl_share_lock);

		rmap_remove(&ctx->maps, &p->maps, n);
		spin_unlock_irqrestore(&tl_share_lock, fl);
	} else {
		rmap_remove(&ctx->maps, &p->maps, n);
	}
	tl_st.unmaps++;
	tl_node_free(n);
	return cached;
}

/* Remove one mapping and invalidate it on every CPU before returning. */
static void tl_unmap_node(struct translation_ctx *ctx, struct rmap_node *n)
{
	uintptr_t va = n->va;

	if (tl_unmap_node_noflush(ctx, n))
		tl_flush(ctx, va, 1);
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
	if (translation_current() == ctx)
		return -EBUSY;
	/* Other CPUs may still have it loaded without using it; no CR3 may
	 * point at its tables once they are freed. */
	if (__atomic_load_n(&ctx->pt.cpus, __ATOMIC_ACQUIRE))
		smp_call_mask(ctx->pt.cpus, tl_evict_here, ctx);
	if (__atomic_load_n(&ctx->pt.cpus, __ATOMIC_ACQUIRE))
		return -EBUSY; /* loaded again meanwhile: it is still in use */
	while ((n = rmap_table_any(&ctx->maps)) != NULL)
		tl_unmap_node(ctx, n);
	/* Grants of it go; the guards imposed with it compare against a
	 * capability that is revoked below and never reissued. */
	for (unsigned i = 0; i < TRANSLATION_MAX_GRANTS; i++)
		if (tl_grants[i].ctx == c)
			tl_grants[i].ctx = CAP_NULL;
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
		tl_node_free(nodes[i]);
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
		nodes[got] = tl_node_alloc();
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
	bool cached = false;

	if (err)
		return err;
	/* One invalidation of the range (one shootdown on SMP), not one a page. */
	for (uint32_t i = 0; i < npages; i++) {
		struct rmap_node *n = rmap_lookup(&ctx->maps, va + (uintptr_t)i * TRANSLATION_PAGE);

		if (n) {
			cached |= tl_unmap_node_noflush(ctx, n);
			removed++;
		}
	}
	if (cached)
		tl_flush(ctx, va, npages);
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

/* ---- copy-on-write ---- */

int translation_cow_share(struct translation_ctx *from, struct translation_ctx *to)
{
	const struct rmap_table *t = &from->maps;
	struct virtaddr_range *r = NULL;
	bool cached = false;
	int err = 0;

	if (from == to || from == &translation_kctx || to == &translation_kctx)
		return -EINVAL;
	/* Both tables honour COW marks from now on (protect keeps them). */
	from->pt.cow = true;
	to->pt.cow = true;
	/* The walk reads from's table, which only its owner (the caller)
	 * changes; other sharers change only the objects' lists, under the
	 * lock. */
	for (unsigned b = 0; b < RMAP_BUCKETS && !err; b++)
		for (const struct rmap_node *pn = t->bucket[b]; pn && !err; pn = pn->hash_next) {
			struct physaddr *obj = pn->obj;
			struct rmap_node *n;
			unsigned long fl;
			bool c = false;

			/* Allocate and check first; then act under the lock.  A
			 * process has one range: look it up only when va leaves it. */
			if (!r || pn->va < r->start || pn->va >= r->end) {
				r = virtaddr_find(&to->space, pn->va);
				if (!r || pn->va >= r->end) {
					err = -ERANGE;
					break;
				}
			}
			if (rmap_lookup(&to->maps, pn->va)) {
				err = -EEXIST;
				break;
			}
			if (!(n = tl_node_alloc())) {
				err = -ENOMEM;
				break;
			}
			if (pagetable_prepare(&to->pt, pn->va)) {
				tl_node_free(n);
				err = -ENOMEM;
				break;
			}
			n->ctx = to;
			n->obj = obj;
			n->range = r;
			n->va = pn->va;
			n->page = pn->page;
			fl = spin_lock_irqsave(&tl_share_lock);
			err = pagetable_share_cow(&from->pt, &to->pt, pn->va, &c);
			if (!err) {
				rmap_insert(&to->maps, &obj->maps, n);
				tl_st.cow_shared++;
			}
			spin_unlock_irqrestore(&tl_share_lock, fl);
			if (err) {
				tl_node_free(n); /* an rmap node without a leaf: broken */
				break;
			}
			cached |= c;
			r->nmapped++;
			tl_st.maps++;
		}
	/* The parent's writable entries must be gone from every TLB before
	 * it can write again: a write through one would reach the child. */
	if (cached)
		tl_flush(from, 0, PAGETABLE_FLUSH_THRESHOLD + 1);
	return err;
}

int translation_cow_fault(struct translation_ctx *ctx, uintptr_t va)
{
	struct physaddr *old, *np = NULL;
	struct rmap_node *n;
	unsigned long fl;
	unsigned cow;
	bool cached;
	cap_t nc;

	if ((va & TL_MASK) || va >= PAGETABLE_USER_TOP)
		return -EINVAL;
	if (!(n = rmap_lookup(&ctx->maps, va)))
		return -ENOENT;
	if (pagetable_cow_query(&ctx->pt, va, &cow))
		return -ENOENT;
	/* Not COW, or protected without W: a real fault, for the handlers.
	 * (No stale read-only entry can fault here: only the context's owner
	 * breaks its COW pages, and it flushes before it runs on.) */
	if ((cow & (PAGETABLE_COW | PAGETABLE_COW_W)) != (PAGETABLE_COW | PAGETABLE_COW_W))
		return -EACCES;
	old = n->obj;
	/* The copy needs a page; allocate it only if the object is shared now
	 * (a hint: checked again under the lock).  While this mapping is on
	 * old's list no sharer can write it, so the copy is stable. */
	if (__atomic_load_n(&old->maps.count, __ATOMIC_RELAXED) > 1) {
		if (physaddr_alloc(TRANSLATION_PAGE, NULL, &nc)) {
			tl_st.cow_nomem++;
			return -ENOMEM;
		}
		np = physaddr_get(nc, NULL);
		memcpy(pagetable_phys_to_virt(np->pa[0]), pagetable_phys_to_virt(old->pa[n->page]),
		       TRANSLATION_PAGE);
	}
	fl = spin_lock_irqsave(&tl_share_lock);
	if (old->maps.count == 1 || !np) {
		if (old->maps.count > 1) {
			/* Shared again meanwhile (a fork of a sharer): copy after all. */
			spin_unlock_irqrestore(&tl_share_lock, fl);
			return translation_cow_fault(ctx, va);
		}
		/* The last mapping: the page is ours alone, W comes back. */
		cached = pagetable_cow_break(&ctx->pt, va, old->pa[n->page]);
		tl_st.cow_reuses++;
	} else {
		rmap_move(&old->maps, &np->maps, n);
		n->obj = np;
		n->page = 0;
		cached = pagetable_cow_break(&ctx->pt, va, np->pa[0]);
		np = NULL;
		tl_st.cow_copies++;
	}
	spin_unlock_irqrestore(&tl_share_lock, fl);
	if (np)
		physaddr_free(np->cap); /* not needed: we were the last sharer */
	if (cached)
		tl_flush(ctx, va, 1);
	return 0;
}

int translation_unmap_release(struct translation_ctx *ctx, uintptr_t va)
{
	struct rmap_node *n;
	struct physaddr *p;
	bool cached = false, last;
	unsigned long fl;

	if (va & TL_MASK)
		return -EINVAL;
	if (!(n = rmap_lookup(&ctx->maps, va)))
		return -ENOENT;
	p = n->obj;
	pagetable_unmap(&ctx->pt, va, NULL, &cached);
	((struct virtaddr_range *)n->range)->nmapped--;
	fl = spin_lock_irqsave(&tl_share_lock);
	rmap_remove(&ctx->maps, &p->maps, n);
	last = p->maps.count == 0; /* nobody else can reach p then */
	spin_unlock_irqrestore(&tl_share_lock, fl);
	tl_st.unmaps++;
	tl_node_free(n);
	if (cached)
		tl_flush(ctx, va, 1);
	if (last)
		physaddr_free(p->cap);
	return 0;
}

int translation_release_all(struct translation_ctx *ctx)
{
	struct rmap_node *dead = NULL, *n;
	bool cached = false;
	int count = 0;

	if (ctx == &translation_kctx)
		return -EPERM;
	/* Bucket by bucket, one pass; one invalidation of the whole context at
	 * the end (one shootdown if another CPU still has it loaded, not one
	 * per page), and only then are the objects whose last mapping went
	 * freed: their nodes wait on the dead list meanwhile.  Pages still
	 * shared may be written by their other sharer before that flush; this
	 * context runs nowhere (exit, exec's old image), so nobody reads them
	 * through it. */
	for (unsigned b = 0; b < RMAP_BUCKETS; b++)
		while ((n = ctx->maps.bucket[b]) != NULL) {
			struct physaddr *p = n->obj;
			unsigned long fl;
			bool c = false, last;

			pagetable_unmap(&ctx->pt, n->va, NULL, &c);
			cached |= c;
			((struct virtaddr_range *)n->range)->nmapped--;
			fl = spin_lock_irqsave(&tl_share_lock);
			rmap_remove(&ctx->maps, &p->maps, n);
			last = p->maps.count == 0;
			spin_unlock_irqrestore(&tl_share_lock, fl);
			tl_st.unmaps++;
			count++;
			if (last) {
				n->hash_next = dead; /* n->obj still names p */
				dead = n;
			} else {
				tl_node_free(n);
			}
		}
	if (cached)
		tl_flush(ctx, 0, PAGETABLE_FLUSH_THRESHOLD + 1);
	while ((n = dead) != NULL) {
		dead = n->hash_next;
		physaddr_free(((struct physaddr *)n->obj)->cap);
		tl_node_free(n);
	}
	return count;
}

/* ---- events ---- */

struct dispatch_event *translation_event(unsigned e)
{
	return e < TRANSLATION_NEVENTS ? *tl_events[e] : NULL;
}

const struct translation_fault *translation_fault_info(void)
{
	return tl_this_cpu()->fault;
}

void translation_native_sig(void *fn, bool closure, bool guard, struct rt_sig *out)
{
	const struct rt_sig *ev = &Translation_ProtectionFault_sig; /* the three are alike */
	uint32_t skip = closure ? 1 : 0;

	memset(out, 0, sizeof(*out));
	out->name = guard ? "translation_native_guard" : "translation_native_handler";
	out->fn = fn;
	out->nargs = (uint8_t)(ev->nargs + skip);
	if (closure)
		out->args[0].kind = RT_ARG_SCALAR;
	for (uint32_t i = 0; i < ev->nargs; i++)
		out->args[i + skip] = ev->args[i];
	out->ret = ev->ret;
	out->flags = guard ? RT_SIG_PURE : 0;
}

int translation_grant(cap_t c, const char *holder)
{
	struct tl_grant *g = NULL;
	struct ext *x;
	uint64_t h;
	int err;

	if (!translation_get(c, &err))
		return err;
	if (!holder || !holder[0] || strlen(holder) >= TRANSLATION_HOLDER_MAX)
		return -EINVAL;
	for (unsigned i = 0; i < TRANSLATION_MAX_GRANTS && !g; i++)
		if (tl_grants[i].ctx == CAP_NULL)
			g = &tl_grants[i];
	if (!g)
		return -ENOSPC;
	/* A loaded holder gets the context in its capability space now; one
	 * loaded later gets it when it installs a fault handler (tl_authorize). */
	if ((x = ext_find(holder)) && (err = ext_cap_give(x, c, &h)))
		return err;
	model_copy_name(g->holder, sizeof(g->holder), holder);
	g->ctx = c;
	return 0;
}

int translation_revoke_grant(cap_t c, const char *holder)
{
	for (unsigned i = 0; i < TRANSLATION_MAX_GRANTS; i++) {
		if (tl_grants[i].ctx == c && holder && strcmp(tl_grants[i].holder, holder) == 0) {
			tl_grants[i].ctx = CAP_NULL;
			return 0;
		}
	}
	return -ENOENT;
}

const char *translation_refusal(void)
{
	return tl_why;
}

/* The guard imposed on an extension's fault handler: the fault is in the
 * context it was granted.  (granted, ctx, va, access, pc).  It compares the
 * objects both capabilities resolve to, so a grant whose context was
 * destroyed (its capability revoked) matches nothing; granted is the
 * kernel's own value, never one an extension supplied.  ctx is the raiser's
 * argument, before the handler's shim turns it into the extension's
 * handle (kernel/extension.c). */
static uint64_t tl_guard(uint64_t granted, uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	(void)va, (void)access, (void)pc;
	/* Equal live capabilities name the same object (one slot, one
	 * generation), so one check settles it. */
	return ctx == granted && cap_lookup(cap_kernel, ctx, TRANSLATION_CAP_TYPE) != NULL;
}

/* The newest grant held by module m (by name), or NULL. */
static const struct tl_grant *tl_grant_of(const struct module *m)
{
	const struct tl_grant *found = NULL;

	for (unsigned i = 0; i < TRANSLATION_MAX_GRANTS; i++)
		if (tl_grants[i].ctx != CAP_NULL && strcmp(tl_grants[i].holder, m->name) == 0)
			found = &tl_grants[i];
	return found;
}

/* The memory module's authorizer: arg is NULL for PhysAddr.Reclaim, the
 * guard signature for the fault events. */
static int tl_authorize(void *arg, struct dispatch_decision *d)
{
	const struct tl_grant *g;
	struct dispatch_guard guard;
	struct extref_table *caps;
	uint64_t h;
	int err;

	if (d->requester == d->event->authority ||
	    ((d->requester->flags & MODULE_TRUSTED) && !(d->requester->flags & MODULE_EXTENSION)))
		return 0;
	if (d->op != DISPATCH_OP_INSTALL) {
		fmt_snprintf(tl_why, sizeof(tl_why),
		             "%s: only the memory module may change defaults or others' handlers",
		             d->event->name);
		return -EACCES;
	}
	if (!arg)
		return 0; /* Reclaim: a nomination is a hint, checked when taken */
	if (!(g = tl_grant_of(d->requester))) {
		fmt_snprintf(tl_why, sizeof(tl_why),
		             "%s: extension '%s' was granted no translation context, so it may "
		             "not handle faults",
		             d->event->name, d->requester->name);
		return -EACCES;
	}
	/* The grantee holds the context in its own capability space (its
	 * handler receives that handle and passes it back to Translation). */
	caps = ext_module_caps(d->requester);
	if (caps && (err = extref_enter(caps, g->ctx, &h))) {
		fmt_snprintf(tl_why, sizeof(tl_why),
		             "%s: cannot give extension '%s' its context (%d)", d->event->name,
		             d->requester->name, err);
		return -EACCES;
	}
	guard = (struct dispatch_guard){.proc = {.sig = arg, .ext = &tl_memory_module},
	                                .closure = (void *)(uintptr_t)g->ctx,
	                                .has_closure = true};
	return dispatch_impose_guard(d, &guard);
}

static uint64_t tl_result_or(void *arg, uint64_t acc, uint64_t result, uint32_t index)
{
	(void)arg, (void)index;
	return acc | (result != 0);
}

/* Declare the events (by building the domains), set their authorizer and
 * result handlers, publish the domains.  Before this a raise finds no
 * event: faults go to the policy and the trap path, Reclaim takes the
 * candidate. */
static int tl_module_init(void)
{
	const struct iface_desc *ifaces[3] = {&iface_PhysAddr, &iface_VirtAddr, &iface_Translation};
	struct domain *d;
	int err = 0;

	if (!domain_spin_public)
		return 0; /* no extension model in this image: nothing to publish */
	translation_native_sig((void *)tl_guard, true, true, &tl_guard_sig);
	for (unsigned i = 0; i < 3 && !err; i++) {
		d = NULL;
		if ((err = domain_create_from_interface(ifaces[i], &tl_memory_module, &d)))
			break;
		err = domain_publish(d);
		if (!err)
			err = nameserver_export_interface(ifaces[i], d, NULL, NULL,
			                                  &tl_memory_module);
		domain_release(d);
	}
	for (unsigned e = 0; e < TRANSLATION_NEVENTS && !err; e++) {
		err = dispatch_set_authorizer(*tl_events[e], tl_authorize, &tl_guard_sig,
		                              &tl_memory_module);
		if (!err)
			err = dispatch_set_result(*tl_events[e], tl_result_or, NULL, 0,
			                          &tl_memory_module);
	}
	if (!err)
		err = dispatch_set_authorizer(PhysAddr_Reclaim_event, tl_authorize, NULL,
		                              &tl_memory_module);
	if (!err)
		err = dispatch_set_result(PhysAddr_Reclaim_event, physaddr_reclaim_combine, NULL,
		                          CAP_NULL, &tl_memory_module);
	if (err)
		kprintf("translation: publishing the memory interfaces failed (%d)\n", err);
	return err;
}

bool translation_fault(uintptr_t va, unsigned access, uintptr_t pc)
{
	struct tl_cpu *me = tl_this_cpu(); /* interrupts are off: it stays ours */
	struct translation_ctx *ctx;
	const struct translation_fault *outer;
	const struct dispatch_event *ev;
	struct translation_fault f;
	bool ok = false;

	if (!(ctx = me->ctx) || me->depth >= 2)
		return false;
	outer = me->fault;
	f.ctx = ctx;
	f.va = va;
	f.pc = pc;
	f.access = access;
	f.range =
	    (va >= ctx->space.lo && va < ctx->space.hi) ? virtaddr_find(&ctx->space, va) : NULL;
	f.event = !f.range                                ? TRANSLATION_BAD_ADDRESS
	          : (access & TRANSLATION_ACCESS_PRESENT) ? TRANSLATION_PROTECTION_FAULT
	                                                  : TRANSLATION_PAGE_NOT_PRESENT;
	/* A write to a copy-on-write page is the memory services' own
	 * business: resolved here, before any ProtectionFault handler (a
	 * process's VM extension sees only the faults of pages it protected). */
	if (__builtin_expect(ctx->pt.cow, 0) && f.event == TRANSLATION_PROTECTION_FAULT &&
	    (access & TRANSLATION_ACCESS_WRITE) && translation_cow_fault(ctx, va & ~TL_MASK) == 0) {
		tl_st.faults[f.event]++;
		tl_st.resolved++;
		return true;
	}
	me->depth++;
	me->fault = &f;
	ev = *tl_events[f.event];
	if (ev)
		ok = dispatch_call(ev, ctx->cap, va, access, pc, 0) != 0;
	if (!ok && ctx->policy) {
		ok = ctx->policy(ctx->policy_closure, &f);
		tl_st.by_policy += ok;
	}
	me->fault = outer;
	me->depth--;
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

/* ---- the Translation and VirtAddr interfaces (interfaces/translation.idl, virtaddr.idl) ---- */

/* Extensions never name the kernel's own context (its capability exists
 * for core code only). */
static bool tl_is_kernel(uint64_t context)
{
	return context == translation_kctx.cap;
}

int64_t Translation_AddMapping(uint64_t context, uint64_t v, uint64_t offset, uint64_t p,
                               uint64_t spec)
{
	if (tl_is_kernel(context))
		return -EPERM;
	if (spec >> 56)
		return -EINVAL;
	return translation_add_mapping(context, v, (size_t)offset, p, (uint32_t)(spec & 0xffffff),
	                               (uint32_t)((spec >> 24) & 0xffffff),
	                               (unsigned)((spec >> 48) & 0xff));
}

int64_t Translation_RemoveMapping(uint64_t context, uint64_t v, uint64_t offset, uint64_t npages)
{
	if (tl_is_kernel(context))
		return -EPERM;
	if (npages > UINT32_MAX)
		return -EINVAL;
	return translation_remove_mapping(context, v, (size_t)offset, (uint32_t)npages);
}

int64_t Translation_ChangeMapping(uint64_t context, uint64_t v, uint64_t offset, uint64_t npages,
                                  uint64_t prot)
{
	if (tl_is_kernel(context))
		return -EPERM;
	if (npages > UINT32_MAX || prot > PAGETABLE_PROT_MASK)
		return -EINVAL;
	return translation_change_mapping(context, v, (size_t)offset, (uint32_t)npages,
	                                  (unsigned)prot);
}

int64_t Translation_ExamineMapping(uint64_t context, uint64_t address)
{
	unsigned prot;
	int err;

	if (tl_is_kernel(context))
		return -EPERM;
	err = translation_examine_mapping(context, (uintptr_t)address, &prot, NULL, NULL);
	return err ? err : (int64_t)prot;
}

int64_t Translation_Dirty(uint64_t context, uint64_t address)
{
	unsigned state;
	int err;

	if (tl_is_kernel(context))
		return -EPERM;
	if (address >= PAGETABLE_USER_TOP)
		return -EINVAL;
	err = translation_dirty(context, (uintptr_t)address, &state);
	return err ? err : (int64_t)state;
}

int64_t Translation_ClearState(uint64_t context, uint64_t address, uint64_t bits)
{
	if (tl_is_kernel(context))
		return -EPERM;
	if (address >= PAGETABLE_USER_TOP || bits > UINT32_MAX)
		return -EINVAL;
	return translation_clear_state(context, (uintptr_t)address, (unsigned)bits);
}

/* VirtAddr's procedures live here because allocation names a context,
 * which only Translation resolves. */
int64_t VirtAddr_Allocate(uint64_t context, uint64_t address, uint64_t size, void *v)
{
	int err;
	struct translation_ctx *ctx = translation_get(context, &err);
	cap_t c;

	if (!ctx)
		return err;
	if (!v || ctx == &translation_kctx)
		return !v ? -EINVAL : -EPERM; /* the kernel's context is not for extensions */
	if ((err = virtaddr_alloc(&ctx->space, (uintptr_t)address, (size_t)size, &c)))
		return err;
	memcpy(v, &c, sizeof(c));
	return 0;
}

int64_t VirtAddr_Deallocate(uint64_t v)
{
	return virtaddr_free(v);
}
