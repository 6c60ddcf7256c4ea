/* Red team: writing a string literal (.rodata.str1.1) through a cast. */
#include "ext_api.h"

SEC("ext/ctx8") int rt_str_write(u32 *ctx)
{
	const char *s = "spindle";
	volatile char *w = (volatile char *)s;
	w[ctx[0] & 3] = 'x'; /* REJECT readonly */
	return s[1];
}
