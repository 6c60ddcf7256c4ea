/*
 * physaddr.c: PhysAddr - allocation with attributes, capabilities, Reclaim.
 *
 * An object is a header plus one physical address per page.  Contiguous
 * objects are one pmm run; others are npages single frames, so a fragmented
 * memory can still satisfy them.  Colour is the frame number modulo
 * PHYSADDR_NCOLOURS: a page of a given colour is carved out of an aligned
 * block of NCOLOURS frames (the rest go straight back to the pmm), and a
 * coloured contiguous run out of a run NCOLOURS frames longer.
 *
 * Reclaim: the pmm calls physaddr_pmm_reclaim when an allocation fails.  The
 * candidate is the oldest reclaimable object (FIFO; the paper's later
 * version used FIFO with second chance).  PhysAddr.Reclaim(candidate) is
 * raised through the dispatcher (the generated raise stub PhysAddr_Reclaim:
 * with one unguarded native handler a direct call); handlers may nominate
 * another victim.  With several handlers, physaddr_reclaim_combine keeps
 * the last valid nomination; an invalid one (stale, not reclaimable) is
 * ignored and the candidate taken.  The event's authority and its domain
 * are set up by the memory module (translation_init), so until then a raise
 * finds no event and the candidate goes.
 *
 * The extension-facing procedures PhysAddr_Allocate / PhysAddr_Deallocate
 * (interfaces/physaddr.idl) are thin: they unpack the attribute word and
 * call physaddr_alloc / physaddr_free, which validate everything.
 */
#include "kernel/physaddr.h"

#include "kernel/heap.h"
#include "kernel/interface.h"
#include "kernel/pmm.h"
#include "kernel/string.h"
#include "spindle_interfaces.h"

static struct physaddr *physaddr_fifo_head, *physaddr_fifo_tail;
static physaddr_invalidate_fn physaddr_invalidate;
static struct physaddr_stats physaddr_st;
static bool physaddr_reclaiming;

static uint64_t physaddr_pmm_reclaim(uint64_t want, unsigned flags, void *arg)
{
	(void)flags;
	(void)arg;
	return physaddr_reclaim(want);
}

int physaddr_init(void)
{
	/* cap_init says -EEXIST when another service made the table first. */
	int err = cap_kernel ? 0 : cap_init();

	if (err)
		return err;
	pmm_set_reclaim(physaddr_pmm_reclaim, NULL);
	return 0;
}

void physaddr_set_invalidate(physaddr_invalidate_fn fn)
{
	physaddr_invalidate = fn;
}

static int physaddr_pmm_err(int e)
{
	return e == PMM_E_NOMEM ? -ENOMEM : -EINVAL;
}

/* One frame of the given colour. */
static int physaddr_alloc_coloured(uint32_t colour, unsigned pflags, uint64_t *pa)
{
	uint64_t base;
	int e = pmm_alloc(PHYSADDR_NCOLOURS, PHYSADDR_NCOLOURS, pflags, &base);

	if (e)
		return physaddr_pmm_err(e);
	/* base has colour 0: keep frame `colour`, give back the others. */
	if (colour)
		pmm_free(base, colour);
	if (colour + 1 < PHYSADDR_NCOLOURS)
		pmm_free(base + (uint64_t)(colour + 1) * PHYSADDR_PAGE_SIZE,
		         PHYSADDR_NCOLOURS - colour - 1);
	*pa = base + (uint64_t)colour * PHYSADDR_PAGE_SIZE;
	return 0;
}

static int physaddr_alloc_contig(struct physaddr *p, const struct physaddr_attr *a, unsigned pflags)
{
	uint64_t n = p->npages, base, start;
	int e;

	if (!(a->flags & PHYSADDR_COLOUR)) {
		e = pmm_alloc(n, a->align_pages ? a->align_pages : 1, pflags, &base);
		if (e)
			return physaddr_pmm_err(e);
		start = base;
	} else {
		e = pmm_alloc(n + PHYSADDR_NCOLOURS, PHYSADDR_NCOLOURS, pflags, &base);
		if (e)
			return physaddr_pmm_err(e);
		start = base + (uint64_t)a->colour * PHYSADDR_PAGE_SIZE;
		if (a->colour)
			pmm_free(base, a->colour);
		pmm_free(start + n * PHYSADDR_PAGE_SIZE, PHYSADDR_NCOLOURS - a->colour);
	}
	for (uint64_t i = 0; i < n; i++)
		p->pa[i] = start + i * PHYSADDR_PAGE_SIZE;
	return 0;
}

