/*
 * pmm_test: the frame allocator over made-up physical memory (it never
 * touches frame contents, so no real memory is needed): exhaustion,
 * fragmentation, alignment, contiguous and huge runs, hostile frees,
 * refcounts, the reclaim hook, and a randomized run against a shadow model
 * with pmm_check() after every step.
 */
#include <stdint.h>

#include "check.h"
#include <kernel/memmap.h>
#include <kernel/pmm.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define PG  PMM_PAGE_SIZE

static struct memmap map;
static void *meta;

/* Normalise raw and initialise the PMM over it with external metadata. */
static int setup(const struct memmap_entry *raw, size_t n)
{
	int err = memmap_normalise(&map, raw, n, NULL, 0, 0);
	if (err)
		return err;
	free(meta);
	meta = malloc(pmm_metadata_size(&map));
	return pmm_init(&map, meta, pmm_metadata_size(&map), PMM_META_EXTERNAL);
}

/* 1 MiB..17 MiB: 4096 frames. */
static int setup_small(void)
{
	struct memmap_entry raw[] = {{MiB, 16 * MiB, MEMMAP_USABLE}};
	return setup(raw, 1);
}

static uint64_t free_pages(void)
{
	struct pmm_stats st;
	pmm_get_stats(&st);
	return st.free_pages;
}

static void init_and_stats(void)
{
	struct pmm_stats st;
	CHECK_EQ(setup_small(), 0);
	pmm_get_stats(&st);
	CHECK_EQ(st.total_pages, 4096);
	CHECK_EQ(st.free_pages, 4096);
	CHECK_EQ(st.largest_free_run, 4096);
	/* 1 MiB..17 MiB: 256 frames from 0x100 up to the 1 MiB-aligned 0x200, etc. */
	CHECK_EQ(st.largest_free_order, 11);
	CHECK_EQ(pmm_check(), 0);
}

static void init_errors(void)
{
	struct memmap bad = {.count = 1};
	static struct pmm_frame small[4];

	bad.entries[0] = (struct memmap_entry){0x1234, 0x10000, MEMMAP_USABLE};
	CHECK_EQ(pmm_init(&bad, small, sizeof(small), PMM_META_EXTERNAL), PMM_E_INVAL);
	bad.entries[0].base = 0x100000;
	CHECK_EQ(pmm_init(&bad, small, sizeof(small), PMM_META_EXTERNAL), PMM_E_META_SMALL);
	CHECK_EQ(pmm_init(NULL, small, sizeof(small), PMM_META_EXTERNAL), PMM_E_INVAL);
	uint64_t phys;
	CHECK_EQ(pmm_alloc(1, 1, 0, &phys), PMM_E_NOT_READY);
	CHECK_EQ(pmm_free(0x100000, 1), PMM_E_NOT_READY);
	CHECK_EQ(pmm_check(), PMM_E_NOT_READY);
}

static void exhaust_single_frames(void)
{
	static uint64_t got[4096];
	uint64_t phys, n = 0;

	CHECK_EQ(setup_small(), 0);
	while (pmm_alloc(1, 1, 0, &phys) == 0) {
		if (n < 4096)
			got[n] = phys;
		n++;
		CHECK(phys % PG == 0);
		CHECK(phys >= MiB && phys < 17 * MiB);
	}
	CHECK_EQ(n, 4096);
	CHECK_EQ(pmm_alloc(1, 1, 0, &phys), PMM_E_NOMEM);
	CHECK_EQ(free_pages(), 0);
	CHECK_EQ(pmm_check(), 0);
	/* Distinct: mark in a bitmap. */
	static uint8_t seen[4096];
	memset(seen, 0, sizeof(seen));
	for (uint64_t i = 0; i < 4096; i++) {
		uint64_t f = (got[i] - MiB) / PG;
		CHECK(!seen[f]);
		seen[f] = 1;
	}
	/* Free in a scrambled order; everything must merge back. */
	for (uint64_t i = 0; i < 4096; i++)
		CHECK_EQ(pmm_free(got[(i * 1237) % 4096], 1), 0);
	CHECK_EQ(pmm_check(), 0);
	struct pmm_stats st;
	pmm_get_stats(&st);
	CHECK_EQ(st.free_pages, 4096);
	CHECK_EQ(st.largest_free_run, 4096);
	CHECK_EQ(st.free_blocks[0], 0);
}

