/*
 * memmap: turn the firmware's memory map into one the kernel can trust.
 *
 * Firmware maps arrive unsorted, with overlaps, zero-length and wrapping
 * entries, and types this kernel has never heard of.  Rather than patch each
 * case separately, normalisation is one sweep: after the entries are
 * cleaned one by one (the only place where a single entry can be dropped or
 * clipped), every entry boundary and every exclusion boundary is collected
 * and sorted, and each elementary interval between two consecutive
 * boundaries is given the most restrictive type of the entries covering it.
 * Overlaps, sorting and merging all fall out of that: an interval is covered
 * or not, and if it is, exactly one type wins.  Usable intervals that an
 * exclusion covers become MEMMAP_EXCLUDED, and finally usable entries are
 * trimmed inwards to whole pages.
 *
 * The sweep is quadratic (at most ~290 intervals times 128 entries), which
 * is nothing at boot and keeps the code obviously correct.  Every piece of
 * working storage is inside struct memmap.
 */
#include <stdint.h>

#include <kernel/fmt.h>
#include <kernel/memmap.h>

_Static_assert(MEMMAP_MAX_ENTRIES >= 2 * MEMMAP_MAX_RAW - 1 + 2 * (MEMMAP_MAX_EXCLUDE + 1),
               "normalised map must hold every sweep interval and exclusion split");

#define PAGE_MASK (MEMMAP_PAGE_SIZE - 1)

/* Higher wins where entries overlap: the most restrictive type. */
static int type_rank(uint32_t type)
{
	switch (type) {
	case MEMMAP_USABLE:
		return 1;
	case MEMMAP_ACPI_RECLAIMABLE:
		return 2;
	case MEMMAP_RESERVED:
		return 3;
	case MEMMAP_ACPI_NVS:
		return 4;
	case MEMMAP_BAD:
		return 5;
	default:
		return 3; /* unknown types were already turned into reserved */
	}
}

static bool type_known(uint32_t type)
{
	return type >= MEMMAP_USABLE && type <= MEMMAP_BAD;
}

/* End of an entry, exclusive; the caller has made sure it does not wrap. */
static uint64_t entry_end(const struct memmap_entry *e)
{
	return e->base + e->length;
}

static void set_diag(struct memmap_diag *d, int code, uint32_t idx, const struct memmap_entry *e,
                     bool repaired)
{
	*d = (struct memmap_diag){
	    .code = code,
	    .entry = idx,
	    .base = e ? e->base : 0,
	    .length = e ? e->length : 0,
	    .type = e ? e->type : 0,
	    .repaired = repaired,
	};
}

/*
 * Record a problem with raw entry idx.  Strictly, it becomes the error and
 * the caller must fail with code; otherwise it is noted as repaired.
 * Returns 0 to carry on or code to fail.
 */
static int problem(struct memmap *map, int code, uint32_t idx, const struct memmap_entry *e,
                   unsigned flags)
{
	if ((flags & MEMMAP_STRICT) && code != MEMMAP_E_UNKNOWN_TYPE) {
		set_diag(&map->error, code, idx, e, false);
		return code;
	}
	if (map->nnotes < MEMMAP_MAX_NOTES)
		set_diag(&map->notes[map->nnotes], code, idx, e, true);
	map->nnotes++;
	return 0;
}

static int fail(struct memmap *map, int code, uint32_t idx, const struct memmap_entry *e)
{
	set_diag(&map->error, code, idx, e, false);
	map->count = 0;
	return code;
}

