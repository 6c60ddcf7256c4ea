/*
 * cow_test.c: copy-on-write sharing of Translation (what fork uses):
 * share counts (the PhysAddr object's reverse-map count) and COW marks
 * after translation_cow_share; a write fault copying a shared page or
 * giving W back to its last mapping; a kernel write (copy_to_user, CR0.WP)
 * breaking COW instead of writing into the shared frame; mprotect keeping a
 * range COW; the order against a ProtectionFault handler (a COW write never
 * reaches it, a page the handler protected does); three generations
 * released in any order with every object freed exactly once; a COW fault
 * with no free page (-ENOMEM, nothing changed); two CPUs breaking the same
 * shared pages at once.  Each case builds and frees its own contexts and
 * ends with the PhysAddr object count it started with.
 */
#include <spindle/errno.h>

#include <arch/cpu.h>
#include <arch/pagetable.h>
#include <arch/percpu.h>

#include "kernel/clock.h"
#include "kernel/dispatch.h"
#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/ktest.h"
#include "kernel/physaddr.h"
#include "kernel/pmm.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/string.h"
#include "kernel/translation.h"
#include "kernel/uaccess.h"

#define PG      TRANSLATION_PAGE
#define CT_VA   0x50000000ul
#define CT_RW   (TRANSLATION_PROT_RW | TRANSLATION_PROT_U)
#define CT_RO   (TRANSLATION_PROT_R | TRANSLATION_PROT_U)
#define CT_MAXP 64u

/* A process-like address space: one range, one single-page object per
 * page (filled with the byte seed + page index). */
struct ct_space {
	cap_t ctx, range;
	struct translation_ctx *c;
};

/* A context with one range of CT_MAXP pages at CT_VA, nothing mapped. */
static int ct_make(struct ct_space *s)
{
	int err = translation_create("cow-test", &s->ctx);

	if (err)
		return err;
	s->c = translation_get(s->ctx, NULL);
	return virtaddr_alloc(&s->c->space, CT_VA, CT_MAXP * PG, &s->range);
}

static int ct_map(struct ct_space *s, uint32_t i, unsigned prot, uint8_t seed)
{
	cap_t pc;
	int err = physaddr_alloc(PG, NULL, &pc);

	if (err)
		return err;
	memset(pagetable_phys_to_virt(physaddr_get(pc, NULL)->pa[0]), seed + i, PG);
	err = translation_map_page(s->c, CT_VA + i * PG, pc, 0, prot);
	if (err)
		physaddr_free(pc);
	return err;
}

/* The frame at page i of s (through the direct map), or NULL. */
static uint8_t *ct_bytes(struct ct_space *s, uint32_t i, struct physaddr **obj)
{
	struct physaddr *p;
	uint32_t pg;

	if (translation_lookup(s->c, CT_VA + i * PG, &p, &pg, NULL))
		return NULL;
	if (obj)
		*obj = p;
	return pagetable_phys_to_virt(p->pa[pg]);
}

static uint32_t ct_sharers(struct ct_space *s, uint32_t i)
{
	struct physaddr *p = NULL;

	return ct_bytes(s, i, &p) ? p->maps.count : 0;
}

static unsigned ct_cow(struct ct_space *s, uint32_t i)
{
	unsigned cow = 0;

	pagetable_cow_query(&s->c->pt, CT_VA + i * PG, &cow);
	return cow;
}

/* Unmap every page (dropping shares) and destroy the context. */
static void ct_free(struct ct_space *s)
{
	if (!s->c)
		return;
	if (translation_current() == s->c)
		translation_switch(translation_kernel_ctx());
	for (uint32_t i = 0; i < CT_MAXP; i++)
		translation_unmap_release(s->c, CT_VA + i * PG);
	translation_destroy(s->ctx);
	s->c = NULL;
}

static uint64_t ct_objects(void)
{
	struct physaddr_stats st;

	physaddr_get_stats(&st);
	return st.objects;
}

