/*
 * extref: externalized references, the handles user programs hold.
 *
 * A user program cannot be trusted with a kernel pointer or even with a raw
 * capability value from the kernel's table (it would learn table indices
 * shared by everyone).  So, as in SPIN, each process gets its own table that
 * maps small positive integers to capabilities in a kernel capability table;
 * kernel services that hand a reference to user space register it here and
 * pass out the integer.
 *
 * Representation of an externalized reference (a positive int32):
 *     bits 0..15  slot index + 1 (so 0 is never valid; EXTREF_NIL)
 *     bits 16..30 the slot's generation (stale integers fail after delete)
 *
 * Owns: the per-process slot array, its free list and a hash index from
 * capability to slot.
 *
 * Invariants:
 *   - no duplicates: externalizing the same capability twice returns the
 *     same integer (SPIN's default table did the same);
 *   - the integers say nothing about kernel addresses or the kernel's
 *     table: they are per-process slot numbers;
 *   - internalizing re-checks the capability in the kernel table, so a
 *     kernel-side revocation reaches user space at once (-ESTALE), and a
 *     deleted integer fails (-ESTALE) until its slot is reused with a new
 *     generation;
 *   - a bad integer from a buggy program harms only that program.
 *
 * The same tables are the capability spaces of extensions (one per loaded
 * extension, kernel/extension.c): the generated interface wrappers resolve
 * an extension's handles with extref_resolve and give it new capabilities
 * with extref_enter (docs/capabilities.md).  For them a dead entry (its
 * capability revoked by the kernel) is dropped when the table fills up
 * (extref_sweep), since nothing tells the extension to delete it.
 *
 * Callers: core services acting for the process (system-call paths), the
 * extension loader and the generated wrappers acting for an extension.
 *
 * Locking: one table per process; callers serialise on the process.  The
 * capability-space calls (extref_enter, _room, _sweep) take the table's own
 * spinlock instead, and extref_resolve takes none.
 *
 * Errors: -EINVAL, -ENOMEM, -ENOSPC, -EBADF (never issued), -ESTALE,
 * -ECAPTYPE and the capability check's codes.
 */
#ifndef SPINDLE_KERNEL_EXTREF_H
#define SPINDLE_KERNEL_EXTREF_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cap.h"
#include "kernel/interface.h"

#define EXTREF_NIL       0
#define EXTREF_MAX_SLOTS 65535u

/* The layout is here only so extref_resolve, which every capability-taking
 * call from an extension runs, can be inline; use the functions. */
struct extref_slot {
	cap_t cap;    /* CAP_NULL while free */
	uint16_t gen; /* 1..0x7fff */
	uint32_t next_free;
};

struct extref_table {
	const struct cap_table *caps;
	struct extref_slot *slots;
	uint32_t nslots;
	uint32_t free_head; /* slot index or UINT32_MAX */
	uint32_t live;
	uint32_t *hash;     /* slot index + 1, EMPTY or TOMB */
	uint32_t hash_size; /* power of two, >= 2 * nslots */
	uint32_t tombs;
	uint32_t lock; /* extref_enter / _room / _sweep (capability spaces) */
};

/* A table for one process whose entries name capabilities in caps. */
struct extref_table *extref_table_create(const struct cap_table *caps, uint32_t max_slots);
void extref_table_destroy(struct extref_table *t);

/* Register c (which must check with its own type); *out is its integer. */
int extref_externalize(struct extref_table *t, cap_t c, int32_t *out);
/* The object behind x, checked against the expected type. */
int extref_internalize(const struct extref_table *t, int32_t x, uint8_t type, void **obj);
/* The capability behind x (no kernel-table check). */
int extref_capability(const struct extref_table *t, int32_t x, cap_t *out);
/* Forget x; the integer is dead from now on. */
int extref_delete(struct extref_table *t, int32_t x);
/* Copy every entry into dst (which must be empty), keeping the integers:
 * what fork does for the child. */
int extref_copy(const struct extref_table *src, struct extref_table *dst);
uint32_t extref_count(const struct extref_table *t);

/* For capability spaces (64-bit handles, as extensions pass them).
 * extref_resolve: the capability behind handle x (no kernel-table check:
 * the callee checks it); -EBADF for a value that is no integer of this
 * table.  extref_enter: extref_externalize, dropping dead entries first if
 * the table is full.  extref_room: whether an extref_enter of a capability
 * not yet in the table would find a slot (sweeping if needed), so a caller
 * can refuse before it creates the capability.  extref_sweep: delete every
 * entry whose capability no longer checks; returns how many went. */
static inline int extref_resolve(const struct extref_table *t, uint64_t x, cap_t *out)
{
	uint32_t index = (uint32_t)(x & 0xffff) - 1, gen = (uint32_t)(x >> 16);
	const struct extref_slot *s;
	cap_t c;

	/* 0, a value beyond int32 (a raw capability, say), slot 0 or beyond. */
	if (x > (uint64_t)INT32_MAX || index >= t->nslots)
		return -EBADF;
	s = &t->slots[index];
	c = __atomic_load_n(&s->cap, __ATOMIC_RELAXED);
	if (s->gen != gen || c == CAP_NULL)
		return gen < s->gen ? -ESTALE : -EBADF;
	*out = c;
	return 0;
}
int extref_enter(struct extref_table *t, cap_t c, uint64_t *out);
bool extref_room(struct extref_table *t);
uint32_t extref_sweep(struct extref_table *t);

#endif /* SPINDLE_KERNEL_EXTREF_H */
