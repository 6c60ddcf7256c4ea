/* Refused: a guard with a side effect. */
#include "ext_api.h"

u64 hits;

SEC("ext/guard8") int bad_guard(const u32 *ctx)
{
	hits++; /* REJECT guard-store */
	return ctx[0] == 1;
}
