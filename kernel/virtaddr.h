/*
 * virtaddr: SPIN's VirtAddr service - virtual ranges in an address space.
 *
 * Owns: the ranges allocated in each address-space context's space (struct
 * virtaddr_space, one per Translation context) and their capabilities (type
 * VIRTADDR_CAP_TYPE in cap_kernel).  A capability names (address, length,
 * context), which makes it unique, as in the paper.  A space covers
 * [lo, hi); ranges are page aligned, never overlap, and are kept sorted by
 * address in an array, so the page-fault path finds the range covering an
 * address by binary search.
 *
 * Invariants: ranges of a space are sorted, disjoint, inside [lo, hi) and
 * page aligned; each live range's capability checks and names it; nmapped
 * counts the pages Translation has mapped in it (a range with mappings is
 * never freed: -EBUSY).
 *
 * Who calls it: core and trusted modules (Translation, policies); the
 * extension interface is interfaces/virtaddr.idl.
 * Locking: single CPU; the context's owner serialises.
 * Errors: 0 or -EINVAL (size 0, unaligned address or size), -ERANGE (not
 * inside the space), -EEXIST (overlaps an allocated range), -ENOMEM (no
 * room or no memory), -EBADF / -ESTALE / -ECAPTYPE (bad capability),
 * -EBUSY (still has mappings).
 */
#ifndef SPINDLE_KERNEL_VIRTADDR_H
#define SPINDLE_KERNEL_VIRTADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cap.h"

#define VIRTADDR_PAGE_SIZE 4096ul
#ifndef VIRTADDR_CAP_TYPE
#define VIRTADDR_CAP_TYPE 65u
#endif

struct virtaddr_space;

struct virtaddr_range {
	uintptr_t start, end; /* [start, end), page aligned */
	cap_t cap;
	struct virtaddr_space *space;
	uint64_t nmapped; /* pages mapped by Translation */
};

struct virtaddr_space {
	uintptr_t lo, hi;
	void *ctx;                      /* the owning context */
	struct virtaddr_range **ranges; /* sorted by start */
	uint32_t n, cap;
};

/* Initialise an empty space [lo, hi) (page aligned) for context ctx. */
int virtaddr_space_init(struct virtaddr_space *s, uintptr_t lo, uintptr_t hi, void *ctx);
/* Free every range (their capabilities go stale) and the array. */
void virtaddr_space_fini(struct virtaddr_space *s);

/* Allocate size bytes at addr, or anywhere (first fit) when addr is 0. */
int virtaddr_alloc(struct virtaddr_space *s, uintptr_t addr, size_t size, cap_t *out);
int virtaddr_free(cap_t c);
/* The range c names; NULL and *err otherwise. */
struct virtaddr_range *virtaddr_get(cap_t c, int *err);
/* The range covering va, or NULL (the fault path: O(log n)). */
struct virtaddr_range *virtaddr_find(const struct virtaddr_space *s, uintptr_t va);
int virtaddr_info(cap_t c, uintptr_t *start, size_t *len, void **ctx);

#endif
