/*
 * sched.c: the global scheduler (kernel/sched.h).
 *
 * Design.
 *
 * SPIN's global scheduler is deliberately plain: "round-robin, preemptive,
 * priority".  Everything richer - application schedulers, thread packages -
 * stacks on top of it through the Strand events Block, Unblock, Checkpoint
 * and Resume, and only subdivides the processor time the global scheduler
 * gives to a strand it owns.  So this file has one job: decide which strand
 * runs on each CPU, and switch to it cheaply and safely.
 *
 * State.  Each CPU has a struct sched_cpu: the running strand, an idle
 * strand, SCHED_NPRIO singly linked FIFO run queues with a bitmap of the
 * non-empty ones (the next strand is the head of the highest set bit: one
 * bsr), a sleep queue sorted by deadline, need_resched and the preemption
 * disable depth.  One spinlock per CPU guards all of it; only CPU 0 exists
 * today, but nothing here assumes there will only ever be one.
 *
 * Switching.  A switch happens with the run-queue lock held and interrupts
 * off.  The outgoing strand has already been put where it belongs (back on a
 * run queue, on a wait queue, on the sleep queue, or nowhere because it is
 * dead); sched_switch() picks the next one, records which strand it came
 * from, and calls arch_switch().  The lock is handed over with the CPU: the
 * strand that resumes - in sched_switch() after its own arch_switch(), or in
 * strand_start() the first time - releases it.  That strand also clears the
 * previous one's on_cpu flag, the moment from which the previous strand's
 * stack is no longer in use (joining and reaping wait for that).
 *
 * Preemption.  The timer interrupt is owned by kernel/clock.c; the trap path
 * calls sched_irq_exit() after every interrupt (after the end-of-interrupt),
 * still on the interrupted strand's stack with interrupts off.  It compares
 * clock_ticks() with the last tick it saw, so it needs no timer handler of
 * its own: each new tick wakes expired sleepers and charges the running
 * strand; an expired quantum, or a woken strand of higher priority, sets
 * need_resched; if preemption is enabled the switch happens right there.
 * Being switched out inside the interrupt path is safe because the trap
 * frame stays on that strand's stack: when the strand is chosen again,
 * sched_irq_exit() returns, the trap path restores its registers and irets.
 * Outside interrupts, wakers call sched_preempt_check() after dropping their
 * locks, so a higher-priority strand woken by a strand runs at once.
 *
 * Blocking.  Strands block in two steps (see sched.h) so that an object's
 * lock need not be held across the switch and no wakeup can be lost:
 * sched_prepare_block() marks the strand BLOCKING with preemption disabled;
 * a waker that finds it BLOCKING makes it RUNNING again (the block is
 * cancelled); sched_block() then either switches away (still BLOCKING) or
 * returns at once.
 *
 * Fast paths.  Fork-join and ping-pong are the paper's Table 3.  Creating a
 * strand takes an object+stack from a cache of dead strands (no allocation,
 * no mapping), and its first switch lands in a trampoline.  A wakeup is an
 * append to a FIFO and a bit set; a block is a bsr and a pop; the switch
 * saves six registers.  A woken strand of the same priority simply waits its
 * turn, so the signal-then-block pattern of ping-pong switches directly to
 * the partner when no one else is ready, with no extra preemption.
 *
 * The seam for SPIN's events.  The Strand interface's events are raised at
 * exactly four places, marked "EVENT" below, through the generated raise
 * stubs (interfaces/strand.idl; kernel/strand_events.c is their authority):
 *   Strand.Block(s)      sched_block()    - s leaves the runnable set
 *   Strand.Unblock(s)    sched_unblock()  - s rejoins it
 *   Strand.Checkpoint(s) sched_switch()   - s is taken off the CPU
 *   Strand.Resume(s)     sched_switch()   - s is put on the CPU
 * While only the intrinsic handlers are installed a raise is a direct call;
 * the intrinsic Checkpoint/Resume call the owning thread package's
 * callbacks (struct strand_package).  Extensions (thread packages, see
 * kernel/vproc.h) may add handlers, but only for strands whose capability
 * they hold: the authority imposes a guard.  Handlers run here with the
 * run-queue lock held and interrupts off, bounded by their fuel; they may
 * call only procedures that take no scheduler lock.
 *
 * Locking: sched_cpu.lock (SYNC_RANK_SCHED) is the innermost lock of the
 * scheduling path; object locks (waitq, strand table) are taken before it.
 */
