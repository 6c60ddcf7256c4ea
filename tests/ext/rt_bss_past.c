/* Red team: a masked index that still reaches one byte past a 3-byte .bss. */
#include "ext_api.h"

u8 small[3];

SEC("ext/ctx8") int rt_bss_past(u32 *ctx)
{
	return small[ctx[0] & 3]; /* REJECT global-oob */
}
