/*
 * translation: SPIN's Translation service - contexts, mappings, fault events.
 *
 * Owns: address-space contexts (struct translation_ctx: a page table from
 * <arch/pagetable.h> whose upper half is the kernel's, a VirtAddr space for
 * its lower half, and the context's half of the reverse map), every mapping
 * (one rmap node each, also on the mapped PhysAddr object's list), the
 * handlers of the three fault events, and each CPU's current context.
 *
 * Mappings join a VirtAddr range of the context to pages of a PhysAddr
 * object with a protection (TRANSLATION_PROT_R/W/X/U; W or X imply R; W|X
 * is refused; 0 keeps the mapping with no access).  TLB: a change that
 * may leave cached entries invalidates the page, the range (invlpg up to
 * PAGETABLE_FLUSH_THRESHOLD pages, else a full flush) or everything on
 * every CPU that has the context loaded: this CPU directly, the others by
 * a shootdown IPI that the change waits for, so when an unmap, a
 * protection downgrade or a reclaim returns, no CPU can reach the old
 * translation and the frame may be freed.  CPUs that do not have it loaded
 * are marked stale and flush at their next load of it (only needed with
 * PCID).  Each CPU has its own current context (translation_current,
 * translation_switch act on the calling CPU; the fault path uses it).
 *
 * Events (declared in interfaces/translation.idl), raised through the
 * dispatcher from the page-fault path with interrupts off:
 *   BadAddress       no VirtAddr range of the current context covers va
 *   PageNotPresent   a range covers va but nothing is mapped there
 *   ProtectionFault  a mapping exists but does not allow the access
 * with (context capability, va, access, pc); the full record (context and
 * range pointers, event) is translation_fault_info() while it is raised.
 * A handler returns nonzero when it resolved the fault; several handlers'
 * results are ORed, and the access restarts if any resolved it.  With one
 * unguarded native handler the raise is a direct call; guarded handlers
 * and extension handlers run in the dispatcher's generated routine.  If no
 * handler resolved it, the context's policy (translation_set_policy)
 * decides; with no policy the fault goes back to the trap path, which
 * reports it in full and stops (the kernel's context) or, once user
 * processes exist, kills the process (their policy).  Handlers may fault
 * themselves at most once more (nesting depth 2).
 *
 * Authority: the memory module (translation_init declares the events and
 * publishes the PhysAddr, VirtAddr and Translation domains in SpinPublic).
 * Its authorizer lets trusted modules install as they ask (they filter
 * with their own guards); an extension may install a fault handler only if
 * the kernel granted it a context (translation_grant, by extension name,
 * before loading it), and its handler gets an imposed guard: it sees only
 * the faults of that context (the paper's per-address-space guard).  A
 * destroyed context's capability is never reissued, so such a guard stays
 * false for ever.  PhysAddr.Reclaim is open to any installer (a nomination
 * is validated by PhysAddr).
 *
 * Who calls it: core and trusted modules with pointers (translation_*_ctx,
 * *_page); extensions through the capability-level procedures (contexts,
 * ranges and pages all named by capabilities, checked on every call).
 * Locking: changes to one context's mappings are serialised by its owner
 * (a process, a policy); the TLB side is SMP-safe; the reverse-map lists of
 * objects shared copy-on-write by several contexts change only under the
 * share lock (see the copy-on-write section below).  Mutations must not run
 * from interrupt handlers other than the page-fault path, nor with a lock
 * held that another CPU may spin on with interrupts off (a shootdown waits
 * for the other CPUs).  translation_destroy moves CPUs that still have the
 * context loaded, but do not use it, to the kernel's context.
 * Errors: 0 or -EINVAL (alignment, protection, size), -ERANGE (outside the
 * range or object), -EEXIST (already mapped), -ENOENT (not mapped),
 * -EPERM (range of another context; destroying the kernel's context),
 * -EBUSY (context loaded), -ENOMEM, -ENOSPC (grant table full), -EACCES
 * (the authorizer refused an install: translation_refusal() says why), and
 * the capability errors -EBADF / -ESTALE / -ECAPTYPE.
 */
