/*
 * memmap_test: normalisation of well-formed and hostile boot memory maps,
 * plus a randomized check of the invariants against a byte-level model.
 */
#include <stdint.h>

#include "check.h"
#include <kernel/memmap.h>

#define MiB (1ull << 20)
#define GiB (1ull << 30)

static struct memmap map; /* big: keep it off the stack, as the kernel must */

#define E(b, l, t) ((struct memmap_entry){(b), (l), (t)})

/* The invariants memmap.h promises for a successful result. */
static void check_invariants(const struct memmap *m)
{
	bool usable = false;
	for (uint32_t i = 0; i < m->count; i++) {
		const struct memmap_entry *e = &m->entries[i];
		CHECK(e->length > 0);
		CHECK(e->length <= UINT64_MAX - e->base);
		if (i > 0) {
			const struct memmap_entry *p = &m->entries[i - 1];
			CHECK(p->base + p->length <= e->base);
			CHECK(!(p->type == e->type && p->base + p->length == e->base));
		}
		if (e->type == MEMMAP_USABLE) {
			usable = true;
			CHECK(e->base % MEMMAP_PAGE_SIZE == 0);
			CHECK(e->length % MEMMAP_PAGE_SIZE == 0);
			CHECK(e->base >= MEMMAP_LOW_LIMIT);
		}
	}
	CHECK(usable);
}

static void typical_qemu_map(void)
{
	struct memmap_entry raw[] = {
	    E(0, 0x9fc00, MEMMAP_USABLE),           E(0x9fc00, 0x400, MEMMAP_RESERVED),
	    E(0xf0000, 0x10000, MEMMAP_RESERVED),   E(0x100000, 0xfee0000, MEMMAP_USABLE),
	    E(0xffe0000, 0x20000, MEMMAP_RESERVED), E(0xfffc0000, 0x40000, MEMMAP_RESERVED),
	};
	struct memmap_range kernel = {0x100000, 0x2345}; /* kernel image */

	CHECK_EQ(memmap_normalise(&map, raw, 6, &kernel, 1, MEMMAP_STRICT), 0);
	check_invariants(&map);
	CHECK_EQ(map.nnotes, 0);
	/* low usable -> excluded, kernel image (page-rounded) excluded too, merged */
	CHECK_EQ(map.entries[0].type, MEMMAP_EXCLUDED);
	CHECK_EQ(map.entries[0].base, 0);
	CHECK_EQ(map.entries[0].length, 0x9fc00);
	CHECK_EQ(map.entries[1].type, MEMMAP_RESERVED);
	CHECK_EQ(map.entries[3].type, MEMMAP_EXCLUDED);
	CHECK_EQ(map.entries[3].base, 0x100000);
	CHECK_EQ(map.entries[3].length, 0x3000);
	CHECK_EQ(map.entries[4].type, MEMMAP_USABLE);
	CHECK_EQ(map.entries[4].base, 0x103000);
	CHECK_EQ(memmap_usable_bytes(&map), 0xffe0000 - 0x103000);
}

static void unsorted_adjacent_merge_and_trim(void)
{
	struct memmap_entry raw[] = {
	    E(0x300000, 0x100800, MEMMAP_USABLE), /* unaligned end */
	    E(0x200400, 0xffc00, MEMMAP_USABLE),  /* unaligned start, adjacent */
	    E(0x500000, 0x1000, MEMMAP_ACPI_RECLAIMABLE),
	};
	CHECK_EQ(memmap_normalise(&map, raw, 3, NULL, 0, 0), 0);
	check_invariants(&map);
	CHECK_EQ(map.count, 2);
	CHECK_EQ(map.entries[0].base, 0x201000);
	CHECK_EQ(map.entries[0].length, 0x400000 - 0x201000);
	CHECK_EQ(map.entries[1].type, MEMMAP_ACPI_RECLAIMABLE);
}