static void runs_and_alignment(void)
{
	uint64_t a, b, c;
	CHECK_EQ(setup_small(), 0);
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0);
	CHECK_EQ(pmm_alloc(5, 8, 0, &b), 0);
	CHECK_EQ(b % (8 * PG), 0);
	CHECK_EQ(pmm_alloc(3, 512, 0, &c), 0);
	CHECK_EQ(c % (512 * PG), 0);
	CHECK_EQ(free_pages(), 4096 - 9);
	CHECK_EQ(pmm_check(), 0);
	/* Free part of a run, then the rest. */
	CHECK_EQ(pmm_free(b + PG, 2), 0);
	CHECK_EQ(pmm_free(b + PG, 1), PMM_E_DOUBLE_FREE);
	CHECK_EQ(pmm_check(), 0);
	CHECK_EQ(pmm_free(b, 1), 0);
	CHECK_EQ(pmm_free(b + 3 * PG, 2), 0);
	CHECK_EQ(pmm_free(c, 3), 0);
	CHECK_EQ(pmm_free(a, 1), 0);
	CHECK_EQ(free_pages(), 4096);
	CHECK_EQ(pmm_check(), 0);
	/* Impossible alignment and bad arguments. */
	CHECK_EQ(pmm_alloc(1, 8192, 0, &a), PMM_E_NOMEM);
	CHECK_EQ(pmm_alloc(1, 3, 0, &a), PMM_E_INVAL);
	CHECK_EQ(pmm_alloc(0, 1, 0, &a), PMM_E_INVAL);
	CHECK_EQ(pmm_alloc(1, 1, 0x80, &a), PMM_E_INVAL);
	CHECK_EQ(pmm_alloc(1, 1, 0, NULL), PMM_E_INVAL);
	CHECK_EQ(pmm_alloc(4097, 1, 0, &a), PMM_E_NOMEM);
	/* The whole of memory as one run (not a power of two, not aligned). */
	CHECK_EQ(pmm_alloc(4096, 0, 0, &a), 0);
	CHECK_EQ(a, MiB);
	CHECK_EQ(pmm_free(a, 4096), 0);
	CHECK_EQ(pmm_check(), 0);
}

static void hostile_frees(void)
{
	uint64_t a;
	struct memmap_entry raw[] = {{MiB, 16 * MiB, MEMMAP_USABLE}};
	CHECK_EQ(memmap_normalise(&map, raw, 1, NULL, 0, 0), 0);
	/* Metadata inside managed memory this time, as the kernel does it. */
	size_t bytes = pmm_metadata_size(&map);
	uint64_t mphys;
	CHECK_EQ(pmm_metadata_place(&map, bytes, &mphys), 0);
	CHECK_EQ(mphys, MiB);
	free(meta);
	meta = malloc(bytes);
	CHECK_EQ(pmm_init(&map, meta, bytes, mphys), 0);
	uint64_t mpages = (bytes + PG - 1) / PG;
	CHECK_EQ(free_pages(), 4096 - mpages);
	CHECK_EQ(pmm_check(), 0);

	CHECK_EQ(pmm_alloc(2, 1, 0, &a), 0);
	CHECK(a >= MiB + mpages * PG); /* never the metadata */
	CHECK_EQ(pmm_free(MiB, 1), PMM_E_RESERVED);
	CHECK_EQ(pmm_free(a + 2 * PG, 1), PMM_E_NOT_ALLOCATED);
	CHECK_EQ(pmm_free(a + 1, 1), PMM_E_ALIGN);
	CHECK_EQ(pmm_free(0x1000, 1), PMM_E_NOT_MANAGED);
	CHECK_EQ(pmm_free(17 * MiB, 1), PMM_E_NOT_MANAGED);
	CHECK_EQ(pmm_free(17 * MiB - PG, 2), PMM_E_NOT_MANAGED); /* runs off the end */
	CHECK_EQ(pmm_free(a, 0), PMM_E_INVAL);
	CHECK_EQ(pmm_free(a, 3), PMM_E_NOT_ALLOCATED); /* partly bad: nothing freed */
	CHECK_EQ(pmm_free(a, 2), 0);
	CHECK_EQ(pmm_free(a, 2), PMM_E_DOUBLE_FREE);
	CHECK_EQ(pmm_free(a, 1), PMM_E_DOUBLE_FREE);
	CHECK_EQ(free_pages(), 4096 - mpages);
	CHECK_EQ(pmm_check(), 0);
	CHECK(pmm_strerror(PMM_E_DOUBLE_FREE)[0] != '\0');
	/* Metadata placement fails when it cannot fit. */
	CHECK_EQ(pmm_metadata_place(&map, 64 * MiB, &mphys), PMM_E_NOMEM);
}