#include <arch/cpu.h>
#include <arch/switch.h>

#include "kernel/clock.h"
#include "kernel/heap.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/panic.h"
#include "kernel/pmm.h"
#include "kernel/sched.h"
#include "kernel/strand.h"
#include "kernel/sync.h"
#include "spindle_interfaces.h" /* the Strand events' raise stubs */

struct sched_queue {
	struct strand *head, *tail;
};

struct sched_cpu {
	struct spinlock lock;
	struct strand *current;
	struct strand *idle;
	struct strand *prev;            /* the strand switched away from */
	uint32_t ready_mask;            /* bit p: ready[p] is not empty */
	struct sched_queue ready[SCHED_NPRIO];
	struct strand *sleepers;        /* by wake_ns, through timer_next */
	struct strand *reap;            /* dead detached strands */
	volatile bool need_resched;
	uint32_t preempt_off;
	uint64_t last_tick;
	bool tick_seen;
	struct sched_stats st;
};

static struct sched_cpu sched_cpus[SCHED_MAX_CPUS];
static bool sched_on;

/* Locks the allocators get once strands can preempt each other. */
static struct spinlock sched_pmm_lock = SPINLOCK_INIT("pmm", SYNC_RANK_PMM);
static struct spinlock sched_heap_lock = SPINLOCK_INIT("heap", SYNC_RANK_HEAP);
bool sched_heap_locked;

static inline struct sched_cpu *sched_cpu(void)
{
	return &sched_cpus[sched_cpu_id()];
}

bool sched_running(void)
{
	return sched_on;
}

struct strand *sched_current(void)
{
	return sched_on ? sched_cpu()->current : 0;
}

/* ---- run queues (lock held) ---- */

static void sched_enqueue(struct sched_cpu *c, struct strand *s, bool at_head)
{
	struct sched_queue *q = &c->ready[s->prio];

	s->state = STRAND_READY;
	if (!q->head) {
		s->next = 0;
		q->head = q->tail = s;
	} else if (at_head) {
		s->next = q->head;
		q->head = s;
	} else {
		s->next = 0;
		q->tail->next = s;
		q->tail = s;
	}
	c->ready_mask |= 1u << s->prio;
}

static void sched_dequeue(struct sched_cpu *c, struct strand *s)
{
	struct sched_queue *q = &c->ready[s->prio];
	struct strand *prev = 0;

	for (struct strand *p = q->head; p; prev = p, p = p->next) {
		if (p != s)
			continue;
		if (prev)
			prev->next = s->next;
		else
			q->head = s->next;
		if (q->tail == s)
			q->tail = prev;
		if (!q->head)
			c->ready_mask &= ~(1u << s->prio);
		s->next = 0;
		return;
	}
}

static inline int sched_top_prio(const struct sched_cpu *c)
{
	return c->ready_mask ? 31 - __builtin_clz(c->ready_mask) : -1;
}

static struct strand *sched_pick(struct sched_cpu *c)
{
	int p = sched_top_prio(c);
	struct sched_queue *q;
	struct strand *s;

	if (p < 0)
		return c->idle;
	q = &c->ready[p];
	s = q->head;
	q->head = s->next;
	if (!q->head) {
		q->tail = 0;
		c->ready_mask &= ~(1u << p);
	}
	s->next = 0;
	return s;
}

/* Runs in the strand that just got the CPU, lock held. */
static inline void sched_finish_switch(struct sched_cpu *c)
{
	c->prev->on_cpu = false;
}

/*
 * Switch to the best ready strand (or idle).  Lock held, interrupts off;
 * the current strand is already queued, blocked or dead.  Returns when the
 * current strand runs again (lock held again).
 */
