/* Refused: the loop's index is checked against the context's count, not
 * against the array: after widening it is unbounded. */
#include "ext_api.h"

struct ctx {
	u32 n;
	u8 data[12];
};

SEC("ext/ctx16") int bad_loop(struct ctx *c)
{
	u32 s = 0;
	for (u32 i = 0; i < c->n; i++)
		s += c->data[i]; /* REJECT unbounded */
	return (int)s;
}