KTEST(cow_share_counts_and_marks)
{
	struct ct_space a = {0}, b = {0};
	struct translation_stats t0, t1;
	uint64_t objs0 = ct_objects();
	unsigned prot;

	KT_ASSERT_EQ(ct_make(&a), 0);
	KT_ASSERT_EQ(ct_make(&b), 0);
	KT_ASSERT_EQ(ct_map(&a, 0, CT_RW, 0x10), 0);
	KT_ASSERT_EQ(ct_map(&a, 1, CT_RO, 0x20), 0);
	KT_ASSERT_EQ(ct_map(&a, 2, 0, 0x30), 0); /* mapped with no access */
	translation_get_stats(&t0);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
	translation_get_stats(&t1);
	KT_ASSERT_EQ(t1.cow_shared - t0.cow_shared, 3);
	for (uint32_t i = 0; i < 3; i++) {
		KT_ASSERT_EQ(ct_sharers(&a, i), 2);
		KT_ASSERT(ct_bytes(&a, i, NULL) == ct_bytes(&b, i, NULL)); /* one frame */
	}
	KT_ASSERT_EQ(ct_sharers(&a, 3), 0);
	/* The protection reads back as it was; W is withheld by the mark. */
	KT_ASSERT_EQ(translation_lookup(b.c, CT_VA, NULL, NULL, &prot), 0);
	KT_ASSERT_EQ(prot, CT_RW);
	KT_ASSERT_EQ(ct_cow(&a, 0), PAGETABLE_COW | PAGETABLE_COW_W);
	KT_ASSERT_EQ(ct_cow(&b, 0), PAGETABLE_COW | PAGETABLE_COW_W);
	KT_ASSERT_EQ(ct_cow(&b, 1), PAGETABLE_COW);
	KT_ASSERT_EQ(ct_cow(&b, 2), PAGETABLE_COW);
	/* Bad input: the same context, the kernel's, or a target with the
	 * pages already mapped. */
	KT_ASSERT_EQ(translation_cow_share(a.c, a.c), -EINVAL);
	KT_ASSERT_EQ(translation_cow_share(a.c, translation_kernel_ctx()), -EINVAL);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), -EEXIST);
	ct_free(&a);
	KT_ASSERT_EQ(ct_sharers(&b, 0), 1); /* b keeps the pages */
	KT_ASSERT_EQ(ct_objects(), objs0 + 3);
	ct_free(&b);
	KT_ASSERT_EQ(ct_objects(), objs0);
	KT_ASSERT_EQ(pmm_check(), 0);
	KT_ASSERT_EQ(heap_check(), 0);
}

KTEST(cow_fault_copies_or_reuses)
{
	struct ct_space a = {0}, b = {0};
	struct translation_stats t0, t1;
	struct physaddr *pa0 = NULL, *pb0 = NULL;
	uint64_t objs0 = ct_objects();
	uint8_t *fa, *fb;

	KT_ASSERT_EQ(ct_make(&a), 0);
	KT_ASSERT_EQ(ct_make(&b), 0);
	KT_ASSERT_EQ(ct_map(&a, 0, CT_RW, 0x40), 0);
	KT_ASSERT_EQ(ct_map(&a, 1, CT_RO, 0x50), 0);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
	translation_get_stats(&t0);
	/* b writes: its own copy, same contents; a keeps the original. */
	KT_ASSERT_EQ(translation_cow_fault(b.c, CT_VA), 0);
	fa = ct_bytes(&a, 0, &pa0);
	fb = ct_bytes(&b, 0, &pb0);
	KT_ASSERT(fa != fb && pa0 != pb0);
	KT_ASSERT_EQ(fb[0], 0x40);
	KT_ASSERT_EQ(fb[PG - 1], 0x40);
	KT_ASSERT_EQ(pa0->maps.count, 1);
	KT_ASSERT_EQ(pb0->maps.count, 1);
	KT_ASSERT_EQ(ct_cow(&b, 0), 0);
	fb[7] = 0x77;
	KT_ASSERT_EQ(fa[7], 0x40);
	/* a is now the last mapping: W comes back, no copy. */
	KT_ASSERT_EQ(ct_cow(&a, 0), PAGETABLE_COW | PAGETABLE_COW_W);
	KT_ASSERT_EQ(translation_cow_fault(a.c, CT_VA), 0);
	KT_ASSERT(ct_bytes(&a, 0, NULL) == fa);
	KT_ASSERT_EQ(ct_cow(&a, 0), 0);
	translation_get_stats(&t1);
	KT_ASSERT_EQ(t1.cow_copies - t0.cow_copies, 1);
	KT_ASSERT_EQ(t1.cow_reuses - t0.cow_reuses, 1);
	/* Not COW any more, read-only, unmapped, unaligned: not resolved. */
	KT_ASSERT_EQ(translation_cow_fault(a.c, CT_VA), -EACCES);
	KT_ASSERT_EQ(translation_cow_fault(b.c, CT_VA + PG), -EACCES);
	KT_ASSERT_EQ(translation_cow_fault(b.c, CT_VA + 9 * PG), -ENOENT);
	KT_ASSERT_EQ(translation_cow_fault(b.c, CT_VA + 1), -EINVAL);
	KT_ASSERT_EQ(ct_sharers(&b, 1), 2);
	ct_free(&a);
	ct_free(&b);
	KT_ASSERT_EQ(ct_objects(), objs0);
	KT_ASSERT_EQ(pmm_check(), 0);
}

