/* Refused: an index from the context used without a bounds check. */
#include "ext_api.h"

u32 table[16];

SEC("ext/ctx8") int bad_oob(u32 *ctx)
{
	return (int)table[ctx[0]]; /* REJECT global-oob */
}
