/*
 * pkg_deaf.c: a misbehaving thread package that ignores Strand.Unblock
 * (SPIN §4.3's example: "an application-specific thread package may ignore
 * an event saying a user-level thread is runnable, and only that
 * application suffers").  Otherwise round-robin: a thread that blocks is
 * never picked again.
 */
#include <spindle/dispatcher.h>
#include <spindle/vproc.h>

#include "pkg_common.h"

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(VProc_Pick)
s64 deaf_pick(struct VProc_T *vp, u64 prev, u64 n)
{
	return pkg_pick_rr(prev, n);
}

SPINDLE_HANDLER(Strand_Block)
u64 deaf_block(struct Strand_T *s)
{
	return pkg_block(s);
}

SPINDLE_HANDLER(Strand_Unblock)
u64 deaf_unblock(struct Strand_T *s)
{
	/* Heard, and ignored: the thread stays blocked. */
	if (Strand_Thread(s) >= 0)
		stat[PKG_UNBLOCKS]++;
	return 0; /* eBPF always returns r0; a void event ignores it */
}

SPINDLE_INIT
u64 init(void)
{
	long long r;

	if ((r = SPINDLE_INSTALL("deaf_pick", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("deaf_block", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("deaf_unblock", 0)) < 0)
		return (u64)-r;
	return 0;
}
