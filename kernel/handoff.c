/*
 * handoff.c: block the current strand and make one given strand runnable
 * (kernel/handoff.h), with the scheduler's own block and unblock: `to` is
 * queued on its CPU before the current strand leaves, so when it is alone
 * on the run queue the scheduler's next pick is `to` and no other strand
 * runs between the two.  A prepared block that was cancelled by an early
 * wakeup (sched_block returning at once) is the caller's business: it
 * re-checks its condition, as with every use of the protocol.
 */
#include "kernel/handoff.h"
#include "kernel/sched.h"

int handoff_block(struct strand *to, int result)
{
	if (to)
		sched_unblock(to, result);
	return sched_block();
}
