/*
 * rmap.c: the reverse map's two doubly linked lists (see rmap.h).
 *
 * The context table hashes the virtual page number with a multiplicative
 * hash; a node carries pprev pointers for both lists so removal never
 * searches.  Nothing here allocates: Translation allocates the node before
 * it validates and links it afterwards, which cannot fail.
 */
#include "kernel/rmap.h"

static unsigned rmap_hash(uintptr_t va)
{
	uint64_t vpn = (uint64_t)va >> 12;

	return (unsigned)((vpn * 0x9e3779b97f4a7c15ull) >> 56) & (RMAP_BUCKETS - 1);
}

void rmap_table_init(struct rmap_table *t)
{
	for (unsigned i = 0; i < RMAP_BUCKETS; i++)
		t->bucket[i] = NULL;
	t->count = 0;
}

void rmap_list_init(struct rmap_list *l)
{
	l->head = NULL;
	l->count = 0;
}

struct rmap_node *rmap_lookup(const struct rmap_table *t, uintptr_t va)
{
	struct rmap_node *n = t->bucket[rmap_hash(va)];

	while (n && n->va != va)
		n = n->hash_next;
	return n;
}

void rmap_insert(struct rmap_table *t, struct rmap_list *l, struct rmap_node *n)
{
	struct rmap_node **b = &t->bucket[rmap_hash(n->va)];

	n->hash_next = *b;
	n->hash_pprev = b;
	if (*b)
		(*b)->hash_pprev = &n->hash_next;
	*b = n;
	t->count++;

	n->obj_next = l->head;
	n->obj_pprev = &l->head;
	if (l->head)
		l->head->obj_pprev = &n->obj_next;
	l->head = n;
	l->count++;
}

void rmap_remove(struct rmap_table *t, struct rmap_list *l, struct rmap_node *n)
{
	*n->hash_pprev = n->hash_next;
	if (n->hash_next)
		n->hash_next->hash_pprev = n->hash_pprev;
	t->count--;

	*n->obj_pprev = n->obj_next;
	if (n->obj_next)
		n->obj_next->obj_pprev = n->obj_pprev;
	l->count--;
	n->hash_next = n->obj_next = NULL;
	n->hash_pprev = n->obj_pprev = NULL;
}

void rmap_move(struct rmap_list *from, struct rmap_list *to, struct rmap_node *n)
{
	*n->obj_pprev = n->obj_next;
	if (n->obj_next)
		n->obj_next->obj_pprev = n->obj_pprev;
	from->count--;

	n->obj_next = to->head;
	n->obj_pprev = &to->head;
	if (to->head)
		to->head->obj_pprev = &n->obj_next;
	to->head = n;
	to->count++;
}

struct rmap_node *rmap_table_any(const struct rmap_table *t)
{
	if (!t->count)
		return NULL;
	for (unsigned i = 0; i < RMAP_BUCKETS; i++)
		if (t->bucket[i])
			return t->bucket[i];
	return NULL;
}
