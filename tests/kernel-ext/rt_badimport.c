/* Refused at link time: calls a procedure no interface declares, so
 * SpinPublic (the domain packed extensions are linked against) cannot
 * offer it. */
#include "kext_api.h"

extern long kx_secret(long key);

SEC("kext/badimport") long rt_badimport(u64 a, u64 b)
{
	return kx_secret((long)a) + (long)b;
}
