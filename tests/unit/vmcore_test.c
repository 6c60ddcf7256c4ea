/*
 * vmcore_test.c: the portable parts of the memory services on the host -
 * VirtAddr's range allocator, Translation's reverse map and PhysAddr
 * (attributes, capabilities, Reclaim with nomination) over a pmm that
 * manages made-up physical memory.  Built with ASan/UBSan (mk/vm.mk).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cap.h"
#include "kernel/interface.h"
#include "kernel/memmap.h"
#include "kernel/physaddr.h"
#include "kernel/pmm.h"
#include "kernel/rmap.h"
#include "kernel/virtaddr.h"
#include "tests/unit/check.h"

#define PG 4096ul

/* ---- VirtAddr ---- */

static void virtaddr_fixed_overlap_unaligned_range(void)
{
	struct virtaddr_space s;
	cap_t a, b, c;

	CHECK_EQ(virtaddr_space_init(&s, PG, 64 * PG, NULL), 0);
	CHECK_EQ(virtaddr_space_init(&s, 1, 64 * PG, NULL), -EINVAL);
	CHECK_EQ(virtaddr_space_init(&s, PG, 64 * PG, &s), 0);
	CHECK_EQ(virtaddr_alloc(&s, 8 * PG, 4 * PG, &a), 0);
	CHECK_EQ(virtaddr_alloc(&s, 11 * PG, PG, &b), -EEXIST);
	CHECK_EQ(virtaddr_alloc(&s, 7 * PG, 2 * PG, &b), -EEXIST);
	CHECK_EQ(virtaddr_alloc(&s, 4 * PG, 16 * PG, &b), -EEXIST); /* covers a */
	CHECK_EQ(virtaddr_alloc(&s, 12 * PG, PG, &b), 0);           /* adjacent */
	CHECK_EQ(virtaddr_alloc(&s, 13 * PG + 1, PG, &c), -EINVAL);
	CHECK_EQ(virtaddr_alloc(&s, 13 * PG, PG + 1, &c), -EINVAL);
	CHECK_EQ(virtaddr_alloc(&s, 64 * PG, PG, &c), -ERANGE);
	CHECK_EQ(virtaddr_alloc(&s, 63 * PG, 2 * PG, &c), -ERANGE);
	CHECK_EQ(virtaddr_alloc(&s, 0, 100 * PG, &c), -ERANGE);
	CHECK_EQ(virtaddr_alloc(&s, 0, 60 * PG, &c), -ENOMEM); /* no gap that big */
	CHECK(virtaddr_find(&s, 8 * PG) == virtaddr_get(a, NULL));
	CHECK(virtaddr_find(&s, 12 * PG - 1) == virtaddr_get(a, NULL));
	CHECK(virtaddr_find(&s, 12 * PG) == virtaddr_get(b, NULL));
	CHECK(virtaddr_find(&s, 13 * PG) == NULL);
	CHECK(virtaddr_find(&s, 0) == NULL);
	virtaddr_get(a, NULL)->nmapped = 1;
	CHECK_EQ(virtaddr_free(a), -EBUSY);
	virtaddr_get(a, NULL)->nmapped = 0;
	CHECK_EQ(virtaddr_free(a), 0);
	CHECK_EQ(virtaddr_free(a), -ESTALE);
	CHECK(virtaddr_find(&s, 8 * PG) == NULL);
	virtaddr_space_fini(&s);
	CHECK_EQ(virtaddr_free(b), -ESTALE);
}

/* Random allocations against a page bitmap model: never overlapping, every
 * lookup agrees with the model, first fit is the lowest gap. */