#ifndef SPINDLE_KERNEL_TRANSLATION_H
#define SPINDLE_KERNEL_TRANSLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/pagetable.h>
#include <arch/percpu.h>

#include "kernel/cap.h"
#include "kernel/dispatch.h"
#include "kernel/physaddr.h"
#include "kernel/rmap.h"
#include "kernel/virtaddr.h"

#define TRANSLATION_PROT_R  PAGETABLE_R
#define TRANSLATION_PROT_W  PAGETABLE_W
#define TRANSLATION_PROT_X  PAGETABLE_X
#define TRANSLATION_PROT_U  PAGETABLE_U
#define TRANSLATION_PROT_RW (PAGETABLE_R | PAGETABLE_W)
#define TRANSLATION_PAGE    PAGETABLE_PAGE_SIZE

/* Access types of a fault. */
#define TRANSLATION_ACCESS_READ    PAGETABLE_ACCESS_READ
#define TRANSLATION_ACCESS_WRITE   PAGETABLE_ACCESS_WRITE
#define TRANSLATION_ACCESS_EXEC    PAGETABLE_ACCESS_EXEC
#define TRANSLATION_ACCESS_USER    PAGETABLE_ACCESS_USER
#define TRANSLATION_ACCESS_PRESENT PAGETABLE_ACCESS_PRESENT

/* Page state (the paper's Dirty). */
#define TRANSLATION_DIRTY    PAGETABLE_DIRTY
#define TRANSLATION_ACCESSED PAGETABLE_ACCESSED

enum translation_event {
	TRANSLATION_PAGE_NOT_PRESENT = 0,
	TRANSLATION_BAD_ADDRESS,
	TRANSLATION_PROTECTION_FAULT,
	TRANSLATION_NEVENTS,
};
#define TRANSLATION_MAX_GRANTS 64
#define TRANSLATION_HOLDER_MAX 48

struct translation_ctx;

struct translation_fault {
	struct translation_ctx *ctx;  /* the context the access ran in */
	uintptr_t va;                 /* faulting address (CR2) */
	uintptr_t pc;                 /* faulting instruction */
	unsigned access;              /* TRANSLATION_ACCESS_* */
	unsigned event;               /* enum translation_event */
	struct virtaddr_range *range; /* covering range (NULL for BadAddress) */
};

/* A context's policy: true = resolved. */
typedef bool (*translation_fault_fn)(void *closure, const struct translation_fault *f);

struct translation_ctx {
	struct pagetable pt;
	struct virtaddr_space space;
	struct rmap_table maps;
	cap_t cap;
	translation_fault_fn policy; /* unhandled faults (NULL: trap path) */
	void *policy_closure;
	const char *name;
};

struct translation_stats {
	uint64_t faults[TRANSLATION_NEVENTS], resolved, unhandled, by_policy;
	uint64_t maps, unmaps, protects, flush_pages, flush_all, deferred;
	/* Changes that had to interrupt other CPUs, and the flushes those
	 * CPUs did for them (a target that had switched away does none). */
	uint64_t shootdowns, shootdown_flushes;
	/* Copy-on-write: pages shared by translation_cow_share, write faults
	 * that copied the page, that took it back as its last mapping, that
	 * found no free page (the fault then goes on to the events). */
	uint64_t cow_shared, cow_copies, cow_reuses, cow_nomem;
};

int translation_init(void);

/* ---- contexts ---- */
int translation_create(const char *name, cap_t *out);
int translation_destroy(cap_t ctx);
struct translation_ctx *translation_get(cap_t ctx, int *err);
struct translation_ctx *translation_kernel_ctx(void);
struct translation_ctx *translation_current(void);
/* Load ctx on this CPU; returns the context that was loaded here.  A strand
 * that may migrate should pin itself first: the context belongs to the
 * CPU, not to the strand (process strands reload theirs on Resume). */
