/*
 * m_stats.c: exports Stats_Scale, which other extensions import (a
 * cross-domain call).  A y of 0xdead makes it run away: its fuel runs out
 * and the caller is aborted with it.
 */
#include <spindle/stats.h>

SPINDLE_LICENSE("GPL");

SPINDLE_EXPORT
u64 Stats_Scale(u64 x, u64 y)
{
	volatile u64 n = x;

	if (y == 0xdead)
		while (n != 1000000007ull)
			n = n * 3 + 1;
	return x * y + 1;
}
