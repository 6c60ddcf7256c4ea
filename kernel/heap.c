/*
 * heap: kmalloc and friends over a page source.
 *
 * Design.  Memory obtained from the page source is organised in spans: a
 * slab (a few pages cut into equal slots of one size class) or a large
 * object (its own run of pages).  Each span is described by a struct
 * heap_span kept out of band, in descriptor pages the heap owns, and the
 * spans are listed in an index sorted by address.  Any pointer is mapped to
 * its span by binary search of that index without ever dereferencing the
 * pointer, which is what lets kfree() refuse foreign, interior and stale
 * pointers safely.  Slot occupancy is a bitmap in the descriptor, so a
 * double free is a bit already clear, not a guess from in-band data.
 *
 * Under HEAP_DEBUG each slot is [header | object | tail red zone]: the
 * header holds the requested size, a check word and a front canary, and the
 * red zone runs from the end of the object to the end of the slot (at least
 * HEAP_TAIL bytes).  Freed slots are filled with HEAP_POISON_FREE and checked
 * when handed out again, catching writes after free.  Slabs with free slots
 * are on a per-class list; a slab that becomes empty is returned to the page
 * source unless it is its class's last one.
 *
 * The index grows by doubling into fresh pages; descriptors come from pages
 * that are kept until heap_fini().  The heap never calls the page source
 * except from kmalloc-family calls, heap_fini() and kfree() of a large object
 * or the last object of a slab.
 */
#include <stdint.h>

#include <kernel/fmt.h>
#include <kernel/heap.h>
#include <kernel/string.h>

#if HEAP_DEBUG
#define HEAP_HDR  16u /* struct heap_hdr */
#define HEAP_TAIL 16u /* minimum tail red zone */
#else
#define HEAP_HDR  0u
#define HEAP_TAIL 0u
#endif

#define SLAB_MAX_SLOTS 256
#define SLAB_MIN_SLOTS 8
#define HDR_MAGIC      0x5a17c0deu

enum span_kind { SPAN_SLAB = 1, SPAN_LARGE = 2 };

struct heap_span {
	uintptr_t base;
	size_t npages;
	uint8_t kind;
	uint8_t cls;
	bool on_partial;
	uint16_t nslots;
	uint16_t nfree;
	size_t large_size;                  /* requested size of a large object */
	uint64_t used[SLAB_MAX_SLOTS / 64]; /* slot bitmap: 1 = allocated */
	struct heap_span *next, *prev;      /* partial list, or descriptor free list */
};

/* The object header under HEAP_DEBUG: size, a check word, a front canary. */
struct heap_hdr {
	uint32_t size;
	uint32_t check;
	uint8_t canary[8];
};
#if HEAP_DEBUG
_Static_assert(sizeof(struct heap_hdr) == HEAP_HDR, "header size");
#endif

/* A page of descriptors: this header, then descriptors. */
struct heap_pool_page {
	struct heap_pool_page *next;
};

struct heap_class {
	uint32_t size; /* largest request served */
	uint32_t slot; /* HEAP_HDR + size + HEAP_TAIL */
	uint32_t nslots;
	uint32_t npages;
	struct heap_span *partial; /* slabs with a free slot */
	uint32_t nslabs;
};

static struct {
	bool ready;
	struct heap_ops ops;
	struct heap_class cls[HEAP_NCLASSES];
	struct heap_span **index; /* sorted by base */
	size_t nindex, index_cap, index_pages;
	struct heap_span *free_desc;
	struct heap_pool_page *pool;
	struct heap_stats st;
	char msg[160];
} heap;

static void heap_lock(void)
{
	if (heap.ops.lock)
		heap.ops.lock(heap.ops.arg);
}

static void heap_unlock(void)
{
	if (heap.ops.unlock)
		heap.ops.unlock(heap.ops.arg);
}