static void virtaddr_random_against_model(void)
{
	enum { NP = 256 };
	struct virtaddr_space s;
	cap_t caps[NP];
	int owner[NP];
	int ncaps = 0;

	srand(7);
	CHECK_EQ(virtaddr_space_init(&s, 0x100000, 0x100000 + NP * PG, NULL), 0);
	for (int i = 0; i < NP; i++)
		owner[i] = -1;
	for (int step = 0; step < 4000; step++) {
		int op = rand() % 3;

		if (op < 2 && ncaps < NP) {
			size_t n = 1 + rand() % 8;
			uintptr_t at = (rand() % 2) ? 0x100000 + (uintptr_t)(rand() % NP) * PG : 0;
			bool free_model = at == 0 || (at - 0x100000) / PG + n <= NP;
			int first = -1;

			/* The model's answer. */
			if (at) {
				for (size_t k = 0; free_model && k < n; k++)
					if (owner[(at - 0x100000) / PG + k] >= 0)
						free_model = false;
			} else {
				for (int p = 0; p + (int)n <= NP && first < 0; p++) {
					bool ok = true;
					for (size_t k = 0; k < n; k++)
						ok = ok && owner[p + k] < 0;
					if (ok)
						first = p;
				}
				free_model = first >= 0;
			}
			int err = virtaddr_alloc(&s, at, n * PG, &caps[ncaps]);
			CHECK_EQ(err == 0, free_model);
			if (err)
				continue;
			uintptr_t start;
			CHECK_EQ(virtaddr_info(caps[ncaps], &start, NULL, NULL), 0);
			if (!at)
				CHECK_EQ(start, 0x100000 + (uintptr_t)first * PG);
			for (size_t k = 0; k < n; k++)
				owner[(start - 0x100000) / PG + k] = ncaps;
			ncaps++;
		} else if (ncaps) {
			int i = rand() % ncaps;
			uintptr_t start;
			size_t len;

			CHECK_EQ(virtaddr_info(caps[i], &start, &len, NULL), 0);
			CHECK_EQ(virtaddr_free(caps[i]), 0);
			for (size_t k = 0; k < len / PG; k++)
				owner[(start - 0x100000) / PG + k] = -1;
			/* Move the last one into slot i, in the model too. */
			ncaps--;
			if (i != ncaps) {
				caps[i] = caps[ncaps];
				for (int p = 0; p < NP; p++)
					if (owner[p] == ncaps)
						owner[p] = i;
			}
		}
		for (int p = 0; p < NP; p += 7) {
			struct virtaddr_range *r = virtaddr_find(&s, 0x100000 + (uintptr_t)p * PG);
			CHECK_EQ(r == NULL, owner[p] < 0);
			if (r && owner[p] >= 0)
				CHECK(r == virtaddr_get(caps[owner[p]], NULL));
		}
	}
	virtaddr_space_fini(&s);
}

/* ---- reverse map ---- */

