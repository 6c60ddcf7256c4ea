/* Accepted but runaway: x stays odd (odd * 3 + 2 is odd), so it never
 * becomes 0 and the loop never ends.  Only the fuel budget stops it. */
#include "kext_api.h"

u64 rounds;

SEC("kext/loop") long rt_loop(u64 a, u64 b)
{
	u64 x = a | 1;

	while (x != 0) {
		x = x * 3 + 2 + (b << 1);
		rounds++;
	}
	return (long)x;
}
