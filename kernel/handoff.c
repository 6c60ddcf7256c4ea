/*
 * handoff.c: block the current strand and make one given strand runnable
 * (kernel/handoff.h).  The scheduler's sched_handoff queues `to` at the
 * head of its run queue and switches under the same lock when `to` waits
 * on this CPU, so unless a strand of higher priority is ready no other
 * strand runs between the two; otherwise it is the scheduler's plain
 * unblock and block.  A prepared block that was cancelled by an early
 * wakeup (sched_block returning at once) is the caller's business: it
 * re-checks its condition, as with every use of the protocol.
 */
#include "kernel/handoff.h"
#include "kernel/sched.h"

int handoff_block(struct strand *to, int result)
{
	return to ? sched_handoff(to, result) : sched_block();
}