static void rmap_insert_lookup_remove(void)
{
	enum { N = 1000 };
	static struct rmap_table t1, t2;
	struct rmap_list objs[4];
	struct rmap_node *nodes = calloc(N, sizeof(*nodes));

	rmap_table_init(&t1);
	rmap_table_init(&t2);
	for (int i = 0; i < 4; i++)
		rmap_list_init(&objs[i]);
	for (int i = 0; i < N; i++) {
		nodes[i].va = (uintptr_t)i * PG * 3;
		nodes[i].ctx = (i & 1) ? (void *)&t2 : (void *)&t1;
		nodes[i].page = (uint32_t)i;
		rmap_insert((i & 1) ? &t2 : &t1, &objs[i % 4], &nodes[i]);
	}
	CHECK_EQ(t1.count + t2.count, N);
	CHECK_EQ(objs[0].count, N / 4);
	for (int i = 0; i < N; i++) {
		CHECK(rmap_lookup((i & 1) ? &t2 : &t1, (uintptr_t)i * PG * 3) == &nodes[i]);
		CHECK(rmap_lookup((i & 1) ? &t1 : &t2, (uintptr_t)i * PG * 3) == NULL);
	}
	/* Remove every third node, from whichever list position it holds. */
	for (int i = 0; i < N; i += 3)
		rmap_remove((i & 1) ? &t2 : &t1, &objs[i % 4], &nodes[i]);
	for (int i = 0; i < N; i++)
		CHECK((rmap_lookup((i & 1) ? &t2 : &t1, nodes[i].va) == NULL) == (i % 3 == 0));
	int total = 0;
	for (int k = 0; k < 4; k++) {
		int c = 0;
		for (struct rmap_node *n = objs[k].head; n; n = n->obj_next) {
			CHECK_EQ(n->page % 4, (uint32_t)k);
			CHECK(n->page % 3 != 0);
			c++;
		}
		CHECK_EQ(c, (int)objs[k].count);
		total += c;
	}
	CHECK_EQ(total, N - (N + 2) / 3);
	/* A copy-on-write break moves a node to another object's list: the
	 * table still finds it, both lists stay consistent. */
	for (int i = 1; i < N; i += 3)
		if (i % 4 == 1)
			rmap_move(&objs[1], &objs[0], &nodes[i]);
	for (int k = 0; k < 2; k++) {
		int c = 0;
		for (struct rmap_node *n = objs[k].head; n; n = n->obj_next) {
			CHECK(n->page % 4 == 0 || n->page % 4 == 1);
			CHECK(k == 0 || n->page % 3 != 1);
			CHECK(*n->obj_pprev == n);
			c++;
		}
		CHECK_EQ(c, (int)objs[k].count);
	}
	for (int i = 1; i < N; i += 3)
		CHECK(rmap_lookup((i & 1) ? &t2 : &t1, nodes[i].va) == &nodes[i]);
	/* Empty a table through rmap_table_any. */
	struct rmap_node *n;
	while ((n = rmap_table_any(&t1)) != NULL)
		rmap_remove(&t1, &objs[(n->page % 4 == 1 && n->page % 3 == 1) ? 0 : n->page % 4],
		            n);
	CHECK_EQ(t1.count, 0);
	free(nodes);
}

/* ---- PhysAddr over a made-up pmm ---- */

static struct memmap map;
static void *meta;

static void pmm_setup(uint64_t bytes)
{
	struct memmap_entry raw[] = {{1ull << 20, bytes, MEMMAP_USABLE}};

	free(meta);
	CHECK_EQ(memmap_normalise(&map, raw, 1, NULL, 0, 0), 0);
	meta = malloc(pmm_metadata_size(&map));
	CHECK_EQ(pmm_init(&map, meta, pmm_metadata_size(&map), PMM_META_EXTERNAL), 0);
	CHECK_EQ(physaddr_init(), 0);
}

static void physaddr_attributes_and_errors(void)
{
	struct physaddr_attr a = {.flags = PHYSADDR_CONTIG | PHYSADDR_COLOUR, .colour = 9};
	cap_t c, d;
	struct physaddr *p;

	pmm_setup(4ull << 20);
	CHECK_EQ(physaddr_alloc(5 * PG, &a, &c), 0);
	p = physaddr_get(c, NULL);
	CHECK_EQ(physaddr_colour_of(p->pa[0]), 9);
	CHECK_EQ(p->pa[4], p->pa[0] + 4 * PG);
	a = (struct physaddr_attr){.flags = PHYSADDR_COLOUR, .colour = 15};
	CHECK_EQ(physaddr_alloc(2 * PG, &a, &d), 0);
	p = physaddr_get(d, NULL);
	CHECK_EQ(physaddr_colour_of(p->pa[0]), 15);
	CHECK_EQ(physaddr_colour_of(p->pa[1]), 0);
	CHECK_EQ(physaddr_free(c), 0);
	CHECK_EQ(physaddr_free(d), 0);
	CHECK_EQ(physaddr_free(d), -ESTALE);
	CHECK_EQ(pmm_check(), 0);
	struct pmm_stats st;
	pmm_get_stats(&st);
	CHECK_EQ(st.free_pages, st.total_pages - st.reserved_pages); /* nothing leaked */
}

static int nominations;
static cap_t nominee;
static cap_t nominate(cap_t candidate)
{
	nominations++;
	if (nominee) {
		cap_t n = nominee;
		nominee = CAP_NULL;
		return n;
	}
	return candidate;
}