/* copy_to_user with CR0.WP: the kernel's write to a COW page faults like
 * the user's, and the fault path gives the context its own copy. */
KTEST(cow_kernel_write_breaks_cow)
{
	struct ct_space a = {0}, b = {0};
	struct translation_ctx *prev;
	uint64_t objs0 = ct_objects();
	char msg[] = "written by the kernel";
	char back[sizeof(msg)];
	int r[4];

	KT_ASSERT_EQ(ct_make(&a), 0);
	KT_ASSERT_EQ(ct_make(&b), 0);
	KT_ASSERT_EQ(ct_map(&a, 0, CT_RW, 0x60), 0);
	KT_ASSERT_EQ(ct_map(&a, 1, CT_RW, 0x70), 0);
	KT_ASSERT_EQ(ct_map(&a, 2, CT_RO, 0x80), 0);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
	prev = translation_switch(b.c);
	r[0] = copy_to_user(CT_VA + 100, msg, sizeof(msg));
	r[1] = copy_from_user(back, CT_VA + 100, sizeof(back));
	/* Across two COW pages: the second breaks on the way. */
	r[2] = copy_to_user(CT_VA + PG - 4, msg, 8);
	r[3] = copy_to_user(CT_VA + 2 * PG, msg, 8); /* read-only: still -EFAULT */
	translation_switch(prev);
	KT_ASSERT_EQ(r[0], 0);
	KT_ASSERT_EQ(r[1], 0);
	KT_ASSERT_EQ(memcmp(back, msg, sizeof(msg)), 0);
	KT_ASSERT_EQ(r[2], 0);
	KT_ASSERT_EQ(r[3], -EFAULT);
	KT_ASSERT_EQ(memcmp(ct_bytes(&b, 0, NULL) + 100, msg, sizeof(msg)), 0);
	KT_ASSERT_EQ(ct_bytes(&a, 0, NULL)[100], 0x60); /* the parent's page untouched */
	KT_ASSERT_EQ(ct_bytes(&a, 1, NULL)[0], 0x71);
	KT_ASSERT_EQ(ct_bytes(&b, 1, NULL)[0], msg[4]);
	KT_ASSERT_EQ(ct_sharers(&a, 0), 1);
	KT_ASSERT_EQ(ct_sharers(&a, 1), 1);
	KT_ASSERT_EQ(ct_sharers(&a, 2), 2);
	KT_ASSERT_EQ(ct_bytes(&b, 2, NULL)[0], 0x82);
	ct_free(&b);
	ct_free(&a);
	KT_ASSERT_EQ(ct_objects(), objs0);
}