static void refcounts_and_owner(void)
{
	uint64_t a;
	struct pmm_frame fi;
	CHECK_EQ(setup_small(), 0);
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0);
	CHECK_EQ(pmm_frame_info(a, &fi), 0);
	CHECK_EQ(fi.state, PMM_FRAME_ALLOCATED);
	CHECK_EQ(fi.refcount, 1);
	CHECK_EQ(fi.owner, PMM_OWNER_KERNEL);
	CHECK_EQ(pmm_frame_set_owner(a, 1, 77), 0);
	CHECK_EQ(pmm_frame_ref(a), 0);
	CHECK_EQ(pmm_free(a, 1), PMM_E_BUSY);
	CHECK_EQ(pmm_frame_unref(a), 0);
	CHECK_EQ(pmm_frame_info(a, &fi), 0);
	CHECK_EQ(fi.refcount, 1);
	CHECK_EQ(fi.owner, 77);
	CHECK_EQ(pmm_frame_unref(a), 0); /* last reference: freed */
	CHECK_EQ(pmm_frame_unref(a), PMM_E_DOUBLE_FREE);
	CHECK_EQ(pmm_frame_ref(a), PMM_E_DOUBLE_FREE);
	CHECK_EQ(pmm_frame_set_owner(a, 1, 3), PMM_E_DOUBLE_FREE);
	CHECK_EQ(free_pages(), 4096);
	CHECK_EQ(pmm_check(), 0);
}

static void fragmentation(void)
{
	static uint64_t got[4096];
	uint64_t a;
	CHECK_EQ(setup_small(), 0);
	for (int i = 0; i < 4096; i++)
		CHECK_EQ(pmm_alloc(1, 1, 0, &got[i]), 0);
	/* Free every other frame: half the memory free, no run of 2. */
	for (int i = 0; i < 4096; i++) {
		if (((got[i] / PG) & 1) == 0)
			CHECK_EQ(pmm_free(got[i], 1), 0);
	}
	struct pmm_stats st;
	pmm_get_stats(&st);
	CHECK_EQ(st.free_pages, 2048);
	CHECK_EQ(st.largest_free_run, 1);
	CHECK_EQ(pmm_alloc(2, 1, PMM_NORECLAIM, &a), PMM_E_NOMEM);
	CHECK_EQ(pmm_check(), 0);
	/*
	 * Free pfn 0x103 and 0x105: with the even frames 0x102 and 0x104 that
	 * makes 0x102..0x105 free, held as two order-1 blocks that are not
	 * buddies.  No single block holds a run of 3; only the scan finds it.
	 */
	for (int i = 0; i < 4096; i++) {
		uint64_t pfn = got[i] / PG;
		if (pfn == 0x103 || pfn == 0x105)
			CHECK_EQ(pmm_free(got[i], 1), 0);
	}
	CHECK_EQ(pmm_alloc(3, 1, 0, &a), 0);
	CHECK_EQ(a, 0x102 * PG); /* 0x102 is free too: 0x102..0x105 */
	CHECK_EQ(pmm_check(), 0);
	CHECK_EQ(pmm_free(a, 3), 0);
	for (int i = 0; i < 4096; i++) {
		uint64_t pfn = got[i] / PG;
		if ((pfn & 1) && pfn != 0x103 && pfn != 0x105)
			CHECK_EQ(pmm_free(got[i], 1), 0);
	}
	pmm_get_stats(&st);
	CHECK_EQ(st.free_pages, 4096);
	CHECK_EQ(st.largest_free_run, 4096);
	CHECK_EQ(pmm_check(), 0);
}

