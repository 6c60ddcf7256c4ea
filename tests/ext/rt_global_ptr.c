/* Red team: a pointer stored into a global would outlive the run. */
#include "ext_api.h"

u64 saved;

SEC("ext/ctx8") int rt_global_ptr(u32 *ctx)
{
	*(volatile u64 *)&saved = (u64)ctx; /* REJECT ptr-store */
	return 0;
}