/* mprotect of a COW range: it stays COW whatever the protection. */
KTEST(cow_protect_keeps_cow)
{
	struct ct_space a = {0}, b = {0};
	struct translation_ctx *prev;
	uint64_t objs0 = ct_objects();
	int r;

	KT_ASSERT_EQ(ct_make(&a), 0);
	KT_ASSERT_EQ(ct_make(&b), 0);
	KT_ASSERT_EQ(ct_map(&a, 0, CT_RO, 0x11), 0);
	KT_ASSERT_EQ(ct_map(&a, 1, CT_RW, 0x22), 0);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
	/* Read-only made writable: still shared, W withheld. */
	KT_ASSERT_EQ(translation_protect(b.c, CT_VA, 2, CT_RW), 0);
	KT_ASSERT_EQ(ct_cow(&b, 0), PAGETABLE_COW | PAGETABLE_COW_W);
	KT_ASSERT_EQ(translation_protect(b.c, CT_VA + PG, 1, CT_RO), 0);
	KT_ASSERT_EQ(ct_cow(&b, 1), PAGETABLE_COW);
	KT_ASSERT_EQ(translation_protect(b.c, CT_VA + PG, 1, 0), 0);
	KT_ASSERT_EQ(translation_protect(b.c, CT_VA + PG, 1, CT_RW), 0);
	KT_ASSERT_EQ(ct_cow(&b, 1), PAGETABLE_COW | PAGETABLE_COW_W);
	prev = translation_switch(b.c);
	r = copy_to_user(CT_VA, "zz", 2);
	translation_switch(prev);
	KT_ASSERT_EQ(r, 0);
	KT_ASSERT_EQ(ct_bytes(&a, 0, NULL)[0], 0x11);
	KT_ASSERT_EQ(ct_bytes(&b, 0, NULL)[0], 'z');
	KT_ASSERT_EQ(ct_sharers(&a, 1), 2);
	ct_free(&a);
	ct_free(&b);
	KT_ASSERT_EQ(ct_objects(), objs0);
}

/* ---- order against a ProtectionFault handler ---- */

static const struct module ct_module = {"cow_test", MODULE_TRUSTED | MODULE_PRIVILEGED};
static struct rt_sig ct_sig_handler, ct_sig_guard;

struct ct_rec {
	struct translation_ctx *c;
	int calls;
};

static uint64_t ct_handler(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access,
                           uint64_t pc)
{
	struct ct_rec *r = (struct ct_rec *)(uintptr_t)closure;

	(void)ctx, (void)access, (void)pc;
	r->calls++;
	return translation_protect(r->c, va & ~(PG - 1), 1, CT_RW) == 0;
}

static uint64_t ct_guard(uint64_t closure, uint64_t ctx, uint64_t va, uint64_t access, uint64_t pc)
{
	(void)va, (void)access, (void)pc;
	return ctx == (uint64_t)(uintptr_t)closure;
}

KTEST(cow_resolved_before_protection_fault_handlers)
{
	struct ct_space a = {0}, b = {0};
	struct ct_rec rec = {0};
	struct dispatch_binding *h = NULL;
	struct translation_ctx *prev;
	uint64_t objs0 = ct_objects();
	int r[2];

	KT_ASSERT_EQ(ct_make(&a), 0);
	KT_ASSERT_EQ(ct_make(&b), 0);
	KT_ASSERT_EQ(ct_map(&a, 0, CT_RW, 0x33), 0);
	KT_ASSERT_EQ(ct_map(&a, 1, CT_RW, 0x44), 0);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
	rec.c = b.c;
	translation_native_sig((void *)ct_handler, true, false, &ct_sig_handler);
	translation_native_sig((void *)ct_guard, true, true, &ct_sig_guard);
	{
		struct dispatch_guard g = {.proc = {.sig = &ct_sig_guard, .ext = &ct_module},
		                           .closure = (void *)(uintptr_t)b.ctx,
		                           .has_closure = true};
		struct dispatch_install_req req = {
		    .handler = {.sig = &ct_sig_handler, .ext = &ct_module},
		    .guard = &g,
		    .closure = &rec,
		    .options = DISPATCH_CLOSURE};
		struct dispatch_event *ev = translation_event(TRANSLATION_PROTECTION_FAULT);

		KT_ASSERT(ev != NULL);
		KT_ASSERT_EQ(dispatch_install(ev, &req, &ct_module, &h), 0);
	}
	/* The handler's own protection: b takes W away from page 1. */
	KT_ASSERT_EQ(translation_protect(b.c, CT_VA + PG, 1, CT_RO), 0);
	prev = translation_switch(b.c);
	r[0] = copy_to_user(CT_VA, "a", 1);      /* COW: never seen by the handler */
	r[1] = copy_to_user(CT_VA + PG, "b", 1); /* the handler's fault, then COW */
	translation_switch(prev);
	KT_ASSERT_EQ(dispatch_uninstall(h, &ct_module), 0);
	KT_ASSERT_EQ(r[0], 0);
	KT_ASSERT_EQ(r[1], 0);
	KT_ASSERT_EQ(rec.calls, 1);
	KT_ASSERT_EQ(ct_bytes(&a, 1, NULL)[0], 0x45);
	KT_ASSERT_EQ(ct_bytes(&b, 1, NULL)[0], 'b');
	KT_ASSERT_EQ(ct_sharers(&a, 0), 1);
	KT_ASSERT_EQ(ct_sharers(&a, 1), 1);
	ct_free(&a);
	ct_free(&b);
	KT_ASSERT_EQ(ct_objects(), objs0);
}

