/*
 * cap: capabilities, the kernel's storable and revocable handles.
 *
 * Spindle has three ways to name a kernel object (docs/capabilities.md):
 * references (verifier-typed pointers valid for one call), capabilities
 * (this file) and externalized references (kernel/extref.h, for user space).
 *
 * A capability is a 64-bit value (cap_t) that can be stored anywhere,
 * including an extension's own memory, and is checked in O(1):
 *
 *     63            32 31              8 7      0
 *     +---------------+-----------------+--------+
 *     |  generation   |      index      |  type  |
 *     +---------------+-----------------+--------+
 *
 * Owns: a table of slots {object, generation, type}.  Slots live in chunks
 * of CAP_CHUNK that never move once allocated, so the table grows without
 * relocating anything a concurrent checker may be reading.  Free slots are
 * kept on a LIFO free list.
 *
 * Invariants:
 *   - a slot's generations start at a random value in [1, 2^31] (drawn
 *     from a boot-time seed, cap.c), never 0, so the all-zero CAP_NULL
 *     never checks and values cannot be predicted from the boot order;
 *   - revoking a capability bumps its slot's generation: every copy of the
 *     old value fails its check from then on (-ESTALE) instead of reaching
 *     the object, which the owner may now free;
 *   - a slot whose generation would wrap is retired, never reused, so no
 *     old value can ever become valid again;
 *   - the type is in the handle and in the slot; a check names the type it
 *     expects, so a handle of one type never resolves as another (-ECAPTYPE).
 *
 * Callers: core services and trusted modules.  Extensions never hold these
 * values: each has its own table of handles (kernel/extref.h) that the
 * generated interface wrappers resolve to capabilities before the callee
 * checks them (docs/capabilities.md, "Capabilities held by extensions").
 *
 * Locking: cap_create and cap_revoke take the table's spinlock (in the
 * kernel; hosted builds are single-threaded).  cap_check reads one
 * slot and takes no lock: it proves that the handle was current when it was
 * checked; keeping the object alive for the duration of the use is the
 * object's own business (reference count or the dispatcher's epochs).
 *
 * Errors: -EINVAL (bad argument), -ENOMEM, -ENOSPC (table at its limit),
 * -EBADF (names no live slot), -ECAPTYPE (wrong type), -ESTALE (revoked).
 */
#ifndef SPINDLE_KERNEL_CAP_H
#define SPINDLE_KERNEL_CAP_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t cap_t;

#define CAP_NULL       ((cap_t)0)
#define CAP_CHUNK      256u /* slots per chunk */
#define CAP_INDEX_BITS 24u
#define CAP_MAX_SLOTS  (1u << CAP_INDEX_BITS)

/* Capability types.  0 is never a valid type. */
enum cap_type {
	CAP_TYPE_NONE = 0,
	CAP_TYPE_DOMAIN = 1,
	CAP_TYPE_BINDING = 2,
	CAP_TYPE_EVENT = 3,
	CAP_TYPE_FIRST_FREE = 16, /* services define their own types from here */
	CAP_TYPE_MAX = 255,
};

static inline uint8_t cap_type_of(cap_t c)
{
	return (uint8_t)(c & 0xff);
}

static inline uint32_t cap_index_of(cap_t c)
{
	return (uint32_t)(c >> 8) & (CAP_MAX_SLOTS - 1);
}

static inline uint32_t cap_gen_of(cap_t c)
{
	return (uint32_t)(c >> 32);
}

struct cap_table;

/* A table that may grow to max_slots (rounded up to whole chunks). */
struct cap_table *cap_table_create(uint32_t max_slots);
/* Frees the table (not the objects).  Every outstanding handle dies with it. */
void cap_table_destroy(struct cap_table *t);

/* Issue a new capability for obj (non-NULL) with the given type. */
int cap_create(struct cap_table *t, uint8_t type, void *obj, cap_t *out);
/* Check c against the expected type; on success *obj is the object. */
int cap_check(const struct cap_table *t, cap_t c, uint8_t type, void **obj);
/* Shorthand: the object, or NULL for any failure. */
void *cap_lookup(const struct cap_table *t, cap_t c, uint8_t type);
/* Revoke c (which must check): every copy fails from now on.  *obj (if
 * non-NULL) receives the object so the caller can release it. */
int cap_revoke(struct cap_table *t, cap_t c, uint8_t type, void **obj);
/* Live capabilities in the table. */
uint32_t cap_count(const struct cap_table *t);

/* The kernel's own table, created by cap_init(). */
extern struct cap_table *cap_kernel;
int cap_init(void);

#endif /* SPINDLE_KERNEL_CAP_H */