static void zero_length(void)
{
	struct memmap_entry raw[] = {E(0x200000, 0, MEMMAP_USABLE),
	                             E(0x400000, MiB, MEMMAP_USABLE)};
	char line[160];

	CHECK_EQ(memmap_normalise(&map, raw, 2, NULL, 0, 0), 0);
	CHECK_EQ(map.nnotes, 1);
	CHECK_EQ(map.notes[0].code, MEMMAP_E_ZERO_LENGTH);
	CHECK_EQ(map.notes[0].entry, 0);
	memmap_diag_format(&map.notes[0], line, sizeof(line));
	CHECK_STR(line, "entry 0 [0x200000+0 usable]: zero length; entry dropped");

	CHECK_EQ(memmap_normalise(&map, raw, 2, NULL, 0, MEMMAP_STRICT), MEMMAP_E_ZERO_LENGTH);
	CHECK_EQ(map.error.code, MEMMAP_E_ZERO_LENGTH);
	CHECK_EQ(map.count, 0);
	memmap_diag_format(&map.error, line, sizeof(line));
	CHECK_STR(line, "entry 0 [0x200000+0 usable]: zero length; map rejected");
}

static void overflow(void)
{
	struct memmap_entry raw[] = {
	    E(0x200000, 4 * MiB, MEMMAP_USABLE),
	    E(0x1000000, UINT64_MAX, MEMMAP_USABLE),    /* garbage: dropped */
	    E(0x80000000, UINT64_MAX, MEMMAP_RESERVED), /* clipped */
	};
	CHECK_EQ(memmap_normalise(&map, raw, 3, NULL, 0, 0), 0);
	check_invariants(&map);
	CHECK_EQ(map.nnotes, 2);
	CHECK_EQ(map.notes[0].code, MEMMAP_E_OVERFLOW);
	CHECK_EQ(map.notes[0].entry, 1);
	CHECK_EQ(memmap_usable_bytes(&map), 4 * MiB);
	CHECK_EQ(map.entries[map.count - 1].type, MEMMAP_RESERVED);
	CHECK_EQ(map.entries[map.count - 1].base + map.entries[map.count - 1].length, UINT64_MAX);
	CHECK_EQ(memmap_normalise(&map, raw, 3, NULL, 0, MEMMAP_STRICT), MEMMAP_E_OVERFLOW);
	CHECK_EQ(map.error.entry, 1);
}

static void overlap_reserved_wins(void)
{
	struct memmap_entry raw[] = {
	    E(0x200000, 16 * MiB, MEMMAP_USABLE), E(0x400000, MiB, MEMMAP_RESERVED),
	    E(0x480000, MiB, MEMMAP_BAD),         E(0x800000, MiB, MEMMAP_ACPI_RECLAIMABLE),
	    E(0x200000, 16 * MiB, MEMMAP_USABLE), /* exact duplicate */
	};
	CHECK_EQ(memmap_normalise(&map, raw, 5, NULL, 0, 0), 0);
	check_invariants(&map);
	CHECK(map.nnotes >= 4);
	CHECK_EQ(map.notes[0].code, MEMMAP_E_OVERLAP);
	/* usable 2M..4M, reserved 4M..4.5M, bad 4.5M..5.5M, usable .. 8M, ACPI, usable */
	CHECK_EQ(map.entries[0].type, MEMMAP_USABLE);
	CHECK_EQ(map.entries[0].length, 2 * MiB);
	CHECK_EQ(map.entries[1].type, MEMMAP_RESERVED);
	CHECK_EQ(map.entries[1].length, 0x80000);
	CHECK_EQ(map.entries[2].type, MEMMAP_BAD);
	CHECK_EQ(map.entries[2].length, MiB);
	CHECK_EQ(map.entries[3].type, MEMMAP_USABLE);
	CHECK_EQ(map.entries[4].type, MEMMAP_ACPI_RECLAIMABLE);
	CHECK_EQ(memmap_usable_bytes(&map), 16 * MiB - MiB - 0x80000 - MiB);
	CHECK_EQ(memmap_normalise(&map, raw, 5, NULL, 0, MEMMAP_STRICT), MEMMAP_E_OVERLAP);
}

