/*
 * pmm: physical frame allocator.
 *
 * Design.  Usable memory is a set of regions (one per usable memmap entry),
 * each with a slice of one metadata array: frame number pfn of region r is
 * metadata index r->first + (pfn - r->base_pfn).  Free memory is kept as
 * buddy blocks: a block of order k is 2^k frames starting at a frame number
 * that is a multiple of 2^k, wholly inside its region, so a block's buddy is
 * found by flipping bit k of its frame number.  Block heads are linked into
 * one free list per order through their metadata (indices, not pointers, so
 * the metadata can be moved or mapped anywhere), and nothing ever touches
 * the frames themselves.
 *
 * Allocation of count frames aligned to align frames first asks the buddy
 * lists (smallest order first, so big blocks are split only when needed):
 * any block with an aligned run of count frames inside it will do.  That
 * search cannot see runs that straddle two free blocks that are not buddies,
 * so for multi-frame requests a linear scan of the metadata is the fallback
 * (and the only path for runs longer than the top order).  Either way the
 * run is then carved out the same way: each free block it touches is taken
 * off its list and whatever part of it lies outside the run is freed again
 * as maximal aligned blocks.  Freeing works on any run of allocated frames:
 * it is marked free, then split into maximal aligned blocks, each merged
 * with its buddies as far as they go.
 *
 * Every frame carries its state, so frees are fully validated before
 * anything changes: a double free, a free of a frame never allocated or of
 * the metadata's own frames is refused with its own code.
 */
#include <stdint.h>

#include <kernel/memmap.h>
#include <kernel/pmm.h>

struct pmm_region {
	uint64_t base_pfn;
	uint64_t npages;
	uint32_t first; /* metadata index of base_pfn */
};

static struct {
	bool ready;
	struct pmm_frame *meta;
	uint64_t nframes;
	struct pmm_region regions[PMM_MAX_REGIONS];
	uint32_t nregions;
	uint32_t free_head[PMM_MAX_ORDER + 1];
	struct pmm_stats st; /* counters; largest-run fields computed on demand */
	pmm_reclaim_fn reclaim;
	void *reclaim_arg;
	bool in_reclaim;
	pmm_lock_fn lock, unlock;
	void *lock_arg;
} pmm;

#define BLOCK(o) (1ull << (o))

static void pmm_lock(void)
{
	if (pmm.lock)
		pmm.lock(pmm.lock_arg);
}

static void pmm_unlock(void)
{
	if (pmm.unlock)
		pmm.unlock(pmm.lock_arg);
}

/* The region holding pfn, or NULL. */
static struct pmm_region *region_of(uint64_t pfn)
{
	uint32_t lo = 0, hi = pmm.nregions;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		struct pmm_region *r = &pmm.regions[mid];
		if (pfn < r->base_pfn)
			hi = mid;
		else if (pfn >= r->base_pfn + r->npages)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

static struct pmm_frame *frame(const struct pmm_region *r, uint64_t pfn)
{
	return &pmm.meta[r->first + (pfn - r->base_pfn)];
}

static uint32_t index_of(const struct pmm_region *r, uint64_t pfn)
{
	return r->first + (uint32_t)(pfn - r->base_pfn);
}

/* Frame number of metadata index idx. */
static uint64_t pfn_of(uint32_t idx)
{
	uint32_t lo = 0, hi = pmm.nregions;

	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pmm.regions[mid].first <= idx)
			lo = mid;
		else
			hi = mid;
	}
	return pmm.regions[lo].base_pfn + (idx - pmm.regions[lo].first);
}

static void list_push(unsigned order, uint32_t idx)
{
	struct pmm_frame *f = &pmm.meta[idx];

	f->prev = PMM_NIL;
	f->next = pmm.free_head[order];
	if (f->next != PMM_NIL)
		pmm.meta[f->next].prev = idx;
	pmm.free_head[order] = idx;
	f->flags |= PMM_FRAME_HEAD;
	f->order = (uint8_t)order;
	pmm.st.free_blocks[order]++;
}

static void list_remove(unsigned order, uint32_t idx)
{
	struct pmm_frame *f = &pmm.meta[idx];

	if (f->prev != PMM_NIL)
		pmm.meta[f->prev].next = f->next;
	else
		pmm.free_head[order] = f->next;
	if (f->next != PMM_NIL)
		pmm.meta[f->next].prev = f->prev;
	f->next = f->prev = PMM_NIL;
	f->flags &= (uint8_t)~PMM_FRAME_HEAD;
	f->order = 0;
	pmm.st.free_blocks[order]--;
}

