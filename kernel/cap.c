/*
 * cap.c: the capability table (see cap.h for the representation and rules).
 *
 * A check is three loads and three compares: the chunk pointer, then the
 * slot's generation and type against the handle's.  Chunks are allocated on
 * demand and never freed or moved before the table is destroyed, which is
 * what lets checkers run without a lock while the table grows.
 *
 * Generations.  A slot's first generation is drawn from a generator seeded
 * once (cap_seed: the time-stamp counter mixed with RDRAND where the CPU has
 * it) and lies in [1, 2^31], so a guessed value names a live capability
 * with probability about 2^-31 even when its index and type are known, and
 * every slot still has at least 2^31 reuses before it retires.  The slot
 * remembers its first generation (gen0): a handle whose generation lies in
 * [gen0, gen) was issued and revoked (-ESTALE); any other was never issued
 * (-EBADF).  This is a last line of defence: extensions never see these
 * values at all (they hold per-extension handles, kernel/extref.h).
 */
#include "kernel/cap.h"
#include "kernel/interface.h"
#ifdef SPINDLE_KERNEL
#include "kernel/sync.h"
/* The table's lock: creates and revokes on several CPUs at once (every
 * PhysAddr page of every process is a capability in cap_kernel).  A leaf
 * but for the heap (a new chunk), so it ranks just under it. */
#define CAP_LOCK(t)      spin_lock_irqsave(&(t)->lock)
#define CAP_UNLOCK(t, f) spin_unlock_irqrestore(&(t)->lock, f)
#define CAP_RANK_LOCK    (SYNC_RANK_HEAP - 1)
#else
/* Hosted (unit tests, tools): one thread. */
#define CAP_LOCK(t)      ((void)(t), 0ul)
#define CAP_UNLOCK(t, f) ((void)(t), (void)(f))
#endif

#define CAP_NO_FREE  UINT32_MAX
#define CAP_GEN_LAST UINT32_MAX

struct cap_slot {
	void *obj;          /* NULL while free */
	uint32_t gen;       /* current generation, >= 1 (0 once retired) */
	uint32_t gen0;      /* its first generation, in [1, 2^31] */
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
#ifdef SPINDLE_KERNEL
	struct spinlock lock; /* free list, growth, live, a slot's change of state */
#endif
};

struct cap_table *cap_kernel;
static uint64_t cap_rng; /* splitmix64 state; 0 until the first draw seeds it */

/* A 64-bit value the boot cannot predict: the time-stamp counter, mixed
 * with RDRAND when CPUID says the CPU has it (retried a few times, as Intel
 * recommends).  Hosted builds run the same code on the build machine. */
static uint64_t cap_seed(void)
{
	uint32_t lo, hi, a = 1, b, c, d;
	uint64_t seed, r = 0;
	unsigned char ok = 0;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	seed = ((uint64_t)hi << 32) | lo;
	__asm__ volatile("cpuid" : "+a"(a), "=b"(b), "=c"(c), "=d"(d));
	if (c & (1u << 30))
		for (int i = 0; i < 10 && !ok; i++)
			__asm__ volatile("rdrand %0; setc %1" : "=r"(r), "=qm"(ok));
	return seed ^ (r * 0x9e3779b97f4a7c15ull) ^ (uint64_t)(uintptr_t)&cap_rng;
}

/* The next first generation: uniform enough in [1, 2^31]. */
static uint32_t cap_first_gen(void)
{
	uint64_t z;

	if (cap_rng == 0)
		cap_rng = cap_seed() | 1;
	z = (cap_rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (uint32_t)(z & 0x7fffffffu) + 1;
}

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
#ifdef SPINDLE_KERNEL
	spin_init(&t->lock, "capabilities", CAP_RANK_LOCK);
#endif
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
		chunk[i].gen = chunk[i].gen0 = cap_first_gen();
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

	unsigned long f;

	if (!t || !obj || !out || type == CAP_TYPE_NONE)
		return -EINVAL;
	f = CAP_LOCK(t);
	if (t->free_head == CAP_NO_FREE) {
		err = cap_grow(t);
		if (err) {
			CAP_UNLOCK(t, f);
			return err;
		}
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
	CAP_UNLOCK(t, f);
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
		return (s->retired || (cap_gen_of(c) >= s->gen0 && cap_gen_of(c) < s->gen))
		           ? -ESTALE
		           : -EBADF;
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
	unsigned long f;
	void *o;
	int err;

	if (!t)
		return -EINVAL;
	f = CAP_LOCK(t); /* checked under the lock: of two revokes one wins */
	err = cap_check(t, c, type, &o);
	if (err) {
		CAP_UNLOCK(t, f);
		return err;
	}
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
	CAP_UNLOCK(t, f);
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