static int report(int code, const void *ptr, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int report(int code, const void *ptr, const char *fmt, ...)
{
	va_list ap;

	heap.st.errors_detected++;
	if (heap.ops.report) {
		va_start(ap, fmt);
		fmt_vsnprintf(heap.msg, sizeof(heap.msg), fmt, ap);
		va_end(ap);
		heap.ops.report(code, ptr, heap.msg, heap.ops.arg);
	}
	return code;
}

static void *pages_get(size_t n)
{
	void *p = heap.ops.page_alloc(n, heap.ops.arg);
	if (p)
		heap.st.pages_held += n;
	return p;
}

static void pages_put(void *p, size_t n)
{
	heap.ops.page_free(p, n, heap.ops.arg);
	heap.st.pages_held -= n;
}

/* ---- descriptors and the span index ---- */

static struct heap_span *desc_alloc(void)
{
	struct heap_span *d;

	if (heap.free_desc == NULL) {
		struct heap_pool_page *pg = pages_get(1);
		if (pg == NULL)
			return NULL;
		pg->next = heap.pool;
		heap.pool = pg;
		/* Descriptors start after the page header, suitably aligned. */
		uintptr_t first = ((uintptr_t)(pg + 1) + 15) & ~(uintptr_t)15;
		size_t n = ((uintptr_t)pg + HEAP_PAGE_SIZE - first) / sizeof(struct heap_span);
		for (size_t i = 0; i < n; i++) {
			d = (struct heap_span *)(first + i * sizeof(struct heap_span));
			d->next = heap.free_desc;
			heap.free_desc = d;
		}
	}
	d = heap.free_desc;
	heap.free_desc = d->next;
	memset(d, 0, sizeof(*d));
	return d;
}

static void desc_free(struct heap_span *d)
{
	d->kind = 0;
	d->next = heap.free_desc;
	heap.free_desc = d;
}

/* Position of the first span whose base is > addr. */
static size_t index_upper(uintptr_t addr)
{
	size_t lo = 0, hi = heap.nindex;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (heap.index[mid]->base <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The span containing addr, or NULL.  Never dereferences addr. */
static struct heap_span *span_of(const void *addr)
{
	uintptr_t a = (uintptr_t)addr;
	size_t i = index_upper(a);
	struct heap_span *s;

	if (i == 0)
		return NULL;
	s = heap.index[i - 1];
	return a < s->base + s->npages * HEAP_PAGE_SIZE ? s : NULL;
}

/* Make room for one more index entry. */
static bool index_reserve(void)
{
	size_t pages, cap;
	struct heap_span **n;

	if (heap.nindex < heap.index_cap)
		return true;
	pages = heap.index_pages ? heap.index_pages * 2 : 1;
	cap = pages * HEAP_PAGE_SIZE / sizeof(*n);
	n = pages_get(pages);
	if (n == NULL)
		return false;
	if (heap.index) {
		memcpy(n, heap.index, heap.nindex * sizeof(*n));
		pages_put(heap.index, heap.index_pages);
	}
	heap.index = n;
	heap.index_cap = cap;
	heap.index_pages = pages;
	return true;
}

/* Insert s (room was reserved). */
static void index_insert(struct heap_span *s)
{
	size_t i = index_upper(s->base);

	memmove(&heap.index[i + 1], &heap.index[i], (heap.nindex - i) * sizeof(*heap.index));
	heap.index[i] = s;
	heap.nindex++;
}

static void index_remove(struct heap_span *s)
{
	size_t i = index_upper(s->base) - 1;

	memmove(&heap.index[i], &heap.index[i + 1], (heap.nindex - i - 1) * sizeof(*heap.index));
	heap.nindex--;
}

/* ---- object layout and red zones ---- */

static bool slot_used(const struct heap_span *s, unsigned i)
{
	return (s->used[i / 64] >> (i % 64)) & 1;
}

static void slot_set(struct heap_span *s, unsigned i, bool used)
{
	if (used)
		s->used[i / 64] |= 1ull << (i % 64);
	else
		s->used[i / 64] &= ~(1ull << (i % 64));
}

static uintptr_t slot_addr(const struct heap_span *s, unsigned i)
{
	return s->base + (uintptr_t)i * heap.cls[s->cls].slot;
}

#if HEAP_DEBUG
/* Bytes from an object's header to the end of its slot or span. */
static size_t object_extent(const struct heap_span *s)
{
	return s->kind == SPAN_SLAB ? heap.cls[s->cls].slot : s->npages * HEAP_PAGE_SIZE;
}

/* First byte in [p, p + n) that is not val, or n. */
static size_t first_not(const uint8_t *p, size_t n, uint8_t val)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] != val)
			return i;
	}
	return n;
}
#endif