static bool is_free_head(const struct pmm_region *r, uint64_t pfn, unsigned order)
{
	const struct pmm_frame *f;

	if (pfn < r->base_pfn || pfn + BLOCK(order) > r->base_pfn + r->npages)
		return false;
	f = frame(r, pfn);
	return f->state == PMM_FRAME_FREE && (f->flags & PMM_FRAME_HEAD) && f->order == order;
}

/* Insert the free block (pfn, order), merging it with free buddies. */
static void insert_block(const struct pmm_region *r, uint64_t pfn, unsigned order)
{
	while (order < PMM_MAX_ORDER) {
		uint64_t buddy = pfn ^ BLOCK(order);
		if (!is_free_head(r, buddy, order))
			break;
		list_remove(order, index_of(r, buddy));
		if (buddy < pfn)
			pfn = buddy;
		order++;
	}
	list_push(order, index_of(r, pfn));
}

/* Largest order for a block at pfn that ends at or before end. */
static unsigned fit_order(uint64_t pfn, uint64_t end)
{
	unsigned o = 0;

	while (o < PMM_MAX_ORDER && (pfn & BLOCK(o)) == 0 && pfn + BLOCK(o + 1) <= end)
		o++;
	return o;
}

/* Give [pfn, end) of region r (all frames already marked FREE) to the lists. */
static void add_free_range(const struct pmm_region *r, uint64_t pfn, uint64_t end)
{
	while (pfn < end) {
		unsigned o = fit_order(pfn, end);
		insert_block(r, pfn, o);
		pfn += BLOCK(o);
	}
}

/* The free block containing the free frame pfn: its head and order. */
static uint64_t block_containing(const struct pmm_region *r, uint64_t pfn, unsigned *order)
{
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++) {
		uint64_t head = pfn & ~(BLOCK(o) - 1);
		if (head < r->base_pfn)
			break;
		if (is_free_head(r, head, o)) {
			*order = o;
			return head;
		}
	}
	/* Unreachable while the invariants hold (pmm_check verifies them). */
	*order = 0;
	return pfn;
}

/*
 * Allocate [pfn, pfn + count) of region r, every frame of which is free:
 * take each free block it touches off its list and free again what lies
 * outside the run.
 */
