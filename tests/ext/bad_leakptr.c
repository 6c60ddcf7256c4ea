/* Refused: a pointer stored where the embedder reads numbers. */
#include "ext_api.h"

SEC("ext/ctx16_rw") int bad_leakptr(u64 *ctx)
{
	u64 local = 1;
	ctx[0] = (u64)&local; /* REJECT ptr-store */
	return (int)local;
}