static void unknown_type_is_reserved(void)
{
	struct memmap_entry raw[] = {E(0x200000, 8 * MiB, MEMMAP_USABLE), E(0x300000, MiB, 12)};
	CHECK_EQ(memmap_normalise(&map, raw, 2, NULL, 0, MEMMAP_STRICT), MEMMAP_E_OVERLAP);
	raw[1].base = 0x2000000;
	CHECK_EQ(memmap_normalise(&map, raw, 2, NULL, 0, MEMMAP_STRICT), 0);
	CHECK_EQ(map.nnotes, 1);
	CHECK_EQ(map.notes[0].code, MEMMAP_E_UNKNOWN_TYPE);
	CHECK_EQ(map.entries[map.count - 1].type, MEMMAP_RESERVED);
}

static void too_many_and_bad_args(void)
{
	static struct memmap_entry raw[MEMMAP_MAX_RAW + 1];
	struct memmap_range ex[MEMMAP_MAX_EXCLUDE + 1] = {{0, 0}};

	for (int i = 0; i <= MEMMAP_MAX_RAW; i++)
		raw[i] = E(0x200000 + (uint64_t)i * 0x2000, 0x1000, MEMMAP_USABLE);
	CHECK_EQ(memmap_normalise(&map, raw, MEMMAP_MAX_RAW + 1, NULL, 0, 0), MEMMAP_E_TOO_MANY);
	CHECK_EQ(map.error.code, MEMMAP_E_TOO_MANY);
	/* Exactly the maximum, all separated by holes: the worst case fits. */
	CHECK_EQ(memmap_normalise(&map, raw, MEMMAP_MAX_RAW, ex, MEMMAP_MAX_EXCLUDE, 0), 0);
	CHECK_EQ(map.count, MEMMAP_MAX_RAW);
	CHECK_EQ(memmap_normalise(&map, raw, 1, ex, MEMMAP_MAX_EXCLUDE + 1, 0),
	         MEMMAP_E_TOO_MANY_EXCLUDE);
	CHECK_EQ(memmap_normalise(NULL, raw, 1, NULL, 0, 0), MEMMAP_E_INVAL);
	CHECK_EQ(memmap_normalise(&map, NULL, 1, NULL, 0, 0), MEMMAP_E_INVAL);
	CHECK_EQ(memmap_normalise(&map, raw, 1, NULL, 1, 0), MEMMAP_E_INVAL);
	ex[0] = (struct memmap_range){UINT64_MAX - 10, 100};
	CHECK_EQ(memmap_normalise(&map, raw, 1, ex, 1, 0), MEMMAP_E_BAD_EXCLUDE);
}

static void no_usable_above_1mib(void)
{
	struct memmap_entry low[] = {E(0, 0x9fc00, MEMMAP_USABLE),
	                             E(0x100000, MiB, MEMMAP_RESERVED)};
	struct memmap_entry tiny[] = {E(0x200800, 0x1000, MEMMAP_USABLE)}; /* no whole page */
	struct memmap_entry big[] = {E(0x100000, 4 * MiB, MEMMAP_USABLE)};
	struct memmap_range all = {0, 8 * MiB};
	char line[128];

	CHECK_EQ(memmap_normalise(&map, low, 2, NULL, 0, 0), MEMMAP_E_NO_USABLE);
	memmap_diag_format(&map.error, line, sizeof(line));
	CHECK_STR(line, "memory map: no usable memory above 1 MiB; map rejected");
	CHECK_EQ(memmap_normalise(&map, tiny, 1, NULL, 0, 0), MEMMAP_E_NO_USABLE);
	CHECK_EQ(memmap_normalise(&map, big, 1, &all, 1, 0), MEMMAP_E_NO_USABLE);
	CHECK_EQ(memmap_normalise(&map, NULL, 0, NULL, 0, 0), MEMMAP_E_NO_USABLE);
}

