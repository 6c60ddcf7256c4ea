/* Refused: storing into a read-only context. */
#include "ext_api.h"

SEC("ext/ctx8") int bad_ctxwrite(u32 *ctx)
{
	ctx[1] = ctx[0] + 1; /* REJECT readonly */
	return 0;
}
