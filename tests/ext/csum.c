/* Accepted: the Internet checksum over one Ethernet MTU, as in
 * bench/native/kernels.c.  clang -O2 counts the byte offset up by 2 and
 * leaves the loop on == 1500, so only the offset's known low bit (it stays
 * even) turns "!= 1500" into "<= 1498" and proves every 2-byte load in
 * bounds.  Its refused neighbours are tests/ext/bad_csum_*.c and
 * tests/verifier/refuse-loop-stride*.data. */
#include "ext_api.h"

struct buf {
	u16 w[750];
};

SEC("ext/ctx1500") int csum(const struct buf *b)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < 750; i++)
		sum += b->w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (int)(~sum & 0xffff);
}
