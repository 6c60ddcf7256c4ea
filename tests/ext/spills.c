/* Accepted: more live values than callee-saved registers, so clang spills
 * pointers and scalars around calls; fills must give them back. */
#include "ext_api.h"

struct ctx {
	u64 a, b, c, d;
};

SEC("ext/ctx32") int spills(struct ctx *x)
{
	u64 a = x->a, b = x->b, c = x->c, d = x->d;
	u8 *buf = ext_buf();
	long t1 = ext_now();
	long t2 = ext_now();
	long t3 = ext_now();
	if (!buf)
		return (int)(a + b);
	buf[a & 63] = (u8)b;
	buf[c & 63] = (u8)d;
	long t4 = ext_now();
	return (int)(a + b + c + d + t1 + t2 + t3 + t4 + buf[(a ^ d) & 63] + x->a);
}
