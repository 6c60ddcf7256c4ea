/*
 * pkg_runaway.c: a misbehaving thread package whose VProc.Pick handler
 * never returns.  Its fuel runs out, the dispatcher aborts and disables the
 * binding, and its virtual processor idles from then on: only its own
 * threads starve.
 */
#include <spindle/dispatcher.h>
#include <spindle/vproc.h>

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(VProc_Pick)
s64 runaway_pick(struct VProc_T *vp, u64 prev, u64 n)
{
	volatile u64 x = n | 1;

	while (x != 0)
		x = x * 3 + 2; /* odd forever */
	return 0;
}

SPINDLE_INIT
u64 init(void)
{
	long long r = SPINDLE_INSTALL("runaway_pick", 0);
	return r < 0 ? (u64)-r : 0;
}