static void object_init(uintptr_t start, size_t extent, size_t size)
{
#if HEAP_DEBUG
	struct heap_hdr *h = (struct heap_hdr *)start;
	uint8_t *user = (uint8_t *)(start + HEAP_HDR);

	h->size = (uint32_t)size;
	h->check = (uint32_t)size ^ HDR_MAGIC ^ (uint32_t)start;
	memset(h->canary, HEAP_REDZONE, sizeof(h->canary));
	memset(user, HEAP_POISON_ALLOC, size);
	memset(user + size, HEAP_REDZONE, extent - HEAP_HDR - size);
#else
	(void)start, (void)extent, (void)size;
#endif
}

/*
 * Verify a live object's header and red zone.  Returns 0 or the error,
 * reported with the context word (kfree, heap_check, krealloc).
 */
static int object_verify(const struct heap_span *s, uintptr_t start, const char *ctx)
{
#if HEAP_DEBUG
	const struct heap_hdr *h = (const struct heap_hdr *)start;
	const void *user = (const void *)(start + HEAP_HDR);
	size_t extent = object_extent(s), bad;
	size_t max = s->kind == SPAN_SLAB ? heap.cls[s->cls].size : s->large_size;

	bad = first_not(h->canary, sizeof(h->canary), HEAP_REDZONE);
	if (h->check != (h->size ^ HDR_MAGIC ^ (uint32_t)start) || h->size > max ||
	    bad != sizeof(h->canary))
		return report(HEAP_E_UNDERFLOW, user,
		              "%s(%p): header before the object overwritten (underflow)", ctx,
		              user);
	bad = first_not((const uint8_t *)user + h->size, extent - HEAP_HDR - h->size, HEAP_REDZONE);
	if (bad != extent - HEAP_HDR - h->size)
		return report(
		    HEAP_E_OVERFLOW, user,
		    "%s(%p): red zone overwritten %zu bytes past the end of the %u-byte object",
		    ctx, user, bad, h->size);
#else
	(void)s, (void)start, (void)ctx;
#endif
	return 0;
}

/* A free slot must still hold the free poison. */
static int free_slot_verify(const struct heap_span *s, unsigned i, const char *ctx)
{
#if HEAP_DEBUG
	const uint8_t *p = (const uint8_t *)slot_addr(s, i);
	size_t n = heap.cls[s->cls].slot, bad = first_not(p, n, HEAP_POISON_FREE);

	if (bad != n)
		return report(HEAP_E_USE_AFTER_FREE, p + HEAP_HDR,
		              "%s: free object %p written after free (byte %zu of its slot)", ctx,
		              (const void *)(p + HEAP_HDR), bad);
#else
	(void)s, (void)i, (void)ctx;
#endif
	return 0;
}

static size_t object_size(const struct heap_span *s, uintptr_t start)
{
#if HEAP_DEBUG
	(void)s;
	return ((const struct heap_hdr *)start)->size;
#else
	(void)start;
	return s->kind == SPAN_SLAB ? heap.cls[s->cls].size : s->large_size;
#endif
}

/* ---- slabs ---- */

static void partial_add(struct heap_class *c, struct heap_span *s)
{
	s->prev = NULL;
	s->next = c->partial;
	if (c->partial)
		c->partial->prev = s;
	c->partial = s;
	s->on_partial = true;
}

static void partial_remove(struct heap_class *c, struct heap_span *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		c->partial = s->next;
	if (s->next)
		s->next->prev = s->prev;
	s->next = s->prev = NULL;
	s->on_partial = false;
}

static struct heap_span *slab_new(unsigned ci)
{
	struct heap_class *c = &heap.cls[ci];
	struct heap_span *s;
	void *mem;

	if (!index_reserve() || (s = desc_alloc()) == NULL)
		return NULL;
	mem = pages_get(c->npages);
	if (mem == NULL) {
		desc_free(s);
		return NULL;
	}
	s->base = (uintptr_t)mem;
	s->npages = c->npages;
	s->kind = SPAN_SLAB;
	s->cls = (uint8_t)ci;
	s->nslots = (uint16_t)c->nslots;
	s->nfree = (uint16_t)c->nslots;
#if HEAP_DEBUG
	/* Every free slot carries the free poison, from the start. */
	memset(mem, HEAP_POISON_FREE, (size_t)c->nslots * c->slot);
#endif
	index_insert(s);
	partial_add(c, s);
	c->nslabs++;
	heap.st.slabs++;
	return s;
}