static void carve(const struct pmm_region *r, uint64_t pfn, uint64_t count)
{
	uint64_t end = pfn + count, f = pfn;

	while (f < end) {
		unsigned o;
		uint64_t head = block_containing(r, f, &o);
		uint64_t bend = head + BLOCK(o);

		list_remove(o, index_of(r, head));
		for (uint64_t x = (head > pfn ? head : pfn); x < (bend < end ? bend : end); x++) {
			struct pmm_frame *m = frame(r, x);
			m->state = PMM_FRAME_ALLOCATED;
			m->flags = PMM_FRAME_EVER;
			m->refcount = 1;
			m->owner = PMM_OWNER_KERNEL;
			m->order = 0;
		}
		if (head < pfn)
			add_free_range(r, head, pfn);
		if (bend > end)
			add_free_range(r, end, bend);
		f = bend;
	}
	pmm.st.free_pages -= count;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static unsigned ceil_order(uint64_t count)
{
	unsigned o = 0;

	while (BLOCK(o) < count)
		o++;
	return o;
}

/* Search the buddy lists; returns true and sets *out on success. */
static bool alloc_from_lists(uint64_t count, uint64_t align, uint64_t limit, uint64_t *out)
{
	for (unsigned o = ceil_order(count); o <= PMM_MAX_ORDER; o++) {
		for (uint32_t idx = pmm.free_head[o]; idx != PMM_NIL; idx = pmm.meta[idx].next) {
			uint64_t head = pfn_of(idx);
			uint64_t a = align_up(head, align);
			if (a + count <= head + BLOCK(o) && a + count <= limit) {
				carve(region_of(head), a, count);
				*out = a;
				return true;
			}
		}
	}
	return false;
}

/* Linear scan for an aligned run of free frames (complete, but O(frames)). */
static bool alloc_by_scan(uint64_t count, uint64_t align, uint64_t limit, uint64_t *out)
{
	for (uint32_t i = 0; i < pmm.nregions; i++) {
		const struct pmm_region *r = &pmm.regions[i];
		uint64_t end = r->base_pfn + r->npages;
		uint64_t pfn = r->base_pfn;

		if (end > limit)
			end = limit;
		while (pfn < end) {
			uint64_t a = align_up(pfn, align), x;
			if (a < pfn || a > end || count > end - a)
				break;
			/* Check from the top: a busy frame lets us skip past it. */
			for (x = a + count; x > a; x--) {
				if (frame(r, x - 1)->state != PMM_FRAME_FREE)
					break;
			}
			if (x == a) {
				carve(r, a, count);
				*out = a;
				return true;
			}
			pfn = x;
		}
	}
	return false;
}

static int try_alloc(uint64_t count, uint64_t align, unsigned flags, uint64_t *pfn)
{
	uint64_t limit = (flags & PMM_BELOW_4G) ? (1ull << 32) >> PMM_PAGE_SHIFT : UINT64_MAX;

	if (count > pmm.st.free_pages)
		return PMM_E_NOMEM;
	if (count <= BLOCK(PMM_MAX_ORDER) && alloc_from_lists(count, align, limit, pfn))
		return 0;
	if (count > 1 && alloc_by_scan(count, align, limit, pfn))
		return 0;
	return PMM_E_NOMEM;
}

size_t pmm_metadata_size(const struct memmap *map)
{
	uint64_t pages = 0;

	for (uint32_t i = 0; i < map->count; i++) {
		if (map->entries[i].type == MEMMAP_USABLE)
			pages += map->entries[i].length >> PMM_PAGE_SHIFT;
	}
	return (size_t)(pages * sizeof(struct pmm_frame));
}

int pmm_metadata_place(const struct memmap *map, size_t bytes, uint64_t *phys)
{
	uint64_t need = align_up(bytes, PMM_PAGE_SIZE);

	if (map == NULL || phys == NULL || bytes == 0)
		return PMM_E_INVAL;
	for (uint32_t i = 0; i < map->count; i++) {
		const struct memmap_entry *e = &map->entries[i];
		if (e->type == MEMMAP_USABLE && e->length >= need) {
			*phys = e->base;
			return 0;
		}
	}
	return PMM_E_NOMEM;
}

int pmm_init(const struct memmap *map, void *meta, size_t meta_bytes, uint64_t meta_phys)
{
	uint64_t need_frames = 0, m0 = 0, m1 = 0;
	uint32_t nreg = 0;
	bool meta_inside = meta_phys == PMM_META_EXTERNAL;

	pmm.ready = false;
	/* Validate everything before touching the metadata array. */
	if (map == NULL || meta == NULL || map->count > MEMMAP_MAX_ENTRIES)
		return PMM_E_INVAL;
	for (uint32_t i = 0; i < map->count; i++) {
		const struct memmap_entry *e = &map->entries[i];
		if (e->type != MEMMAP_USABLE)
			continue;
		if ((e->base | e->length) & (PMM_PAGE_SIZE - 1) || e->length == 0)
			return PMM_E_INVAL; /* not a normalised map */
		if (nreg > 0 && e->base >> PMM_PAGE_SHIFT <
		                    pmm.regions[nreg - 1].base_pfn + pmm.regions[nreg - 1].npages)
			return PMM_E_INVAL; /* unsorted or overlapping */
		pmm.regions[nreg] = (struct pmm_region){
		    .base_pfn = e->base >> PMM_PAGE_SHIFT,
		    .npages = e->length >> PMM_PAGE_SHIFT,
		    .first = (uint32_t)need_frames,
		};
		need_frames += e->length >> PMM_PAGE_SHIFT;
		if (need_frames >= PMM_NIL)
			return PMM_E_INVAL; /* indices are 32-bit */
		nreg++;
	}
	if (nreg == 0)
		return PMM_E_INVAL;
	if (meta_bytes < need_frames * sizeof(struct pmm_frame))
		return PMM_E_META_SMALL;
	if (meta_phys != PMM_META_EXTERNAL) {
		if (meta_phys & (PMM_PAGE_SIZE - 1))
			return PMM_E_ALIGN;
		m0 = meta_phys >> PMM_PAGE_SHIFT;
		m1 = m0 + align_up(meta_bytes, PMM_PAGE_SIZE) / PMM_PAGE_SIZE;
		for (uint32_t i = 0; i < nreg; i++) {
			const struct pmm_region *r = &pmm.regions[i];
			if (m0 >= r->base_pfn && m1 <= r->base_pfn + r->npages)
				meta_inside = true;
		}
	}
	if (!meta_inside)
		return PMM_E_NOT_MANAGED; /* metadata must be wholly in one region */

	/* Act: nothing below can fail. */
	pmm.meta = meta;
	pmm.nframes = need_frames;
	pmm.nregions = nreg;
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++)
		pmm.free_head[o] = PMM_NIL;
	pmm.st = (struct pmm_stats){.total_pages = need_frames};
	pmm.in_reclaim = false;
	for (uint64_t i = 0; i < need_frames; i++)
		pmm.meta[i] = (struct pmm_frame){.next = PMM_NIL, .prev = PMM_NIL};
	for (uint32_t i = 0; i < nreg; i++) {
		const struct pmm_region *r = &pmm.regions[i];
		uint64_t end = r->base_pfn + r->npages;
		if (m1 > m0 && m0 >= r->base_pfn && m1 <= end) {
			for (uint64_t p = m0; p < m1; p++) {
				frame(r, p)->state = PMM_FRAME_RESERVED;
				frame(r, p)->owner = PMM_OWNER_PMM;
				frame(r, p)->refcount = 1;
			}
			add_free_range(r, r->base_pfn, m0);
			add_free_range(r, m1, end);
			pmm.st.reserved_pages = m1 - m0;
		} else {
			add_free_range(r, r->base_pfn, end);
		}
	}
	pmm.st.free_pages = need_frames - pmm.st.reserved_pages;
	pmm.ready = true;
	return 0;
}

