/* Accepted: the biggest test extension -- a small header parser with a
 * checksum loop, a lookup table, a state machine over the payload and a
 * few helpers; used to measure verification speed. */
#include "ext_api.h"

struct ctx {
	u8 hdr[16];
	u8 payload[96];
	u32 len;
	u32 flags;
};

static const u8 class_of[16] = {0, 1, 1, 2, 3, 3, 3, 4, 5, 5, 6, 7, 7, 7, 7, 0};
u64 stats[8];
u32 last_state;

static noinline u32 csum(const u8 *p, u32 n)
{
	u32 s = 0;
	for (u32 i = 0; i < n && i < 96; i += 2)
		s += (u32)p[i] << 8 | (i + 1 < 96 ? p[i + 1] : 0);
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return ~s & 0xffff;
}

static noinline int parse_hdr(const struct ctx *c, u32 *proto, u32 *hlen)
{
	u8 v = c->hdr[0] >> 4;
	if (v != 4 && v != 6)
		return -1;
	*hlen = (c->hdr[0] & 15) * 4;
	if (*hlen < 8 || *hlen > 16)
		return -2;
	*proto = c->hdr[9 & 15];
	return v;
}

static noinline u32 run_machine(const struct ctx *c, u32 n)
{
	u32 st = 0, count = 0;
	for (u32 i = 0; i < n; i++) {
		u8 b = c->payload[i % 96];
		switch (st) {
		case 0:
			st = b == 'G' ? 1 : b == 'P' ? 5 : 0;
			break;
		case 1:
			st = b == 'E' ? 2 : 0;
			break;
		case 2:
			st = b == 'T' ? 3 : 0;
			break;
		case 3:
			st = b == ' ' ? 4 : 0;
			break;
		case 4:
			count++;
			st = 0;
			break;
		case 5:
			st = b == 'U' ? 6 : 0;
			break;
		case 6:
			st = b == 'T' ? 3 : 0;
			break;
		default:
			st = 0;
		}
	}
	last_state = st;
	return count;
}

SEC("ext/ctx120_rw") int big(struct ctx *c)
{
	u32 proto = 0, hlen = 0, n = c->len;
	int v = parse_hdr(c, &proto, &hlen);
	u64 r = 0;

	if (v < 0)
		return v;
	if (n > 96)
		n = 96;
	r += csum(c->payload, n);
	r += class_of[proto & 15];
	stats[class_of[proto & 15] & 7]++;
	r += run_machine(c, n);
	if (c->flags & 1) {
		u8 *buf = ext_buf();
		if (buf) {
			for (u32 i = 0; i < 16; i++)
				buf[i] = c->hdr[i];
			r += ext_log(buf, 16);
		}
	}
	if (c->flags & 2) {
		struct console *con = console_open(c->flags >> 8);
		if (con) {
			console_write(con, c->payload, n & 63);
			console_close(con);
		}
	}
	u8 tmp[16];
	r += ext_fill16(tmp);
	r += ext_hash8(tmp);
	return (int)(r & 0x7fffffff);
}