static void physaddr_release_frames(struct physaddr *p, uint32_t upto)
{
	if (p->flags & PHYSADDR_CONTIG) {
		if (upto)
			pmm_free(p->pa[0], p->npages);
		return;
	}
	for (uint32_t i = 0; i < upto; i++)
		pmm_free(p->pa[i], 1);
}

static int physaddr_alloc_frames(struct physaddr *p, const struct physaddr_attr *a)
{
	unsigned pflags = (a->flags & PHYSADDR_BELOW_4G) ? PMM_BELOW_4G : 0;
	uint32_t i;
	int err = 0;

	if (a->flags & PHYSADDR_CONTIG)
		return physaddr_alloc_contig(p, a, pflags);
	for (i = 0; i < p->npages; i++) {
		if (a->flags & PHYSADDR_COLOUR) {
			err = physaddr_alloc_coloured((a->colour + i) % PHYSADDR_NCOLOURS, pflags,
			                              &p->pa[i]);
		} else {
			int e = pmm_alloc(1, 1, pflags, &p->pa[i]);

			err = e ? physaddr_pmm_err(e) : 0;
		}
		if (err)
			goto err_free_frames;
	}
	return 0;

err_free_frames:
	physaddr_release_frames(p, i);
	return err;
}

static void physaddr_fifo_unlink(struct physaddr *p)
{
	if (p->fifo_prev)
		p->fifo_prev->fifo_next = p->fifo_next;
	else if (physaddr_fifo_head == p)
		physaddr_fifo_head = p->fifo_next;
	if (p->fifo_next)
		p->fifo_next->fifo_prev = p->fifo_prev;
	else if (physaddr_fifo_tail == p)
		physaddr_fifo_tail = p->fifo_prev;
	p->fifo_next = p->fifo_prev = NULL;
}

int physaddr_alloc(size_t size, const struct physaddr_attr *attr, cap_t *out)
{
	static const struct physaddr_attr none;
	const struct physaddr_attr *a = attr ? attr : &none;
	uint64_t npages = (size + PHYSADDR_PAGE_SIZE - 1) / PHYSADDR_PAGE_SIZE;
	struct physaddr *p;
	int err;

	if (!out || !size || npages > PHYSADDR_MAX_PAGES || (a->flags & ~PHYSADDR_FLAGS))
		return -EINVAL;
	if (a->align_pages & (a->align_pages - 1))
		return -EINVAL;
	if ((a->flags & PHYSADDR_COLOUR) && (a->colour >= PHYSADDR_NCOLOURS ||
	                                     ((a->flags & PHYSADDR_CONTIG) && a->align_pages > 1)))
		return -EINVAL; /* a colour fixes the low frame bits: no alignment on top */
	if (a->align_pages > 1 && !(a->flags & PHYSADDR_CONTIG))
		return -EINVAL;

	p = kzalloc(sizeof(*p) + npages * sizeof(p->pa[0]));
	if (!p)
		return -ENOMEM;
	p->npages = (uint32_t)npages;
	p->flags = a->flags;
	rmap_list_init(&p->maps);
	err = physaddr_alloc_frames(p, a);
	if (err)
		goto err_free_obj;
	err = cap_create(cap_kernel, PHYSADDR_CAP_TYPE, p, &p->cap);
	if (err)
		goto err_free_frames;

	for (uint32_t i = 0; i < p->npages; i++)
		pmm_frame_set_owner(p->pa[i], 1, PHYSADDR_PMM_OWNER);
	if (p->flags & PHYSADDR_RECLAIMABLE) {
		p->fifo_prev = physaddr_fifo_tail;
		if (physaddr_fifo_tail)
			physaddr_fifo_tail->fifo_next = p;
		else
			physaddr_fifo_head = p;
		physaddr_fifo_tail = p;
		physaddr_st.reclaimable++;
	}
	/* Processes on two CPUs allocate and free at once (fork, COW faults). */
	__atomic_add_fetch(&physaddr_st.objects, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&physaddr_st.pages, p->npages, __ATOMIC_RELAXED);
	*out = p->cap;
	return 0;

err_free_frames:
	physaddr_release_frames(p, p->npages);
err_free_obj:
	kfree(p);
	return err;
}

struct physaddr *physaddr_get(cap_t c, int *err)
{
	void *obj = NULL;
	int e = cap_check(cap_kernel, c, PHYSADDR_CAP_TYPE, &obj);