static void span_release(struct heap_span *s)
{
	index_remove(s);
	pages_put((void *)s->base, s->npages);
	desc_free(s);
}

/* The smallest class serving size (<= HEAP_SMALL_MAX). */
static unsigned class_of(size_t size)
{
	unsigned ci = 0;

	while (heap.cls[ci].size < size)
		ci++;
	return ci;
}

static void *alloc_small(size_t size)
{
	unsigned ci = class_of(size);
	struct heap_class *c = &heap.cls[ci];
	struct heap_span *s;
	unsigned i = 0;

	s = c->partial ? c->partial : slab_new(ci);
	if (s == NULL)
		return NULL;
	while (slot_used(s, i))
		i++;
	free_slot_verify(s, i, "kmalloc"); /* reported; the slot is re-initialised */
	slot_set(s, i, true);
	if (--s->nfree == 0)
		partial_remove(c, s);
	object_init(slot_addr(s, i), c->slot, size);
	heap.st.class_live[ci]++;
	return (void *)(slot_addr(s, i) + HEAP_HDR);
}

static void *alloc_large(size_t size)
{
	size_t npages = (size + HEAP_HDR + HEAP_TAIL + HEAP_PAGE_SIZE - 1) / HEAP_PAGE_SIZE;
	struct heap_span *s;
	void *mem;

	if (!index_reserve() || (s = desc_alloc()) == NULL)
		return NULL;
	mem = pages_get(npages);
	if (mem == NULL) {
		desc_free(s);
		return NULL;
	}
	s->base = (uintptr_t)mem;
	s->npages = npages;
	s->kind = SPAN_LARGE;
	s->large_size = size;
	index_insert(s);
	object_init(s->base, npages * HEAP_PAGE_SIZE, size);
	heap.st.large_objects++;
	return (void *)(s->base + HEAP_HDR);
}

static void *alloc_locked(size_t size)
{
	void *p;

	if (!heap.ready)
		return NULL;
	if (size > HEAP_MAX_ALLOC) {
		heap.st.failed_allocs++;
		return NULL;
	}
	if (size == 0)
		size = 1; /* a unique, freeable pointer, as C allows */
	p = size <= HEAP_SMALL_MAX ? alloc_small(size) : alloc_large(size);
	if (p == NULL) {
		heap.st.failed_allocs++;
		return NULL;
	}
	heap.st.allocs++;
	heap.st.live_objects++;
	/* Without headers the heap only knows the class size; count that. */
	if (!HEAP_DEBUG && size <= HEAP_SMALL_MAX)
		size = heap.cls[class_of(size)].size;
	heap.st.bytes_requested += size;
	return p;
}

/*
 * Find the live object p names: its span and slot (slot is unused for large
 * objects).  Returns 0 or the reported error; changes nothing.
 */
static int object_lookup(const void *p, const char *ctx, struct heap_span **sp, unsigned *slot)
{
	struct heap_span *s = span_of(p);
	uintptr_t a = (uintptr_t)p;

	if (s == NULL)
		return report(HEAP_E_NOT_HEAP, p,
		              "%s(%p): not a heap pointer (or a large object already freed)", ctx,
		              p);
	if (s->kind == SPAN_LARGE) {
		if (a != s->base + HEAP_HDR)
			return report(HEAP_E_MISALIGNED, p,
			              "%s(%p): points %zu bytes into a large object", ctx, p,
			              (size_t)(a - s->base - HEAP_HDR));
	} else {
		size_t slotsz = heap.cls[s->cls].slot;
		size_t off = a - s->base;
		unsigned i = (unsigned)(off / slotsz);
		if (off % slotsz != HEAP_HDR || i >= s->nslots)
			return report(HEAP_E_MISALIGNED, p,
			              "%s(%p): not the start of an object (%zu-byte class)", ctx, p,
			              (size_t)heap.cls[s->cls].size);
		if (!slot_used(s, i))
			return report(HEAP_E_DOUBLE_FREE, p,
			              "%s(%p): object already free (double free?)", ctx, p);
		*slot = i;
	}
	*sp = s;
	return 0;
}

