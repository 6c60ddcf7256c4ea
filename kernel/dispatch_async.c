/*
 * dispatch_async.c: the asynchronous-handler worker (kernel/
 * dispatch_async.h).
 */
#include "kernel/dispatch.h"
#include "kernel/dispatch_async.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/string.h"
#include "kernel/sync.h"

struct dispatch_async_item {
	struct dispatch_binding *b;
	uint64_t a[5];
};

static struct waitq dispatch_async_wq; /* its lock guards everything below */
static struct dispatch_async_item dispatch_async_ring[DISPATCH_ASYNC_QUEUE];
static uint32_t dispatch_async_head, dispatch_async_count;
static struct dispatch_async_stats dispatch_async_st;
static strand_t dispatch_async_worker;

static bool dispatch_async_queue(struct dispatch_binding *b, const uint64_t a[5])
{
	unsigned long f = spin_lock_irqsave(&dispatch_async_wq.lock);
	bool ok = dispatch_async_count < DISPATCH_ASYNC_QUEUE;

	if (ok) {
		struct dispatch_async_item *it =
		    &dispatch_async_ring[(dispatch_async_head + dispatch_async_count) %
		                         DISPATCH_ASYNC_QUEUE];
		it->b = b;
		memcpy(it->a, a, sizeof(it->a));
		dispatch_async_count++;
		dispatch_async_st.queued++;
	} else {
		dispatch_async_st.dropped++;
	}
	spin_unlock_irqrestore(&dispatch_async_wq.lock, f);
	if (ok)
		waitq_wake_one(&dispatch_async_wq);
	return ok;
}

/* Called by the dispatcher, its lock held, when b is uninstalled. */
static void dispatch_async_cancel(struct dispatch_binding *b)
{
	unsigned long f = spin_lock_irqsave(&dispatch_async_wq.lock);
	uint32_t kept = 0;

	for (uint32_t i = 0; i < dispatch_async_count; i++) {
		struct dispatch_async_item it =
		    dispatch_async_ring[(dispatch_async_head + i) % DISPATCH_ASYNC_QUEUE];
		if (it.b == b) {
			dispatch_async_st.cancelled++;
			continue;
		}
		dispatch_async_ring[(dispatch_async_head + kept++) % DISPATCH_ASYNC_QUEUE] = it;
	}
	dispatch_async_count = kept;
	spin_unlock_irqrestore(&dispatch_async_wq.lock, f);
}

static void dispatch_async_main(void *arg)
{
	(void)arg;
	for (;;) {
		struct dispatch_async_item it;
		unsigned long f = spin_lock_irqsave(&dispatch_async_wq.lock);
		uint64_t r = 0;
		int st;

		if (dispatch_async_count == 0) {
			waitq_wait_locked(&dispatch_async_wq, f); /* releases the lock */
			continue;
		}
		it = dispatch_async_ring[dispatch_async_head];
		dispatch_async_head = (dispatch_async_head + 1) % DISPATCH_ASYNC_QUEUE;
		dispatch_async_count--;
		/* Run it before anyone can uninstall it: preemption stays off
		 * from taking the entry to the end of its (fuel-bounded) run.
		 * This is the run's only preemption disable: once the lock is
		 * dropped, a preemption would be a quiescent point of this CPU
		 * and b could be freed before dispatch_run_async counts itself
		 * in the CPU's raise nesting, so the disable must be taken here
		 * and dispatch_run_async needs no second one. */
		sched_preempt_disable();
		spin_unlock_irqrestore(&dispatch_async_wq.lock, f);
		st = dispatch_run_async(it.b, it.a, &r);
		sched_preempt_enable();
		f = spin_lock_irqsave(&dispatch_async_wq.lock);
		if (st == 1) {
			dispatch_async_st.ran++;
			dispatch_async_st.last_result = r;
			dispatch_async_st.last_strand = strand_current();
		} else if (st == 0) {
			dispatch_async_st.guarded++;
		} else if (st == DISPATCH_ASYNC_ABORTED) {
			dispatch_async_st.aborted++;
		} else {
			dispatch_async_st.gone++;
		}
		spin_unlock_irqrestore(&dispatch_async_wq.lock, f);
	}
}

int dispatch_async_init(void)
{
	int err;

	waitq_init(&dispatch_async_wq, "dispatch-async");
	err = strand_create(dispatch_async_main, NULL, SCHED_PRIO_DEFAULT, "dispatch-async",
	                    &dispatch_async_worker);
	if (err)
		return err;
	return dispatch_set_async_runner(dispatch_async_queue, dispatch_async_cancel);
}

void dispatch_async_get_stats(struct dispatch_async_stats *out)
{
	unsigned long f = spin_lock_irqsave(&dispatch_async_wq.lock);
	*out = dispatch_async_st;
	spin_unlock_irqrestore(&dispatch_async_wq.lock, f);
}

uint32_t dispatch_async_pending(void)
{
	return dispatch_async_count;
}
