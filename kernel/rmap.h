/*
 * rmap: Translation's reverse map (which (context, va) map a physical page).
 *
 * Owns nothing but the links: each mapping a context holds is one
 * struct rmap_node, on two lists at once:
 *   - its physical object's list (struct rmap_list, kept in the PhysAddr
 *     object): every (context, va) mapping a page of that object, so a
 *     reclaimed or freed page can have all its mappings invalidated;
 *   - its context's hash table (struct rmap_table, keyed by va), so
 *     Translation finds the mapping at an address in O(1) (examine, remove,
 *     copy-on-write).
 * Both are doubly linked through pprev pointers: insert and remove are O(1).
 *
 * Invariants: a node is on both lists or on neither; list->count and
 * table->count equal the number of nodes on them; a table never holds two
 * nodes with the same va.
 *
 * Who calls it: kernel/translation.c and kernel/physaddr.c (core only).
 * Locking: the caller's (Translation's rule: one CPU, interrupts off in the
 * fault path, the context's owner serialising otherwise).  An object shared
 * copy-on-write is on the tables of several contexts whose owners may run
 * at once: Translation changes such lists only under its share lock.
 * Errors: none; nodes are allocated by the caller (validate, then act).
 */
#ifndef SPINDLE_KERNEL_RMAP_H
#define SPINDLE_KERNEL_RMAP_H

#include <stddef.h>
#include <stdint.h>

#define RMAP_BUCKETS 256u /* per context; a power of two */

struct rmap_node {
	struct rmap_node *obj_next, **obj_pprev;   /* on the physical object's list */
	struct rmap_node *hash_next, **hash_pprev; /* in the context's table */
	void *ctx;                                 /* the context (struct translation_ctx) */
	void *obj;                                 /* the physical object (struct physaddr) */
	void *range;                               /* the VirtAddr range covering va */
	uintptr_t va;                              /* page aligned */
	uint32_t page;                             /* page index inside obj */
};

struct rmap_list {
	struct rmap_node *head;
	uint32_t count;
};

struct rmap_table {
	struct rmap_node *bucket[RMAP_BUCKETS];
	uint32_t count;
};

void rmap_table_init(struct rmap_table *t);
void rmap_list_init(struct rmap_list *l);
/* The node mapping va in t, or NULL. */
struct rmap_node *rmap_lookup(const struct rmap_table *t, uintptr_t va);
/* Link n (fields filled by the caller) into t and l. */
void rmap_insert(struct rmap_table *t, struct rmap_list *l, struct rmap_node *n);
/* Unlink n from both. */
void rmap_remove(struct rmap_table *t, struct rmap_list *l, struct rmap_node *n);
/* Move n from its object's list `from` to `to` (its table is unchanged):
 * a copy-on-write break gives the mapping a page of its own. */
void rmap_move(struct rmap_list *from, struct rmap_list *to, struct rmap_node *n);
/* Any node of t (to empty a table), or NULL. */
struct rmap_node *rmap_table_any(const struct rmap_table *t);

#endif
