/*
 * memmap: validation and normalisation of the boot memory map.
 *
 * Owns: a struct memmap, the one description of physical memory the rest of
 * the kernel trusts.  The boot code copies the firmware's raw entries
 * (E820 / multiboot2 numbering: 1 usable, 2 reserved, 3 ACPI reclaimable,
 * 4 ACPI NVS, 5 bad; translate other loaders' numbering to this) plus the
 * ranges the kernel itself occupies, and memmap_normalise() turns them into
 * a map that satisfies the invariants below or says exactly why it cannot.
 *
 * Invariants of a map memmap_normalise() returned 0 for:
 *   - entries are sorted by base, do not overlap, have non-zero length and do
 *     not wrap (base + length <= UINT64_MAX);
 *   - adjacent entries of the same type are merged;
 *   - every MEMMAP_USABLE entry is page aligned at both ends, lies above
 *     MEMMAP_LOW_LIMIT (the first 1 MiB is never usable) and overlaps no
 *     exclusion range the caller gave: those parts appear as
 *     MEMMAP_EXCLUDED;
 *   - where firmware entries overlapped, the most restrictive type wins
 *     (bad > ACPI NVS > reserved/unknown > ACPI reclaimable > usable);
 *   - there is at least one usable entry.
 *
 * Malformed input is either repaired or rejected.  Every repair is recorded
 * as a note (struct memmap_diag) in the map; with MEMMAP_STRICT the first
 * thing that would need a repair is rejected instead.  Repairs:
 *   - zero-length entry: dropped (MEMMAP_E_ZERO_LENGTH);
 *   - base + length wraps past 2^64: a usable entry is dropped (a length
 *     that large is garbage, and trusting it would claim memory that does not
 *     exist); any other type is clipped to the top of the address space
 *     (MEMMAP_E_OVERFLOW);
 *   - overlapping entries: the most restrictive type wins (MEMMAP_E_OVERLAP);
 *   - unknown type: treated as reserved (MEMMAP_E_UNKNOWN_TYPE; noted but
 *     never rejected, even strictly, since firmware legitimately reports
 *     types newer than this list).
 * Always rejected: NULL arguments, more than MEMMAP_MAX_RAW raw entries or
 * MEMMAP_MAX_EXCLUDE exclusions (dropping a reserved entry could turn
 * reserved memory usable, so the map is not truncated), an exclusion range
 * that wraps, and a map with no usable memory above 1 MiB.
 *
 * Callers: boot code (core only), once, before pmm_init().  Not reentrant on
 * the same struct memmap; no locks (runs single-threaded at boot).  Uses no
 * allocation: everything, including scratch space, lives in struct memmap
 * (keep it in .bss, it is about 13 KiB, rather than on a boot stack).
 *
 * Errors: memmap_normalise() returns 0 or a negative MEMMAP_E_* code; on
 * failure map->error describes it and memmap_diag_format() renders it as one
 * readable line.  memmap_strerror() names a code.
 */
#ifndef SPINDLE_KERNEL_MEMMAP_H
#define SPINDLE_KERNEL_MEMMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEMMAP_PAGE_SIZE   4096ull
#define MEMMAP_LOW_LIMIT   0x100000ull /* first 1 MiB: never handed out */
#define MEMMAP_MAX_RAW     128         /* raw firmware entries accepted */
#define MEMMAP_MAX_EXCLUDE 16          /* caller exclusion ranges accepted */
#define MEMMAP_MAX_NOTES   16          /* repair notes kept (more are counted) */
/*
 * Output capacity.  A sweep over n raw entries yields at most 2n-1 regions;
 * each exclusion (the caller's and the implicit low 1 MiB) adds at most two.
 * kernel/memmap.c asserts this bound statically, so normalisation cannot run
 * out of room.
 */
#define MEMMAP_MAX_ENTRIES (2 * MEMMAP_MAX_RAW - 1 + 2 * (MEMMAP_MAX_EXCLUDE + 1))

