/*
 * kernel/handoff.h: hand the processor from the current strand to one
 * blocked strand and block the current one - the switch of a protected
 * procedure call (kernel/portal.c), where a client gives its CPU to the
 * server and the server gives it back.
 *
 * Built only on the scheduler's block protocol (kernel/sched.h): the caller
 * has queued itself where its waker will find it and called
 * sched_prepare_block() (under the object's lock, then dropped the lock);
 * handoff_block() makes `to` runnable and blocks.  With the two strands of
 * the same priority on one CPU and nothing else ready, the switch goes
 * straight to `to` (the run queue holds it alone).  Returns what the
 * waker passed to sched_unblock().  Who may call: core and trusted modules
 * on a strand, outside every dispatcher raise.
 */
#ifndef KERNEL_HANDOFF_H
#define KERNEL_HANDOFF_H

#include "kernel/strand.h"

int handoff_block(struct strand *to, int result);
/* The scheduler's half (kernel/sched.c, which owns the run queues): when
 * `to` is blocked on this CPU, wake it at the head of its queue and switch
 * under one run-queue lock; otherwise sched_unblock + sched_block. */
int sched_handoff(struct strand *to, int result);

#endif