static void sort_bounds(uint64_t *v, uint32_t n)
{
	/* Insertion sort: n is a few hundred at most, once per boot. */
	for (uint32_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		uint32_t j = i;
		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

/* Append [base, end) of type to the output, merging with its predecessor. */
static void emit(struct memmap *map, uint64_t base, uint64_t end, uint32_t type)
{
	if (map->count > 0) {
		struct memmap_entry *prev = &map->entries[map->count - 1];
		if (prev->type == type && entry_end(prev) == base) {
			prev->length += end - base;
			return;
		}
	}
	map->entries[map->count++] = (struct memmap_entry){base, end - base, type};
}

/* Widen an exclusion to whole pages; the end saturates at the top. */
static void exclusion_bounds(const struct memmap_range *r, uint64_t *base, uint64_t *end)
{
	uint64_t e = r->base + r->length;

	*base = r->base & ~PAGE_MASK;
	*end = e > UINT64_MAX - PAGE_MASK ? UINT64_MAX : (e + PAGE_MASK) & ~PAGE_MASK;
}

int memmap_normalise(struct memmap *map, const struct memmap_entry *raw, size_t nraw,
                     const struct memmap_range *exclude, size_t nexcl, unsigned flags)
{
	struct memmap_entry *clean;
	uint64_t *bounds;
	uint32_t nclean = 0, nbounds = 0, nuniq, out;
	int err;

	if (map == NULL)
		return MEMMAP_E_INVAL;
	map->count = 0;
	map->nnotes = 0;
	set_diag(&map->error, 0, MEMMAP_NO_ENTRY, NULL, false);
	clean = map->scratch_clean;
	bounds = map->scratch_bounds;

	/* Validate what cannot be repaired. */
	if ((raw == NULL && nraw > 0) || (exclude == NULL && nexcl > 0))
		return fail(map, MEMMAP_E_INVAL, MEMMAP_NO_ENTRY, NULL);
	if (nraw > MEMMAP_MAX_RAW)
		return fail(map, MEMMAP_E_TOO_MANY, MEMMAP_NO_ENTRY, NULL);
	if (nexcl > MEMMAP_MAX_EXCLUDE)
		return fail(map, MEMMAP_E_TOO_MANY_EXCLUDE, MEMMAP_NO_ENTRY, NULL);
	for (size_t i = 0; i < nexcl; i++) {
		if (exclude[i].length > UINT64_MAX - exclude[i].base) {
			struct memmap_entry e = {exclude[i].base, exclude[i].length, 0};
			return fail(map, MEMMAP_E_BAD_EXCLUDE, (uint32_t)i, &e);
		}
	}

	/* Clean the entries one by one: drop, clip, retype. */
	for (uint32_t i = 0; i < nraw; i++) {
		struct memmap_entry e = raw[i];

		if (e.length == 0) {
			if ((err = problem(map, MEMMAP_E_ZERO_LENGTH, i, &raw[i], flags)))
				return fail(map, err, i, &raw[i]);
			continue;
		}
		if (e.length > UINT64_MAX - e.base) {
			if ((err = problem(map, MEMMAP_E_OVERFLOW, i, &raw[i], flags)))
				return fail(map, err, i, &raw[i]);
			/* Trusting a wrapped usable length would invent memory. */
			if (e.type == MEMMAP_USABLE)
				continue;
			e.length = UINT64_MAX - e.base;
			if (e.length == 0)
				continue;
		}
		if (!type_known(e.type)) {
			problem(map, MEMMAP_E_UNKNOWN_TYPE, i, &raw[i], flags);
			e.type = MEMMAP_RESERVED;
		}
		map->scratch_index[nclean] = i;
		clean[nclean++] = e;
	}

	/* Overlaps are repaired by the sweep; here they are only diagnosed. */
	for (uint32_t i = 0; i < nclean; i++) {
		for (uint32_t j = i + 1; j < nclean; j++) {
			if (clean[i].base < entry_end(&clean[j]) &&
			    clean[j].base < entry_end(&clean[i])) {
				uint32_t idx = map->scratch_index[j];
				if ((err = problem(map, MEMMAP_E_OVERLAP, idx, &clean[j], flags)))
					return fail(map, err, idx, &clean[j]);
			}
		}
	}

	/* Collect and sort every boundary. */
	for (uint32_t i = 0; i < nclean; i++) {
		bounds[nbounds++] = clean[i].base;
		bounds[nbounds++] = entry_end(&clean[i]);
	}
	for (size_t i = 0; i < nexcl; i++) {
		uint64_t b, e;
		exclusion_bounds(&exclude[i], &b, &e);
		bounds[nbounds++] = b;
		bounds[nbounds++] = e;
	}
	bounds[nbounds++] = 0;
	bounds[nbounds++] = MEMMAP_LOW_LIMIT;
	sort_bounds(bounds, nbounds);
	nuniq = 0;
	for (uint32_t i = 0; i < nbounds; i++) {
		if (nuniq == 0 || bounds[nuniq - 1] != bounds[i])
			bounds[nuniq++] = bounds[i];
	}

	/* Sweep: give each elementary interval its winning type. */
	for (uint32_t k = 0; k + 1 < nuniq; k++) {
		uint64_t lo = bounds[k], hi = bounds[k + 1];
		uint32_t type = 0;

		for (uint32_t i = 0; i < nclean; i++) {
			if (clean[i].base <= lo && lo < entry_end(&clean[i]) &&
			    (type == 0 || type_rank(clean[i].type) > type_rank(type)))
				type = clean[i].type;
		}
		if (type == 0)
			continue; /* a hole: nobody claimed it */
		if (type == MEMMAP_USABLE) {
			bool excluded = lo < MEMMAP_LOW_LIMIT;
			for (size_t i = 0; i < nexcl && !excluded; i++) {
				uint64_t b, e;
				exclusion_bounds(&exclude[i], &b, &e);
				excluded = exclude[i].length > 0 && b <= lo && lo < e;
			}
			if (excluded)
				type = MEMMAP_EXCLUDED;
		}
		emit(map, lo, hi, type);
	}

	/*
	 * Trim usable entries to whole pages.  A fragment trimmed off becomes a
	 * hole: less than a page, it is of no use to anyone.
	 */
	out = 0;
	for (uint32_t i = 0; i < map->count; i++) {
		struct memmap_entry e = map->entries[i];
		if (e.type == MEMMAP_USABLE) {
			uint64_t end = entry_end(&e) & ~PAGE_MASK;
			uint64_t base = e.base > UINT64_MAX - PAGE_MASK
			                    ? UINT64_MAX
			                    : (e.base + PAGE_MASK) & ~PAGE_MASK;
			if (end <= base)
				continue;
			e.base = base;
			e.length = end - base;
		}
		map->entries[out++] = e;
	}
	map->count = out;

	for (uint32_t i = 0; i < map->count; i++) {
		if (map->entries[i].type == MEMMAP_USABLE)
			return 0;
	}
	return fail(map, MEMMAP_E_NO_USABLE, MEMMAP_NO_ENTRY, NULL);
}

uint64_t memmap_usable_bytes(const struct memmap *map)
{
	uint64_t sum = 0;

	for (uint32_t i = 0; i < map->count; i++) {
		if (map->entries[i].type == MEMMAP_USABLE)
			sum += map->entries[i].length;
	}
	return sum;
}

const char *memmap_type_name(uint32_t type)
{
	switch (type) {
	case MEMMAP_USABLE:
		return "usable";
	case MEMMAP_RESERVED:
		return "reserved";
	case MEMMAP_ACPI_RECLAIMABLE:
		return "ACPI reclaimable";
	case MEMMAP_ACPI_NVS:
		return "ACPI NVS";
	case MEMMAP_BAD:
		return "bad";
	case MEMMAP_EXCLUDED:
		return "excluded";
	default:
		return "unknown";
	}
}

const char *memmap_strerror(int code)
{
	switch (code) {
	case 0:
		return "no error";
	case MEMMAP_E_INVAL:
		return "invalid argument";
	case MEMMAP_E_TOO_MANY:
		return "too many entries";
	case MEMMAP_E_ZERO_LENGTH:
		return "zero length";
	case MEMMAP_E_OVERFLOW:
		return "base + length overflows";
	case MEMMAP_E_OVERLAP:
		return "overlaps another entry";
	case MEMMAP_E_UNKNOWN_TYPE:
		return "unknown type";
	case MEMMAP_E_TOO_MANY_EXCLUDE:
		return "too many exclusion ranges";
	case MEMMAP_E_BAD_EXCLUDE:
		return "exclusion range overflows";
	case MEMMAP_E_NO_USABLE:
		return "no usable memory above 1 MiB";
	default:
		return "unknown error";
	}
}

/* What a repair did, in words. */
static const char *repair_action(const struct memmap_diag *d)
{
	switch (d->code) {
	case MEMMAP_E_ZERO_LENGTH:
		return "entry dropped";
	case MEMMAP_E_OVERFLOW:
		return d->type == MEMMAP_USABLE ? "usable entry dropped"
		                                : "clipped to the top of the address space";
	case MEMMAP_E_OVERLAP:
		return "the most restrictive type wins";
	case MEMMAP_E_UNKNOWN_TYPE:
		return "treated as reserved";
	default:
		return "repaired";
	}
}

int memmap_diag_format(const struct memmap_diag *d, char *buf, size_t size)
{
	const char *what = memmap_strerror(d->code);
	const char *then = d->repaired ? repair_action(d) : "map rejected";

	if (d->entry == MEMMAP_NO_ENTRY)
		return fmt_snprintf(buf, size, "memory map: %s; %s", what, then);
	if (d->code == MEMMAP_E_BAD_EXCLUDE)
		return fmt_snprintf(buf, size, "exclusion %u [%#llx+%#llx]: %s; %s", d->entry,
		                    (unsigned long long)d->base, (unsigned long long)d->length,
		                    what, then);
	return fmt_snprintf(buf, size, "entry %u [%#llx+%#llx %s]: %s; %s", d->entry,
	                    (unsigned long long)d->base, (unsigned long long)d->length,
	                    memmap_type_name(d->type), what, then);
}
