/*
 * kernel/handoff.h: hand the processor from the current strand to one
 * blocked strand and block the current one with a continuation - the
 * switch of a protected procedure call (kernel/portal.c), where a client
 * gives its CPU to the server and the server gives it back.
 *
 * Built on the scheduler's block protocol (kernel/sched.h): the caller has
 * queued itself where its waker will find it and called
 * sched_prepare_block() under the object's lock `held` (taken with
 * spin_lock_irqsave, giving f).  sched_handoff_cont() takes the run-queue
 * lock before it releases `held` (no interrupt window between the two),
 * wakes `to` (if not NULL) and blocks; f is the interrupt state the strand
 * had, restored when it runs again.  When `to`
 * is blocked on this CPU and nothing ready outranks it, the switch goes
 * straight to it under one run-queue lock, without the run queue;
 * otherwise `to` is woken normally and the scheduler picks.
 *
 * The blocked strand keeps no call chain (a continuation, as in Mach's
 * and L4's IPC paths): its stack above `sp` survives - for a system call,
 * the trap frame - and everything below is given up, so this never
 * returns.  When the strand next runs, for whatever reason it was woken,
 * it starts in fn(arg) on a fresh stack at sp, interrupts on; fn re-checks
 * its condition, as with every use of the protocol, and must not return
 * (a system call's continuation ends in uspace_return).  `result` is the
 * wait result given to `to`.  Who may call: core and trusted modules on a
 * strand, outside every dispatcher raise, holding `held` and no other lock.
 */
#ifndef KERNEL_HANDOFF_H
#define KERNEL_HANDOFF_H

#include <stdint.h>

#include "kernel/strand.h"
#include "kernel/sync.h"

__attribute__((noreturn)) void sched_handoff_cont(struct strand *to, int result, uintptr_t sp,
                                                  void (*fn)(void *), void *arg,
                                                  struct spinlock *held, unsigned long f);

#endif