static void sched_switch(struct sched_cpu *c)
{
	struct strand *prev = c->current, *next = sched_pick(c);

	c->need_resched = false;
	if (next == prev) {
		prev->state = STRAND_RUNNING;
		return;
	}
	if (SYNC_DEBUG && sync_spin_depth() != 1)
		panic("sched: strand %s switches away holding %u spinlocks", prev->name,
		      sync_spin_depth());
	/* EVENT Strand.Checkpoint(prev), Strand.Resume(next): kernel/strand_events.c. */
	Strand_Checkpoint((struct Strand_T *)prev);
	Strand_Resume((struct Strand_T *)next);
	next->state = STRAND_RUNNING;
	next->on_cpu = true;
	next->quantum = SCHED_QUANTUM_TICKS;
	next->switches_in++;
	c->current = next;
	c->prev = prev;
	c->st.switches++;
	arch_switch(&prev->rsp, next->rsp);
	sched_finish_switch(c);
}

void sched_strand_started(void)
{
	struct sched_cpu *c = sched_cpu();

	sched_finish_switch(c);
	spin_unlock_irqrestore(&c->lock, ARCH_RFLAGS_IF);
}

/* ---- operations ---- */

void sched_yield(void)
{
	struct sched_cpu *c = sched_cpu();
	unsigned long f = spin_lock_irqsave(&c->lock);
	struct strand *cur = c->current;

	if (cur != c->idle && sched_top_prio(c) >= (int)cur->prio) {
		sched_enqueue(c, cur, false);
		sched_switch(c);
	} else if (cur == c->idle && c->ready_mask) {
		sched_switch(c);
	}
	spin_unlock_irqrestore(&c->lock, f);
}

void sched_prepare_block(void)
{
	struct sched_cpu *c = sched_cpu();

	c->preempt_off++;
	c->current->wait_result = 0;
	c->current->state = STRAND_BLOCKING;
}

int sched_block(void)
{
	struct sched_cpu *c = sched_cpu();
	unsigned long f = spin_lock_irqsave(&c->lock);
	struct strand *cur = c->current;

	c->preempt_off--;
	/* EVENT Strand.Block(cur). */
	if (cur->state == STRAND_BLOCKING) {
		cur->state = STRAND_BLOCKED;
		Strand_Block((struct Strand_T *)cur);
		sched_switch(c);
	} else {
		cur->state = STRAND_RUNNING;    /* woken before it got here */
	}
	spin_unlock_irqrestore(&c->lock, f);
	return cur->wait_result;
}

bool sched_unblock(struct strand *s, int result)
{
	struct sched_cpu *c = sched_cpu();
	unsigned long f = spin_lock_irqsave(&c->lock);
	bool ok = true;

	/* EVENT Strand.Unblock(s). */
	if (s->state == STRAND_BLOCKING) {
		s->wait_result = result;
		s->state = STRAND_RUNNING;
	} else if (s->state == STRAND_BLOCKED) {
		s->wait_result = result;
		sched_enqueue(c, s, false);
		Strand_Unblock((struct Strand_T *)s);    /* EVENT */
		c->st.wakeups++;
		if (s->prio > c->current->prio || c->current == c->idle)
			c->need_resched = true;
	} else {
		ok = false;
	}
	spin_unlock_irqrestore(&c->lock, f);
	return ok;
}

void sched_make_ready(struct strand *s)
{
	struct sched_cpu *c = sched_cpu();
	unsigned long f = spin_lock_irqsave(&c->lock);

	sched_enqueue(c, s, false);
	if (s->prio > c->current->prio)
		c->need_resched = true;
	spin_unlock_irqrestore(&c->lock, f);
	sched_preempt_check();
}

void sched_exit_current(bool reap)
{
	struct sched_cpu *c = sched_cpu();
	struct strand *cur;

	(void)spin_lock_irqsave(&c->lock);     /* never released by this strand */
	cur = c->current;
	cur->state = STRAND_DEAD;
	if (reap) {
		cur->next = c->reap;
		c->reap = cur;
	}
	if (c->preempt_off)
		panic("sched: strand %s exits with preemption disabled", cur->name);
	sched_switch(c);
	panic("sched: dead strand %s was switched back in", cur->name);
}

struct strand *sched_reap_take(void)
{
	struct sched_cpu *c = sched_cpu();
	struct strand **pp, *s = 0;
	unsigned long f;

	if (!__atomic_load_n(&c->reap, __ATOMIC_RELAXED))
		return 0;
	f = spin_lock_irqsave(&c->lock);

