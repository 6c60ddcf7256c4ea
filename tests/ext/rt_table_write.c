/* Red team: ext_table's memory is read-only. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_table_write(u32 *ctx)
{
	u8 *t = (u8 *)ext_table();
	if (!t)
		return 0;
	t[ctx[0] & 15] = 1; /* REJECT readonly */
	return 0;
}
