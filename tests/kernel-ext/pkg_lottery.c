/*
 * pkg_lottery.c: a lottery scheduler, a policy the global scheduler does
 * not have.  Thread i holds i + 1 tickets; each VProc.Pick draws a ticket
 * among the runnable threads (a linear congruential generator seeded per
 * package), so over many picks thread i runs in proportion to i + 1.
 */
#include <spindle/dispatcher.h>
#include <spindle/vproc.h>

#include "pkg_common.h"

SPINDLE_LICENSE("GPL");

u64 seed = 0x2545f4914f6cdd1dull;

SPINDLE_HANDLER(VProc_Pick)
s64 lottery_pick(struct VProc_T *vp, u64 prev, u64 n)
{
	u64 total = 0, draw;

	stat[PKG_PICKS]++;
	if (n > 8)
		n = 8;
	for (u64 i = 0; i < n; i++)
		if (!(blocked & (1ull << i)))
			total += i + 1;
	if (total == 0)
		return -1;
	seed = seed * 6364136223846793005ull + 1442695040888963407ull;
	draw = (seed >> 33) % total;
	for (u64 i = 0; i < n; i++) {
		if (blocked & (1ull << i))
			continue;
		if (draw < i + 1)
			return (s64)i;
		draw -= i + 1;
	}
	return -1;
}

SPINDLE_HANDLER(Strand_Resume)
u64 lottery_resume(struct Strand_T *s)
{
	return pkg_count(PKG_RESUMES);
}

SPINDLE_HANDLER(Strand_Checkpoint)
u64 lottery_checkpoint(struct Strand_T *s)
{
	return pkg_count(PKG_CHECKPOINTS);
}

SPINDLE_HANDLER(Strand_Block)
u64 lottery_block(struct Strand_T *s)
{
	return pkg_block(s);
}

SPINDLE_HANDLER(Strand_Unblock)
u64 lottery_unblock(struct Strand_T *s)
{
	return pkg_unblock(s);
}

SPINDLE_INIT
u64 init(void)
{
	long long r;

	if ((r = SPINDLE_INSTALL("lottery_pick", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("lottery_resume", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("lottery_checkpoint", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("lottery_block", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("lottery_unblock", 0)) < 0)
		return (u64)-r;
	return 0;
}
