/*
 * pkg_rr.c: a round-robin thread package.  It holds one virtual
 * processor's capability (granted by name when the kernel made the virtual
 * processor) and multiplexes that processor's user-level threads in turn:
 * VProc.Pick returns the next runnable thread after the one that ran last.
 * It tracks runnability itself, from Strand.Block / Strand.Unblock raised
 * on its threads, and counts Strand.Resume / Checkpoint on its virtual
 * processor (the global scheduler giving and taking back its CPU share).
 */
#include <spindle/dispatcher.h>
#include <spindle/vproc.h>

#include "pkg_common.h"

SPINDLE_LICENSE("GPL");

SPINDLE_HANDLER(VProc_Pick)
s64 rr_pick(struct VProc_T *vp, u64 prev, u64 n)
{
	return pkg_pick_rr(prev, n);
}

SPINDLE_HANDLER(Strand_Resume)
u64 rr_resume(struct Strand_T *s)
{
	return pkg_count(PKG_RESUMES);
}

SPINDLE_HANDLER(Strand_Checkpoint)
u64 rr_checkpoint(struct Strand_T *s)
{
	return pkg_count(PKG_CHECKPOINTS);
}

SPINDLE_HANDLER(Strand_Block)
u64 rr_block(struct Strand_T *s)
{
	return pkg_block(s);
}

SPINDLE_HANDLER(Strand_Unblock)
u64 rr_unblock(struct Strand_T *s)
{
	return pkg_unblock(s);
}

SPINDLE_INIT
u64 init(void)
{
	long long r;

	if ((r = SPINDLE_INSTALL("rr_pick", 0)) < 0 || (r = SPINDLE_INSTALL("rr_resume", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("rr_checkpoint", 0)) < 0 ||
	    (r = SPINDLE_INSTALL("rr_block", 0)) < 0 || (r = SPINDLE_INSTALL("rr_unblock", 0)) < 0)
		return (u64)-r;
	return 0;
}