static void exclusions_split_regions(void)
{
	struct memmap_entry raw[] = {E(0x100000, 64 * MiB, MEMMAP_USABLE)};
	struct memmap_range ex[] = {
	    {0x200000, 0x10},     /* widened to one page */
	    {0x3000fff, 0x2},     /* straddles a page boundary: two pages */
	    {0x10000000, 0x1000}, /* outside any entry: no effect */
	};
	CHECK_EQ(memmap_normalise(&map, raw, 1, ex, 3, 0), 0);
	check_invariants(&map);
	CHECK_EQ(memmap_usable_bytes(&map), 64 * MiB - 3 * 0x1000);
	CHECK_EQ(map.count, 5);
	CHECK_EQ(map.entries[1].type, MEMMAP_EXCLUDED);
	CHECK_EQ(map.entries[1].length, 0x1000);
	CHECK_EQ(map.entries[3].base, 0x3000000);
	CHECK_EQ(map.entries[3].length, 0x2000);
}

/* Random maps against a page-granular model of "which type wins". */
static uint64_t rng = 12345;
static uint64_t rnd(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return rng >> 17;
}

static void randomized_model(void)
{
	enum { PAGES = 512 }; /* model 2 MiB in 4 KiB pages starting at 0 */
	struct memmap_entry raw[24];
	int mismatches = 0;

	for (int iter = 0; iter < 2000; iter++) {
		int n = 1 + (int)(rnd() % 24);
		int model[PAGES];
		for (int i = 0; i < n; i++) {
			uint64_t b = rnd() % PAGES, l = 1 + rnd() % 64;
			if (b + l > PAGES)
				l = PAGES - b;
			raw[i] = E(b * 0x1000, l * 0x1000, 1 + (uint32_t)(rnd() % 5));
		}
		/* Model: rank per page, excluding the first 1 MiB. */
		for (int p = 0; p < PAGES; p++) {
			int best = 0;
			static const int rank[6] = {0, 1, 3, 2, 4, 5};
			for (int i = 0; i < n; i++) {
				if (raw[i].base <= (uint64_t)p * 0x1000 &&
				    (uint64_t)p * 0x1000 < raw[i].base + raw[i].length &&
				    (best == 0 || rank[raw[i].type] > rank[best]))
					best = (int)raw[i].type;
			}
			if (best == MEMMAP_USABLE && (uint64_t)p * 0x1000 < MEMMAP_LOW_LIMIT)
				best = MEMMAP_EXCLUDED;
			model[p] = best;
		}
		int r = memmap_normalise(&map, raw, (size_t)n, NULL, 0, 0);
		bool any_usable = false;
		for (int p = 0; p < PAGES; p++)
			any_usable |= model[p] == MEMMAP_USABLE;
		if (!any_usable) {
			if (r != MEMMAP_E_NO_USABLE)
				mismatches++;
			continue;
		}
		if (r != 0) {
			mismatches++;
			continue;
		}
		check_invariants(&map);
		for (int p = 0; p < PAGES; p++) {
			int got = 0;
			for (uint32_t i = 0; i < map.count; i++) {
				if (map.entries[i].base <= (uint64_t)p * 0x1000 &&
				    (uint64_t)p * 0x1000 <
				        map.entries[i].base + map.entries[i].length)
					got = (int)map.entries[i].type;
			}
			if (got != model[p]) {
				if (mismatches++ < 3)
					printf("  iter %d page %d: got %d want %d\n", iter, p, got,
					       model[p]);
			}
		}
	}
	CHECK_EQ(mismatches, 0);
}

int main(void)
{
	RUN(typical_qemu_map);
	RUN(unsorted_adjacent_merge_and_trim);
	RUN(zero_length);
	RUN(overflow);
	RUN(overlap_reserved_wins);
	RUN(unknown_type_is_reserved);
	RUN(too_many_and_bad_args);
	RUN(no_usable_above_1mib);
	RUN(exclusions_split_regions);
	RUN(randomized_model);
	return check_done();
}
