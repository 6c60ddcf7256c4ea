/* Refused: console_open may return NULL. */
#include "ext_api.h"

SEC("ext/ctx8") int bad_null(void *ctx)
{
	struct console *c = console_open(1);
	char m[4] = "abc";

	console_write(c, m, sizeof(m)); /* REJECT null-deref */
	console_close(c);
	return 0;
}
