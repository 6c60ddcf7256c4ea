/* Accepted: logs through the kernel, reads a kernel value, loops a
 * caller-chosen number of times (fuel-metered back-edge) and keeps state in
 * a global.  Its result depends on both arguments and on Kext_Value(). */
#include "kext_api.h"

u64 calls;

SEC("kext/basic") long rt_basic(u64 a, u64 b)
{
	static const char msg[] = "rt_basic: hello from an extension\n";
	u64 acc = a * 3 + b + (u64)Kext_Value();
	long n = 0;

	if (b & 1)
		n = Kext_Log(msg, sizeof(msg) - 1);
	for (u64 i = 0; i < (a & 63); i++)
		acc = acc * 31 + (i ^ b);
	calls++;
	return (long)(acc + (u64)n + calls);
}
