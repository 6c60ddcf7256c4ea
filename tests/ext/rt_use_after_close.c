/* Red team: writing to a console after closing it. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_use_after_close(u32 *ctx)
{
	struct console *c = console_open(1);
	char msg[8] = "spindle";

	if (!c)
		return 0;
	console_close(c);
	return (int)console_write(c, msg, ctx[0] & 7); /* REJECT uninit-reg */
}
