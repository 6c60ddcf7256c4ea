/*
 * virtaddr.c: the range allocator of VirtAddr (see virtaddr.h).
 *
 * A space is a sorted array of range pointers.  Lookup is a binary search;
 * allocation is a validated insertion (fixed address) or a first-fit scan
 * of the gaps (any address); both shift the array tail, which is fine for
 * the tens of ranges an address space has.  Portable: the host unit test
 * links it with cap.c.
 */
#include "kernel/virtaddr.h"

#include "kernel/heap.h"
#include "kernel/interface.h"

#define VIRTADDR_MASK (VIRTADDR_PAGE_SIZE - 1)

int virtaddr_space_init(struct virtaddr_space *s, uintptr_t lo, uintptr_t hi, void *ctx)
{
	if (!s || (lo & VIRTADDR_MASK) || (hi & VIRTADDR_MASK) || lo >= hi)
		return -EINVAL;
	s->lo = lo;
	s->hi = hi;
	s->ctx = ctx;
	s->ranges = NULL;
	s->n = s->cap = 0;
	return 0;
}

void virtaddr_space_fini(struct virtaddr_space *s)
{
	for (uint32_t i = 0; i < s->n; i++) {
		cap_revoke(cap_kernel, s->ranges[i]->cap, VIRTADDR_CAP_TYPE, NULL);
		kfree(s->ranges[i]);
	}
	kfree(s->ranges);
	s->ranges = NULL;
	s->n = s->cap = 0;
}

/* Index of the first range whose end is above va. */
static uint32_t virtaddr_search(const struct virtaddr_space *s, uintptr_t va)
{
	uint32_t lo = 0, hi = s->n;

	while (lo < hi) {
		uint32_t mid = (lo + hi) / 2;

		if (s->ranges[mid]->end <= va)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct virtaddr_range *virtaddr_find(const struct virtaddr_space *s, uintptr_t va)
{
	uint32_t i = virtaddr_search(s, va);

	if (i < s->n && s->ranges[i]->start <= va)
		return s->ranges[i];
	return NULL;
}

/* Where [addr, addr+size) would go: its index, or -EEXIST if it overlaps. */
static int virtaddr_slot(const struct virtaddr_space *s, uintptr_t addr, size_t size, uint32_t *at)
{
	uint32_t i = virtaddr_search(s, addr);

	if (i < s->n && s->ranges[i]->start < addr + size)
		return -EEXIST;
	*at = i;
	return 0;
}

/* First fit: the lowest gap of at least size bytes. */
static int virtaddr_first_fit(const struct virtaddr_space *s, size_t size, uintptr_t *addr,
                              uint32_t *at)
{
	uintptr_t cur = s->lo;

	for (uint32_t i = 0; i <= s->n; i++) {
		uintptr_t next = i < s->n ? s->ranges[i]->start : s->hi;

		if (next >= cur && next - cur >= size) {
			*addr = cur;
			*at = i;
			return 0;
		}
		if (i < s->n)
			cur = s->ranges[i]->end;
	}
	return -ENOMEM;
}

int virtaddr_alloc(struct virtaddr_space *s, uintptr_t addr, size_t size, cap_t *out)
{
	struct virtaddr_range *r;
	uint32_t at;
	int err;

	if (!s || !out || !size || (size & VIRTADDR_MASK) || (addr & VIRTADDR_MASK))
		return -EINVAL;
	if (addr) {
		if (addr < s->lo || addr >= s->hi || size > s->hi - addr)
			return -ERANGE;
		if ((err = virtaddr_slot(s, addr, size, &at)) != 0)
			return err;
	} else {
		if (size > s->hi - s->lo)
			return -ERANGE;
		if ((err = virtaddr_first_fit(s, size, &addr, &at)) != 0)
			return err;
	}
	if (s->n == s->cap) {
		uint32_t ncap = s->cap ? s->cap * 2 : 8;
		struct virtaddr_range **nr = kmalloc(ncap * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		if (s->n)
			memcpy(nr, s->ranges, s->n * sizeof(*nr));
		kfree(s->ranges);
		s->ranges = nr;
		s->cap = ncap;
	}
	r = kzalloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->start = addr;
	r->end = addr + size;
	r->space = s;
	err = cap_create(cap_kernel, VIRTADDR_CAP_TYPE, r, &r->cap);
	if (err)
		goto err_free_range;

	for (uint32_t j = s->n; j > at; j--)
		s->ranges[j] = s->ranges[j - 1];
	s->ranges[at] = r;
	s->n++;
	*out = r->cap;
	return 0;

err_free_range:
	kfree(r);
	return err;
}

struct virtaddr_range *virtaddr_get(cap_t c, int *err)
{
	void *obj = NULL;
	int e = cap_check(cap_kernel, c, VIRTADDR_CAP_TYPE, &obj);

	if (err)
		*err = e;
	return e ? NULL : obj;
}

int virtaddr_free(cap_t c)
{
	int err;
	struct virtaddr_range *r = virtaddr_get(c, &err);
	struct virtaddr_space *s;
	uint32_t i;

	if (!r)
		return err;
	if (r->nmapped)
		return -EBUSY;
	s = r->space;
	i = virtaddr_search(s, r->start);
	cap_revoke(cap_kernel, c, VIRTADDR_CAP_TYPE, NULL);
	for (; i + 1 < s->n; i++)
		s->ranges[i] = s->ranges[i + 1];
	s->n--;
	kfree(r);
	return 0;
}

int virtaddr_info(cap_t c, uintptr_t *start, size_t *len, void **ctx)
{
	int err;
	struct virtaddr_range *r = virtaddr_get(c, &err);

	if (!r)
		return err;
	if (start)
		*start = r->start;
	if (len)
		*len = r->end - r->start;
	if (ctx)
		*ctx = r->space->ctx;
	return 0;
}
