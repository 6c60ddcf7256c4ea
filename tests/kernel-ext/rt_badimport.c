/* Refused at link time: calls a procedure the kernel embedder does not
 * offer to extensions. */
#include "kext_api.h"

extern long kx_secret(long key);

SEC("kext/badimport") long rt_badimport(u64 a, u64 b)
{
	return kx_secret((long)a) + (long)b;
}
