/* Accepted: what clang -O2 emits for ordinary code -- globals in .data,
 * .rodata and .bss, a static helper in .text, a switch, a bounded loop over
 * the context, constant-size memcpy/memset, a null-checked reference. */
#include "ext_api.h"

struct ctx {
	u32 kind;
	u32 n;
	u8 bytes[8];
};

static const u32 weights[4] = {1, 2, 3, 4};
u64 counter = 5;
u64 seen;
char msg[16] = "hello, spindle";

static noinline u32 weigh(u32 k)
{
	if (k >= 4)
		return 0;
	return weights[k];
}

static noinline u64 sum_bytes(const struct ctx *c)
{
	u64 s = 0;
	u32 n = c->n;
	if (n > 8)
		n = 8;
	for (u32 i = 0; i < n; i++)
		s += c->bytes[i];
	return s;
}

SEC("ext/ctx16_rw") int basic(struct ctx *c)
{
	u8 tmp[16];
	u64 r = 0;

	switch (c->kind) {
	case 0:
		r = 10;
		break;
	case 1:
		r = 20;
		break;
	case 2:
		r = 35;
		break;
	case 7:
		r = 70;
		break;
	default:
		r = weigh(c->kind);
		break;
	}
	__builtin_memcpy(tmp, msg, sizeof(tmp));
	r += ext_log(tmp, sizeof(tmp)) & 1;
	__builtin_memset(c->bytes, 0, 4);
	r += sum_bytes(c);
	counter++;
	seen = r;
	struct console *con = console_open(1);
	if (con) {
		console_write(con, msg, 5);
		console_close(con);
	}
	return (int)(r + counter);
}