static int free_locked(void *p)
{
	struct heap_span *s;
	unsigned i = 0;
	int err;

	if (!heap.ready)
		return HEAP_E_NOT_READY;
	if ((err = object_lookup(p, "kfree", &s, &i)) != 0)
		return err;
	/* A damaged object stays allocated: its memory is known bad. */
	if ((err = object_verify(s, (uintptr_t)p - HEAP_HDR, "kfree")) != 0)
		return err;

	heap.st.frees++;
	heap.st.live_objects--;
	heap.st.bytes_requested -= object_size(s, (uintptr_t)p - HEAP_HDR);
	if (s->kind == SPAN_LARGE) {
		heap.st.large_objects--;
		span_release(s);
		return 0;
	}
	struct heap_class *c = &heap.cls[s->cls];
	heap.st.class_live[s->cls]--;
	slot_set(s, i, false);
#if HEAP_DEBUG
	memset((void *)slot_addr(s, i), HEAP_POISON_FREE, c->slot);
#endif
	if (s->nfree++ == 0)
		partial_add(c, s);
	if (s->nfree == s->nslots && c->nslabs > 1) {
		partial_remove(c, s);
		c->nslabs--;
		heap.st.slabs--;
		span_release(s);
	}
	return 0;
}

/* ---- public interface ---- */

static void release_all(void)
{
	while (heap.nindex > 0)
		span_release(heap.index[heap.nindex - 1]);
	if (heap.index)
		pages_put(heap.index, heap.index_pages);
	while (heap.pool) {
		struct heap_pool_page *pg = heap.pool;
		heap.pool = pg->next;
		pages_put(pg, 1);
	}
}

int heap_fini(bool force)
{
	heap_lock();
	if (!heap.ready) {
		heap_unlock();
		return HEAP_E_NOT_READY;
	}
	if (heap.st.live_objects > 0 && !force) {
		heap_unlock();
		return HEAP_E_BUSY;
	}
	release_all();
	heap.ready = false;
	heap_unlock();
	return 0;
}

int heap_init(const struct heap_ops *ops)
{
	if (ops == NULL || ops->page_alloc == NULL || ops->page_free == NULL ||
	    (ops->lock == NULL) != (ops->unlock == NULL))
		return HEAP_E_INVAL;
	if (heap.ready) {
		int err = heap_fini(false);
		if (err)
			return err;
	}
	memset(&heap, 0, sizeof(heap));
	heap.ops = *ops;
	for (unsigned i = 0; i < HEAP_NCLASSES; i++) {
		struct heap_class *c = &heap.cls[i];
		c->size = HEAP_SMALL_MIN << i;
		c->slot = HEAP_HDR + c->size + HEAP_TAIL;
		/* Enough pages for SLAB_MIN_SLOTS slots, at most SLAB_MAX_SLOTS. */
		c->npages = (SLAB_MIN_SLOTS * c->slot + HEAP_PAGE_SIZE - 1) / HEAP_PAGE_SIZE;
		c->nslots = c->npages * HEAP_PAGE_SIZE / c->slot;
		if (c->nslots > SLAB_MAX_SLOTS)
			c->nslots = SLAB_MAX_SLOTS;
	}
	heap.ready = true;
	return 0;
}

