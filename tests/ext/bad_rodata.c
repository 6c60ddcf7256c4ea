/* Refused: writing .rodata through a cast. */
#include "ext_api.h"

static const u32 limits[4] = {1, 2, 3, 4};

SEC("ext/ctx8") int bad_rodata(u32 *ctx)
{
	volatile u32 *p = (volatile u32 *)&limits[ctx[0] & 3];
	*p = 9; /* REJECT readonly */
	return (int)limits[1];
}