enum memmap_type {
	MEMMAP_USABLE = 1,
	MEMMAP_RESERVED = 2,
	MEMMAP_ACPI_RECLAIMABLE = 3,
	MEMMAP_ACPI_NVS = 4,
	MEMMAP_BAD = 5,
	/* Output only: usable RAM the caller excluded (kernel image, modules,
	 * first 1 MiB). */
	MEMMAP_EXCLUDED = 0x100,
};

enum memmap_error {
	MEMMAP_E_INVAL = -1,            /* NULL map, or NULL entries with count > 0 */
	MEMMAP_E_TOO_MANY = -2,         /* more than MEMMAP_MAX_RAW raw entries */
	MEMMAP_E_ZERO_LENGTH = -3,      /* an entry of length 0 */
	MEMMAP_E_OVERFLOW = -4,         /* base + length wraps past 2^64 */
	MEMMAP_E_OVERLAP = -5,          /* two entries overlap */
	MEMMAP_E_UNKNOWN_TYPE = -6,     /* type outside 1..5 (note only) */
	MEMMAP_E_TOO_MANY_EXCLUDE = -7, /* more than MEMMAP_MAX_EXCLUDE exclusions */
	MEMMAP_E_BAD_EXCLUDE = -8,      /* an exclusion range that wraps */
	MEMMAP_E_NO_USABLE = -9,        /* no usable memory above 1 MiB */
};

/* Flags for memmap_normalise(). */
#define MEMMAP_STRICT 0x1u /* reject instead of repairing */

/* A raw firmware entry, or an entry of the normalised map. */
struct memmap_entry {
	uint64_t base;
	uint64_t length;
	uint32_t type; /* enum memmap_type, or anything for raw input */
};

/* A physical range [base, base + length) the kernel must not hand out. */
struct memmap_range {
	uint64_t base;
	uint64_t length;
};

/*
 * One diagnosis: what was wrong (code), which input it concerned (entry is
 * the raw index, or MEMMAP_NO_ENTRY), that entry's fields, and whether it was
 * repaired.
 */
#define MEMMAP_NO_ENTRY UINT32_MAX
struct memmap_diag {
	int code;
	uint32_t entry;
	uint64_t base;
	uint64_t length;
	uint32_t type;
	bool repaired;
};

struct memmap {
	/* The normalised map (valid after memmap_normalise() returned 0). */
	struct memmap_entry entries[MEMMAP_MAX_ENTRIES];
	uint32_t count;
	/* Repairs made, in input order; nnotes may exceed MEMMAP_MAX_NOTES. */
	struct memmap_diag notes[MEMMAP_MAX_NOTES];
	uint32_t nnotes;
	/* Why normalisation failed (code 0 on success). */
	struct memmap_diag error;
	/* Private scratch for normalisation; do not use. */
	struct memmap_entry scratch_clean[MEMMAP_MAX_RAW];
	uint32_t scratch_index[MEMMAP_MAX_RAW];
	uint64_t scratch_bounds[2 * (MEMMAP_MAX_RAW + MEMMAP_MAX_EXCLUDE + 1)];
};

/*
 * Validate and normalise raw[0..nraw) into *map, excluding exclude[0..nexcl)
 * and the first 1 MiB.  Exclusion ranges are widened to whole pages.
 * flags: 0 or MEMMAP_STRICT.  Returns 0 or MEMMAP_E_*.
 */
int memmap_normalise(struct memmap *map, const struct memmap_entry *raw, size_t nraw,
                     const struct memmap_range *exclude, size_t nexcl, unsigned flags);

/* Sum of the lengths of the usable entries. */
uint64_t memmap_usable_bytes(const struct memmap *map);

/* "usable", "reserved", ..., "unknown" */
const char *memmap_type_name(uint32_t type);

/* A short phrase naming an error code ("base + length overflows"). */
const char *memmap_strerror(int code);

/*
 * Render a diagnosis as one line, e.g.
 *   "entry 3 [0x100000+0x0 usable]: zero length; entry dropped"
 * Returns what fmt_snprintf returns.
 */
int memmap_diag_format(const struct memmap_diag *d, char *buf, size_t size);

#endif /* SPINDLE_KERNEL_MEMMAP_H */
