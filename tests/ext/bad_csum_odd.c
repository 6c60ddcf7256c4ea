/* Refused neighbour of csum.c: the sum starts one byte in, so the last
 * 2-byte load reads bytes 1499 and 1500 of a 1500-byte context. */
#include "ext_api.h"

SEC("ext/ctx1500") int bad_csum_odd(const u8 *b)
{
	u64 sum = 0;
	u32 i;

	for (i = 1; i < 1500; i += 2)
		sum += *(const u16 *)(b + i);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (int)(~sum & 0xffff);
}