static void huge_run_and_below_4g(void)
{
	/* 1 MiB..2.5 GiB and 4 GiB..8 GiB: runs longer than the top order. */
	struct memmap_entry raw[] = {
	    {MiB, 2560 * MiB - MiB, MEMMAP_USABLE},
	    {4 * GiB, 4 * GiB, MEMMAP_USABLE},
	};
	uint64_t a, b, c, top = (1ull << PMM_MAX_ORDER) * PG;
	CHECK_EQ(setup(raw, 2), 0);
	CHECK_EQ(pmm_alloc((1ull << PMM_MAX_ORDER) + 5, 1, 0, &a), 0);
	CHECK_EQ(pmm_alloc((1ull << PMM_MAX_ORDER) + 1, 1ull << PMM_MAX_ORDER, 0, &b), 0);
	CHECK_EQ(b % top, 0);
	CHECK_EQ(pmm_check(), 0);
	/* 1.5 GiB contiguous: only the upper region can hold it now. */
	CHECK_EQ(pmm_alloc(3 * (1ull << PMM_MAX_ORDER) / 2, 1, PMM_BELOW_4G, &c), PMM_E_NOMEM);
	CHECK_EQ(pmm_alloc(3 * (1ull << PMM_MAX_ORDER) / 2, 1, 0, &c), 0);
	CHECK(c >= 4 * GiB);
	CHECK_EQ(pmm_free(c, 3 * (1ull << PMM_MAX_ORDER) / 2), 0);
	/* Below 4 GiB flag for single frames: exhaust below, then fail. */
	uint64_t n = 0, f;
	while (pmm_alloc(1, 1, PMM_BELOW_4G, &f) == 0) {
		CHECK(f < 4 * GiB);
		n++;
	}
	CHECK_EQ(pmm_alloc(1, 1, 0, &f), 0);
	CHECK(f >= 4 * GiB);
	CHECK_EQ(pmm_check(), 0);
	(void)n;
}

/* Reclaim: a hook that gives back frames from a stash. */
static uint64_t stash[64];
static int nstash, hook_calls, hook_nested_result;
static uint64_t hook(uint64_t want, unsigned flags, void *arg)
{
	uint64_t freed = 0, p;
	(void)flags;
	CHECK(arg == (void *)stash);
	hook_calls++;
	/* An allocation from inside the hook must not recurse into reclaim. */
	hook_nested_result = pmm_alloc(1, 1, 0, &p);
	if (hook_nested_result == 0)
		pmm_free(p, 1);
	while (freed < want && nstash > 0) {
		CHECK_EQ(pmm_free(stash[--nstash], 1), 0);
		freed++;
	}
	return freed;
}

static uint64_t hook_stingy(uint64_t want, unsigned flags, void *arg)
{
	(void)want, (void)flags, (void)arg;
	hook_calls++;
	if (nstash > 0) {
		pmm_free(stash[--nstash], 1);
		return 1; /* one frame each time, never enough for a run of 8 */
	}
	return 0;
}

static void reclaim_hook(void)
{
	uint64_t a;
	CHECK_EQ(setup_small(), 0);
	for (int i = 0; i < 4096; i++) {
		CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0);
		if (i < 64)
			stash[nstash++] = a;
	}
	pmm_set_reclaim(hook, stash);
	hook_calls = 0;
	CHECK_EQ(pmm_alloc(1, 1, PMM_NORECLAIM, &a), PMM_E_NOMEM);
	CHECK_EQ(hook_calls, 0);
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_nested_result, PMM_E_NOMEM);
	struct pmm_stats st;
	pmm_get_stats(&st);
	CHECK_EQ(st.reclaim_calls, 1);
	CHECK_EQ(st.reclaimed_pages, 1);

	/* A hook that frees too little is called at most PMM_RECLAIM_TRIES times. */
	pmm_set_reclaim(hook_stingy, NULL);
	hook_calls = 0;
	CHECK_EQ(pmm_alloc(8, 8, 0, &a), PMM_E_NOMEM);
	CHECK_EQ(hook_calls, PMM_RECLAIM_TRIES);
	/* A hook that frees nothing is called once. */
	nstash = 0;
	hook_calls = 0;
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0); /* the stingy frees left some */
	while (pmm_alloc(1, 1, 0, &a) == 0)
		;
	hook_calls = 0;
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), PMM_E_NOMEM);
	CHECK_EQ(hook_calls, 1);
	pmm_set_reclaim(NULL, NULL);
	CHECK_EQ(pmm_check(), 0);
}

/* Locking hooks are called in balanced pairs. */
static int lock_depth, lock_calls, lock_bad;
static void tlock(void *arg)
{
	(void)arg;
	if (lock_depth++ != 0)
		lock_bad++;
	lock_calls++;
}
static void tunlock(void *arg)
{
	(void)arg;
	if (--lock_depth != 0)
		lock_bad++;
}

