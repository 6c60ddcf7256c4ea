/* Refused: the console is not closed on one path. */
#include "ext_api.h"

SEC("ext/ctx8") int bad_leak(u32 *ctx)
{
	struct console *c = console_open(1);

	if (!c)
		return 0;
	if (ctx[0] == 3)
		return 1; /* REJECT ref-leak */
	console_close(c);
	return 0;
}