int pmm_alloc(uint64_t count, uint64_t align_pages, unsigned flags, uint64_t *phys)
{
	uint64_t pfn = 0;
	int err;

	if (phys == NULL || count == 0 || (align_pages & (align_pages - 1)) != 0 ||
	    (flags & ~(PMM_NORECLAIM | PMM_BELOW_4G)) != 0)
		return PMM_E_INVAL;
	if (align_pages == 0)
		align_pages = 1;

	pmm_lock();
	if (!pmm.ready) {
		err = PMM_E_NOT_READY;
		goto out_unlock;
	}
	err = try_alloc(count, align_pages, flags, &pfn);
	/*
	 * Out of memory: ask the reclaim hook, without the lock (it frees
	 * through pmm_free) and never from inside itself.  Bounded so a hook
	 * that frees a little each time cannot keep us here for ever.
	 */
	for (unsigned tries = 0; err == PMM_E_NOMEM && pmm.reclaim && !(flags & PMM_NORECLAIM) &&
	                         !pmm.in_reclaim && tries < PMM_RECLAIM_TRIES;
	     tries++) {
		pmm_reclaim_fn fn = pmm.reclaim;
		void *arg = pmm.reclaim_arg;
		uint64_t got;

		pmm.in_reclaim = true;
		pmm.st.reclaim_calls++;
		pmm_unlock();
		got = fn(count, flags, arg);
		pmm_lock();
		pmm.in_reclaim = false;
		pmm.st.reclaimed_pages += got;
		if (got == 0)
			break;
		err = try_alloc(count, align_pages, flags, &pfn);
	}
	if (err == 0) {
		pmm.st.allocs++;
		*phys = pfn << PMM_PAGE_SHIFT;
	} else {
		pmm.st.alloc_failures++;
	}
out_unlock:
	pmm_unlock();
	return err;
}

/*
 * Check that [phys, phys + count frames) is a run of managed frames inside
 * one region; on success set *rp.  The frames' states are the caller's to
 * check.
 */
static int validate_run(uint64_t phys, uint64_t count, struct pmm_region **rp)
{
	uint64_t pfn = phys >> PMM_PAGE_SHIFT;
	struct pmm_region *r;

	if (!pmm.ready)
		return PMM_E_NOT_READY;
	if (count == 0)
		return PMM_E_INVAL;
	if (phys & (PMM_PAGE_SIZE - 1))
		return PMM_E_ALIGN;
	r = region_of(pfn);
	if (r == NULL || count > r->base_pfn + r->npages - pfn)
		return PMM_E_NOT_MANAGED;
	*rp = r;
	return 0;
}

static int frame_error(const struct pmm_frame *f)
{
	switch (f->state) {
	case PMM_FRAME_FREE:
		return (f->flags & PMM_FRAME_EVER) ? PMM_E_DOUBLE_FREE : PMM_E_NOT_ALLOCATED;
	case PMM_FRAME_RESERVED:
		return PMM_E_RESERVED;
	default:
		return 0;
	}
}

/* validate_run, and every frame of the run is allocated: the first
 * frame_error, frame by frame, or 0 with *rp set. */