	for (pp = &c->reap; *pp; pp = &(*pp)->next) {
		if (!(*pp)->on_cpu) {
			s = *pp;
			*pp = s->next;
			s->next = 0;
			break;
		}
	}
	spin_unlock_irqrestore(&c->lock, f);
	return s;
}

int sched_set_priority(struct strand *s, int prio)
{
	struct sched_cpu *c = sched_cpu();
	unsigned long f;

	if (!s || prio < SCHED_PRIO_MIN || prio > SCHED_PRIO_MAX || (s->flags & STRAND_F_IDLE))
		return -EINVAL;
	f = spin_lock_irqsave(&c->lock);
	if (s->state == STRAND_READY) {
		sched_dequeue(c, s);
		s->prio = (uint8_t)prio;
		sched_enqueue(c, s, false);
	} else {
		s->prio = (uint8_t)prio;
	}
	if (sched_top_prio(c) > (int)c->current->prio)
		c->need_resched = true;
	spin_unlock_irqrestore(&c->lock, f);
	return 0;
}

/* ---- time ---- */

static void sched_wake_sleepers(struct sched_cpu *c, uint64_t now)
{
	while (c->sleepers && c->sleepers->wake_ns <= now) {
		struct strand *s = c->sleepers;

		c->sleepers = s->timer_next;
		s->timer_next = 0;
		if (s->state != STRAND_BLOCKED)
			continue;
		s->wait_result = 0;
		sched_enqueue(c, s, false);
		c->st.wakeups++;
		if (s->prio > c->current->prio || c->current == c->idle)
			c->need_resched = true;
	}
}

int sched_sleep_ns(uint64_t ns)
{
	struct sched_cpu *c = sched_cpu();
	struct strand *cur, **pp;
	unsigned long f;

	if (!c->tick_seen) {
		/* No tick seen yet: give the timer three periods to show up. */
		uint64_t t0 = clock_ticks();

		clock_delay_ns(3 * 1000000000ull / CLOCK_HZ);
		if (clock_ticks() == t0)
			return -ENODEV;
	}
	if (ns == 0) {
		sched_yield();
		return 0;
	}
	f = spin_lock_irqsave(&c->lock);
	cur = c->current;
	cur->wake_ns = clock_ns() + ns;
	for (pp = &c->sleepers; *pp && (*pp)->wake_ns <= cur->wake_ns; pp = &(*pp)->timer_next)
		;
	cur->timer_next = *pp;
	*pp = cur;
	cur->state = STRAND_BLOCKED;
	sched_switch(c);
	spin_unlock_irqrestore(&c->lock, f);
	return 0;
}

/* ---- preemption ---- */

/* Give up the CPU because need_resched is set; lock held. */
static void sched_preempt_locked(struct sched_cpu *c)
{
	struct strand *cur = c->current;

	c->need_resched = false;
	if (cur == c->idle) {
		if (c->ready_mask)
			sched_switch(c);
		return;
	}
	if (cur->state != STRAND_RUNNING || sched_top_prio(c) < (int)cur->prio)
		return;
	c->st.preemptions++;
	/* Quantum used up: back of the queue.  Preempted early: keep its place. */
	if (cur->quantum == 0)
		sched_enqueue(c, cur, false);
	else
		sched_enqueue(c, cur, true);
	sched_switch(c);
}

void sched_preempt_disable(void)
{
	unsigned long f = arch_irq_save();

	sched_cpu()->preempt_off++;
	arch_irq_restore(f);
}

void sched_preempt_enable(void)
{
	unsigned long f = arch_irq_save();

	sched_cpu()->preempt_off--;
	arch_irq_restore(f);
	sched_preempt_check();
}

void sched_preempt_check(void)
{
	struct sched_cpu *c = sched_cpu();
	unsigned long f;

	if (!c->need_resched || c->preempt_off || !sched_on)
		return;
	f = spin_lock_irqsave(&c->lock);
	if (c->need_resched && !c->preempt_off)
		sched_preempt_locked(c);
	spin_unlock_irqrestore(&c->lock, f);
}

