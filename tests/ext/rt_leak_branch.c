/* Red team: the console is closed on one path only. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_leak_branch(u32 *ctx)
{
	struct console *c = console_open(1);

	if (!c)
		return 0;
	if (ctx[0] & 1)
		console_close(c);
	return 1; /* REJECT ref-leak */
}
