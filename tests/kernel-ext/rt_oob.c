/* Refused: the index comes from the caller, unchecked, into an 8-entry
 * global table (out-of-bounds access). */
#include "kext_api.h"

u64 table[8];

SEC("kext/oob") long rt_oob(u64 a, u64 b)
{
	return (long)(table[a] + b);
}
