/*
 * ksyms.c: look up kernel text addresses in the generated symbol table.
 *
 * The table (build/kernel/ksyms1.S, from tools/gen-ksyms) is an address-sorted
 * array of symbol start addresses, an array of offsets into a string blob,
 * and the blob.  A symbol's size is the distance to the next symbol (or to
 * the end of text): good enough to print "func+0x1c/0x80".
 */
#include "kernel/ksyms.h"
#include "kernel/string.h"

extern const uint64_t ksyms_count;
extern const uint64_t ksyms_text_end;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_name_offs[];
extern const char ksyms_strs[];

size_t ksyms_count_get(void)
{
	return ksyms_count;
}

const char *ksyms_lookup(uintptr_t addr, uintptr_t *offset, uintptr_t *size)
{
	size_t lo = 0, hi = ksyms_count;

	if (!ksyms_count || addr < ksyms_addrs[0] || addr >= ksyms_text_end)
		return NULL;
	/* Last symbol with address <= addr. */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (ksyms_addrs[mid] <= addr)
			lo = mid;
		else
			hi = mid;
	}
	if (offset)
		*offset = addr - ksyms_addrs[lo];
	if (size)
		*size =
		    (lo + 1 < ksyms_count ? ksyms_addrs[lo + 1] : ksyms_text_end) - ksyms_addrs[lo];
	return ksyms_strs + ksyms_name_offs[lo];
}

uintptr_t ksyms_address(const char *name)
{
	for (size_t i = 0; i < ksyms_count; i++)
		if (strcmp(ksyms_strs + ksyms_name_offs[i], name) == 0)
			return ksyms_addrs[i];
	return 0;
}