/* The raise stub of PhysAddr.Reclaim: in the kernel it is generated and
 * calls through the dispatcher; here it calls the one handler "installed". */
static cap_t (*reclaim_handler)(cap_t candidate);
uint64_t PhysAddr_Reclaim(uint64_t candidate)
{
	return reclaim_handler ? reclaim_handler(candidate) : CAP_NULL;
}

static int invalidated;
static void fake_invalidate(struct physaddr *p)
{
	invalidated++;
	p->maps.head = NULL; /* the fake mappings below are dropped */
	p->maps.count = 0;
}

static void physaddr_reclaim_nominate_and_exhaust(void)
{
	cap_t r[8], hog[300], c;
	int n = 0;
	struct rmap_node fake = {0};

	pmm_setup(1ull << 20); /* 256 pages */
	physaddr_set_invalidate(fake_invalidate);
	reclaim_handler = nominate;
	for (int i = 0; i < 8; i++)
		CHECK_EQ(physaddr_alloc(PG, &(struct physaddr_attr){.flags = PHYSADDR_RECLAIMABLE},
		                        &r[i]),
		         0);
	/* r[0] is "mapped" somewhere. */
	physaddr_get(r[0], NULL)->maps.head = &fake;
	physaddr_get(r[0], NULL)->maps.count = 1;
	CHECK_EQ(physaddr_free(r[0]), -EBUSY);
	nominee = r[5];
	while (n < 300 && physaddr_alloc(PG, NULL, &hog[n]) == 0)
		n++;
	CHECK(n > 200 && n < 300);
	CHECK_EQ(physaddr_alloc(PG, NULL, &c), -ENOMEM); /* clean, nothing left */
	CHECK_EQ(physaddr_free(r[5]), -ESTALE);          /* nominated first */
	for (int i = 0; i < 8; i++)
		CHECK_EQ(physaddr_free(r[i]), -ESTALE); /* then every candidate */
	CHECK_EQ(invalidated, 1);                       /* r[0] had mappings */
	CHECK(nominations >= 8);
	struct physaddr_stats st;
	physaddr_get_stats(&st);
	CHECK_EQ(st.nominated, 1);
	CHECK_EQ(st.reclaimed_pages, 8);
	reclaim_handler = NULL;
	for (int i = 0; i < n; i++)
		CHECK_EQ(physaddr_free(hog[i]), 0);
	CHECK_EQ(pmm_check(), 0);
	/* A nominee that is not reclaimable is ignored. */
	CHECK_EQ(physaddr_alloc(PG, &(struct physaddr_attr){.flags = PHYSADDR_RECLAIMABLE}, &r[0]),
	         0);
	CHECK_EQ(physaddr_alloc(PG, NULL, &r[1]), 0);
	reclaim_handler = nominate;
	nominee = r[1];
	/* The result handler for several handlers: the last valid nomination. */
	CHECK_EQ(physaddr_reclaim_combine(NULL, r[0], r[1], 1), r[0]); /* not reclaimable */
	CHECK_EQ(physaddr_reclaim_combine(NULL, CAP_NULL, r[0], 0), r[0]);
	CHECK_EQ(physaddr_reclaim_combine(NULL, r[0], 12345, 2), r[0]); /* never issued */
	CHECK_EQ(physaddr_reclaim(1), 1);
	CHECK_EQ(physaddr_free(r[0]), -ESTALE);
	CHECK_EQ(physaddr_free(r[1]), 0);
	CHECK_EQ(physaddr_reclaim(1), 0); /* nothing reclaimable left */
	reclaim_handler = NULL;
}

int main(void)
{
	CHECK_EQ(cap_init(), 0);
	RUN(virtaddr_fixed_overlap_unaligned_range);
	RUN(virtaddr_random_against_model);
	RUN(rmap_insert_lookup_remove);
	RUN(physaddr_attributes_and_errors);
	RUN(physaddr_reclaim_nominate_and_exhaust);
	free(meta);
	cap_table_destroy(cap_kernel);
	return check_done();
}
