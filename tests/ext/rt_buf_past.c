/* Red team: ext_buf's 64 bytes, indexed up to 64 inclusive. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_buf_past(u32 *ctx)
{
	u8 *b = ext_buf();
	u32 i = ctx[0];

	if (!b || i > 64)
		return 0;
	return b[i]; /* REJECT mem-oob */
}