struct translation_ctx *translation_switch(struct translation_ctx *ctx);

/* One CPU's state, reached through its percpu area (arch_percpu_translation):
 * used with interrupts off, or by the fault path, which runs with them off. */
struct tl_cpu {
	struct translation_ctx *ctx;           /* loaded here (NULL before init) */
	const struct translation_fault *fault; /* innermost fault being raised here */
	int depth;                             /* fault nesting here */
	uint64_t bit;                          /* 1 << this CPU's id, for pt.cpus/stale */
};

/* translation_switch's work, in line, with interrupts already off (the
 * process switch path: kernel/process.c); returns the previous context. */
static inline __attribute__((always_inline)) struct translation_ctx *
translation_switch_irqsoff(struct translation_ctx *ctx)
{
	struct tl_cpu *me = arch_percpu_translation();
	struct translation_ctx *prev = me->ctx;
	uint64_t bit = me->bit;
	bool flush;

	if (ctx == prev) {
		/* Loaded already; reloaded only if a flush was deferred to
		 * this CPU's next load (its stale bit). */
		if (__builtin_expect(!(__atomic_load_n(&ctx->pt.stale, __ATOMIC_RELAXED) & bit), 1))
			return prev;
		__atomic_and_fetch(&ctx->pt.stale, ~bit, __ATOMIC_SEQ_CST);
		pagetable_activate(&ctx->pt, true);
		return prev;
	}
	/* Join ctx's CPUs before CR3 can walk its tables: a tl_flush that
	 * misses this bit ordered its PTE stores before this locked OR, so
	 * the walks after the load see them. */
	__atomic_or_fetch(&ctx->pt.cpus, bit, __ATOMIC_SEQ_CST);
	/* Read after the OR: a flush that sets our stale bit later sees our
	 * cpus bit and shoots us down instead. */
	flush = (__atomic_load_n(&ctx->pt.stale, __ATOMIC_SEQ_CST) & bit) != 0;
	if (__builtin_expect(flush, 0))
		__atomic_and_fetch(&ctx->pt.stale, ~bit, __ATOMIC_SEQ_CST);
	pagetable_activate(&ctx->pt, flush);
	me->ctx = ctx;
	/* Only now, with CR3 off prev's tables, may shootdowns of prev skip
	 * this CPU. */
	if (__builtin_expect(prev != NULL, 1))
		__atomic_and_fetch(&prev->pt.cpus, ~bit, __ATOMIC_RELEASE);
	return prev;
}
void translation_set_policy(struct translation_ctx *ctx, translation_fault_fn fn, void *closure);

/* ---- mappings, capability level (the interface) ---- */
/* Map npages pages of p from page `page` at v's start + voff. */
int translation_add_mapping(cap_t ctx, cap_t v, size_t voff, cap_t p, uint32_t page,
                            uint32_t npages, unsigned prot);
/* Remove the mappings of npages pages from v's start + voff (unmapped pages
 * are skipped); returns how many were removed, or an error. */
int translation_remove_mapping(cap_t ctx, cap_t v, size_t voff, uint32_t npages);
/* Protection, object and page index of the mapping at va (-ENOENT). */
int translation_examine_mapping(cap_t ctx, uintptr_t va, unsigned *prot, cap_t *p, uint32_t *page);
/* Change the protection of the mapped pages among npages from v + voff. */
int translation_change_mapping(cap_t ctx, cap_t v, size_t voff, uint32_t npages, unsigned prot);
/* Dirty / accessed state of the page at va (the paper's Dirty). */
int translation_dirty(cap_t ctx, uintptr_t va, unsigned *state);
int translation_clear_state(cap_t ctx, uintptr_t va, unsigned bits);

/* ---- mappings, core level (trusted modules, fault handlers) ---- */
int translation_map_page(struct translation_ctx *ctx, uintptr_t va, cap_t p, uint32_t page,
                         unsigned prot);
