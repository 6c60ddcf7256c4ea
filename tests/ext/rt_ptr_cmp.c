/* Red team: ordering a pointer against a number reveals its address. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_ptr_cmp(u32 *ctx)
{
	if ((unsigned long)ctx > 0x7fff00000000ul) /* REJECT ptr-cmp */
		return 1;
	return 0;
}