	if (err)
		*err = e;
	return e ? NULL : obj;
}

/* Drop a live object: revoke, unlink, free frames and header. */
static void physaddr_destroy(struct physaddr *p)
{
	cap_revoke(cap_kernel, p->cap, PHYSADDR_CAP_TYPE, NULL);
	if (p->flags & PHYSADDR_RECLAIMABLE) {
		physaddr_fifo_unlink(p);
		physaddr_st.reclaimable--;
	}
	physaddr_release_frames(p, p->npages);
	__atomic_sub_fetch(&physaddr_st.objects, 1, __ATOMIC_RELAXED);
	__atomic_sub_fetch(&physaddr_st.pages, p->npages, __ATOMIC_RELAXED);
	kfree(p);
}

int physaddr_free(cap_t c)
{
	int err;
	struct physaddr *p = physaddr_get(c, &err);

	if (!p)
		return err;
	if (p->maps.count)
		return -EBUSY;
	physaddr_destroy(p);
	return 0;
}

int physaddr_page(cap_t c, uint32_t i, uint64_t *pa)
{
	int err;
	struct physaddr *p = physaddr_get(c, &err);

	if (!p)
		return err;
	if (i >= p->npages)
		return -ERANGE;
	*pa = p->pa[i];
	return 0;
}

int physaddr_info(cap_t c, uint32_t *npages, uint32_t *nmaps, unsigned *flags)
{
	int err;
	struct physaddr *p = physaddr_get(c, &err);

	if (!p)
		return err;
	if (npages)
		*npages = p->npages;
	if (nmaps)
		*nmaps = p->maps.count;
	if (flags)
		*flags = p->flags;
	return 0;
}

/* A nominee is taken only if it is a live reclaimable object. */
static struct physaddr *physaddr_nominee(cap_t c)
{
	struct physaddr *p = c == CAP_NULL ? NULL : physaddr_get(c, NULL);

	return p && (p->flags & PHYSADDR_RECLAIMABLE) ? p : NULL;
}

uint64_t physaddr_reclaim_combine(void *arg, uint64_t acc, uint64_t result, uint32_t index)
{
	(void)arg;
	(void)index;
	return physaddr_nominee(result) ? result : acc;
}

/* Raise PhysAddr.Reclaim for candidate; the victim the handlers settle on. */
static struct physaddr *physaddr_raise_reclaim(struct physaddr *candidate)
{
	cap_t c = PhysAddr_Reclaim(candidate->cap);
	struct physaddr *nominee;

	if (c == candidate->cap || !(nominee = physaddr_nominee(c)))
		return candidate;
	physaddr_st.nominated++;
	return nominee;
}

uint64_t physaddr_reclaim(uint64_t want)
{
	uint64_t freed = 0;

	if (physaddr_reclaiming)
		return 0;
	physaddr_reclaiming = true;
	while (freed < want && physaddr_fifo_head) {
		struct physaddr *victim = physaddr_raise_reclaim(physaddr_fifo_head);

		/* Translation drops every mapping (and its TLB entries) first. */
		if (victim->maps.count && physaddr_invalidate)
			physaddr_invalidate(victim);
		if (victim->maps.count)
			break; /* nobody can unmap it: do not free mapped frames */
		freed += victim->npages;
		physaddr_st.reclaims++;
		physaddr_st.reclaimed_pages += victim->npages;
		physaddr_destroy(victim);
	}
	physaddr_reclaiming = false;
	return freed;
}

void physaddr_get_stats(struct physaddr_stats *out)
{
	*out = physaddr_st;
}

/* ---- the PhysAddr interface (interfaces/physaddr.idl) ---- */

int64_t PhysAddr_Allocate(uint64_t size, uint64_t attrib, void *p)
{
	struct physaddr_attr a = {
	    .flags = (unsigned)(attrib & 0xff),
	    .colour = (uint32_t)((attrib >> 8) & 0xff),
	    .align_pages = (uint32_t)((attrib >> 16) & 0xffffffffu),
	};
	cap_t c;
	int err;

	if (!p || (attrib >> 48))
		return -EINVAL;
	if ((err = physaddr_alloc((size_t)size, &a, &c)))
		return err;
	memcpy(p, &c, sizeof(c));
	return 0;
}

int64_t PhysAddr_Deallocate(uint64_t p)
{
	return physaddr_free(p);
}
