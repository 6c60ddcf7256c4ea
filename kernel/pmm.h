/*
 * pmm: the physical frame allocator (future backend of SPIN's PhysAddr).
 *
 * Owns: every usable frame of a normalised struct memmap, and one
 * struct pmm_frame of metadata per frame.  Frames are handed out by a binary
 * buddy allocator (orders 0..PMM_MAX_ORDER) as single frames or contiguous
 * runs of any length with a power-of-two alignment; runs longer than the top
 * order are built from physically adjacent top-order blocks.
 *
 * The PMM never reads or writes the frames themselves: free lists, states,
 * orders, refcounts and owner tags all live in the metadata array.  That is
 * what makes it testable on the host with made-up physical addresses, and it
 * means a frame's contents are undefined when it is handed out (zero it
 * through your own mapping if you need to).
 *
 * Initialisation.  The metadata array is provided by the caller:
 *     size_t bytes = pmm_metadata_size(&map);
 *     uint64_t phys;
 *     pmm_metadata_place(&map, bytes, &phys);   // lowest fitting usable run
 *     void *meta = <map [phys, phys + bytes) and return its address>;
 *     pmm_init(&map, meta, bytes, phys);        // those frames become
 *                                               // allocated to PMM_OWNER_PMM
 * A host test passes malloc'd metadata and PMM_META_EXTERNAL as phys.
 *
 * Invariants (pmm_check() verifies all of them):
 *   - every managed frame is in exactly one state: FREE (inside exactly one
 *     free block, whose head frame carries PMM_FRAME_HEAD and the block's
 *     order), ALLOCATED (refcount >= 1) or RESERVED (the metadata itself);
 *   - a free block of order k starts at a frame number that is a multiple
 *     of 2^k and lies wholly inside one usable memmap entry;
 *   - two free buddies of the same order never coexist (they are merged);
 *   - the per-order counts and the free total match the lists.
 *
 * Callers: core only (PhysAddr, the heap's page source, page-table code).
 * Extensions reach frames only through PhysAddr.
 *
 * Locking: every entry point takes the lock installed by pmm_set_lock()
 * (none by default: single CPU, and nothing may call the PMM from an
 * interrupt handler until the kernel installs an irq-saving spinlock).  The
 * reclaim callback is called with the lock dropped, so it may call
 * pmm_free(); a pmm_alloc() made from inside the callback never recurses
 * into reclaim.
 *
 * Errors: commands return 0 or a negative PMM_E_* code and change nothing
 * when they fail (validate, then act).  pmm_strerror() names a code.
 */
#ifndef SPINDLE_KERNEL_PMM_H
#define SPINDLE_KERNEL_PMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kernel/memmap.h>

#define PMM_PAGE_SHIFT    12
#define PMM_PAGE_SIZE     (1ull << PMM_PAGE_SHIFT)
#define PMM_MAX_ORDER     18                 /* largest buddy block: 2^18 pages = 1 GiB */
#define PMM_RECLAIM_TRIES 4                  /* reclaim rounds before pmm_alloc gives up */
#define PMM_META_EXTERNAL UINT64_MAX         /* metadata is not in managed memory */
#define PMM_MAX_REGIONS   MEMMAP_MAX_ENTRIES /* so every usable entry fits */

enum pmm_error {
	PMM_E_INVAL = -1,         /* bad argument: count 0, align not a power of 2, NULL */
	PMM_E_NOMEM = -2,         /* no run satisfies the request, even after reclaim */
	PMM_E_NOT_MANAGED = -3,   /* address outside the memory the PMM manages */
	PMM_E_ALIGN = -4,         /* address not page aligned */
	PMM_E_DOUBLE_FREE = -5,   /* frame already free (was allocated before) */
	PMM_E_NOT_ALLOCATED = -6, /* frame free and never allocated */
	PMM_E_RESERVED = -7,      /* frame belongs to the PMM's own metadata */
	PMM_E_BUSY = -8,          /* frame still referenced (refcount > 1) */
	PMM_E_META_SMALL = -9,    /* metadata array smaller than pmm_metadata_size() */
	PMM_E_NOT_READY = -10,    /* pmm_init() has not succeeded */
	PMM_E_CORRUPT = -11,      /* pmm_check() found a broken invariant */
};

/* Flags for pmm_alloc(). */
#define PMM_NORECLAIM 0x1u /* fail instead of calling the reclaim hook */
#define PMM_BELOW_4G  0x2u /* the whole run must lie below 4 GiB (32-bit DMA) */

/* Owner tags (PhysAddr will add its own; 0 means none). */
#define PMM_OWNER_NONE   0u
#define PMM_OWNER_PMM    1u /* the metadata array */
#define PMM_OWNER_KERNEL 2u /* default for pmm_alloc() */

