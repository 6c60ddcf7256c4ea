/* Red team: ext_buf is 64 bytes; a loop with a checked bound is fine, and
 * stops at 64 even when the context asks for more. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_buf_edge(u32 *ctx)
{
	u8 *b = ext_buf();
	u32 n = ctx[0], i, sum = 0;

	if (!b)
		return 0;
	for (i = 0; i < n && i < 64; i++)
		sum += b[i];
	return (int)sum;
}