void *kmalloc(size_t size)
{
	void *p;

	heap_lock();
	p = alloc_locked(size);
	heap_unlock();
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void *kcalloc(size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	return kzalloc(n * size);
}

int kfree(void *p)
{
	int err;

	if (p == NULL)
		return 0;
	heap_lock();
	err = free_locked(p);
	heap_unlock();
	return err;
}

void *krealloc(void *p, size_t size)
{
	struct heap_span *s;
	unsigned i = 0;
	size_t old;
	void *n = NULL;

	if (p == NULL)
		return kmalloc(size);
	if (size == 0) {
		kfree(p);
		return NULL;
	}
	heap_lock();
	if (!heap.ready || object_lookup(p, "krealloc", &s, &i) != 0 ||
	    object_verify(s, (uintptr_t)p - HEAP_HDR, "krealloc") != 0)
		goto out_unlock;
	old = object_size(s, (uintptr_t)p - HEAP_HDR);
	/* Always move: a fresh object keeps the red zones exact. */
	n = alloc_locked(size);
	if (n == NULL)
		goto out_unlock;
	memcpy(n, p, old < size ? old : size);
	free_locked(p);
out_unlock:
	heap_unlock();
	return n;
}

size_t heap_usable_size(const void *p)
{
	struct heap_span *s = NULL;
	size_t n = 0;
	uintptr_t a = (uintptr_t)p;

	heap_lock();
	/* A quiet lookup: asking about a pointer is not an error. */
	if (heap.ready && p != NULL && (s = span_of(p)) != NULL) {
		if (s->kind == SPAN_LARGE) {
			if (a == s->base + HEAP_HDR)
				n = object_size(s, s->base);
		} else {
			size_t off = a - s->base, slotsz = heap.cls[s->cls].slot;
			unsigned i = (unsigned)(off / slotsz);
			if (off % slotsz == HEAP_HDR && i < s->nslots && slot_used(s, i))
				n = object_size(s, a - HEAP_HDR);
		}
	}
	heap_unlock();
	return n;
}

static int check_slab(const struct heap_span *s, unsigned *nslabs_seen)
{
	int first = 0, err;
	unsigned used = 0;

	nslabs_seen[s->cls]++;
	for (unsigned i = 0; i < s->nslots; i++) {
		if (slot_used(s, i)) {
			used++;
			err = object_verify(s, slot_addr(s, i), "heap_check");
		} else {
			err = free_slot_verify(s, i, "heap_check");
		}
		if (err && !first)
			first = err;
	}
	if (used + s->nfree != s->nslots || s->on_partial != (s->nfree > 0)) {
		err = report(HEAP_E_CORRUPT, (void *)s->base,
		             "heap_check: slab %p bookkeeping inconsistent", (void *)s->base);
		if (!first)
			first = err;
	}
	return first;
}

int heap_check(void)
{
	unsigned nslabs_seen[HEAP_NCLASSES] = {0};
	int first = 0, err;

	heap_lock();
	if (!heap.ready) {
		heap_unlock();
		return HEAP_E_NOT_READY;
	}
	for (size_t k = 0; k < heap.nindex; k++) {
		const struct heap_span *s = heap.index[k];
		err = 0;
		if (k > 0 &&
		    heap.index[k - 1]->base + heap.index[k - 1]->npages * HEAP_PAGE_SIZE > s->base)
			err = report(HEAP_E_CORRUPT, (void *)s->base,
			             "heap_check: span index out of order at %p", (void *)s->base);
		else if (s->kind == SPAN_SLAB && s->cls < HEAP_NCLASSES)
			err = check_slab(s, nslabs_seen);
		else if (s->kind == SPAN_LARGE)
			err = object_verify(s, s->base, "heap_check");
		else
			err = report(HEAP_E_CORRUPT, (void *)s->base,
			             "heap_check: span %p has a bad descriptor", (void *)s->base);
		if (err && !first)
			first = err;
	}
	for (unsigned c = 0; c < HEAP_NCLASSES; c++) {
		if (nslabs_seen[c] != heap.cls[c].nslabs && !first)
			first = report(HEAP_E_CORRUPT, NULL,
			               "heap_check: class %u slab count wrong", heap.cls[c].size);
	}
	heap_unlock();
	return first;
}

void heap_get_stats(struct heap_stats *out)
{
	heap_lock();
	*out = heap.st;
	heap_unlock();
}

const char *heap_strerror(int code)
{
	switch (code) {
	case 0:
		return "no error";
	case HEAP_E_INVAL:
		return "invalid argument";
	case HEAP_E_NOMEM:
		return "page source exhausted";
	case HEAP_E_NOT_HEAP:
		return "not a heap pointer";
	case HEAP_E_MISALIGNED:
		return "pointer into the middle of an object";
	case HEAP_E_DOUBLE_FREE:
		return "object already free";
	case HEAP_E_OVERFLOW:
		return "buffer overflow (red zone overwritten)";
	case HEAP_E_UNDERFLOW:
		return "buffer underflow (header overwritten)";
	case HEAP_E_USE_AFTER_FREE:
		return "write after free";
	case HEAP_E_CORRUPT:
		return "heap bookkeeping corrupt";
	case HEAP_E_NOT_READY:
		return "heap not initialised";
	case HEAP_E_BUSY:
		return "heap still holds objects";
	default:
		return "unknown error";
	}
}
