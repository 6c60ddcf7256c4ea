/* Red team: a signed index checked only from above can be negative. */
#include "ext_api.h"

u32 table[8];

SEC("ext/ctx8") int rt_signed_index(int *ctx)
{
	int i = ctx[0];

	if (i < 8)
		return (int)table[i]; /* REJECT unbounded */
	return 0;
}
