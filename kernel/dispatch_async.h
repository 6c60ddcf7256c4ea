/*
 * kernel/dispatch_async.h: the strand that runs asynchronous handlers.
 *
 * The dispatcher hands every asynchronous binding it meets during a raise
 * (DISPATCH_ASYNC: asked by the installer or imposed by the event's
 * authority, SPIN's "an asynchronous handler runs in a separate thread from
 * the raiser, which isolates the raiser from handler latency") to
 * dispatch_async_queue(), which copies the arguments into a ring and wakes
 * the worker strand "dispatch-async"; the raise goes on at once.  The worker
 * runs each queued binding through dispatch_run_async() (guards, handler,
 * fuel, ledger, abort policy) with preemption disabled, as a raise would.
 *
 * Owns: the ring (DISPATCH_ASYNC_QUEUE entries), the worker strand and the
 * counters.  Invariants: a queued entry names an installed binding (the
 * dispatcher cancels an uninstalled binding's entries before it can be
 * freed); entries run in the order they were queued.
 * Callers: kmain/modules (init), the dispatcher (queue, cancel), tests
 * (stats).  Locking: the ring is guarded by its waitq's spinlock (irq-safe:
 * raises may come from interrupt handlers); the worker sleeps on that
 * waitq.  Errors: init returns -ENOMEM or the dispatcher's -EEXIST; a full
 * ring drops the run and counts it (a raiser never waits).
 */
#ifndef KERNEL_DISPATCH_ASYNC_H
#define KERNEL_DISPATCH_ASYNC_H

#include <stdint.h>

#define DISPATCH_ASYNC_QUEUE 64

struct dispatch_async_stats {
	uint64_t queued, ran, guarded, aborted, gone, dropped, cancelled;
	uint64_t last_result;
	const void *last_strand; /* the strand that ran the last one */
};

/* Start the worker and register it with the dispatcher (once, after the
 * scheduler runs). */
int dispatch_async_init(void);
void dispatch_async_get_stats(struct dispatch_async_stats *out);
/* Queued runs not yet taken by the worker. */
uint32_t dispatch_async_pending(void);

#endif /* KERNEL_DISPATCH_ASYNC_H */
