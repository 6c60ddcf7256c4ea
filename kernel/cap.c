/*
 * cap.c: the capability table (see cap.h for the representation and rules).
 *
 * A check is three loads and three compares: the chunk pointer, then the
 * slot's generation and type against the handle's.  Chunks are allocated on
 * demand and never freed or moved before the table is destroyed, which is
 * what lets checkers run without a lock while the table grows.
 */
#include "kernel/cap.h"
#include "kernel/interface.h"

#define CAP_NO_FREE  UINT32_MAX
#define CAP_GEN_LAST UINT32_MAX

struct cap_slot {
	void *obj;          /* NULL while free */
	uint32_t gen;       /* current generation, >= 1 */
	uint8_t type;       /* CAP_TYPE_NONE while free */
	bool retired;       /* generation exhausted: never reused */
	uint32_t next_free; /* free-list link while free */
};

struct cap_table {
	struct cap_slot **chunks; /* nchunks_max pointers, filled on demand */
	uint32_t nchunks;         /* chunks allocated */
	uint32_t nchunks_max;
	uint32_t free_head; /* index of the first free slot or CAP_NO_FREE */
	uint32_t live;
};

struct cap_table *cap_kernel;

static cap_t cap_make(uint32_t gen, uint32_t index, uint8_t type)
{
	return ((cap_t)gen << 32) | ((cap_t)index << 8) | type;
}

static struct cap_slot *cap_slot(const struct cap_table *t, uint32_t index)
{
	uint32_t chunk = index / CAP_CHUNK;
	if (chunk >= t->nchunks)
		return NULL;
	return &t->chunks[chunk][index % CAP_CHUNK];
}

struct cap_table *cap_table_create(uint32_t max_slots)
{
	struct cap_table *t;

	if (max_slots == 0 || max_slots > CAP_MAX_SLOTS)
		return NULL;
	t = model_zalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->nchunks_max = (max_slots + CAP_CHUNK - 1) / CAP_CHUNK;
	t->chunks = model_zalloc(sizeof(*t->chunks) * t->nchunks_max);
	if (!t->chunks) {
		model_free(t);
		return NULL;
	}
	t->free_head = CAP_NO_FREE;
	return t;
}

void cap_table_destroy(struct cap_table *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->nchunks; i++)
		model_free(t->chunks[i]);
	model_free(t->chunks);
	model_free(t);
}

/* Add one chunk and thread its slots onto the free list (lowest index first). */
static int cap_grow(struct cap_table *t)
{
	struct cap_slot *chunk;
	uint32_t base;

	if (t->nchunks == t->nchunks_max)
		return -ENOSPC;
	chunk = model_zalloc(sizeof(*chunk) * CAP_CHUNK);
	if (!chunk)
		return -ENOMEM;
	base = t->nchunks * CAP_CHUNK;
	for (uint32_t i = 0; i < CAP_CHUNK; i++) {
		chunk[i].gen = 1;
		chunk[i].next_free = (i + 1 < CAP_CHUNK) ? base + i + 1 : t->free_head;
	}
	/* Publish the chunk before any handle into it can exist. */
	__atomic_store_n(&t->chunks[t->nchunks], chunk, __ATOMIC_RELEASE);
	t->nchunks++;
	t->free_head = base;
	return 0;
}

int cap_create(struct cap_table *t, uint8_t type, void *obj, cap_t *out)
{
	struct cap_slot *s;
	uint32_t index;
	int err;

	if (!t || !obj || !out || type == CAP_TYPE_NONE)
		return -EINVAL;
	if (t->free_head == CAP_NO_FREE) {
		err = cap_grow(t);
		if (err)
			return err;
	}
	index = t->free_head;
	s = cap_slot(t, index);
	t->free_head = s->next_free;
	s->obj = obj;
	s->next_free = CAP_NO_FREE;
	/* Type last, with release order: a racing checker that sees the type
	 * also sees the object. */
	__atomic_store_n(&s->type, type, __ATOMIC_RELEASE);
	t->live++;
	*out = cap_make(s->gen, index, type);
	return 0;
}

int cap_check(const struct cap_table *t, cap_t c, uint8_t type, void **obj)
{
	const struct cap_slot *s;

	if (!t || type == CAP_TYPE_NONE)
		return -EINVAL;
	if (cap_type_of(c) != type)
		return c == CAP_NULL ? -EBADF : -ECAPTYPE;
	s = cap_slot(t, cap_index_of(c));
	if (!s)
		return -EBADF;
	if (__atomic_load_n(&s->gen, __ATOMIC_ACQUIRE) != cap_gen_of(c))
		return (s->retired || cap_gen_of(c) < s->gen) ? -ESTALE : -EBADF;
	if (s->type != type)
		return -EBADF; /* a free slot: the handle was never issued */
	if (obj)
		*obj = s->obj;
	return 0;
}

void *cap_lookup(const struct cap_table *t, cap_t c, uint8_t type)
{
	void *obj = NULL;
	if (cap_check(t, c, type, &obj) != 0)
		return NULL;
	return obj;
}

int cap_revoke(struct cap_table *t, cap_t c, uint8_t type, void **obj)
{
	struct cap_slot *s;
	void *o;
	int err;

	err = cap_check(t, c, type, &o);
	if (err)
		return err;
	s = cap_slot(t, cap_index_of(c));
	/* From this store on, every copy of c fails its generation check. */
	if (s->gen == CAP_GEN_LAST) {
		s->retired = true;
		__atomic_store_n(&s->gen, 0, __ATOMIC_RELEASE);
	} else {
		__atomic_store_n(&s->gen, s->gen + 1, __ATOMIC_RELEASE);
	}
	s->type = CAP_TYPE_NONE;
	s->obj = NULL;
	if (!s->retired) {
		s->next_free = t->free_head;
		t->free_head = cap_index_of(c);
	}
	t->live--;
	if (obj)
		*obj = o;
	return 0;
}

uint32_t cap_count(const struct cap_table *t)
{
	return t ? t->live : 0;
}

#ifndef SPINDLE_KERNEL
/* Host tests only: age a free slot so the wrap rule can be exercised. */
void cap_test_set_generation(struct cap_table *t, uint32_t index, uint32_t gen);
void cap_test_set_generation(struct cap_table *t, uint32_t index, uint32_t gen)
{
	struct cap_slot *s = cap_slot(t, index);
	if (s)
		s->gen = gen;
}
#endif

int cap_init(void)
{
	if (cap_kernel)
		return -EEXIST;
	cap_kernel = cap_table_create(CAP_MAX_SLOTS);
	return cap_kernel ? 0 : -ENOMEM;
}