/* Remove the mapping at va; *p and *page (optional) say what it mapped. */
int translation_unmap_page(struct translation_ctx *ctx, uintptr_t va, struct physaddr **p,
                           uint32_t *page);
int translation_lookup(struct translation_ctx *ctx, uintptr_t va, struct physaddr **p,
                       uint32_t *page, unsigned *prot);
/* Change protection of npages pages from va (unmapped pages skipped). */
int translation_protect(struct translation_ctx *ctx, uintptr_t va, size_t npages, unsigned prot);
int translation_page_state(struct translation_ctx *ctx, uintptr_t va, unsigned *state);

/* ---- copy-on-write (fork) ----
 * A page is shared copy-on-write when it is mapped in several contexts with
 * the COW mark of <arch/pagetable.h> (W withheld).  The share count is the
 * PhysAddr object's reverse-map count (p->maps.count: one per mapping), so
 * no parallel structure exists; it changes only under Translation's share
 * lock, because the contexts sharing an object are changed by different
 * owners, maybe on different CPUs.  TLB flushes are done after the lock is
 * dropped (a shootdown waits for CPUs that may spin on it). */

/* Map every page mapped in from at the same address in to (which has a
 * VirtAddr range covering each, and nothing mapped there), the same
 * object and page, both sides marked COW; from is flushed on every CPU
 * that has it loaded before this returns.  -ENOMEM (a node or table could
 * not be had: the pages shared so far stay shared; destroying `to` with
 * translation_unmap_release drops them), -ERANGE (no range in to), -EEXIST.
 * Owners of both contexts serialise (the parent's strand, to not running). */
int translation_cow_share(struct translation_ctx *from, struct translation_ctx *to);
/* Resolve a write to the COW page at va (page aligned) in ctx, loaded or
 * not: if the object has other mappings, copy the page into a new object
 * of its own, else give W back; the old entry is flushed.  0, or -ENOENT
 * (nothing mapped), -EACCES (not COW, or the protection has no W: a real
 * protection fault), -ENOMEM (no page for the copy).  The fault path calls
 * it for write protection faults in contexts with COW pages, before any
 * handler of Translation.ProtectionFault sees the fault. */
int translation_cow_fault(struct translation_ctx *ctx, uintptr_t va);
/* Remove the mapping at va and drop its share: the PhysAddr object is
 * freed if this was its last mapping (after the TLB flush).  0 or -ENOENT,
 * -EINVAL.  What process address spaces use to unmap (munmap, exit, exec). */
int translation_unmap_release(struct translation_ctx *ctx, uintptr_t va);
/* translation_unmap_release of every mapping of ctx (exit, exec): how many
 * were removed, or -EPERM for the kernel's context. */
int translation_release_all(struct translation_ctx *ctx);

/* ---- events ---- */
/* The dispatcher's event for enum translation_event e (NULL before init). */
struct dispatch_event *translation_event(unsigned e);
/* The fault being raised on this CPU (innermost), NULL outside a raise:
 * native handlers and guards read the pointers here. */
const struct translation_fault *translation_fault_info(void);
/* The rt_sig of a native handler or guard of a fault event: the event's
 * arguments, after a leading closure when closure is set; guards are
 * declared pure.  fn: uint64_t fn([closure,] ctx, va, access, pc). */
void translation_native_sig(void *fn, bool closure, bool guard, struct rt_sig *out);
/* Let extension `holder` handle the faults of ctx (its most recent grant
 * counts).  Installed handlers keep their guard after a revoke. */
int translation_grant(cap_t ctx, const char *holder);
int translation_revoke_grant(cap_t ctx, const char *holder);
/* The last install the authorizer refused, as one sentence. */
const char *translation_refusal(void);
/* The fault path's entry (arch/pagetable.c calls it; tests may too). */
bool translation_fault(uintptr_t va, unsigned access, uintptr_t pc);

void translation_get_stats(struct translation_stats *out);

#endif