static int validate_allocated(uint64_t phys, uint64_t count, struct pmm_region **rp)
{
	uint64_t pfn = phys >> PMM_PAGE_SHIFT;
	int err = validate_run(phys, count, rp);

	for (uint64_t p = pfn; err == 0 && p < pfn + count; p++)
		err = frame_error(frame(*rp, p));
	return err;
}

/* Free a validated run of allocated frames. */
static void free_run(const struct pmm_region *r, uint64_t pfn, uint64_t count)
{
	for (uint64_t p = pfn; p < pfn + count; p++) {
		struct pmm_frame *f = frame(r, p);
		f->state = PMM_FRAME_FREE;
		f->refcount = 0;
		f->owner = PMM_OWNER_NONE;
		f->cap = 0;
		f->flags = PMM_FRAME_EVER;
	}
	add_free_range(r, pfn, pfn + count);
	pmm.st.free_pages += count;
	pmm.st.frees++;
}

int pmm_free(uint64_t phys, uint64_t count)
{
	struct pmm_region *r = NULL;
	uint64_t pfn = phys >> PMM_PAGE_SHIFT;
	int err;

	pmm_lock();
	err = validate_run(phys, count, &r);
	if (err)
		goto out_unlock;
	for (uint64_t p = pfn; p < pfn + count; p++) {
		const struct pmm_frame *f = frame(r, p);
		if ((err = frame_error(f)) != 0)
			goto out_unlock;
		if (f->refcount != 1) {
			err = PMM_E_BUSY;
			goto out_unlock;
		}
	}
	free_run(r, pfn, count);
out_unlock:
	pmm_unlock();
	return err;
}

int pmm_frame_ref(uint64_t phys)
{
	struct pmm_region *r = NULL;
	struct pmm_frame *f;
	int err;

	pmm_lock();
	if ((err = validate_allocated(phys, 1, &r)) != 0)
		goto out_unlock;
	f = frame(r, phys >> PMM_PAGE_SHIFT);
	if (f->refcount == UINT32_MAX) {
		err = PMM_E_BUSY;
		goto out_unlock;
	}
	f->refcount++;
out_unlock:
	pmm_unlock();
	return err;
}

int pmm_frame_unref(uint64_t phys)
{
	struct pmm_region *r = NULL;
	struct pmm_frame *f;
	int err;

	pmm_lock();
	if ((err = validate_allocated(phys, 1, &r)) != 0)
		goto out_unlock;
	f = frame(r, phys >> PMM_PAGE_SHIFT);
	if (f->refcount > 1)
		f->refcount--;
	else
		free_run(r, phys >> PMM_PAGE_SHIFT, 1);
out_unlock:
	pmm_unlock();
	return err;
}

int pmm_frame_set_owner(uint64_t phys, uint64_t count, uint32_t owner)
{
	struct pmm_region *r = NULL;
	uint64_t pfn = phys >> PMM_PAGE_SHIFT;
	int err;

	pmm_lock();
	if ((err = validate_allocated(phys, count, &r)) == 0)
		for (uint64_t p = pfn; p < pfn + count; p++)
			frame(r, p)->owner = owner;
	pmm_unlock();
	return err;
}

int pmm_frame_info(uint64_t phys, struct pmm_frame *out)
{
	struct pmm_region *r = NULL;
	int err;

	if (out == NULL)
		return PMM_E_INVAL;
	pmm_lock();
	if ((err = validate_run(phys, 1, &r)) == 0)
		*out = *frame(r, phys >> PMM_PAGE_SHIFT);
	pmm_unlock();
	return err;
}

void pmm_set_reclaim(pmm_reclaim_fn fn, void *arg)
{
	pmm_lock();
	pmm.reclaim = fn;
	pmm.reclaim_arg = arg;
	pmm_unlock();
}

void pmm_set_lock(pmm_lock_fn lock, pmm_lock_fn unlock, void *arg)
{
	/* Installed once, at boot, before a second CPU can race with it. */
	pmm.lock = lock;
	pmm.unlock = unlock;
	pmm.lock_arg = arg;
}

void pmm_get_stats(struct pmm_stats *out)
{
	uint64_t run = 0, best = 0;

	pmm_lock();
	*out = pmm.st;
	out->largest_free_order = UINT32_MAX;
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++) {
		if (pmm.st.free_blocks[o] > 0)
			out->largest_free_order = o;
	}
	for (uint32_t i = 0; pmm.ready && i < pmm.nregions; i++) {
		const struct pmm_region *r = &pmm.regions[i];
		run = 0;
		for (uint64_t p = 0; p < r->npages; p++) {
			run = pmm.meta[r->first + p].state == PMM_FRAME_FREE ? run + 1 : 0;
			if (run > best)
				best = run;
		}
	}
	out->largest_free_run = best;
	pmm_unlock();
}

