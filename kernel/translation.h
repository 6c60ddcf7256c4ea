/*
 * translation: SPIN's Translation service - contexts, mappings, fault events.
 *
 * Owns: address-space contexts (struct translation_ctx: a page table from
 * <arch/pagetable.h> whose upper half is the kernel's, a VirtAddr space for
 * its lower half, and the context's half of the reverse map), every mapping
 * (one rmap node each, also on the mapped PhysAddr object's list), the
 * handlers of the three fault events, and the current-context pointer.
 *
 * Mappings join a VirtAddr range of the context to pages of a PhysAddr
 * object with a protection (TRANSLATION_PROT_R/W/X/U; W or X imply R; W|X
 * is refused; 0 keeps the mapping with no access).  TLB: a change to the
 * loaded context invalidates the page, the range (invlpg up to
 * PAGETABLE_FLUSH_THRESHOLD pages, else a full flush) or everything; a
 * change to a context that is not loaded marks it stale and the flush
 * happens when it is next loaded (only needed with PCID).  SMP seam: one CPU;
 * tl_flush() is where a shootdown to the other CPUs using the context goes.
 *
 * Events (declared in interfaces/translation.idl), raised from the
 * page-fault path with interrupts off:
 *   BadAddress       no VirtAddr range of the current context covers va
 *   PageNotPresent   a range covers va but nothing is mapped there
 *   ProtectionFault  a mapping exists but does not allow the access
 * with (context, va, access, pc).  Handlers run in install order, each
 * filtered by an optional context, range and guard; the first that returns
 * true has resolved the fault and the access is restarted.  If none does,
 * the context's policy (translation_set_policy) decides; with no policy the
 * fault goes back to the trap path, which reports it in full and stops (the
 * kernel's context) or, once user processes exist, kills the process (their
 * policy).  Strand seam: faults carry the context and pc; when strands
 * exist, the faulting strand is sched's current strand, read by handlers.
 * Handlers may fault themselves at most once more (nesting depth 2).
 *
 * Who calls it: core and trusted modules with pointers (translation_*_ctx,
 * *_page); extensions through the capability-level procedures (contexts,
 * ranges and pages all named by capabilities, checked on every call).
 * Locking: single CPU; mutations must not run from interrupt handlers other
 * than the page-fault path.
 * Errors: 0 or -EINVAL (alignment, protection, size), -ERANGE (outside the
 * range or object), -EEXIST (already mapped), -ENOENT (not mapped),
 * -EPERM (range of another context; destroying the kernel's context),
 * -EBUSY (context loaded), -ENOMEM, -ENOSPC (too many handlers), and the
 * capability errors -EBADF / -ESTALE / -ECAPTYPE.
 */
#ifndef SPINDLE_KERNEL_TRANSLATION_H
#define SPINDLE_KERNEL_TRANSLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/pagetable.h>

#include "kernel/cap.h"
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
#define TRANSLATION_MAX_BINDINGS 16 /* per event */

struct translation_ctx;

struct translation_fault {
	struct translation_ctx *ctx;  /* the context the access ran in */
	uintptr_t va;                 /* faulting address (CR2) */
	uintptr_t pc;                 /* faulting instruction */
	unsigned access;              /* TRANSLATION_ACCESS_* */
	unsigned event;               /* enum translation_event */
	struct virtaddr_range *range; /* covering range (NULL for BadAddress) */
};

/* A handler or guard: true = resolved (handler) / applies (guard). */
typedef bool (*translation_fault_fn)(void *closure, const struct translation_fault *f);

struct translation_binding {
	translation_fault_fn handler;
	translation_fault_fn guard; /* optional */
	void *closure;
	struct translation_ctx *ctx;  /* optional filter: only faults in ctx */
	struct virtaddr_range *range; /* optional filter: only faults in range */
};

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
};

int translation_init(void);

/* ---- contexts ---- */
int translation_create(const char *name, cap_t *out);
int translation_destroy(cap_t ctx);
struct translation_ctx *translation_get(cap_t ctx, int *err);
struct translation_ctx *translation_kernel_ctx(void);
struct translation_ctx *translation_current(void);
/* Load ctx on this CPU; returns the context that was loaded. */
struct translation_ctx *translation_switch(struct translation_ctx *ctx);
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

/* ---- events ---- */
int translation_install(unsigned event, const struct translation_binding *b, int *handle);
int translation_uninstall(int handle);
/* The fault path's entry (arch/pagetable.c calls it; tests may too). */
bool translation_fault(uintptr_t va, unsigned access, uintptr_t pc);

void translation_get_stats(struct translation_stats *out);

#endif