void sched_irq_exit(void)
{
	struct sched_cpu *c = sched_cpu();
	uint64_t t;
	unsigned long f;

	if (!sched_on)
		return;
	t = clock_ticks();
	if (t == c->last_tick && !c->need_resched)
		return;
	f = spin_lock_irqsave(&c->lock);
	if (t != c->last_tick) {
		struct strand *cur = c->current;
		uint64_t n = t - c->last_tick;

		c->last_tick = t;
		c->tick_seen = true;
		c->st.ticks += n;
		cur->ticks += n;
		if (cur == c->idle)
			c->st.idle_ticks += n;
		if (c->sleepers)
			sched_wake_sleepers(c, clock_ns());
		if (cur != c->idle) {
			cur->quantum = cur->quantum > n ? (uint8_t)(cur->quantum - n) : 0;
			if (cur->quantum == 0) {
				if (sched_top_prio(c) >= (int)cur->prio)
					c->need_resched = true;
				else
					cur->quantum = SCHED_QUANTUM_TICKS;
			}
		}
	}
	if (c->need_resched && !c->preempt_off)
		sched_preempt_locked(c);
	spin_unlock_irqrestore(&c->lock, f);
}

void sched_get_stats(struct sched_stats *out)
{
	unsigned long f = arch_irq_save();

	*out = sched_cpu()->st;
	arch_irq_restore(f);
}

/* ---- the idle strand and start-up ---- */

static void sched_idle_main(void *arg)
{
	struct sched_cpu *c = arg;

	for (;;) {
		struct strand *dead;

		while ((dead = sched_reap_take()))
			strand_recycle(dead);
		arch_irq_disable();
		if (!c->ready_mask)
			arch_idle_halt();       /* sti; hlt: the wakeup preempts us on irq exit */
		arch_irq_enable();
		sched_yield();
	}
}

static void sched_heap_page_free(void *va, size_t npages, void *arg)
{
	(void)arg;
	mem_page_free(va, npages);
}

static void *sched_heap_page_alloc(size_t npages, void *arg)
{
	(void)arg;
	return mem_page_alloc(npages);
}

static void sched_heap_report(int code, const void *ptr, const char *msg, void *arg)
{
	(void)arg;
	kprintf("heap: %s (%s, %p)\n", msg, heap_strerror(code), ptr);
}

/*
 * Preemption makes the allocators shared between strands: give them locks.
 * The pmm has a hook for that.  The heap takes its lock only at heap_init,
 * which it allows again while it holds no objects (true this early in boot);
 * the page source and report are mem.c's (mem_page_alloc/free).
 */
static void sched_lock_allocators(void)
{
	struct heap_ops ops = {
		.page_alloc = sched_heap_page_alloc,
		.page_free = sched_heap_page_free,
		.report = sched_heap_report,
		.lock = spin_lock_hook,
		.unlock = spin_unlock_hook,
		.arg = &sched_heap_lock,
	};
	struct heap_stats hs;
	int err;

	pmm_set_lock(spin_lock_hook, spin_unlock_hook, &sched_pmm_lock);
	heap_get_stats(&hs);
	err = hs.live_objects ? HEAP_E_BUSY : heap_init(&ops);
	if (err)
		kprintf("sched: WARNING: cannot install the heap lock (%s, %lu live objects): kmalloc is"
			" not preemption-safe\n", heap_strerror(err), (unsigned long)hs.live_objects);
	sched_heap_locked = err == 0;
}

int sched_init(void)
{
	struct sched_cpu *c = sched_cpu();
	struct strand *boot, *idle;

	if (sched_on)
		return -EINVAL;
	sched_lock_allocators();
	spin_init(&c->lock, "runqueue", SYNC_RANK_SCHED);
	boot = strand_init();
	if (!boot)
		return -ENOMEM;
	idle = strand_create_idle(sched_idle_main, c, "idle");
	if (!idle)
		return -ENOMEM;
	boot->state = STRAND_RUNNING;
	boot->on_cpu = true;
	boot->quantum = SCHED_QUANTUM_TICKS;
	c->current = boot;
	c->idle = idle;
	c->last_tick = clock_ticks();
	c->tick_seen = c->last_tick != 0;
	__atomic_store_n(&sched_on, true, __ATOMIC_RELEASE);
	kprintf("sched: %d priorities, quantum %d ticks at %d Hz, strand stacks %d KiB + %d KiB guard\n",
		SCHED_NPRIO, SCHED_QUANTUM_TICKS, CLOCK_HZ, KSTACK_SIZE / 1024, KSTACK_GUARD_SIZE / 1024);
	return 0;
}
