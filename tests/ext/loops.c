/* Accepted: loops whose trip count comes from the context (not provable);
 * fuel bounds them at run time, the verifier widens and still proves every
 * access in bounds. */
#include "ext_api.h"

struct ctx {
	u32 n;
	u32 step;
	u8 data[32];
};

u32 hist[8];

SEC("ext/ctx40_rw") int loops(struct ctx *c)
{
	u32 i = 0, acc = 0;

	while (i < c->n) {
		u32 k = c->data[i & 31] & 7;
		hist[k]++;
		acc += k;
		i += c->step ? c->step : 1;
	}
	for (int j = 0; j < 32; j++)
		c->data[j] = (u8)(j * 3);
	return (int)acc;
}