static void lock_hooks(void)
{
	uint64_t a;
	CHECK_EQ(setup_small(), 0);
	pmm_set_lock(tlock, tunlock, NULL);
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0);
	CHECK_EQ(pmm_free(a, 1), 0);
	CHECK_EQ(pmm_free(a, 1), PMM_E_DOUBLE_FREE);
	CHECK_EQ(pmm_check(), 0);
	pmm_set_lock(NULL, NULL, NULL);
	CHECK_EQ(lock_depth, 0);
	CHECK_EQ(lock_bad, 0);
	CHECK(lock_calls >= 4);
}

/* Random allocations and frees against a shadow bitmap. */
static uint64_t rng = 88172645463325252ull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void randomized_against_shadow(void)
{
	struct memmap_entry raw[] = {
	    {MiB, 3 * MiB + 0x5000, MEMMAP_USABLE},
	    {8 * MiB + 0x3000, 5 * MiB, MEMMAP_USABLE},
	};
	struct run {
		uint64_t phys, n;
	} runs[512];
	int nruns = 0, errors = 0;
	static uint8_t shadow[4096]; /* per frame of the first 16 MiB */

	CHECK_EQ(setup(raw, 2), 0);
	memset(shadow, 0, sizeof(shadow));
	for (int step = 0; step < 20000; step++) {
		if (nruns < 512 && rnd() % 2) {
			uint64_t n = rnd() % 4 == 0 ? 1 + rnd() % 300 : 1 + rnd() % 4;
			uint64_t align = 1ull << (rnd() % 6), p;
			if (pmm_alloc(n, align, 0, &p) == 0) {
				if (p % (align * PG) != 0)
					errors++;
				for (uint64_t i = 0; i < n; i++) {
					uint64_t f = p / PG + i;
					if (f >= 4096 || shadow[f])
						errors++;
					else
						shadow[f] = 1;
				}
				runs[nruns++] = (struct run){p, n};
			}
		} else if (nruns > 0) {
			int k = (int)(rnd() % (uint64_t)nruns);
			/* Sometimes free only the head or the tail of a run. */
			uint64_t cut = runs[k].n > 1 && rnd() % 3 == 0 ? 1 + rnd() % (runs[k].n - 1)
			                                               : runs[k].n;
			if (pmm_free(runs[k].phys, cut) != 0)
				errors++;
			for (uint64_t i = 0; i < cut; i++)
				shadow[runs[k].phys / PG + i] = 0;
			runs[k].phys += cut * PG;
			runs[k].n -= cut;
			if (runs[k].n == 0)
				runs[k] = runs[--nruns];
		}
		if (step % 97 == 0 && pmm_check() != 0)
			errors++;
	}
	CHECK_EQ(errors, 0);
	for (int k = 0; k < nruns; k++)
		CHECK_EQ(pmm_free(runs[k].phys, runs[k].n), 0);
	struct pmm_stats st;
	pmm_get_stats(&st);
	CHECK_EQ(st.free_pages, st.total_pages);
	CHECK_EQ(pmm_check(), 0);
}

/* pmm_check must notice broken metadata (a test that can fail). */
static void check_detects_corruption(void)
{
	uint64_t a;
	CHECK_EQ(setup_small(), 0);
	CHECK_EQ(pmm_alloc(1, 1, 0, &a), 0);
	struct pmm_frame *m = meta;
	uint32_t idx = (uint32_t)((a - MiB) / PG);
	m[idx].state = PMM_FRAME_FREE; /* a free frame in no block */
	CHECK_EQ(pmm_check(), PMM_E_CORRUPT);
	m[idx].state = PMM_FRAME_ALLOCATED;
	CHECK_EQ(pmm_check(), 0);
	m[idx].refcount = 0;
	CHECK_EQ(pmm_check(), PMM_E_CORRUPT);
	m[idx].refcount = 1;
}

int main(void)
{
	RUN(init_errors);
	RUN(init_and_stats);
	RUN(exhaust_single_frames);
	RUN(runs_and_alignment);
	RUN(hostile_frees);
	RUN(refcounts_and_owner);
	RUN(fragmentation);
	RUN(huge_run_and_below_4g);
	RUN(reclaim_hook);
	RUN(lock_hooks);
	RUN(randomized_against_shadow);
	RUN(check_detects_corruption);
	free(meta);
	return check_done();
}