static int check_region(const struct pmm_region *r, uint64_t *free_frames, uint64_t *reserved,
                        uint64_t *blocks)
{
	uint64_t end = r->base_pfn + r->npages;

	for (uint64_t p = r->base_pfn; p < end;) {
		const struct pmm_frame *f = frame(r, p);
		if (f->state == PMM_FRAME_ALLOCATED || f->state == PMM_FRAME_RESERVED) {
			if (f->refcount == 0 || (f->flags & PMM_FRAME_HEAD))
				return PMM_E_CORRUPT;
			*reserved += f->state == PMM_FRAME_RESERVED;
			p++;
			continue;
		}
		if (f->state != PMM_FRAME_FREE || !(f->flags & PMM_FRAME_HEAD) ||
		    f->order > PMM_MAX_ORDER)
			return PMM_E_CORRUPT; /* a free frame outside any block */
		unsigned o = f->order;
		if ((p & (BLOCK(o) - 1)) != 0 || p + BLOCK(o) > end)
			return PMM_E_CORRUPT;
		for (uint64_t q = p + 1; q < p + BLOCK(o); q++) {
			const struct pmm_frame *g = frame(r, q);
			if (g->state != PMM_FRAME_FREE || (g->flags & PMM_FRAME_HEAD))
				return PMM_E_CORRUPT;
		}
		if (o < PMM_MAX_ORDER && is_free_head(r, p ^ BLOCK(o), o))
			return PMM_E_CORRUPT; /* unmerged buddies */
		blocks[o]++;
		*free_frames += BLOCK(o);
		p += BLOCK(o);
	}
	return 0;
}

int pmm_check(void)
{
	uint64_t free_frames = 0, reserved = 0, blocks[PMM_MAX_ORDER + 1] = {0};
	int err = 0;

	pmm_lock();
	if (!pmm.ready) {
		err = PMM_E_NOT_READY;
		goto out_unlock;
	}
	for (uint32_t i = 0; i < pmm.nregions && !err; i++)
		err = check_region(&pmm.regions[i], &free_frames, &reserved, blocks);
	if (err)
		goto out_unlock;
	if (free_frames != pmm.st.free_pages || reserved != pmm.st.reserved_pages) {
		err = PMM_E_CORRUPT;
		goto out_unlock;
	}
	for (unsigned o = 0; o <= PMM_MAX_ORDER; o++) {
		uint64_t n = 0;
		uint32_t prev = PMM_NIL;
		for (uint32_t idx = pmm.free_head[o]; idx != PMM_NIL; idx = pmm.meta[idx].next) {
			const struct pmm_frame *f = &pmm.meta[idx];
			/* n bounds the walk: a cycle cannot keep us here. */
			if (idx >= pmm.nframes || f->prev != prev || f->order != o ||
			    !(f->flags & PMM_FRAME_HEAD) || f->state != PMM_FRAME_FREE ||
			    ++n > blocks[o]) {
				err = PMM_E_CORRUPT;
				goto out_unlock;
			}
			prev = idx;
		}
		if (n != blocks[o] || n != pmm.st.free_blocks[o]) {
			err = PMM_E_CORRUPT;
			goto out_unlock;
		}
	}
out_unlock:
	pmm_unlock();
	return err;
}

const char *pmm_strerror(int code)
{
	switch (code) {
	case 0:
		return "no error";
	case PMM_E_INVAL:
		return "invalid argument";
	case PMM_E_NOMEM:
		return "out of physical memory";
	case PMM_E_NOT_MANAGED:
		return "address not in managed memory";
	case PMM_E_ALIGN:
		return "address not page aligned";
	case PMM_E_DOUBLE_FREE:
		return "frame already free (double free)";
	case PMM_E_NOT_ALLOCATED:
		return "frame was never allocated";
	case PMM_E_RESERVED:
		return "frame holds the allocator's metadata";
	case PMM_E_BUSY:
		return "frame still referenced";
	case PMM_E_META_SMALL:
		return "metadata array too small";
	case PMM_E_NOT_READY:
		return "allocator not initialised";
	case PMM_E_CORRUPT:
		return "allocator metadata corrupt";
	default:
		return "unknown error";
	}
}