/* fork of a fork of a fork, released in every order: each object freed
 * once, with its last mapping. */
KTEST(cow_three_generations_release)
{
	static const uint8_t orders[3][3] = {{0, 1, 2}, {2, 1, 0}, {1, 0, 2}};
	uint64_t objs0 = ct_objects();
	struct pmm_stats p0, p1;

	pmm_get_stats(&p0);
	for (unsigned o = 0; o < 3; o++) {
		struct ct_space s[3] = {0};

		for (unsigned g = 0; g < 3; g++)
			KT_ASSERT_EQ(ct_make(&s[g]), 0);
		for (uint32_t i = 0; i < 8; i++)
			KT_ASSERT_EQ(ct_map(&s[0], i, CT_RW, (uint8_t)(0x10 * o)), 0);
		KT_ASSERT_EQ(translation_cow_share(s[0].c, s[1].c), 0);
		KT_ASSERT_EQ(translation_cow_fault(s[1].c, CT_VA + 3 * PG), 0);
		KT_ASSERT_EQ(translation_cow_share(s[1].c, s[2].c), 0);
		KT_ASSERT_EQ(ct_sharers(&s[0], 0), 3);
		KT_ASSERT_EQ(ct_sharers(&s[1], 3), 2);
		KT_ASSERT_EQ(ct_sharers(&s[0], 3), 1);
		KT_ASSERT_EQ(ct_objects(), objs0 + 9);
		/* The middle writes: its own copy; the others still share. */
		KT_ASSERT_EQ(translation_cow_fault(s[1].c, CT_VA), 0);
		KT_ASSERT_EQ(ct_sharers(&s[0], 0), 2);
		KT_ASSERT(ct_bytes(&s[0], 0, NULL) == ct_bytes(&s[2], 0, NULL));
		for (unsigned k = 0; k < 3; k++)
			ct_free(&s[orders[o][k]]);
		KT_ASSERT_EQ(ct_objects(), objs0);
	}
	pmm_get_stats(&p1);
	KT_ASSERT_EQ(pmm_check(), 0);
	KT_ASSERT_EQ(heap_check(), 0);
	/* Frames back (page tables included); the heap may keep a slab. */
	KT_ASSERT(p1.free_pages + 8 >= p0.free_pages);
}

/* No free page for the copy: -ENOMEM, nothing changed, and it works once
 * memory is back. */
#define CT_HOGS 4096
static cap_t ct_hog[CT_HOGS];