/* Frame states. */
#define PMM_FRAME_FREE      0
#define PMM_FRAME_ALLOCATED 1
#define PMM_FRAME_RESERVED  2

/* Frame flags. */
#define PMM_FRAME_HEAD 0x1u /* first frame of a free buddy block */
#define PMM_FRAME_EVER 0x2u /* has been allocated at least once */

/*
 * Per-frame metadata.  next/prev link free-block heads (indices into the
 * metadata array, PMM_NIL at the ends).  owner and cap are for PhysAddr:
 * who holds the frame and, later, the capability that names it.  Only the
 * PMM writes state, order, flags and the links; owner, cap and colour may be
 * written through pmm_frame_set_owner().
 */
#define PMM_NIL UINT32_MAX
struct pmm_frame {
	uint32_t next;
	uint32_t prev;
	uint32_t refcount;
	uint32_t owner;
	uint32_t cap;
	uint8_t state;
	uint8_t order;
	uint8_t flags;
	uint8_t colour;
};

struct pmm_stats {
	uint64_t total_pages; /* managed frames, including the metadata's */
	uint64_t free_pages;
	uint64_t reserved_pages;     /* frames holding the metadata */
	uint64_t largest_free_run;   /* longest physically contiguous free run, pages */
	uint32_t largest_free_order; /* highest order with a free block, or -1u */
	uint64_t free_blocks[PMM_MAX_ORDER + 1];
	uint64_t allocs, frees, alloc_failures, reclaim_calls, reclaimed_pages;
};

/*
 * Reclaim hook: asked to free at least want_pages frames (it may free more
 * or fewer) by calling pmm_free(); returns how many it freed.  A return of 0
 * ends the retries.  flags are the failing pmm_alloc()'s.
 */
typedef uint64_t (*pmm_reclaim_fn)(uint64_t want_pages, unsigned flags, void *arg);

/* Lock hook: lock(arg) / unlock(arg) around every PMM operation. */
typedef void (*pmm_lock_fn)(void *arg);

/* Bytes of metadata pmm_init() needs for map (0 if map has no usable memory). */
size_t pmm_metadata_size(const struct memmap *map);

/*
 * Choose where the metadata goes: the lowest usable entry of map with room
 * for bytes rounded up to whole pages.  Sets *phys; PMM_E_NOMEM if none.
 */
int pmm_metadata_place(const struct memmap *map, size_t bytes, uint64_t *phys);

/*
 * Take over the usable memory of a normalised map.  meta/meta_bytes is the
 * metadata array; meta_phys is where it lives in physical memory (its frames
 * are marked RESERVED), or PMM_META_EXTERNAL.  Re-initialising discards all
 * previous state (the host tests rely on that; the kernel calls it once); a
 * failed pmm_init leaves the PMM not ready.
 */
int pmm_init(const struct memmap *map, void *meta, size_t meta_bytes, uint64_t meta_phys);

/*
 * Allocate count contiguous frames whose first frame number is a multiple of
 * align_pages (a power of two; 0 means 1).  On success stores the physical
 * address in *phys; each frame is ALLOCATED, refcount 1, owner
 * PMM_OWNER_KERNEL.  When nothing fits and the flags allow, the reclaim hook
 * is called and the allocation retried, at most PMM_RECLAIM_TRIES times.
 */
int pmm_alloc(uint64_t count, uint64_t align_pages, unsigned flags, uint64_t *phys);

/*
 * Free count frames starting at phys.  Any run of allocated frames may be
 * freed, whole or in part.  Every frame must be ALLOCATED with refcount 1;
 * otherwise nothing is freed and the error names the first bad frame's
 * problem (PMM_E_DOUBLE_FREE, PMM_E_NOT_ALLOCATED, PMM_E_RESERVED,
 * PMM_E_BUSY, PMM_E_NOT_MANAGED, PMM_E_ALIGN).
 */
int pmm_free(uint64_t phys, uint64_t count);

/* Take / drop one reference to an allocated frame; dropping the last frees it. */
int pmm_frame_ref(uint64_t phys);
int pmm_frame_unref(uint64_t phys);

/* Tag count allocated frames from phys with an owner. */
int pmm_frame_set_owner(uint64_t phys, uint64_t count, uint32_t owner);

/* Copy out the metadata of the frame at phys. */
int pmm_frame_info(uint64_t phys, struct pmm_frame *out);

void pmm_set_reclaim(pmm_reclaim_fn fn, void *arg);
void pmm_set_lock(pmm_lock_fn lock, pmm_lock_fn unlock, void *arg);

void pmm_get_stats(struct pmm_stats *out);

/* Walk all metadata and verify the invariants above: 0 or PMM_E_CORRUPT. */
int pmm_check(void);

const char *pmm_strerror(int code);

#endif /* SPINDLE_KERNEL_PMM_H */
