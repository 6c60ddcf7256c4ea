/* Accepted: a guard reads its context and calls only pure procedures. */
#include "ext_api.h"

SEC("ext/guard8") int guard(const u32 *ctx)
{
	u64 key = ctx[0];
	return ctx[1] == 17 && (ext_hash8(&key) & 1) == 0 && ext_now() > 0;
}