KTEST(cow_fault_without_memory)
{
	static const size_t sizes[] = {1024 * PG, 64 * PG, PG};
	struct ct_space a = {0}, b = {0};
	struct translation_stats t0, t1;
	uint64_t objs0 = ct_objects();
	int n = 0, r;

	KT_ASSERT_EQ(ct_make(&a), 0);
	KT_ASSERT_EQ(ct_make(&b), 0);
	KT_ASSERT_EQ(ct_map(&a, 0, CT_RW, 0x55), 0);
	KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
	for (unsigned s = 0; s < 3; s++)
		while (n < CT_HOGS && physaddr_alloc(sizes[s], NULL, &ct_hog[n]) == 0)
			n++;
	translation_get_stats(&t0);
	r = translation_cow_fault(b.c, CT_VA);
	translation_get_stats(&t1);
	for (int i = 0; i < n; i++)
		physaddr_free(ct_hog[i]);
	KT_ASSERT(n > 0 && n < CT_HOGS);
	KT_ASSERT_EQ(r, -ENOMEM);
	KT_ASSERT_EQ(t1.cow_nomem - t0.cow_nomem, 1);
	KT_ASSERT_EQ(ct_sharers(&a, 0), 2);
	KT_ASSERT_EQ(ct_cow(&b, 0), PAGETABLE_COW | PAGETABLE_COW_W);
	KT_ASSERT_EQ(translation_cow_fault(b.c, CT_VA), 0);
	KT_ASSERT_EQ(ct_sharers(&a, 0), 1);
	ct_free(&a);
	ct_free(&b);
	KT_ASSERT_EQ(ct_objects(), objs0);
	KT_ASSERT_EQ(pmm_check(), 0);
}

/* ---- two CPUs ---- */

struct ct_smp {
	struct ct_space *s;
	volatile int go, done;
	int errors;
};

static void ct_breaker(void *arg)
{
	struct ct_smp *m = arg;

	while (!m->go)
		arch_cpu_relax();
	for (uint32_t i = 0; i < CT_MAXP; i++)
		if (translation_cow_fault(m->s->c, CT_VA + i * PG) != 0)
			m->errors++;
	m->done = 1;
}

/* Two contexts sharing 64 pages break them all at once, one on each CPU
 * (the share lock orders the reverse-map changes): each ends with pages of
 * its own, equal to the original contents, and every object is freed. */
KTEST(cow_smp_concurrent_breaks)
{
	struct strand_attr at = {.name = "cow-breaker", .prio = SCHED_PRIO_DEFAULT};
	uint64_t objs0 = ct_objects();
	bool two = percpu_count() >= 2;

	for (unsigned round = 0; round < 4; round++) {
		struct ct_space a = {0}, b = {0};
		struct ct_smp m = {.s = &b};
		strand_t h;
		int mine = 0;

		KT_ASSERT_EQ(ct_make(&a), 0);
		KT_ASSERT_EQ(ct_make(&b), 0);
		for (uint32_t i = 0; i < CT_MAXP; i++)
			KT_ASSERT_EQ(ct_map(&a, i, CT_RW, (uint8_t)round), 0);
		KT_ASSERT_EQ(translation_cow_share(a.c, b.c), 0);
		if (two) {
			KT_ASSERT_EQ(sched_pin_current(0), 0);
			KT_ASSERT_EQ(strand_create_pinned(&at, 1, ct_breaker, &m, &h), 0);
		} else {
			KT_ASSERT_EQ(
			    strand_create(ct_breaker, &m, SCHED_PRIO_DEFAULT, "cow-breaker", &h),
			    0);
		}
		m.go = 1;
		for (uint32_t i = 0; i < CT_MAXP; i++)
			if (translation_cow_fault(a.c, CT_VA + i * PG) != 0)
				mine++;
		strand_join(h, NULL);
		if (two)
			sched_pin_current(-1);
		KT_ASSERT_EQ(mine, 0);
		KT_ASSERT_EQ(m.errors, 0);
		for (uint32_t i = 0; i < CT_MAXP; i++) {
			uint8_t *fa = ct_bytes(&a, i, NULL), *fb = ct_bytes(&b, i, NULL);

			KT_ASSERT(fa && fb && fa != fb);
			KT_ASSERT_EQ(ct_sharers(&a, i), 1);
			KT_ASSERT_EQ(ct_sharers(&b, i), 1);
			KT_ASSERT_EQ(fa[i], (uint8_t)(round + i));
			KT_ASSERT_EQ(fb[PG - 1 - i], (uint8_t)(round + i));
		}
		ct_free(&a);
		ct_free(&b);
		KT_ASSERT_EQ(ct_objects(), objs0);
	}
	KT_ASSERT_EQ(pmm_check(), 0);
	KT_ASSERT_EQ(heap_check(), 0);
}
