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
 * Callers: core services acting for the process (system-call paths).
 *
 * Locking: one table per process; callers serialise on the process.
 *
 * Errors: -EINVAL, -ENOMEM, -ENOSPC, -EBADF (never issued), -ESTALE,
 * -ECAPTYPE and the capability check's codes.
 */
#ifndef SPINDLE_KERNEL_EXTREF_H
#define SPINDLE_KERNEL_EXTREF_H

#include <stdint.h>

#include "kernel/cap.h"

#define EXTREF_NIL       0
#define EXTREF_MAX_SLOTS 65535u

struct extref_table;

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

#endif /* SPINDLE_KERNEL_EXTREF_H */
