/*
 * heap: the kernel heap (kmalloc, kzalloc, kcalloc, krealloc, kfree).
 *
 * Owns: every page it obtained from its page source, and the bookkeeping for
 * them.  Requests up to HEAP_SMALL_MAX bytes come from size classes (16, 32,
 * ..., 2048 bytes) carved out of slabs of whole pages; larger ones get their
 * own run of pages.  The page source is a pair of callbacks so the same code
 * runs in the kernel (pmm + direct map) and in host tests (aligned_alloc).
 *
 * All bookkeeping (span table, slot bitmaps, class lists) lives out of band,
 * in pages the heap keeps for itself, never next to the objects.  A buffer
 * overrun can therefore damage other objects but never the allocator, and
 * kfree() can always decide from its own records whether a pointer is a live
 * object: a pointer that is not in any heap span, points into the middle of a
 * slot, or names a slot that is already free is refused with an error code
 * and reported, and nothing changes.
 *
 * HEAP_DEBUG (on unless the build defines HEAP_DEBUG=0): every object gets a
 * 16-byte header (its size and a front canary) and at least 16 bytes of tail
 * red zone; kfree() and heap_check() verify both.  New objects are filled
 * with HEAP_POISON_ALLOC, freed ones with HEAP_POISON_FREE, and allocation
 * checks that a free slot's poison is intact (a write after free).  An object
 * whose red zones are damaged is reported and deliberately not freed: it
 * stays allocated (a leak) rather than recycling memory that is known bad.
 *
 * Alignment: every pointer returned is HEAP_ALIGN (16) byte aligned.
 *
 * Callers: core and trusted modules.  Extensions never call the heap.
 *
 * Locking: every entry point takes ops->lock / ops->unlock if set (the kernel
 * installs a spinlock when it gets SMP; single CPU until then).  page_alloc,
 * page_free and report are called with that lock held, so they must not
 * call back into the heap.
 *
 * Errors: kmalloc and friends return NULL on failure.  kfree(), heap_init(),
 * heap_check() and heap_fini() return 0 or a negative HEAP_E_* code; every
 * misuse and corruption detected is also passed to ops->report with a
 * one-line description.  heap_strerror() names a code.
 */
#ifndef SPINDLE_KERNEL_HEAP_H
#define SPINDLE_KERNEL_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef HEAP_DEBUG
#define HEAP_DEBUG 1
#endif

#define HEAP_PAGE_SIZE 4096u
#define HEAP_ALIGN     16u
#define HEAP_SMALL_MIN 16u
#define HEAP_SMALL_MAX 2048u
#define HEAP_NCLASSES  8                 /* 16, 32, 64, 128, 256, 512, 1024, 2048 */
#define HEAP_MAX_ALLOC ((size_t)1 << 40) /* larger requests fail at once */

#define HEAP_POISON_ALLOC 0xcd /* fresh object: "uninitialised" */
#define HEAP_POISON_FREE  0x6b /* freed object */
#define HEAP_REDZONE      0xa5 /* header canary and tail red zone */

enum heap_error {
	HEAP_E_INVAL = -1,          /* bad argument to heap_init (missing callback) */
	HEAP_E_NOMEM = -2,          /* the page source failed */
	HEAP_E_NOT_HEAP = -3,       /* kfree of a pointer the heap never returned */
	HEAP_E_MISALIGNED = -4,     /* kfree of a pointer inside an object */
	HEAP_E_DOUBLE_FREE = -5,    /* kfree of an object already free */
	HEAP_E_OVERFLOW = -6,       /* tail red zone overwritten */
	HEAP_E_UNDERFLOW = -7,      /* header / front canary overwritten */
	HEAP_E_USE_AFTER_FREE = -8, /* a free object's poison was overwritten */
	HEAP_E_CORRUPT = -9,        /* heap_check: bookkeeping inconsistent */
	HEAP_E_NOT_READY = -10,     /* heap_init has not succeeded */
	HEAP_E_BUSY = -11,          /* heap_init while the heap holds objects */
};

/*
 * The page source and hooks.  page_alloc returns npages of page-aligned,
 * writable memory (contents undefined) or NULL; page_free gives back exactly
 * what one page_alloc returned.  report (optional) hears about every error
 * the heap detects: code, the pointer concerned, and a readable line.
 * lock/unlock are optional.  The structure is copied by heap_init.
 */
struct heap_ops {
	void *(*page_alloc)(size_t npages, void *arg);
	void (*page_free)(void *virt, size_t npages, void *arg);
	void (*report)(int code, const void *ptr, const char *msg, void *arg);
	void (*lock)(void *arg);
	void (*unlock)(void *arg);
	void *arg;
};

struct heap_stats {
	uint64_t bytes_requested; /* live objects' sizes (class sizes without HEAP_DEBUG) */
	uint64_t live_objects;
	uint64_t pages_held; /* pages from the page source, bookkeeping included */
	uint64_t slabs;
	uint64_t large_objects;
	uint64_t allocs, frees, failed_allocs;
	uint64_t errors_detected; /* every report, kfree refusals included */
	uint64_t class_live[HEAP_NCLASSES];
};

/* Install the page source.  HEAP_E_BUSY if the heap still holds objects. */
int heap_init(const struct heap_ops *ops);

/* Return every page to the page source; HEAP_E_BUSY (nothing done) if live objects remain, unless
 * force. */
int heap_fini(bool force);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void *kcalloc(size_t n, size_t size); /* NULL if n * size overflows */
/*
 * krealloc(NULL, n) is kmalloc(n); krealloc(p, 0) frees p and returns NULL.
 * On failure (including an invalid p, which is reported) returns NULL and p
 * is untouched.
 */
void *krealloc(void *p, size_t size);
int kfree(void *p); /* kfree(NULL) is 0 */

/* Bytes usable at p (its requested size under HEAP_DEBUG, else the slot's); 0 if p is not live. */
size_t heap_usable_size(const void *p);

/*
 * Walk every span, slab, slot and red zone and validate them: reports each
 * problem and returns 0 or the first problem's code.
 */
int heap_check(void);

void heap_get_stats(struct heap_stats *out);

const char *heap_strerror(int code);

#endif /* SPINDLE_KERNEL_HEAP_H */
