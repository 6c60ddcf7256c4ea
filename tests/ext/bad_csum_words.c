/* Refused neighbour of csum.c: one word too many (751 of a 750-word
 * buffer); the last load reads bytes 1500 and 1501. */
#include "ext_api.h"

struct buf {
	u16 w[750];
};

SEC("ext/ctx1500") int bad_csum_words(const struct buf *b)
{
	u64 sum = 0;
	u32 i;

	for (i = 0; i < 751; i++)
		sum += b->w[i];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (int)(~sum & 0xffff);
}
