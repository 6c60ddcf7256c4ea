/*
 * physaddr: SPIN's PhysAddr service - physical pages named by capabilities.
 *
 * Owns: every PhysAddr object (struct physaddr): a run of npages frames
 * taken from the pmm with the caller's attributes (contiguity, alignment,
 * colour, below 4 GiB, reclaimable), the capability that names it (type
 * PHYSADDR_CAP_TYPE in cap_kernel), its reverse map (every (context, va)
 * mapping one of its pages: struct rmap_list, maintained by Translation) and
 * the FIFO of reclaimable objects.  It installs itself as the pmm's reclaim
 * hook: when pmm_alloc runs dry it takes the oldest reclaimable object as
 * the candidate and raises PhysAddr.Reclaim(candidate) through the
 * dispatcher (interfaces/physaddr.idl; installs go through dispatch_install
 * on PhysAddr_Reclaim_event, approved by the memory module's authorizer);
 * handlers may nominate another victim (any live reclaimable object).  The victim's
 * mappings are invalidated (through the hook Translation installs), its
 * frames freed and its capability revoked: its holder sees -ESTALE from
 * then on.  Frames are not zeroed (policies that hand pages to someone zero
 * them through the direct map).
 *
 * Invariants: a live object's capability checks and names it; every frame
 * of a live object is ALLOCATED in the pmm with owner PHYSADDR_PMM_OWNER;
 * nmaps == the rmap list's count; an object with mappings is never freed by
 * physaddr_free (-EBUSY), only by reclaim, which removes the mappings first.
 *
 * Who calls it: core and trusted modules (policies, Translation); the
 * interface for extensions is interfaces/physaddr.idl (capabilities only).
 * Locking: single CPU; callers serialise (no calls from interrupt handlers;
 * the page-fault path is allowed: it runs with interrupts off).
 * Errors: 0 or -EINVAL (size 0, bad attribute), -ENOMEM, -EBADF / -ESTALE /
 * -ECAPTYPE (capability never issued / already freed or reclaimed / of
 * another type), -EBUSY (still mapped), -ERANGE (page index).
 */
#ifndef SPINDLE_KERNEL_PHYSADDR_H
#define SPINDLE_KERNEL_PHYSADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.h"
#include "kernel/rmap.h"

/* Capability types of the memory services (cap.h leaves >= 16 to services). */
#define PHYSADDR_CAP_TYPE    64u
#define VIRTADDR_CAP_TYPE    65u
#define TRANSLATION_CAP_TYPE 66u

#define PHYSADDR_PMM_OWNER 64u /* pmm owner tag of PhysAddr frames */
#define PHYSADDR_PAGE_SIZE 4096ul
#define PHYSADDR_NCOLOURS  16u /* page colours: pfn mod 16 */
#define PHYSADDR_MAX_PAGES (1u << 20)

/* Attribute flags. */
#define PHYSADDR_CONTIG      0x1u /* one physically contiguous run */
#define PHYSADDR_COLOUR      0x2u /* page i has colour (colour + i) mod NCOLOURS */
#define PHYSADDR_BELOW_4G    0x4u
#define PHYSADDR_RECLAIMABLE 0x8u /* may be taken back under memory pressure */
#define PHYSADDR_FLAGS       0xfu

struct physaddr_attr {
	unsigned flags;
	uint32_t align_pages; /* CONTIG: power of two, 0 = 1 */
	uint32_t colour;      /* COLOUR: < PHYSADDR_NCOLOURS */
};

struct physaddr {
	cap_t cap;
	uint32_t npages;
	unsigned flags;
	struct rmap_list maps;                  /* every mapping of its pages */
	struct physaddr *fifo_next, *fifo_prev; /* reclaimable objects, oldest first */
	uint64_t pa[];                          /* each page's physical address */
};

/* What Translation installs: remove every mapping of p (reclaim). */
typedef void (*physaddr_invalidate_fn)(struct physaddr *p);

int physaddr_init(void);

int physaddr_alloc(size_t size, const struct physaddr_attr *attr, cap_t *out);
int physaddr_free(cap_t c);
/* The object c names (core: Translation, policies); NULL and *err if none. */
struct physaddr *physaddr_get(cap_t c, int *err);
/* Page i's physical address (validated), for the cap-level interface. */
int physaddr_page(cap_t c, uint32_t i, uint64_t *pa);
/* Pages, mappings and flags of c. */
int physaddr_info(cap_t c, uint32_t *npages, uint32_t *nmaps, unsigned *flags);
/* The colour of a physical address. */
static inline uint32_t physaddr_colour_of(uint64_t pa)
{
	return (uint32_t)(pa >> 12) % PHYSADDR_NCOLOURS;
}

void physaddr_set_invalidate(physaddr_invalidate_fn fn);

/* PhysAddr.Reclaim's result handler (the memory module sets it): the last
 * handler result that names a live reclaimable object wins, else acc (the
 * candidate, or an earlier valid nomination).  Handlers all see the same
 * candidate. */
uint64_t physaddr_reclaim_combine(void *arg, uint64_t acc, uint64_t result, uint32_t index);
/* Raise Reclaim until want pages are freed or no reclaimable object is
 * left; returns pages freed (the pmm hook; tests call it directly). */
uint64_t physaddr_reclaim(uint64_t want);

struct physaddr_stats {
	uint64_t objects, pages, reclaimable, reclaims, reclaimed_pages, nominated;
};
void physaddr_get_stats(struct physaddr_stats *out);

#endif
