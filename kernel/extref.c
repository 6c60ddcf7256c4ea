/*
 * extref.c: per-process tables of externalized references (see extref.h).
 *
 * Slots are a fixed array with a LIFO free list; a capability-to-slot hash
 * (open addressing, linear probing, tombstones, rebuilt when tombstones pile
 * up) makes the no-duplicates rule O(1) on average.
 */
#include "kernel/extref.h"
#include "kernel/interface.h"

#define EXTREF_GEN_MASK   0x7fffu
#define EXTREF_HASH_EMPTY 0u
#define EXTREF_HASH_TOMB  UINT32_MAX

static uint32_t extref_hash_of(const struct extref_table *t, cap_t c)
{
	return (uint32_t)((c * 0x9e3779b97f4a7c15ull) >> 32) & (t->hash_size - 1);
}

static int32_t extref_make(uint32_t index, uint16_t gen)
{
	return (int32_t)(((uint32_t)gen << 16) | (index + 1));
}

struct extref_table *extref_table_create(const struct cap_table *caps, uint32_t max_slots)
{
	struct extref_table *t;

	if (!caps || max_slots == 0 || max_slots > EXTREF_MAX_SLOTS)
		return NULL;
	t = model_zalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->caps = caps;
	t->nslots = max_slots;
	t->hash_size = 16;
	while (t->hash_size < 2 * max_slots)
		t->hash_size <<= 1;
	t->slots = model_zalloc(sizeof(*t->slots) * max_slots);
	t->hash = model_zalloc(sizeof(*t->hash) * t->hash_size);
	if (!t->slots || !t->hash) {
		extref_table_destroy(t);
		return NULL;
	}
	for (uint32_t i = 0; i < max_slots; i++) {
		t->slots[i].gen = 1;
		t->slots[i].next_free = i + 1 < max_slots ? i + 1 : UINT32_MAX;
	}
	t->free_head = 0;
	return t;
}

void extref_table_destroy(struct extref_table *t)
{
	if (!t)
		return;
	model_free(t->slots);
	model_free(t->hash);
	model_free(t);
}

/* Position of c in the hash, or UINT32_MAX. */
static uint32_t extref_hash_find(const struct extref_table *t, cap_t c)
{
	uint32_t mask = t->hash_size - 1;
	for (uint32_t i = extref_hash_of(t, c), n = 0; n < t->hash_size; i = (i + 1) & mask, n++) {
		uint32_t h = t->hash[i];
		if (h == EXTREF_HASH_EMPTY)
			return UINT32_MAX;
		if (h != EXTREF_HASH_TOMB && t->slots[h - 1].cap == c)
			return i;
	}
	return UINT32_MAX;
}

static void extref_hash_insert(struct extref_table *t, cap_t c, uint32_t index)
{
	uint32_t mask = t->hash_size - 1;
	uint32_t i = extref_hash_of(t, c);
	while (t->hash[i] != EXTREF_HASH_EMPTY && t->hash[i] != EXTREF_HASH_TOMB)
		i = (i + 1) & mask;
	if (t->hash[i] == EXTREF_HASH_TOMB)
		t->tombs--;
	t->hash[i] = index + 1;
}

/* Drop the tombstones: re-insert every live slot. */
static void extref_hash_rebuild(struct extref_table *t)
{
	memset(t->hash, 0, sizeof(*t->hash) * t->hash_size);
	t->tombs = 0;
	for (uint32_t i = 0; i < t->nslots; i++)
		if (t->slots[i].cap != CAP_NULL)
			extref_hash_insert(t, t->slots[i].cap, i);
}

/* Slot index named by x, or UINT32_MAX with *err set. */
static uint32_t extref_decode(const struct extref_table *t, int32_t x, int *err)
{
	uint32_t v = (uint32_t)x, index = (v & 0xffff) - 1, gen = (v >> 16) & EXTREF_GEN_MASK;

	if (x <= 0 || (v & 0xffff) == 0 || index >= t->nslots) {
		*err = -EBADF;
		return UINT32_MAX;
	}
	if (t->slots[index].gen != gen || t->slots[index].cap == CAP_NULL) {
		/* Delete bumps the generation, so an older one was deleted; the
		 * current generation of a free slot was never handed out. */
		*err = gen < t->slots[index].gen ? -ESTALE : -EBADF;
		return UINT32_MAX;
	}
	return index;
}

