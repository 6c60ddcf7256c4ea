/* Refused: dereferences a number the caller passed as if it were a
 * pointer (wild pointer). */
#include "kext_api.h"

SEC("kext/wild") long rt_wild(u64 a, u64 b)
{
	return (long)(*(u64 *)a + b);
}
