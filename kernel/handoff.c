/*
 * handoff.c: block the current strand and make one given strand runnable
 * (kernel/handoff.h).  The scheduler's sched_handoff switches straight to
 * `to` under one lock when `to` waits on this CPU and no ready strand
 * outranks it (else it queues `to` at the head of its run queue first), so
 * no other strand runs between the two; otherwise it is the scheduler's
 * plain unblock and block.  A prepared block that was cancelled by an early
 * wakeup (sched_block returning at once) is the caller's business: it
 * re-checks its condition, as with every use of the protocol.
 */
#include "kernel/handoff.h"
#include "kernel/sched.h"

int handoff_block(struct strand *to, int result)
{
	return to ? sched_handoff(to, result) : sched_block();
}