int extref_externalize(struct extref_table *t, cap_t c, int32_t *out)
{
	uint32_t pos, index;
	int err;

	if (!t || !out || c == CAP_NULL)
		return -EINVAL;
	err = cap_check(t->caps, c, cap_type_of(c), NULL);
	if (err)
		return err;
	pos = extref_hash_find(t, c);
	if (pos != UINT32_MAX) {
		index = t->hash[pos] - 1;
		*out = extref_make(index, t->slots[index].gen);
		return 0;
	}
	if (t->free_head == UINT32_MAX)
		return -ENOSPC;
	index = t->free_head;
	t->free_head = t->slots[index].next_free;
	t->slots[index].cap = c;
	t->slots[index].next_free = UINT32_MAX;
	extref_hash_insert(t, c, index);
	t->live++;
	*out = extref_make(index, t->slots[index].gen);
	return 0;
}

int extref_capability(const struct extref_table *t, int32_t x, cap_t *out)
{
	uint32_t index;
	int err = 0;

	if (!t || !out)
		return -EINVAL;
	index = extref_decode(t, x, &err);
	if (index == UINT32_MAX)
		return err;
	*out = t->slots[index].cap;
	return 0;
}

int extref_internalize(const struct extref_table *t, int32_t x, uint8_t type, void **obj)
{
	cap_t c;
	int err = extref_capability(t, x, &c);
	if (err)
		return err;
	return cap_check(t->caps, c, type, obj);
}

int extref_delete(struct extref_table *t, int32_t x)
{
	uint32_t index, pos;
	int err = 0;

	if (!t)
		return -EINVAL;
	index = extref_decode(t, x, &err);
	if (index == UINT32_MAX)
		return err;
	pos = extref_hash_find(t, t->slots[index].cap);
	if (pos != UINT32_MAX) {
		t->hash[pos] = EXTREF_HASH_TOMB;
		t->tombs++;
	}
	t->slots[index].cap = CAP_NULL;
	t->slots[index].gen =
	    (uint16_t)(t->slots[index].gen == EXTREF_GEN_MASK ? 1 : t->slots[index].gen + 1);
	t->slots[index].next_free = t->free_head;
	t->free_head = index;
	t->live--;
	if (t->tombs > t->hash_size / 4)
		extref_hash_rebuild(t);
	return 0;
}

int extref_copy(const struct extref_table *src, struct extref_table *dst)
{
	if (!src || !dst || dst->live != 0 || dst->nslots < src->nslots || dst->caps != src->caps)
		return -EINVAL;
	dst->free_head = UINT32_MAX;
	/* Rebuild dst's free list from the top so low indices are reused first. */
	for (uint32_t i = dst->nslots; i-- > 0;) {
		const struct extref_slot *s = i < src->nslots ? &src->slots[i] : NULL;
		dst->slots[i].cap = s ? s->cap : CAP_NULL;
		dst->slots[i].gen = s ? s->gen : 1;
		dst->slots[i].next_free = UINT32_MAX;
		if (dst->slots[i].cap == CAP_NULL) {
			dst->slots[i].next_free = dst->free_head;
			dst->free_head = i;
		}
	}
	dst->live = src->live;
	extref_hash_rebuild(dst);
	return 0;
}

uint32_t extref_count(const struct extref_table *t)
{
	return t ? t->live : 0;
}

/* The capability-space calls serialise their changes on the table's own
 * lock (an extension's handlers may run on several CPUs at once); readers
 * (extref_resolve) take none: a slot's capability is one aligned word. */
static void extref_lock(struct extref_table *t)
{
	while (__atomic_exchange_n(&t->lock, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&t->lock, __ATOMIC_RELAXED))
			;
}

static void extref_unlock(struct extref_table *t)
{
	__atomic_store_n(&t->lock, 0, __ATOMIC_RELEASE);
}

static uint32_t extref_sweep_locked(struct extref_table *t)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < t->nslots; i++) {
		cap_t c = t->slots[i].cap;
		if (c == CAP_NULL || cap_check(t->caps, c, cap_type_of(c), NULL) == 0)
			continue;
		if (extref_delete(t, extref_make(i, t->slots[i].gen)) == 0)
			n++;
	}
	return n;
}

uint32_t extref_sweep(struct extref_table *t)
{
	uint32_t n;

	if (!t)
		return 0;
	extref_lock(t);
	n = extref_sweep_locked(t);
	extref_unlock(t);
	return n;
}

bool extref_room(struct extref_table *t)
{
	bool room;

	if (!t)
		return false;
	extref_lock(t);
	room = t->free_head != UINT32_MAX || extref_sweep_locked(t) > 0;
	extref_unlock(t);
	return room;
}

int extref_enter(struct extref_table *t, cap_t c, uint64_t *out)
{
	int32_t x = 0;
	int err;

	if (!t || !out)
		return -EINVAL;
	extref_lock(t);
	err = extref_externalize(t, c, &x);
	if (err == -ENOSPC && extref_sweep_locked(t) > 0)
		err = extref_externalize(t, c, &x);
	extref_unlock(t);
	if (err)
		return err;
	*out = (uint64_t)x;
	return 0;
}
